// The sockets that exist at scrape time, as sock_diag reports them (what
// `ss -t -a` shows, request and timewait mini-sockets included), and the
// CLOSE_WAIT ones by owner: a leak shows as a process whose CLOSE_WAIT
// sockets grow old. Pure: made from a sockets/socket_snapshot.h, tested without root.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include <linux/types.h>
#include <prometheus/metric_family.h>

#include "close_wait_ages.h"
#include "socket_snapshot.h"
#include "tcpscope.h"

namespace tcpscope {

struct SocketCensus {
    // By state as sock_diag reports it: a request socket is SYN_RECV, a
    // timewait socket its substate (TIME_WAIT, or FIN_WAIT2 for an orphan).
    std::array<uint64_t, TS_STATE_SLOTS> by_state{};
    struct CloseWait {
        uint64_t sockets = 0;
        // Age of the oldest: from its entry into CLOSE_WAIT when tcpscope
        // saw it, else at least since a census first found it there (with
        // CloseWaitAges); unknown only without either.
        bool age_known = false;
        double oldest_seconds = 0;
    };
    // Whose CLOSE_WAIT sockets: the owner's process name ("?" when tcpscope
    // does not know it) and, with --labels container, its container's ID
    // ("" for the host's processes, "?" when not known).
    struct Owner {
        std::string comm;
        std::string container;
        Owner(std::string c, std::string ctr = "") : comm(std::move(c)), container(std::move(ctr)) {}
        Owner(const char* c) : comm(c) {}
        bool operator<(const Owner& o) const { return std::tie(comm, container) < std::tie(o.comm, o.container); }
    };
    std::map<Owner, CloseWait> close_wait;
    // The CLOSE_WAIT gauges carry container_id (census_of was given the
    // containers: --labels container).
    bool container_label = false;
    // Listening sockets by local port (SO_REUSEPORT listeners of a port
    // added up): their accept queues, backlogs and own drop counters
    // (sk_drops: SYNs a full accept or SYN queue made them drop, which the
    // kernel's drop tracepoint never sees). At most kMaxListenPorts ports;
    // the rest add up under port 0.
    struct Listen {
        uint64_t queue = 0;    // connections waiting for accept() (Recv-Q)
        uint64_t backlog = 0;  // listen()'s backlog (Send-Q)
        uint64_t drops = 0;
    };
    static constexpr size_t kMaxListenPorts = 1024;
    std::map<uint16_t, Listen> listen;

    // One CLOSE_WAIT socket: its owner and, when known, its age.
    void add_close_wait(const Owner& owner, bool age_known, double age_seconds);
};

// The census of a snapshot: every socket by state, the CLOSE_WAIT ones
// by owner with the age of the oldest: whose entry tcpscope saw, or, given
// ages (updated with this snapshot), the time since a census first found
// it in CLOSE_WAIT, a lower bound for a socket older than tcpscope.
// Given container_of (the container_id label of an owner's cgroup v2 id:
// --labels container), the CLOSE_WAIT sockets are counted by owner and
// container, so that a leak in one container of a service is told from
// the rest.
using ContainerOf = std::function<std::string(uint64_t cgroup_id)>;
SocketCensus census_of(const SocketSnapshot& snapshot, const CloseWaitAges* ages = nullptr,
                       const ContainerOf& container_of = {});

// A process name as a label value: printable ASCII, others as '?'.
std::string comm_label(const char* comm, size_t max_len);

std::vector<prometheus::MetricFamily> census_families(const SocketCensus& census);

}  // namespace tcpscope
