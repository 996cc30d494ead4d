#include "story_format.h"

#include <array>
#include <charconv>
#include <cstdio>

#include "event_text.h"
#include "json_writer.h"
#include "text_format.h"

namespace tcpscope {
namespace {

std::string bytes_or_dash(const std::optional<uint64_t>& bytes) {
    return bytes ? std::to_string(*bytes) : "-";
}

// The RTT state at the end, by key; each 0 when the kernel did not say
// (no stats, or no RTT sample: a connect that never got its SYN-ACK).
struct RttValue {
    const char* key;
    uint32_t value;
};
std::array<RttValue, 4> rtt_values(const ConnectionStory& s) {
    CloseStats none;
    const CloseStats& c = s.stats ? *s.stats : none;
    return {{{"srtt_us", c.srtt_us},
             {"min_rtt_us", c.min_rtt_us},
             {"rto_us", c.rto_us},
             {"snd_cwnd", c.snd_cwnd}}};
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
    std::string time = time_column(s.end_ns, start_ns, wall);
    std::string comm = s.pid ? s.comm : "?";
    std::string duration = (s.duration_known() ? "" : ">") + duration_text(s.duration_ns());
    std::string end = ending_name(s.ending);
    return pad_column(time, wall ? kWallTimeWidth : kRelativeTimeWidth) +
           pad_column(std::to_string(s.pid), 7) + pad_column(comm, 16) +
           pad_column(endpoint_text(s.local, s.family), 23) +
           pad_column(endpoint_text(s.remote, s.family), 23) + pad_column(std::string(role_name(s.role)) + (s.role_from_ports ? "?" : ""), 7) +
           pad_column(bytes_or_dash(s.bytes_sent), 10) + pad_column(bytes_or_dash(s.bytes_received), 10) +
           pad_column(s.stats ? std::to_string(s.stats->total_retrans) : "-", 5) +
           pad_column(rtt_text(s), 10) + pad_column(duration, 10) + pad_column(end, 15) + story_cause(s, reasons) +
           (s.partial ? " (partial: dropped once at the connection bound)" : "");
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
    add_container_keys(j, s.container.get());
    j["role"] = role_name(s.role);
    j["role_from_ports"] = s.role_from_ports;
    add_socket_keys(j, s.family, s.local, s.remote, s.cookie, s.netns);
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
    for (const RttValue& r : rtt_values(s)) j[r.key] = r.value ? Json(r.value) : Json(nullptr);
    j["retransmits_seen"] = s.retransmits_seen;
    j["drops_seen"] = s.drops_seen;
    Json drop_reasons = Json::array();
    for (const auto& r : s.drop_reasons) drop_reasons.push_back(r);
    j["drop_reasons"] = std::move(drop_reasons);
    j["retransmits_after_drop"] = s.retransmits_after_drop;
    Json peer_drop_reasons = Json::array();
    for (const auto& r : s.peer_drop_reasons) peer_drop_reasons.push_back(r);
    j["peer_drop_reasons"] = std::move(peer_drop_reasons);
    j["partial"] = s.partial;
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

namespace {

template <class Int>
void num(std::string& out, Int value) {
    char tmp[24];
    auto result = std::to_chars(tmp, tmp + sizeof(tmp), value);
    out.append(tmp, static_cast<size_t>(result.ptr - tmp));
}

void key(std::string& out, const char* name) {
    out += ",\"";
    out += name;
    out += "\":";
}

void opt_num(std::string& out, const std::optional<uint64_t>& value) {
    if (value) {
        num(out, *value);
    } else {
        out += "null";
    }
}

void time_string(std::string& out, uint64_t realtime_ns) {
    out += '"';
    append_rfc3339_utc(out, realtime_ns);
    out += '"';
}

}  // namespace

void append_story_json(std::string& out, const ConnectionStory& s, const ResetReasons& reasons,
                       const WallClock& clock) {
    out += "{\"v\":";
    num(out, kJsonSchemaVersion);
    out += ",\"type\":\"connection\"";
    key(out, "ts_ns");
    num(out, s.end_ns);
    key(out, "time");
    time_string(out, clock.realtime_ns(s.end_ns));
    key(out, "pid");
    num(out, s.pid);
    key(out, "comm");
    append_json_string(out, s.comm);
    key(out, "attribution");
    append_json_string(out, s.attribution);
    if (s.container && !s.container->empty()) {
        if (!s.container->id.empty()) {
            key(out, "container_id");
            append_json_string(out, s.container->id);
        }
        if (!s.container->runtime.empty()) {
            key(out, "container_runtime");
            append_json_string(out, s.container->runtime);
        }
        if (!s.container->pod_uid.empty()) {
            key(out, "pod_uid");
            append_json_string(out, s.container->pod_uid);
            key(out, "pod_qos");
            append_json_string(out, s.container->qos);
        }
    }
    key(out, "role");
    append_json_string(out, role_name(s.role));
    key(out, "role_from_ports");
    out += s.role_from_ports ? "true" : "false";
    key(out, "family");
    out += s.family == 10 ? "\"inet6\"" : "\"inet\"";
    key(out, "saddr");
    append_json_string(out, s.local.addr);
    key(out, "sport");
    num(out, s.local.port);
    key(out, "daddr");
    append_json_string(out, s.remote.addr);
    key(out, "dport");
    num(out, s.remote.port);
    key(out, "cookie");
    num(out, s.cookie);
    key(out, "netns");
    num(out, s.netns);
    key(out, "netns_cookie");
    num(out, s.netns_cookie);
    key(out, "start_ns");
    opt_num(out, s.start_ns);
    key(out, "start_time");
    if (s.start_ns) {
        time_string(out, clock.realtime_ns(*s.start_ns));
    } else {
        out += "null";
    }
    key(out, "first_seen_ns");
    num(out, s.first_seen_ns);
    key(out, "duration_ns");
    num(out, s.duration_ns());
    key(out, "duration_known");
    out += s.duration_known() ? "true" : "false";
    key(out, "established");
    out += s.established ? "true" : "false";
    key(out, "states");
    out += '[';
    for (size_t i = 0; i < s.states.size(); ++i) {
        if (i) out += ',';
        out += "{\"state\":";
        append_json_string(out, tcp_state_name(s.states[i].state));
        key(out, "ns");
        opt_num(out, s.states[i].ns);
        out += '}';
    }
    out += ']';
    key(out, "bytes_sent");
    opt_num(out, s.bytes_sent);
    key(out, "bytes_received");
    opt_num(out, s.bytes_received);
    key(out, "total_retrans");
    if (s.stats) {
        num(out, s.stats->total_retrans);
    } else {
        out += "null";
    }
    for (const RttValue& r : rtt_values(s)) {
        key(out, r.key);
        if (r.value) {
            num(out, r.value);
        } else {
            out += "null";
        }
    }
    key(out, "retransmits_seen");
    num(out, s.retransmits_seen);
    key(out, "drops_seen");
    num(out, s.drops_seen);
    auto strings = [&out](const std::vector<std::string>& list) {
        out += '[';
        for (size_t i = 0; i < list.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, list[i]);
        }
        out += ']';
    };
    key(out, "drop_reasons");
    strings(s.drop_reasons);
    key(out, "retransmits_after_drop");
    num(out, s.retransmits_after_drop);
    key(out, "peer_drop_reasons");
    strings(s.peer_drop_reasons);
    key(out, "partial");
    out += s.partial ? "true" : "false";
    key(out, "closed_first");
    append_json_string(out, closer_name(s.closed_first));
    key(out, "end");
    append_json_string(out, ending_name(s.ending));
    key(out, "reset_reason");
    if (s.reset_reason) {
        append_json_string(out, reasons.name(*s.reset_reason));
    } else {
        out += "null";
    }
    key(out, "reset_state");
    if (s.reset_state) {
        append_json_string(out, tcp_state_name(*s.reset_state));
    } else {
        out += "null";
    }
    key(out, "errors");
    out += '[';
    for (size_t i = 0; i < s.errors.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, errno_name(s.errors[i]));
    }
    out += ']';
    key(out, "sigpipe");
    num(out, s.sigpipes);
    key(out, "cause");
    append_json_string(out, story_cause(s, reasons));
    out += '}';
}

}  // namespace tcpscope
