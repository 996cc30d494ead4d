#include "stuck_format.h"

#include <cstdio>

#include "event_text.h"
#include "names.h"
#include "text_format.h"

namespace tcpscope {
namespace {
constexpr int kEstablished = 1;  // the kernel's TCP_ESTABLISHED
}  // namespace

std::string stuck_text_line(const StuckReport& r, uint64_t start_ns, const WallClock* wall) {
    std::string time = time_column(r.ts_ns, start_ns, wall);
    const SocketRecord& s = r.socket;
    std::string age = (r.age_at_least ? "at least " : "") + duration_text(r.age_ns);
    std::string detail = tcp_state_name(s.state);
    // An ESTABLISHED socket is stuck only while its data goes unacknowledged,
    // and its age is how long it has been seen retransmitting, not how long
    // it has been established (perhaps days): say so.
    const bool retransmitting = s.state == kEstablished;
    if (r.phase == StuckPhase::Stuck) {
        detail += (retransmitting ? ", retransmitting unacknowledged data for " : " for ") + age +
                  ", Recv-Q " + std::to_string(s.recv_q) + ", Send-Q " + std::to_string(s.send_q);
        if (s.has_info) {
            detail += retransmitting ? ", the same segment sent again " + std::to_string(s.retransmits) +
                                           (s.retransmits == 1 ? " time" : " times")
                                     : ", retransmits " + std::to_string(s.retransmits);
        }
        if (r.report > 1) detail += " (report " + std::to_string(r.report) + ")";
    } else if (retransmitting) {
        detail += ", retransmitting ended after " + age + ": " +
                  (r.new_state == kEstablished ? std::string("acknowledged")
                   : r.new_state           ? "now " + tcp_state_name(r.new_state)
                                           : std::string("socket gone"));
    } else {
        detail += " ended after " + age + ": " +
                  (r.new_state ? "now " + tcp_state_name(r.new_state) : std::string("socket gone"));
    }
    return pad_column(time, wall ? kWallTimeWidth : kRelativeTimeWidth) +
           pad_column(std::to_string(s.pid), 7) +
           pad_column(s.pid ? sanitize_comm(s.comm.c_str(), s.comm.size()) : "?", 16) +
           pad_column(endpoint_text(s.local, s.family), 23) +
           pad_column(endpoint_text(s.remote, s.family), 23) +
           pad_column(r.phase == StuckPhase::Stuck ? "stuck" : "stuck_end", 14) + detail;
}

Json stuck_to_json(const StuckReport& r, const WallClock& clock, const ContainerIdentity* container) {
    const SocketRecord& s = r.socket;
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "stuck";
    j["phase"] = stuck_phase_name(r.phase);
    j["ts_ns"] = r.ts_ns;
    j["time"] = rfc3339_utc(clock.realtime_ns(r.ts_ns));
    j["pid"] = s.pid;
    j["comm"] = s.pid ? sanitize_comm(s.comm.c_str(), s.comm.size()) : "";
    add_container_keys(j, container);
    add_socket_keys(j, s.family, s.local, s.remote, s.cookie, r.netns);
    j["state"] = tcp_state_name(s.state);
    j["age_ns"] = r.age_ns;
    j["age_at_least"] = r.age_at_least;
    // What age_ns measures: time in the state, or (ESTABLISHED) time seen
    // retransmitting unacknowledged data.
    j["age_of"] = s.state == kEstablished ? "retransmitting" : "state";
    j["recv_q"] = s.recv_q;
    j["send_q"] = s.send_q;
    j["retransmits"] = s.has_info ? Json(s.retransmits) : Json(nullptr);
    j["total_retrans"] = s.has_info ? Json(s.total_retrans) : Json(nullptr);
    j["report"] = r.report;
    if (r.phase == StuckPhase::Ended) {
        j["new_state"] = r.new_state ? Json(tcp_state_name(r.new_state)) : Json(nullptr);
    }
    return j;
}

}  // namespace tcpscope
