#include "event_text.h"

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
    // An IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) is an IPv4
    // host: shown as one. JSON keeps the mapped form and the family.
    static const std::string kMapped = "::ffff:";
    if (family == AF_INET6 && endpoint.addr.compare(0, kMapped.size(), kMapped) == 0 &&
        endpoint.addr.find('.') != std::string::npos) {
        return endpoint.addr.substr(kMapped.size()) + ":" + std::to_string(endpoint.port);
    }
    if (family == AF_INET6) return "[" + endpoint.addr + "]:" + std::to_string(endpoint.port);
    return endpoint.addr + ":" + std::to_string(endpoint.port);
}

std::string state_change_text(const Event& e) {
    std::string s = tcp_state_name(e.old_state) + " -> " + tcp_state_name(e.new_state);
    if (e.prev_state_ns) s += " (" + duration_text(*e.prev_state_ns) + ")";
    if (e.old_state == e.new_state) s += ": close() after shutdown(), state set again, no new FIN";
    return s;
}

std::string listener_drop_text(const Event& e) {
    const std::string where = endpoint_text(e.local, e.family);
    std::string queue;
    if (e.accept_queue && e.accept_backlog) {
        queue = std::to_string(*e.accept_queue) + " of backlog " + std::to_string(*e.accept_backlog);
    }
    std::string s;
    if (e.drop_reason == "ACCEPT_QUEUE_FULL") {
        s = "SYN dropped: accept queue of " + where + " full";
        if (!queue.empty()) s += " (" + queue + ")";
    } else {
        // The counter rose, but the queue was not full at either look:
        // a drop of the listener's we cannot name (the SYN queue, memory).
        s = "SYN dropped by listener " + where;
        if (!queue.empty()) s += " (accept queue " + queue + ")";
    }
    return s + ", " + std::to_string(e.drop_count) + " since last look";
}

std::string drop_text(const Event& e) {
    if (e.drop_seen_by == "listener") return listener_drop_text(e);
    std::string flags = tcp_flags_name(e.tcp_flags);
    std::string s = (flags.empty() ? std::string("segment") : flags) + " dropped";
    if (e.payload_len > 0) s += " (" + std::to_string(e.payload_len) + " bytes)";
    s += e.dir == TS_DIR_RX ? " on the way in" : " on the way out";
    return s + ", reason " + (e.drop_reason.empty() ? "unknown" : e.drop_reason);
}

std::string event_detail(const Event& e, const ResetReasons& reasons) {
    auto reason_text = [&]() -> std::string {
        return e.reason ? ", reason " + reasons.name(*e.reason) : ", reason unknown";
    };
    switch (e.kind) {
    case EventKind::State:
        return state_change_text(e);
    case EventKind::ResetSent: {
        std::string s = "RST sent" + reason_text();
        if (e.no_socket) {
            s += " (no socket)";
        } else {
            s += " in " + tcp_state_name(e.state);
        }
        // The kernel's tcp_reset() for this abort is reported just before
        // as a RST received, which none was: say so where it is read.
        if (e.reason && reasons.name(*e.reason) == "TCP_ABORT_ON_DATA" && !e.minisock && !e.no_socket) {
            s += ": data came after our close (the \"RST received\" just before is this abort)";
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
    case EventKind::Drop:
        return drop_text(e);
    }
    return {};
}

}  // namespace tcpscope
