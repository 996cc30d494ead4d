#include "failure_cause.h"

#include <algorithm>
#include <cstdio>

#include "connection_drops.h"
#include "facts.h"
#include "readiness.h"
#include "timeline.h"

namespace tcpscope {

namespace {

std::string at(uint64_t ts, uint64_t t0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f ms", ts >= t0 ? (ts - t0) / 1e6 : 0.0);
    return buf;
}

// The event of `kind` on the step's socket that came last before the call
// returned (an event inside the call counts: the RST that a send drew).
const Event* last_before(const std::vector<Event>& events, EventKind kind, uint64_t cookie,
                         uint64_t until) {
    const Event* found = nullptr;
    for (const auto& e : events) {
        if (e.kind == kind && e.cookie == cookie && e.ts_ns <= until) found = &e;
    }
    return found;
}

// The RST the peer sent to this socket: from the endpoint that reset it
// to this one, as the socket stood when the RST arrived (after it, a
// socket unhashed by the RST may show port 0), last before `until` (a RST
// is sent before its reception, or on loopback in the same instant).
const Event* peer_reset(const std::vector<Event>& events, const Event& received, uint64_t until) {
    const Event* found = nullptr;
    for (const auto& e : events) {
        if (e.kind != EventKind::ResetSent || e.ts_ns > until) continue;
        if (e.family == received.family && e.local == received.remote && e.remote == received.local)
            found = &e;
    }
    return found;
}

std::string reset_text(const Event& received, const Event* sent, const ResetReasons& reasons,
                       uint64_t t0) {
    std::string text = "RST received in " + tcp_state_name(received.state) + " at " +
                       at(received.ts_ns, t0);
    if (sent) {
        std::string who = sent->no_socket ? "no socket on the peer's port"
                          : sent->minisock ? "peer's timewait socket"
                                           : "peer's socket in " + tcp_state_name(sent->state);
        std::string why = sent->reason ? reasons.name(*sent->reason) : "";
        text += " (" + who + (why.empty() ? "" : ", " + why) + ")";
    }
    return text;
}

// The words for one error handed over on the socket `cookie` by a call of
// kind `op` that returned at `until`.
std::string error_cause(const std::string& err, StepOp op, uint64_t cookie, uint64_t until,
                        const std::vector<Event>& events, const ResetReasons& reasons, uint64_t t0) {
    const Event* received = last_before(events, EventKind::ResetReceived, cookie, until);
    const Event* sent = received ? peer_reset(events, *received, until) : nullptr;
    const Event* error = last_before(events, EventKind::SockError, cookie, until);

    if (err == "EPIPE" || err == "ECONNRESET" || err == "ECONNREFUSED") {
        if (received && !sent && err == "ECONNREFUSED") {
            // A firewall's reject: it drops the SYN and answers with a RST
            // of its own, which no TCP socket sent.
            ConnectionDrops d = connection_drops(events, cookie, until);
            if (d.syns && d.reasons == "NETFILTER_DROP") {
                return reset_text(*received, nullptr, reasons, t0) + ", from a firewall rule: " +
                       drops_text(d) + ", and no TCP socket sent a RST";
            }
        }
        if (received) return reset_text(*received, sent, reasons, t0);
        if (err == "EPIPE") {
            // No RST: this side shut down writing, or closed its end.
            const Event* closed = nullptr;
            for (const auto& e : events) {
                if (e.kind == EventKind::State && e.cookie == cookie && e.ts_ns <= until &&
                    (e.new_state == 4 /* FIN_WAIT1 */ || e.new_state == 7 /* CLOSE */))
                    closed = &e;
            }
            if (closed)
                return "this side had closed for writing: " + tcp_state_name(closed->old_state) +
                       " -> " + tcp_state_name(closed->new_state) + " at " + at(closed->ts_ns, t0);
        }
        if (error) return "socket error " + errno_name(error->error) + " at " + at(error->ts_ns, t0);
        return "";
    }
    if (err == "ETIMEDOUT") {
        size_t retransmits = 0;
        for (const auto& e : events) {
            if (e.kind == EventKind::Retransmit && e.cookie == cookie && e.ts_ns <= until) ++retransmits;
        }
        std::string text = std::to_string(retransmits) + " retransmission" + (retransmits == 1 ? "" : "s") +
                           " unanswered";
        std::string dropped = drops_text(connection_drops(events, cookie, until));
        if (!dropped.empty()) text += ": " + dropped;
        if (error) text += ", then socket error ETIMEDOUT at " + at(error->ts_ns, t0);
        return text;
    }
    if (err == "EAGAIN") {
        const Event* state = last_before(events, EventKind::State, cookie, until);
        std::string what = op == StepOp::Send ? "the send buffer was full"
                           : op == StepOp::Accept ? "no connection was waiting"
                                                  : "nothing had arrived to read";
        if (state) what += " (socket " + tcp_state_name(state->new_state) + " since " + at(state->ts_ns, t0) + ")";
        return "non-blocking call would block: " + what;
    }
    return "";
}

bool is_readiness(StepOp op) {
    return op == StepOp::Poll || op == StepOp::Select || op == StepOp::EpollWait;
}

// The error the kernel last set on the socket before `until`, unless the
// socket left CLOSE after it (connect() again: a new attempt).
const Event* pending_error(const std::vector<Event>& events, uint64_t cookie, uint64_t until) {
    const Event* error = nullptr;
    uint64_t left_close = 0;
    for (const auto& e : events) {
        if (e.cookie != cookie || e.ts_ns > until) continue;
        if (e.kind == EventKind::SockError && (!error || e.ts_ns >= error->ts_ns)) error = &e;
        if (e.kind == EventKind::State && e.old_state == 7 /* CLOSE */) left_close = std::max(left_close, e.ts_ns);
    }
    return error && error->ts_ns >= left_close ? error : nullptr;
}

}  // namespace

std::vector<DeliveredError> delivered_errors(const Step& step, const std::vector<Event>& events) {
    std::vector<DeliveredError> out;
    if (step.failed()) {
        if (step.cookie) out.push_back({step.errno_name, step.cookie, ""});
        return out;
    }
    if (auto fetched = fetched_so_error(step); fetched && *fetched != "0" && step.cookie) {
        out.push_back({*fetched, step.cookie, "so_error"});
        return out;
    }
    if (!is_readiness(step.op) || !step.info.contains("ready") || !step.info["ready"].is_array()) return out;
    for (const auto& r : step.info["ready"]) {
        if (!r.is_object()) continue;
        const uint64_t cookie = r.value("cookie", uint64_t{0});
        if (!cookie || !(r.value("mask", 0u) & (kReadyErr | kReadyHup))) continue;
        const Event* error = pending_error(events, cookie, step.ts_ns);
        if (!error) continue;
        bool seen = false;
        for (const auto& d : out) seen |= d.cookie == cookie;
        if (!seen) out.push_back({errno_name(error->error), cookie, "ready"});
    }
    return out;
}

std::string failure_cause(const Step& step, const std::vector<Event>& events,
                          const ResetReasons& reasons, uint64_t t0) {
    std::string out;
    for (const auto& d : delivered_errors(step, events)) {
        std::string cause = error_cause(d.errno_name, step.op, d.cookie, step.ts_ns, events, reasons, t0);
        if (cause.empty()) continue;
        if (d.via == "ready") cause = d.errno_name + ": " + cause;
        out += (out.empty() ? "" : "; ") + cause;
    }
    return out;
}

size_t explain_failures(std::vector<Step>& steps, const std::vector<Event>& events,
                        const ResetReasons& reasons) {
    uint64_t t0 = UINT64_MAX;
    for (const auto& s : steps) t0 = std::min(t0, s.start_ns);
    size_t explained = 0;
    for (auto& s : steps) {
        std::string cause = failure_cause(s, events, reasons, t0);
        if (cause.empty()) continue;
        s.info["cause"] = cause;
        ++explained;
    }
    return explained;
}

std::string why_lines(const std::vector<Step>& steps) {
    std::string why;
    for (const auto& s : steps) {
        if (!s.info.contains("cause") || !s.info["cause"].is_string()) continue;
        why += "  " + s.side + " " + describe(s) + ": " + s.info["cause"].get<std::string>() + "\n";
    }
    return why;
}

}  // namespace tcpscope
