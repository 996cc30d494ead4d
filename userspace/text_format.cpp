#include "text_format.h"

#include <sys/socket.h>

#include <cstdio>

namespace tcpscope {

std::string duration_text(uint64_t ns) {
    char buf[32];
    if (ns < 1000) {
        std::snprintf(buf, sizeof(buf), "%llu ns", static_cast<unsigned long long>(ns));
    } else if (ns < 1000000) {
        std::snprintf(buf, sizeof(buf), "%.1f us", ns / 1e3);
    } else if (ns < 1000000000) {
        std::snprintf(buf, sizeof(buf), "%.1f ms", ns / 1e6);
    } else {
        std::snprintf(buf, sizeof(buf), "%.2f s", ns / 1e9);
    }
    return buf;
}

std::string endpoint_text(const Endpoint& endpoint, int family) {
    if (family == AF_INET6) return "[" + endpoint.addr + "]:" + std::to_string(endpoint.port);
    return endpoint.addr + ":" + std::to_string(endpoint.port);
}

std::string event_detail(const Event& e, const ResetReasons& reasons) {
    auto reason_text = [&]() -> std::string {
        return e.reason ? ", reason " + reasons.name(*e.reason) : ", reason unknown";
    };
    switch (e.kind) {
    case EventKind::State: {
        std::string s = tcp_state_name(e.old_state) + " -> " + tcp_state_name(e.new_state);
        if (e.prev_state_ns) s += " (" + duration_text(*e.prev_state_ns) + ")";
        return s;
    }
    case EventKind::ResetSent: {
        std::string s = "RST sent" + reason_text();
        if (e.no_socket) {
            s += " (no socket)";
        } else {
            s += " in " + tcp_state_name(e.state);
        }
        return s;
    }
    case EventKind::ResetReceived:
        return "RST received in " + tcp_state_name(e.state);
    case EventKind::Retransmit: {
        std::string s = "retransmit in " + tcp_state_name(e.state);
        if (e.err && *e.err != 0) s += ", err " + errno_name(*e.err);
        return s;
    }
    case EventKind::SockError:
        return "socket error " + errno_name(e.error);
    case EventKind::Signal:
        return signal_name(e.signal) + " generated for pid " + std::to_string(e.target_pid) +
               " (" + signal_result_name(e.signal_result) + ")";
    case EventKind::Send:
    case EventKind::Recv: {
        std::string s = std::string(e.kind == EventKind::Send ? "send" : "recv") + " returned " +
                        std::to_string(e.ret);
        if (e.ret < 0) s += " (" + errno_name(static_cast<int>(-e.ret)) + ")";
        return s;
    }
    case EventKind::Packet:
        return std::string(e.dir == TS_DIR_RX ? "rx " : "tx ") + tcp_flags_name(e.tcp_flags) +
               " len " + std::to_string(e.payload_len);
    }
    return {};
}

std::string text_header() {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%-11s %-7s %-16s %-23s %-23s %-14s %s", "TIME(s)", "PID",
                  "COMM", "LOCAL", "REMOTE", "EVENT", "DETAIL");
    return buf;
}

namespace {
// Left-aligned in `width` columns, never cut: a long field pushes the rest
// of the line right instead of losing columns.
std::string pad(const std::string& text, size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size() + 1, ' ');
}
}  // namespace

std::string text_line(const Event& e, uint64_t start_ns, const ResetReasons& reasons) {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.6f",
                  e.ts_ns >= start_ns ? (e.ts_ns - start_ns) / 1e9 : 0.0);
    std::string local = e.is_socket_event() ? endpoint_text(e.local, e.family) : "-";
    std::string remote = e.is_socket_event() ? endpoint_text(e.remote, e.family) : "-";
    // A softirq event attributed to the socket's owner says so with '*'.
    std::string comm = e.comm + (e.attribution != "current" ? "*" : "");
    return pad(seconds, 11) + pad(std::to_string(e.pid), 7) + pad(comm, 16) + pad(local, 23) +
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
