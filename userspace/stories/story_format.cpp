#include "story_format.h"

#include <cstdio>
#include <optional>

#include "event_text.h"
#include "json_fields.h"
#include "text_format.h"

namespace tcpscope {
namespace {

std::string bytes_or_dash(const std::optional<uint64_t>& bytes) {
    return bytes ? std::to_string(*bytes) : "-";
}

}  // namespace

std::string rtt_text(const ConnectionStory& s) {
    if (!s.stats || s.stats->srtt_us == 0) return "-";
    return duration_text(uint64_t{s.stats->srtt_us} * 1000);
}

std::string story_text_header(const WallClock* wall) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "%-*s %-7s %-16s %-23s %-23s %-7s %-10s %-10s %-5s %-10s %-10s %-15s %s",
                  wall ? kWallTimeWidth : kRelativeTimeWidth, wall ? "TIME(UTC)" : "TIME(s)", "PID",
                  "COMM", "LOCAL", "REMOTE", "ROLE", "TX_BYTES", "RX_BYTES", "RETR", "RTT", "DURATION",
                  "END", "CAUSE");
    return buf;
}

std::string story_text_line(const ConnectionStory& s, uint64_t start_ns, const ResetReasons& reasons,
                            const WallClock* wall) {
    std::string comm = s.pid ? s.comm : "?";
    std::string duration = (s.duration_known() ? "" : ">") + duration_text(s.duration_ns());
    std::string end = ending_name(s.ending);
    return time_column(s.end_ns, start_ns, wall) +
           pad_column(std::to_string(s.pid), 7) + pad_column(comm, 16) +
           pad_column(endpoint_text(s.local, s.family), 23) +
           pad_column(endpoint_text(s.remote, s.family), 23) + pad_column(std::string(role_name(s.role)) + (s.role_from_ports ? "?" : ""), 7) +
           pad_column(bytes_or_dash(s.bytes_sent), 10) + pad_column(bytes_or_dash(s.bytes_received), 10) +
           pad_column(s.stats ? std::to_string(s.stats->total_retrans) : "-", 5) +
           pad_column(rtt_text(s), 10) + pad_column(duration, 10) + pad_column(end, 15) + story_cause(s, reasons) +
           (s.partial ? " (partial: dropped once at the connection bound)" : "");
}

namespace {

// A number the kernel gives as 0 when it has none: null then.
std::optional<uint32_t> unless_zero(uint32_t value) {
    return value ? std::optional<uint32_t>(value) : std::nullopt;
}

// Every key of a "connection" line (docs/schema.md), in order: walked by
// the fast writer and by the reference encoder (record_fields.h).
template <class F>
void story_fields(F& f, const ConnectionStory& s, const ResetReasons& reasons) {
    f.computed("v", [] { return kJsonSchemaVersion; });
    f.computed("type", [] { return "connection"; });
    f.field("ts_ns", s.end_ns);
    f.time("time", s.end_ns);
    f.field("pid", s.pid);
    f.field("comm", s.comm);
    f.field("attribution", s.attribution);
    container_keys(f, s.container);
    f.computed("role", [&] { return role_name(s.role); });
    f.field("role_from_ports", s.role_from_ports);
    socket_fields(f, s.family, s.local, s.remote, s.cookie, s.netns);
    f.field("netns_cookie", s.netns_cookie);
    f.field("start_ns", s.start_ns);
    f.time("start_time", s.start_ns);
    f.field("first_seen_ns", s.first_seen_ns);
    f.computed("duration_ns", [&] { return s.duration_ns(); });
    f.computed("duration_known", [&] { return s.duration_known(); });
    f.field("established", s.established);
    f.objects("states", s.states, [](auto& g, const StateSpan& span) {
        g.field("state", span.state, TcpStateName{});
        g.field("ns", span.ns);
    });
    f.field("bytes_sent", s.bytes_sent);
    f.field("bytes_received", s.bytes_received);
    // The RTT state at the end, each null when the kernel did not say (no
    // stats, or no RTT sample: a connect that never got its SYN-ACK).
    const CloseStats none;
    const CloseStats& c = s.stats ? *s.stats : none;
    f.computed("total_retrans", [&] { return s.stats ? std::optional<uint32_t>(c.total_retrans) : std::nullopt; });
    f.computed("srtt_us", [&] { return unless_zero(c.srtt_us); });
    f.computed("min_rtt_us", [&] { return unless_zero(c.min_rtt_us); });
    f.computed("rto_us", [&] { return unless_zero(c.rto_us); });
    f.computed("snd_cwnd", [&] { return unless_zero(c.snd_cwnd); });
    f.field("retransmits_seen", s.retransmits_seen);
    f.field("drops_seen", s.drops_seen);
    f.list("drop_reasons", s.drop_reasons);
    f.field("retransmits_after_drop", s.retransmits_after_drop);
    f.list("peer_drop_reasons", s.peer_drop_reasons);
    f.field("partial", s.partial);
    f.computed("closed_first", [&] { return closer_name(s.closed_first); });
    f.computed("end", [&] { return ending_name(s.ending); });
    f.field("reset_reason", s.reset_reason, ResetReasonName{});
    f.field("reset_state", s.reset_state, OptionalTcpStateName{});
    f.list("errors", s.errors, ErrnoName{});
    f.field("sigpipe", s.sigpipes);
    f.computed("cause", [&] { return story_cause(s, reasons); });
}

}  // namespace

Json story_to_json(const ConnectionStory& story, const ResetReasons& reasons, const WallClock* clock) {
    return record_to_json(
        story, [&reasons](auto& f, const ConnectionStory& s) { story_fields(f, s, reasons); }, reasons,
        clock);
}

void append_story_json(std::string& out, const ConnectionStory& story, const ResetReasons& reasons,
                       const WallClock* clock) {
    append_record_json(
        out, story, [&reasons](auto& f, const ConnectionStory& s) { story_fields(f, s, reasons); },
        reasons, clock);
}

}  // namespace tcpscope
