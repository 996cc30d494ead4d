#include "text_format.h"

#include <cstdio>

namespace tcpscope {

std::string text_header(const WallClock* wall) {
    char buf[192];
    std::snprintf(buf, sizeof(buf), "%-*s %-7s %-16s %-23s %-23s %-14s %s",
                  wall ? kWallTimeWidth : kRelativeTimeWidth, wall ? "TIME(UTC)" : "TIME(s)", "PID",
                  "COMM", "LOCAL", "REMOTE", "EVENT", "DETAIL");
    return buf;
}

std::string time_column(uint64_t ts_ns, uint64_t start_ns, const WallClock* wall) {
    std::string time;
    if (wall) {
        append_rfc3339_utc(time, wall->realtime_ns(ts_ns));
    } else {
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), "%.6f", ts_ns >= start_ns ? (ts_ns - start_ns) / 1e9 : 0.0);
        time = seconds;
    }
    return pad_column(time, wall ? kWallTimeWidth : kRelativeTimeWidth);
}

std::string pad_column(const std::string& text, size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size() + 1, ' ');
}

std::string text_line(const Event& e, uint64_t start_ns, const ResetReasons& reasons,
                      const WallClock* wall) {
    std::string local = e.is_socket_event() ? endpoint_text(e.local, e.family) : "-";
    std::string remote = e.is_socket_event() ? endpoint_text(e.remote, e.family) : "-";
    // A softirq event attributed to the socket's owner says so with '*';
    // one attributed to nobody (owner unknown) shows "?".
    std::string comm = e.attribution == "unknown" ? std::string("?")
                                                  : e.comm + (e.attribution != "current" ? "*" : "");
    return time_column(e.ts_ns, start_ns, wall) + pad_column(std::to_string(e.pid), 7) +
           pad_column(comm, 16) + pad_column(local, 23) +
           pad_column(remote, 23) + pad_column(kind_name(e.kind), 14) + event_detail(e, reasons);
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
