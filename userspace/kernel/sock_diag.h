// Snapshots of every TCP socket of one network namespace from
// NETLINK_SOCK_DIAG (as ss reads them), with each socket's tcpscope
// storage (ts_sock_info: its owner and when it entered its state) dumped
// by the kernel beside it (INET_DIAG_REQ_SK_BPF_STORAGES), so a CLOSE_WAIT
// names its process and its age without a walk of /proc. The kernel hands
// out that storage only to a process with CAP_BPF (or CAP_SYS_ADMIN):
// without it the dump fails with EPERM.
#pragma once

#include <memory>
#include <string>

#include "socket_snapshot.h"

namespace tcpscope {

class SockDiag {
public:
    // A netlink socket in the network namespace at netns_path (empty: our
    // own): sock_diag answers for the namespace its socket was made in.
    // storage_map_fd: the socks map (Tracer::socket_storage_fd()).
    // older_owners_fd: the owners found at start (Tracer::older_owners_fd()),
    // for a socket older than the tracer that has no storage yet (-1: none).
    static std::unique_ptr<SockDiag> open(const std::string& netns_path, int storage_map_fd,
                                          std::string* error, int older_owners_fd = -1);
    ~SockDiag();
    SockDiag(const SockDiag&) = delete;
    SockDiag& operator=(const SockDiag&) = delete;

    // Every TCP socket, IPv4 and IPv6, request and timewait sockets included.
    bool read(SocketSnapshot* snapshot, std::string* error);
    // The LISTEN sockets only (their accept queue, backlog and drop
    // counter): what the accept-queue watch needs, cheap on a busy host.
    bool read_listeners(SocketSnapshot* snapshot, std::string* error);
    // The text of the namespace's /proc/net/netstat (opened in it, so it
    // reads that namespace's counters); empty when it could not be read.
    std::string netstat() const;

private:
    SockDiag() = default;
    bool dump(int family, uint32_t states, SocketSnapshot* snapshot, std::string* error);
    // Owners from the start's pass for the sockets from index `first` on
    // that the programs have not met yet.
    void add_older_owners(SocketSnapshot* snapshot, size_t first) const;
    int fd_ = -1;
    int netstat_fd_ = -1;
    int map_fd_ = -1;
    int older_fd_ = -1;
    uint32_t netns_ = 0;
    uint64_t netns_cookie_ = 0;
    uint32_t seq_ = 0;  // of the last dump asked for
};

}  // namespace tcpscope
