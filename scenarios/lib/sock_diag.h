// The kernel's own view of one TCP connection, through sock_diag
// (NETLINK_SOCK_DIAG, the interface `ss` uses).
//
// Why: a socket that reaches TIME_WAIT, or an orphan that reaches FIN_WAIT2,
// is replaced by a timewait mini-socket, and no tracepoint reports that
// transition or the mini-socket's expiry. sock_diag lists mini-sockets too, so
// scenarios ask it whenever a fact is about them. It also gives the netstat
// Send-Q / Recv-Q (idiag_wqueue / idiag_rqueue) of a full socket.
//
// The query runs in the caller's network namespace.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace scen {

struct DiagResult {
    bool found = false;
    std::string tcp_state;  // "ESTABLISHED", "TIME_WAIT", ... (the mini-socket's substate for timewait sockets)
    std::string timer;      // "off", "retransmit", "keepalive", "timewait", "persist"
    uint32_t timer_ms = 0;  // time left on that timer
    uint32_t retrans = 0;   // retransmits, or zero-window probes sent when timer is "persist"
    uint32_t send_q = 0;    // bytes sent but not acknowledged, plus unsent (netstat Send-Q)
    uint32_t recv_q = 0;    // bytes received but not read (netstat Recv-Q)
    uint64_t cookie = 0;    // the socket's cookie (a mini-socket keeps its full socket's)
};

// Looks up the IPv4 TCP socket whose local and remote address/port match
// exactly, in any state. Returns 0 (out->found false when none matches), or
// -1 with errno set when the netlink query itself failed.
int sock_diag_query(const sockaddr_in& local, const sockaddr_in& remote, DiagResult* out);

// "TIME_WAIT" for TCP_TIME_WAIT (kernel numbering of tcp states).
std::string tcp_state_name(int state);

}  // namespace scen
