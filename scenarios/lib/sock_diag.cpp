#include "sock_diag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace scen {

std::string tcp_state_name(int state) {
    // include/net/tcp_states.h
    switch (state) {
        case 1: return "ESTABLISHED";
        case 2: return "SYN_SENT";
        case 3: return "SYN_RECV";
        case 4: return "FIN_WAIT1";
        case 5: return "FIN_WAIT2";
        case 6: return "TIME_WAIT";
        case 7: return "CLOSE";
        case 8: return "CLOSE_WAIT";
        case 9: return "LAST_ACK";
        case 10: return "LISTEN";
        case 11: return "CLOSING";
        case 12: return "NEW_SYN_RECV";
        default: return "STATE_" + std::to_string(state);
    }
}

namespace {

// idiag_timer values, as inet_diag fills them (net/ipv4/inet_diag.c).
std::string timer_name(int timer) {
    switch (timer) {
        case 0: return "off";
        case 1: return "retransmit";
        case 2: return "keepalive";
        case 3: return "timewait";
        case 4: return "persist";
        default: return "timer_" + std::to_string(timer);
    }
}

bool matches(const inet_diag_msg& m, const sockaddr_in& local, const sockaddr_in& remote) {
    return m.idiag_family == AF_INET && m.id.idiag_sport == local.sin_port &&
           m.id.idiag_dport == remote.sin_port && m.id.idiag_src[0] == local.sin_addr.s_addr &&
           m.id.idiag_dst[0] == remote.sin_addr.s_addr;
}

// Closes the netlink socket on every path out, keeping errno intact.
struct FdGuard {
    int fd;
    ~FdGuard() {
        int saved = errno;
        ::close(fd);
        errno = saved;
    }
};

}  // namespace

int sock_diag_query(const sockaddr_in& local, const sockaddr_in& remote, DiagResult* out) {
    *out = DiagResult{};
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    FdGuard guard{fd};

    // A dump of every state, filtered here: an exact lookup (no NLM_F_DUMP)
    // would also work for mini-sockets, but a dump needs no cookie and tells
    // "no such socket" apart from a failed query without relying on ENOENT.
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = 1;
    msg.req.sdiag_family = AF_INET;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0u;  // all states, TIME_WAIT and NEW_SYN_RECV included
    msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, &msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0)
        return -1;

    alignas(nlmsghdr) char buf[32768];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return 0;
        int len = static_cast<int>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE) return 0;
            if (h->nlmsg_type == NLMSG_ERROR) {
                auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
                errno = e->error ? -e->error : EIO;
                return -1;
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
            auto* m = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
            if (out->found || !matches(*m, local, remote)) continue;  // keep reading to DONE
            out->found = true;
            out->tcp_state = tcp_state_name(m->idiag_state);
            out->timer = timer_name(m->idiag_timer);
            out->timer_ms = m->idiag_expires;
            out->retrans = m->idiag_retrans;
            out->send_q = m->idiag_wqueue;
            out->recv_q = m->idiag_rqueue;
            out->cookie = static_cast<uint64_t>(m->id.idiag_cookie[0]) |
                          (static_cast<uint64_t>(m->id.idiag_cookie[1]) << 32);
        }
    }
}

}  // namespace scen
