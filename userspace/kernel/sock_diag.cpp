#include "sock_diag.h"

#include "sock_diag_messages.h"

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

#include "monotonic_clock.h"
#include "owners.h"

namespace tcpscope {
std::unique_ptr<SockDiag> SockDiag::open(const std::string& netns_path, int storage_map_fd,
                                         std::string* error, int older_owners_fd) {
    std::unique_ptr<SockDiag> d(new SockDiag());
    d->map_fd_ = storage_map_fd;
    d->older_fd_ = older_owners_fd;
    if (netns_path.empty()) {
        d->fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        d->netstat_fd_ = ::open("/proc/self/net/netstat", O_RDONLY | O_CLOEXEC);
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
                // /proc/net files answer for the namespace of whoever
                // opened them: this thread's, now the namespace's.
                d->netstat_fd_ = ::open("/proc/thread-self/net/netstat", O_RDONLY | O_CLOEXEC);
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
    // The namespace's cookie (never reused, unlike its inode), for the
    // events made from a snapshot; 0 where SO_NETNS_COOKIE is missing.
    uint64_t cookie = 0;
    socklen_t cookie_len = sizeof(cookie);
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
    if (getsockopt(d->fd_, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &cookie_len) == 0) d->netns_cookie_ = cookie;
    timeval tv{2, 0};  // a scrape never hangs on the kernel
    setsockopt(d->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return d;
}

SockDiag::~SockDiag() {
    if (fd_ >= 0) close(fd_);
    if (netstat_fd_ >= 0) close(netstat_fd_);
}

std::string SockDiag::netstat() const {
    std::string text;
    if (netstat_fd_ < 0) return text;
    char buf[4096];
    off_t at = 0;
    for (;;) {
        ssize_t n = pread(netstat_fd_, buf, sizeof(buf), at);
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
        at += n;
    }
    return text;
}

bool SockDiag::read(SocketSnapshot* snapshot, std::string* error) {
    snapshot->taken_ns = monotonic_ns();
    snapshot->netns = netns_;
    snapshot->netns_cookie = netns_cookie_;
    return dump(AF_INET, ~0u, snapshot, error) && dump(AF_INET6, ~0u, snapshot, error);
}

bool SockDiag::read_listeners(SocketSnapshot* snapshot, std::string* error) {
    snapshot->taken_ns = monotonic_ns();
    snapshot->netns = netns_;
    snapshot->netns_cookie = netns_cookie_;
    constexpr uint32_t kListen = 1u << 10;  // TCP_LISTEN
    return dump(AF_INET, kListen, snapshot, error) && dump(AF_INET6, kListen, snapshot, error);
}

bool SockDiag::dump(int family, uint32_t states, SocketSnapshot* snapshot, std::string* error) {
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
    // A dump that timed out may still be arriving: numbered, its late
    // replies are told apart from this one's.
    msg.nlh.nlmsg_seq = ++seq_;
    msg.req.sdiag_family = static_cast<uint8_t>(family);
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = states;  // ~0u: every state, request sockets included
    // tcp_info: retransmits; skmeminfo: the socket's drop counter (sk_drops),
    // which a listener's tcp_listendrop() raises.
    msg.req.idiag_ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_SKMEMINFO - 1));
    msg.storages.nla_type = INET_DIAG_REQ_SK_BPF_STORAGES | NLA_F_NESTED;
    msg.storages.nla_len = sizeof(nlattr) * 2 + sizeof(uint32_t);
    msg.map_fd.nla_type = SK_DIAG_BPF_STORAGE_REQ_MAP_FD;
    msg.map_fd.nla_len = sizeof(nlattr) + sizeof(uint32_t);
    msg.map_fd_value = static_cast<uint32_t>(map_fd_);
    // No storage map (a caller without CAP_BPF, which the kernel requires
    // for it): the request without the attribute, owners not known.
    if (map_fd_ < 0) msg.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_req_v2));
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, &msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
        *error = std::string("sock_diag request: ") + std::strerror(errno);
        return false;
    }
    const size_t first = snapshot->sockets.size();
    std::vector<char> buf(64 * 1024);
    for (;;) {
        ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0) {
            *error = std::string("sock_diag reply: ") + std::strerror(errno);
            return false;
        }
        switch (read_sock_diag_messages(buf.data(), static_cast<size_t>(n), seq_, snapshot, error)) {
        case DumpProgress::Done:
            add_older_owners(snapshot, first);
            return true;
        case DumpProgress::Error: return false;
        case DumpProgress::More: break;
        }
    }
}

void SockDiag::add_older_owners(SocketSnapshot* snapshot, size_t first) const {
    if (older_fd_ < 0) return;
    for (size_t i = first; i < snapshot->sockets.size(); ++i) {
        SocketRecord& rec = snapshot->sockets[i];
        // Older than the tracer and not met by its programs yet (an idle
        // leak): the owner the start found, by inode.
        uint64_t inode = rec.inode;
        ts_older_owner older{};
        if (rec.pid != 0 || inode == 0 || bpf_map_lookup_elem(older_fd_, &inode, &older) != 0) continue;
        rec.pid = older.tgid;
        rec.comm.assign(older.comm, strnlen(older.comm, TS_COMM_LEN));
        rec.in_cgroup = older.owner_flags & TS_F_IN_CGROUP;
    }
}

}  // namespace tcpscope
