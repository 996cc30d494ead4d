// Stuck sockets: which sockets of a snapshot have stayed too long in a
// state where something should have moved on, each reported when it first
// passes the threshold, at most once per period while it stays, and once
// more (a final record) when it leaves that state or goes.
//
//   StuckDetector d({.threshold_ns = 30e9});
//   for each snapshot: for (auto& r : d.update(snapshot)) write(r);
//
// The states: CLOSE_WAIT (the peer closed, the application has not: the
// classic leak), FIN_WAIT2, SYN_SENT, SYN_RECV, LAST_ACK, and ESTABLISHED
// while retransmissions go unacknowledged (tcpi_retransmits > 0).
//
// Age: from the socket's entry into its state when tcpscope saw it
// (state_ts); otherwise it is at least the time since the socket was first
// seen in that state by this detector, and `age_at_least` says so. A
// socket in the first snapshot with no state_ts (older than the tracer) is
// given the detector's start as that first sighting. ESTABLISHED's age is
// how long it has been seen retransmitting. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "socket_snapshot.h"

namespace tcpscope {

struct StuckOptions {
    uint64_t threshold_ns = 0;  // stuck once the age passes this
    uint64_t period_ns = 0;     // repeat at most this often; 0: the threshold
};

enum class StuckPhase { Stuck, Ended };

struct StuckReport {
    StuckPhase phase = StuckPhase::Stuck;
    SocketRecord socket;     // as last seen (for Ended: in the stuck state)
    uint64_t ts_ns = 0;      // the snapshot's time
    uint32_t netns = 0;      // the snapshot's namespace
    uint64_t age_ns = 0;     // in the stuck state, by ts_ns
    bool age_at_least = false;
    uint32_t report = 1;     // 1 for the first report of this socket, then 2, ...
    // Ended: the state it moved to, 0 when it is gone (closed).
    int new_state = 0;
};

// Whether a socket in this record is in one of the watched states.
bool stuck_candidate(const SocketRecord& socket);
const char* stuck_phase_name(StuckPhase phase);

class StuckDetector {
public:
    // start_ns: when tracing began (CLOCK_MONOTONIC): the "at least" of
    // sockets older than that.
    StuckDetector(StuckOptions options, uint64_t start_ns);

    std::vector<StuckReport> update(const SocketSnapshot& snapshot);
    // Every socket stuck as of the last update (its age past the
    // threshold), whether or not that update reported it: what a gauge
    // shows at each scrape, where update()'s reports are for a stream.
    std::vector<StuckReport> stuck_now() const;
    size_t tracked() const { return tracked_.size(); }

private:
    struct Tracked {
        int state = 0;
        uint64_t since_ns = 0;  // entry into the state, or first sighting
        bool at_least = false;
        uint64_t last_report_ns = 0;
        uint32_t reports = 0;
        SocketRecord last;
    };
    // A report of t as of `now` (its last record, its age); and the final
    // record of a spell that was reported, with the state it moved to (0: gone).
    static StuckReport report_of(const Tracked& t, uint64_t now, uint32_t netns);
    static StuckReport ended(const Tracked& t, uint64_t now, uint32_t netns, int new_state);
    StuckOptions options_;
    uint64_t start_ns_;
    bool first_ = true;
    uint64_t last_ns_ = 0;     // the last update's snapshot time
    uint32_t last_netns_ = 0;  // and namespace
    std::unordered_map<uint64_t, Tracked> tracked_;  // by cookie
};

}  // namespace tcpscope
