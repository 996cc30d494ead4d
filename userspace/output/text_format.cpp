#include "text_format.h"

#include <cstdio>

namespace tcpscope {

namespace {
constexpr int kWallWidth = 27;  // 2026-11-28T21:40:00.123456Z
}  // namespace

std::string text_header(const WallClock* wall) {
    char buf[192];
    std::snprintf(buf, sizeof(buf), "%-*s %-7s %-16s %-23s %-23s %-14s %s", wall ? kWallWidth : 11,
                  wall ? "TIME(UTC)" : "TIME(s)", "PID", "COMM", "LOCAL", "REMOTE", "EVENT",
                  "DETAIL");
    return buf;
}

namespace {
// Left-aligned in `width` columns, never cut: a long field pushes the rest
// of the line right instead of losing columns.
std::string pad(const std::string& text, size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size() + 1, ' ');
}
}  // namespace

std::string text_line(const Event& e, uint64_t start_ns, const ResetReasons& reasons,
                      const WallClock* wall) {
    std::string time;
    if (wall) {
        append_rfc3339_utc(time, wall->realtime_ns(e.ts_ns));
    } else {
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), "%.6f",
                      e.ts_ns >= start_ns ? (e.ts_ns - start_ns) / 1e9 : 0.0);
        time = seconds;
    }
    std::string local = e.is_socket_event() ? endpoint_text(e.local, e.family) : "-";
    std::string remote = e.is_socket_event() ? endpoint_text(e.remote, e.family) : "-";
    // A softirq event attributed to the socket's owner says so with '*';
    // one attributed to nobody (owner unknown) shows "?".
    std::string comm = e.attribution == "unknown" ? std::string("?")
                                                  : e.comm + (e.attribution != "current" ? "*" : "");
    return pad(time, wall ? kWallWidth : 11) + pad(std::to_string(e.pid), 7) + pad(comm, 16) + pad(local, 23) +
           pad(remote, 23) + pad(kind_name(e.kind), 14) + event_detail(e, reasons);
}

std::string text_lost_line(uint64_t count, uint64_t total, LossReason reason) {
    const char* why = "ring buffer full";
    if (reason == LossReason::ProgramSkipped) why = "kernel skipped the probe: it was already running on that CPU";
    if (reason == LossReason::WriteFailed) why = "output write failed";
    return "*** " + std::to_string(count) + " events lost (" + why + "), " +
           std::to_string(total) + " in all";
}

std::string text_summary(const TraceSummary& s) {
    std::string out = "summary:";
    uint64_t total = 0;
    for (const auto& [type, n] : s.counts) {
        out += " " + type + "=" + std::to_string(n);
        total += n;
    }
    out += " events=" + std::to_string(total) + " lost=" + std::to_string(s.lost);
    for (size_t r = 0; r < kLossReasons; ++r) {
        if (s.lost_by_reason[r]) {
            out += std::string(" ") + loss_reason_name(static_cast<LossReason>(r)) + "=" +
                   std::to_string(s.lost_by_reason[r]);
        }
    }
    if (s.undecodable) out += " undecodable=" + std::to_string(s.undecodable);
    out += " duration=" + duration_text(s.duration_ns);
    return out;
}

}  // namespace tcpscope
