#include "stuck_format.h"

#include <cstdio>

#include "event_text.h"
#include "names.h"
#include "json_fields.h"
#include "text_format.h"

namespace tcpscope {
namespace {
constexpr int kEstablished = 1;  // the kernel's TCP_ESTABLISHED
}  // namespace

std::string stuck_text_line(const StuckReport& r, uint64_t start_ns, const WallClock* wall) {
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
    return time_column(r.ts_ns, start_ns, wall) +
           pad_column(std::to_string(s.pid), 7) +
           pad_column(s.pid ? sanitize_comm(s.comm.c_str(), s.comm.size()) : "?", 16) +
           pad_column(endpoint_text(s.local, s.family), 23) +
           pad_column(endpoint_text(s.remote, s.family), 23) +
           pad_column(r.phase == StuckPhase::Stuck ? "stuck" : "stuck_end", 14) + detail;
}

namespace {

// A stuck report with what the line says of it beyond the report itself.
struct StuckRecord {
    const StuckReport& report;
    const ContainerIdentity* container;  // the owner's, null when none
};

// Every key of a "stuck" line (docs/schema.md), in order: walked by the
// fast writer and by the reference encoder (record_fields.h).
template <class F>
void stuck_fields(F& f, const StuckRecord& record) {
    const StuckReport& r = record.report;
    const SocketRecord& s = r.socket;
    f.computed("v", [] { return kJsonSchemaVersion; });
    f.computed("type", [] { return "stuck"; });
    f.computed("phase", [&] { return stuck_phase_name(r.phase); });
    f.field("ts_ns", r.ts_ns);
    f.time("time", r.ts_ns);
    f.field("pid", s.pid);
    f.computed("comm", [&] { return s.pid ? sanitize_comm(s.comm.c_str(), s.comm.size()) : std::string(); });
    container_keys(f, record.container);
    socket_fields(f, s.family, s.local, s.remote, s.cookie, r.netns);
    f.field("state", s.state, TcpStateName{});
    f.field("age_ns", r.age_ns);
    f.field("age_at_least", r.age_at_least);
    // What age_ns measures: time in the state, or (ESTABLISHED) time seen
    // retransmitting unacknowledged data.
    f.computed("age_of", [&] { return s.state == kEstablished ? "retransmitting" : "state"; });
    f.field("recv_q", s.recv_q);
    f.field("send_q", s.send_q);
    f.computed("retransmits", [&] { return s.has_info ? std::optional<uint32_t>(s.retransmits) : std::nullopt; });
    f.computed("total_retrans",
               [&] { return s.has_info ? std::optional<uint32_t>(s.total_retrans) : std::nullopt; });
    f.field("report", r.report);
    if (f.when(r.phase == StuckPhase::Ended)) {
        f.field("new_state", r.new_state ? std::optional<int>(r.new_state) : std::nullopt,
                OptionalTcpStateName{});
    }
}

const ResetReasons kNoReasons;  // a stuck line names no reset reason

}  // namespace

Json stuck_to_json(const StuckReport& report, const WallClock* clock, const ContainerIdentity* container) {
    return record_to_json(StuckRecord{report, container},
                          [](auto& f, const StuckRecord& r) { stuck_fields(f, r); }, kNoReasons, clock);
}

void append_stuck_json(std::string& out, const StuckReport& report, const WallClock* clock,
                       const ContainerIdentity* container) {
    append_record_json(out, StuckRecord{report, container},
                       [](auto& f, const StuckRecord& r) { stuck_fields(f, r); }, kNoReasons, clock);
}

}  // namespace tcpscope
