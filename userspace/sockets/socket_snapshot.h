// Every TCP socket of one network namespace at one moment, as sock_diag
// (NETLINK_SOCK_DIAG, what `ss -tan` reads) reports it, with tcpscope's
// socket storage (owner, when the state began) the kernel dumps beside
// each socket. One snapshot serves both the metrics' census and the stuck
// detector. Pure: kernel/sock_diag.h fills it; tests build their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <linux/types.h>

#include "event.h"
#include "tcpscope.h"

namespace tcpscope {

struct SocketRecord {
    uint64_t cookie = 0;   // idiag_cookie: the socket cookie (SO_COOKIE)
    int state = 0;         // TCP state; a timewait socket's substate, a request socket's SYN_RECV
    int family = 0;        // AF_INET / AF_INET6
    Endpoint local;
    Endpoint remote;
    uint32_t inode = 0;    // 0 for mini-sockets and sockets no file holds
    uint32_t recv_q = 0;   // netstat's Recv-Q: bytes received, not read (LISTEN: backlog)
    uint32_t send_q = 0;   // netstat's Send-Q: bytes sent, not acknowledged
    // From tcp_info (INET_DIAG_INFO), full sockets only.
    bool has_info = false;
    uint32_t retransmits = 0;     // tcpi_retransmits: unacknowledged retransmits now
    uint32_t total_retrans = 0;   // tcpi_total_retrans: over the connection's life
    // From INET_DIAG_SKMEMINFO: the socket's drop counter (sk_drops). A
    // listener's rises with each SYN or handshake ACK tcp_listendrop()
    // throws away (accept queue full, among others).
    bool has_meminfo = false;
    uint64_t drops = 0;
    // From tcpscope's storage, when the kernel side has some for it.
    bool has_storage = false;
    uint32_t pid = 0;             // owner (0: not known)
    std::string comm;             // the raw bytes the kernel has (sanitize to print)
    uint64_t cgroup_id = 0;       // the owner's cgroup v2 id (its container: docs/containers.md)
    uint64_t state_ts = 0;        // CLOCK_MONOTONIC entry into `state`; 0 = not seen
    bool in_cgroup = false;       // the owner is in the --cgroup tree (TS_F_IN_CGROUP)
};

struct SocketSnapshot {
    uint64_t taken_ns = 0;  // CLOCK_MONOTONIC, when the dump was asked for
    uint32_t netns = 0;     // the namespace's inode (sock_diag answers for one)
    uint64_t netns_cookie = 0;  // its cookie (SO_NETNS_COOKIE); 0: not known
    std::vector<SocketRecord> sockets;
};

// Whether a socket passes trace's filters as the kernel side judges its
// events: --port and --addr on either end (an IPv4 --addr also matches the
// mapped form of a dual-stack socket), --pid, --comm and --cgroup on the
// owner (a socket whose owner is not known never passes those). The
// namespace is the snapshot's, chosen when it is taken.
bool socket_passes(const SocketRecord& socket, const ts_filter& filter);

}  // namespace tcpscope
