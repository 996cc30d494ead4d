#include "story_format.h"

#include <cstdio>

#include "event_text.h"

namespace tcpscope {
namespace {

constexpr int kWallWidth = 27;

std::string pad(const std::string& text, size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size() + 1, ' ');
}

std::string bytes_or_dash(const std::optional<uint64_t>& bytes) {
    return bytes ? std::to_string(*bytes) : "-";
}

}  // namespace

std::string story_text_header(const WallClock* wall) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "%-*s %-7s %-16s %-23s %-23s %-7s %-10s %-10s %-5s %-10s %-15s %s",
                  wall ? kWallWidth : 11, wall ? "TIME(UTC)" : "TIME(s)", "PID", "COMM", "LOCAL",
                  "REMOTE", "ROLE", "TX_BYTES", "RX_BYTES", "RETR", "DURATION", "END", "CAUSE");
    return buf;
}

std::string story_text_line(const ConnectionStory& s, uint64_t start_ns, const ResetReasons& reasons,
                            const WallClock* wall) {
    std::string time;
    if (wall) {
        append_rfc3339_utc(time, wall->realtime_ns(s.end_ns));
    } else {
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), "%.6f",
                      s.end_ns >= start_ns ? (s.end_ns - start_ns) / 1e9 : 0.0);
        time = seconds;
    }
    std::string comm = s.pid ? s.comm : "?";
    std::string duration = (s.duration_known() ? "" : ">") + duration_text(s.duration_ns());
    std::string end = ending_name(s.ending);
    return pad(time, wall ? kWallWidth : 11) + pad(std::to_string(s.pid), 7) + pad(comm, 16) +
           pad(endpoint_text(s.local, s.family), 23) + pad(endpoint_text(s.remote, s.family), 23) +
           pad(role_name(s.role), 7) + pad(bytes_or_dash(s.bytes_sent), 10) +
           pad(bytes_or_dash(s.bytes_received), 10) +
           pad(s.stats ? std::to_string(s.stats->total_retrans) : "-", 5) + pad(duration, 10) +
           pad(end, 15) + story_cause(s, reasons);
}

Json story_to_json(const ConnectionStory& s, const ResetReasons& reasons, const WallClock& clock) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "connection";
    j["ts_ns"] = s.end_ns;
    j["time"] = rfc3339_utc(clock.realtime_ns(s.end_ns));
    j["pid"] = s.pid;
    j["comm"] = s.comm;
    j["attribution"] = s.attribution;
    j["role"] = role_name(s.role);
    j["family"] = s.family == 10 ? "inet6" : "inet";
    j["saddr"] = s.local.addr;
    j["sport"] = s.local.port;
    j["daddr"] = s.remote.addr;
    j["dport"] = s.remote.port;
    j["cookie"] = s.cookie;
    j["netns"] = s.netns;
    j["netns_cookie"] = s.netns_cookie;
    j["start_ns"] = s.start_ns ? Json(*s.start_ns) : Json(nullptr);
    j["start_time"] = s.start_ns ? Json(rfc3339_utc(clock.realtime_ns(*s.start_ns))) : Json(nullptr);
    j["first_seen_ns"] = s.first_seen_ns;
    j["duration_ns"] = s.duration_ns();
    j["duration_known"] = s.duration_known();
    j["established"] = s.established;
    Json states = Json::array();
    for (const auto& span : s.states) {
        Json st;
        st["state"] = tcp_state_name(span.state);
        st["ns"] = span.ns ? Json(*span.ns) : Json(nullptr);
        states.push_back(std::move(st));
    }
    j["states"] = std::move(states);
    j["bytes_sent"] = s.bytes_sent ? Json(*s.bytes_sent) : Json(nullptr);
    j["bytes_received"] = s.bytes_received ? Json(*s.bytes_received) : Json(nullptr);
    j["total_retrans"] = s.stats ? Json(s.stats->total_retrans) : Json(nullptr);
    j["retransmits_seen"] = s.retransmits_seen;
    j["closed_first"] = closer_name(s.closed_first);
    j["end"] = ending_name(s.ending);
    j["reset_reason"] = s.reset_reason ? Json(reasons.name(*s.reset_reason)) : Json(nullptr);
    j["reset_state"] = s.reset_state ? Json(tcp_state_name(*s.reset_state)) : Json(nullptr);
    Json errors = Json::array();
    for (int err : s.errors) errors.push_back(errno_name(err));
    j["errors"] = std::move(errors);
    j["sigpipe"] = s.sigpipes;
    j["cause"] = story_cause(s, reasons);
    return j;
}

}  // namespace tcpscope
