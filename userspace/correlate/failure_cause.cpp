#include "failure_cause.h"

#include <algorithm>
#include <cstdio>

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

}  // namespace

std::string failure_cause(const Step& step, const std::vector<Event>& events,
                          const ResetReasons& reasons, uint64_t t0) {
    const std::string& err = step.errno_name;
    if (err.empty() || !step.cookie) return "";
    const uint64_t until = step.ts_ns;
    const Event* received = last_before(events, EventKind::ResetReceived, step.cookie, until);
    const Event* sent = received ? peer_reset(events, *received, until) : nullptr;
    const Event* error = last_before(events, EventKind::SockError, step.cookie, until);

    if (err == "EPIPE" || err == "ECONNRESET" || err == "ECONNREFUSED") {
        if (received) return reset_text(*received, sent, reasons, t0);
        if (err == "EPIPE") {
            // No RST: this side shut down writing, or closed its end.
            const Event* closed = nullptr;
            for (const auto& e : events) {
                if (e.kind == EventKind::State && e.cookie == step.cookie && e.ts_ns <= until &&
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
            if (e.kind == EventKind::Retransmit && e.cookie == step.cookie && e.ts_ns <= until) ++retransmits;
        }
        std::string text = std::to_string(retransmits) + " retransmission" + (retransmits == 1 ? "" : "s") +
                           " unanswered";
        if (error) text += ", then socket error ETIMEDOUT at " + at(error->ts_ns, t0);
        return text;
    }
    if (err == "EAGAIN") {
        const Event* state = last_before(events, EventKind::State, step.cookie, until);
        std::string what = step.op == StepOp::Send ? "the send buffer was full"
                           : step.op == StepOp::Accept ? "no connection was waiting"
                                                        : "nothing had arrived to read";
        if (state) what += " (socket " + tcp_state_name(state->new_state) + " since " + at(state->ts_ns, t0) + ")";
        return "non-blocking call would block: " + what;
    }
    return "";
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

}  // namespace tcpscope
