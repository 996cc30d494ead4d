#include "sock_diag.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

#include <bpf/bpf.h>

#include "owners.h"

namespace tcpscope {
namespace {

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The ts_sock_info the kernel dumped for this socket, if any: nested
// INET_DIAG_SK_BPF_STORAGES > SK_DIAG_BPF_STORAGE > MAP_VALUE.
const ts_sock_info* storage_of(const nlattr* storages, size_t len) {
    for (auto* s = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(storages) + NLA_HDRLEN);
         reinterpret_cast<const char*>(s) + NLA_HDRLEN <= reinterpret_cast<const char*>(storages) + len &&
         s->nla_len >= NLA_HDRLEN;
         s = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(s) + NLA_ALIGN(s->nla_len))) {
        if ((s->nla_type & NLA_TYPE_MASK) != SK_DIAG_BPF_STORAGE) continue;
        const char* end = reinterpret_cast<const char*>(s) + s->nla_len;
        for (auto* v = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(s) + NLA_HDRLEN);
             reinterpret_cast<const char*>(v) + NLA_HDRLEN <= end && v->nla_len >= NLA_HDRLEN;
             v = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(v) + NLA_ALIGN(v->nla_len))) {
            if ((v->nla_type & NLA_TYPE_MASK) == SK_DIAG_BPF_STORAGE_MAP_VALUE &&
                static_cast<size_t>(v->nla_len - NLA_HDRLEN) >= sizeof(ts_sock_info)) {
                return reinterpret_cast<const ts_sock_info*>(reinterpret_cast<const char*>(v) + NLA_HDRLEN);
            }
        }
    }
    return nullptr;
}

}  // namespace

std::unique_ptr<SockDiag> SockDiag::open(const std::string& netns_path, int storage_map_fd,
                                         std::string* error, int older_owners_fd) {
    std::unique_ptr<SockDiag> d(new SockDiag());
    d->map_fd_ = storage_map_fd;
    d->older_fd_ = older_owners_fd;
    if (netns_path.empty()) {
        d->fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    } else {
        // A thread of its own enters the namespace, so that ours stay where
        // they are; the socket it makes keeps the namespace.
        int err = 0;
        std::thread([&] {
            int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
                err = errno;
            } else {
                d->fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
                if (d->fd_ < 0) err = errno;
            }
            if (ns >= 0) close(ns);
        }).join();
        if (err) {
            *error = "cannot enter " + netns_path + " for sock_diag: " + std::strerror(err);
            return nullptr;
        }
    }
    if (d->fd_ < 0) {
        *error = std::string("cannot open a sock_diag socket: ") + std::strerror(errno);
        return nullptr;
    }
    struct stat st {};
    if (stat(netns_path.empty() ? "/proc/self/ns/net" : netns_path.c_str(), &st) == 0) {
        d->netns_ = static_cast<uint32_t>(st.st_ino);
    }
    timeval tv{2, 0};  // a scrape never hangs on the kernel
    setsockopt(d->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return d;
}

SockDiag::~SockDiag() {
    if (fd_ >= 0) close(fd_);
}

bool SockDiag::read(SocketSnapshot* snapshot, std::string* error) {
    snapshot->taken_ns = monotonic_ns();
    snapshot->netns = netns_;
    return dump(AF_INET, snapshot, error) && dump(AF_INET6, snapshot, error);
}

namespace {

std::string address_text(int family, const __be32* words) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, words, buf, sizeof(buf));
    return buf;
}

}  // namespace

bool SockDiag::dump(int family, SocketSnapshot* snapshot, std::string* error) {
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
        nlattr storages;
        nlattr map_fd;
        uint32_t map_fd_value;
    } msg{};
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = static_cast<uint8_t>(family);
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0u;  // every state, request sockets included
    msg.req.idiag_ext = 1 << (INET_DIAG_INFO - 1);  // tcp_info: retransmits
    msg.storages.nla_type = INET_DIAG_REQ_SK_BPF_STORAGES | NLA_F_NESTED;
    msg.storages.nla_len = sizeof(nlattr) * 2 + sizeof(uint32_t);
    msg.map_fd.nla_type = SK_DIAG_BPF_STORAGE_REQ_MAP_FD;
    msg.map_fd.nla_len = sizeof(nlattr) + sizeof(uint32_t);
    msg.map_fd_value = static_cast<uint32_t>(map_fd_);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, &msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
        *error = std::string("sock_diag request: ") + std::strerror(errno);
        return false;
    }
    std::vector<char> buf(64 * 1024);
    for (;;) {
        ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0) {
            *error = std::string("sock_diag reply: ") + std::strerror(errno);
            return false;
        }
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<size_t>(n));
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) return true;
            if (h->nlmsg_type == NLMSG_ERROR) {
                auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
                *error = std::string("sock_diag: ") + std::strerror(-e->error);
                return false;
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
            auto* r = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
            SocketRecord rec;
            rec.state = r->idiag_state < TS_STATE_SLOTS ? r->idiag_state : 0;
            rec.family = r->idiag_family;
            rec.cookie = static_cast<uint64_t>(r->id.idiag_cookie[0]) |
                         static_cast<uint64_t>(r->id.idiag_cookie[1]) << 32;
            rec.local = {address_text(r->idiag_family, r->id.idiag_src), ntohs(r->id.idiag_sport)};
            rec.remote = {address_text(r->idiag_family, r->id.idiag_dst), ntohs(r->id.idiag_dport)};
            rec.inode = r->idiag_inode;
            rec.recv_q = r->idiag_rqueue;
            rec.send_q = r->idiag_wqueue;
            const ts_sock_info* si = nullptr;
            int attrs_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*r)));
            for (auto* a = reinterpret_cast<const nlattr*>(r + 1); attrs_len >= NLA_HDRLEN &&
                 a->nla_len >= NLA_HDRLEN && a->nla_len <= attrs_len;
                 attrs_len -= NLA_ALIGN(a->nla_len),
                 a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + NLA_ALIGN(a->nla_len))) {
                int type = a->nla_type & NLA_TYPE_MASK;
                if (type == INET_DIAG_SK_BPF_STORAGES) si = storage_of(a, a->nla_len);
                // tcp_info grows with kernels: take what this one gave,
                // the fields we read are among the oldest.
                if (type == INET_DIAG_INFO) {
                    tcp_info info{};
                    size_t len = a->nla_len - NLA_HDRLEN;
                    std::memcpy(&info, reinterpret_cast<const char*>(a) + NLA_HDRLEN,
                                len < sizeof(info) ? len : sizeof(info));
                    if (len >= offsetof(tcp_info, tcpi_total_retrans) + sizeof(info.tcpi_total_retrans)) {
                        rec.has_info = true;
                        rec.retransmits = info.tcpi_retransmits;
                        rec.total_retrans = info.tcpi_total_retrans;
                    }
                }
            }
            if (si) {
                rec.has_storage = true;
                rec.pid = si->tgid;
                if (si->tgid) rec.comm.assign(si->comm, strnlen(si->comm, TS_COMM_LEN));
                rec.state_ts = si->state_ts;
                rec.in_cgroup = si->owner_flags & TS_F_IN_CGROUP;
            }
            // Older than the tracer and not met by its programs yet (an
            // idle leak): the owner the start found, by inode.
            ts_older_owner older{};
            uint64_t inode = rec.inode;
            if ((!si || !si->tgid) && older_fd_ >= 0 && inode != 0 &&
                bpf_map_lookup_elem(older_fd_, &inode, &older) == 0) {
                rec.pid = older.tgid;
                rec.comm.assign(older.comm, strnlen(older.comm, TS_COMM_LEN));
                rec.in_cgroup = older.owner_flags & TS_F_IN_CGROUP;
            }
            snapshot->sockets.push_back(std::move(rec));
        }
    }
}

}  // namespace tcpscope
