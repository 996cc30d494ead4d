#include "facts.h"

#include "readiness_facts.h"

#include <exception>

#include "event_text.h"

namespace tcpscope {

std::vector<Verdict> evaluate(const std::vector<Fact>& facts, const FactContext& context) {
    std::vector<Verdict> verdicts;
    // A scenario that checks nothing must not pass.
    if (facts.empty()) {
        verdicts.push_back({"the scenario declares its facts", false, "no facts declared"});
    }
    for (const auto& fact : facts) {
        // A step whose info has an unexpected shape must fail its fact,
        // not end the run.
        FactResult r;
        try {
            r = fact.check(context);
        } catch (const std::exception& e) {
            r = fails(std::string("the check could not read what was reported: ") + e.what());
        }
        if (r.ok && !r.unseen.empty()) {
            // Nothing seen contradicts the fact, but part of it is out of sight.
            std::string why;
            for (const auto& u : r.unseen) {
                if (why.find(u) == std::string::npos) why += (why.empty() ? "" : "; ") + u;
            }
            verdicts.push_back({fact.text, false, r.detail + "; not observable: " + why, false});
        } else if (!r.ok && r.untraced > 0) {
            verdicts.push_back({fact.text, false,
                                r.detail + "; not judged: the namespace counted " + std::to_string(r.untraced) +
                                    " more than the kernel's tracepoints reported",
                                true, r.untraced});
        } else {
            verdicts.push_back({fact.text, r.ok, r.detail, true});
        }
        verdicts.back().fact_id = fact.id;
    }
    return verdicts;
}

FactResult holds(std::string detail) { return {true, std::move(detail)}; }
FactResult fails(std::string detail) { return {false, std::move(detail)}; }

FactResult both(const FactResult& a, const FactResult& b) {
    FactResult r{a.ok && b.ok, a.detail + "; " + b.detail, a.unseen};
    r.unseen.insert(r.unseen.end(), b.unseen.begin(), b.unseen.end());
    return r;
}

bool shows(const FactContext& c, KernelFeature feature, std::vector<std::string>* unseen) {
    if (c.kernel.shows(feature)) return true;
    unseen->push_back(c.kernel.why_not(feature));
    return false;
}

bool kernel_agrees(const FactContext& c, const Step& step, EventKind kind,
                   std::vector<std::string>* unseen) {
    if (!shows(c, KernelFeature::SendRecvResults, unseen)) return true;
    int64_t expected = step.ret;
    if (step.ret < 0) {
        auto err = errno_from_name(step.errno_name);
        expected = err ? -static_cast<int64_t>(*err) : step.ret;
    }
    bool agrees = false;
    // The kernel's own results (sock_send_length / sock_recv_length).
    for (const Event* e : select(c.timeline, c.timeline.during(step), kind, step.side)) {
        agrees |= e->ret == expected && (step.cookie == 0 || e->cookie == step.cookie);
    }
    return agrees;
}

std::string describe(const Step& s) {
    std::string out = s.call + " = " + std::to_string(s.ret);
    if (!s.errno_name.empty()) out += " " + s.errno_name;
    // A readiness call: what came back, by name ("= 1 IN|OUT|RDHUP").
    std::string ready = ready_text(s);
    if (!ready.empty()) out += " " + ready;
    // getsockopt(SO_ERROR) returns 0 whatever it fetched: the error it
    // handed over is the point of the call.
    if (auto so_error = fetched_so_error(s)) out += ", so_error " + *so_error;
    return out;
}

std::string describe(const Event& e, const ResetReasons& reasons) {
    // The detail already names what happened ("RST sent", "send returned");
    // a state change and a segment say what they are.
    if (e.kind == EventKind::State) return "state " + event_detail(e, reasons);
    if (e.kind == EventKind::Packet) return "segment " + event_detail(e, reasons);
    return event_detail(e, reasons);
}

std::string describe(const std::vector<const Event*>& events, const ResetReasons& reasons) {
    if (events.empty()) return "nothing";
    std::vector<std::string> parts;
    for (const Event* e : events) parts.push_back(describe(*e, reasons));
    return join(parts, "; ");
}

std::vector<std::string> state_path(const Timeline& timeline, uint64_t cookie) {
    std::vector<std::string> path;
    if (cookie == 0) return path;
    for (const Event* e : timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::State) {
            path.push_back(tcp_state_name(e->old_state) + "->" + tcp_state_name(e->new_state));
        }
    }
    return path;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
    return out;
}

bool contains_in_order(const std::vector<std::string>& path,
                       const std::vector<std::string>& expected) {
    size_t next = 0;
    for (const auto& p : path) {
        if (next < expected.size() && p == expected[next]) ++next;
    }
    return next == expected.size();
}

FactResult went_through(const FactContext& c, const std::string& side,
                        const std::vector<std::string>& expected) {
    uint64_t cookie = c.timeline.cookie_of(side);
    if (cookie == 0) return fails("no " + side + " connection was reported");
    auto path = state_path(c.timeline, cookie);
    std::string seen = side + ": " + (path.empty() ? "no state change" : join(path));
    return {contains_in_order(path, expected), seen};
}

FactResult returned(const FactContext& c, const std::string& side, const StepMatch& match,
                    int nth, int64_t ret, const std::string& errno_name) {
    const Step* s = c.timeline.find_step(side, match, nth);
    if (s == nullptr) {
        return fails("no " + std::string(step_op_name(match.op)) + " step #" +
                     std::to_string(nth + 1) + " by the " + side);
    }
    return {s->ret == ret && s->errno_name == errno_name, describe(*s)};
}

std::vector<const Event*> select(const Timeline& timeline, const std::vector<const Event*>& events,
                                 EventKind kind, const std::string& side) {
    std::vector<const Event*> out;
    for (const Event* e : events) {
        if (e->kind == kind && (side.empty() || timeline.side_of(*e) == side)) out.push_back(e);
    }
    return out;
}

std::vector<const Event*> packets_from(const Timeline& timeline,
                                       const std::vector<const Event*>& events,
                                       const std::string& side) {
    std::vector<const Event*> out;
    for (const Event* e : events) {
        if (e->kind != EventKind::Packet) continue;
        if (timeline.side_of_endpoint(endpoint_key(e->local, e->family)) == side) out.push_back(e);
    }
    return out;
}

FactResult sent_reset(const FactContext& c, const std::vector<const Event*>& events,
                      const std::string& side, const std::string& reason) {
    auto resets = select(c.timeline, events, EventKind::ResetSent, side);
    auto packets = packets_from(c.timeline, events, side);
    bool reason_ok = false;
    for (const Event* r : resets) {
        reason_ok |= reason.empty() || (r->reason && c.reasons.name(*r->reason) == reason);
    }
    bool rst_on_wire = false;
    for (const Event* p : packets) rst_on_wire |= (p->tcp_flags & TS_TCP_RST) != 0;
    std::string seen = side + ": " + describe(resets, c.reasons) + "; " + side +
                       " segments: " + describe(packets, c.reasons);
    std::vector<std::string> unseen;
    if (resets.empty() && rst_on_wire) {
        // Before 6.10 tcp_send_reset is silent for a RST sent with no socket
        // or by a mini-socket: the wire stands in for it, but not for its reason.
        std::vector<std::string> why;
        if (!shows(c, KernelFeature::ResetWithoutSocket, &why)) {
            if (!reason.empty()) unseen = why;
            return {true, seen + " (tcp_send_reset is silent for it here: seen on the wire)", unseen};
        }
    }
    if (!reason.empty() && !resets.empty() && !shows(c, KernelFeature::ResetReason, &unseen)) {
        reason_ok = true;
    }
    return {reason_ok && rst_on_wire, seen, unseen};
}

FactResult closed_socket_answered_reset(const FactContext& c,
                                        const std::vector<const Event*>& events,
                                        const std::string& side) {
    uint64_t cookie = c.timeline.cookie_of(side);
    bool kept_orphan = false;
    for (const Event* e : events) {
        kept_orphan |= e->kind == EventKind::State && cookie != 0 && e->cookie == cookie &&
                       tcp_state_name(e->old_state) == "FIN_WAIT2" &&
                       tcp_state_name(e->new_state) == "CLOSE";
    }
    if (!kept_orphan) {
        FactResult rst = sent_reset(c, events, side, "TCP_TIMEWAIT_SOCKET");
        // Sent by the mini-socket, not by a full socket or no socket; its
        // state is the mini-socket's substate (FIN_WAIT2), or TIME_WAIT in
        // recordings made before tcpscope read the substate. Before 6.10
        // tcp_send_reset is silent for it: sent_reset says so.
        bool from_minisock = !c.kernel.shows(KernelFeature::ResetWithoutSocket);
        for (const Event* e : select(c.timeline, events, EventKind::ResetSent, side)) {
            std::string state = tcp_state_name(e->state);
            from_minisock |= e->minisock && !e->no_socket &&
                             (state == "FIN_WAIT2" || state == "TIME_WAIT");
        }
        return {rst.ok && from_minisock, rst.detail, rst.unseen};
    }
    FactResult rst = sent_reset(c, events, side, "TCP_ABORT_ON_DATA");
    bool from_orphan = false;
    for (const Event* e : select(c.timeline, events, EventKind::ResetSent, side)) {
        from_orphan |= !e->minisock && !e->no_socket;
    }
    return {rst.ok && from_orphan,
            rst.detail + " (from the orphan the kernel kept in FIN_WAIT2 instead of a timewait "
                         "mini-socket, as it does when our FIN's ACK comes while close() "
                         "holds the socket)",
            rst.unseen};
}

bool sent_without_socket(const FactContext& c, const std::vector<const Event*>& resets,
                         std::vector<std::string>* unseen) {
    if (!shows(c, KernelFeature::ResetWithoutSocket, unseen)) return true;
    bool found = false;
    for (const Event* r : resets) {
        found |= r->no_socket && r->cookie == 0 && r->reason &&
                 c.reasons.name(*r->reason) == "NO_SOCKET";
    }
    return found;
}

FactResult closed_by_reset(const FactContext& c, const std::vector<const Event*>& events,
                           const std::string& side, const std::string& state,
                           const std::string& error) {
    auto received = select(c.timeline, events, EventKind::ResetReceived, side);
    auto states = select(c.timeline, events, EventKind::State, side);
    auto errors = select(c.timeline, events, EventKind::SockError, side);
    bool got_rst = false;
    for (const Event* e : received) got_rst |= tcp_state_name(e->state) == state;
    bool closed = false;
    for (const Event* e : states) {
        closed |= tcp_state_name(e->old_state) == state && tcp_state_name(e->new_state) == "CLOSE";
    }
    bool error_ok = false;
    for (const Event* e : errors) error_ok |= errno_name(e->error) == error;
    return {got_rst && closed && error_ok,
            side + ": " + describe(received, c.reasons) + "; " + describe(states, c.reasons) +
                "; " + describe(errors, c.reasons)};
}

FactResult closed_leaving_nothing(const FactContext& c, const std::string& side,
                                  const Step* diag) {
    FactResult path = went_through(c, side, {"ESTABLISHED->CLOSE"});
    bool lingered = false;
    for (const auto& s : state_path(c.timeline, c.timeline.cookie_of(side))) {
        lingered |= s.find("FIN_WAIT") != std::string::npos;
    }
    if (diag == nullptr) return fails(path.detail + "; no sock_diag after the close");
    return {path.ok && !lingered && diag_state(*diag).empty(),
            path.detail + "; " + describe_diag(*diag)};
}

std::string diag_state(const Step& step) {
    auto it = step.info.find("tcp_state");
    return it != step.info.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string describe_diag(const Step& step) {
    std::string state = diag_state(step);
    if (state.empty()) return step.call + " = no socket";
    const auto& i = step.info;
    return step.call + " = " + state + ", timer " + i.value("timer", std::string("?")) + " " +
           std::to_string(i.value("timer_ms", 0u)) + " ms, Send-Q " +
           std::to_string(i.value("send_q", 0u)) + ", Recv-Q " +
           std::to_string(i.value("recv_q", 0u));
}

FactResult sent_one_segment(const FactContext& c, const Step* step, const std::string& side,
                            int payload) {
    if (step == nullptr) return fails("the " + side + " made no such send");
    auto packets = packets_from(c.timeline, c.timeline.during(*step), side);
    int carrying = 0;
    for (const Event* p : packets) carrying += p->payload_len == payload;
    return {step->ret == payload && !step->failed() && packets.size() == 1 && carrying == 1,
            describe(*step) + "; " + side + " segments: " + describe(packets, c.reasons)};
}

FactResult send_epipe_with_sigpipe(const FactContext& c, int nth) {
    const Step* send = c.timeline.find_step("client", kSendOne, nth);
    if (send == nullptr) return fails("the client made too few one-byte sends");
    std::vector<const Event*> signals;
    for (const Event* e : c.timeline.during(*send)) {
        if (e->kind == EventKind::Signal && e->signal == 13 && e->target_pid == send->pid) {
            signals.push_back(e);
        }
    }
    std::vector<std::string> unseen;
    bool kernel = kernel_agrees(c, *send, EventKind::Send, &unseen);
    return {send->ret == -1 && send->errno_name == "EPIPE" && kernel && signals.size() == 1,
            describe(*send) + "; " + describe(signals, c.reasons), unseen};
}

FactResult killed_by_sigpipe(const FactContext& c, const Step* wait) {
    const Step* first = c.timeline.find_step("client", kSendOne, 0);
    if (first == nullptr || wait == nullptr) return fails("no one-byte send or no wait(client)");
    int signal = static_cast<int>(info_number(*wait, "term_signal"));
    int status = static_cast<int>(info_number(*wait, "exit_status"));
    bool never_returned = c.timeline.find_step("client", kSendOne, 1) == nullptr;
    std::string seen = describe(*wait) + " (client pid " + std::to_string(first->pid) + "): " +
                       (signal > 0 ? "killed by " + signal_name(signal) + " (" +
                                         std::to_string(signal) + ")"
                                   : "exited") +
                       ", exit status " + std::to_string(status) + "; the second send " +
                       (never_returned ? "never returned to it" : "returned");
    return {wait->ret == first->pid && signal == 13 && status == 141 && never_returned, seen};
}

std::vector<const Step*> own_diags(const FactContext& c, const std::string& side) {
    std::vector<const Step*> out;
    const Step* conn = c.timeline.find_step(side, kConnect);
    if (conn == nullptr || conn->local.empty()) return out;
    StepMatch own{StepOp::SockDiag, conn->local};
    for (int i = 0;; ++i) {
        const Step* s = c.timeline.find_step(side, own, i);
        if (s == nullptr) return out;
        out.push_back(s);
    }
}

bool gaps_double(const std::vector<const Event*>& events, std::vector<uint64_t>* gaps_ns) {
    bool doubling = events.size() >= 3;
    for (size_t i = 1; i < events.size(); ++i) {
        uint64_t gap = events[i]->ts_ns - events[i - 1]->ts_ns;
        gaps_ns->push_back(gap);
        if (i >= 2) {
            double ratio = static_cast<double>(gap) / static_cast<double>((*gaps_ns)[i - 2]);
            doubling &= ratio >= 1.5 && ratio <= 2.5;
        }
    }
    return doubling;
}

std::string gaps_text(const std::vector<uint64_t>& gaps_ns) {
    std::vector<std::string> parts;
    for (uint64_t gap : gaps_ns) parts.push_back(std::to_string(gap / 1'000'000) + " ms");
    return parts.empty() ? "none" : join(parts);
}

int64_t info_number(const Step& s, const char* key) {
    auto it = s.info.find(key);
    return it != s.info.end() && it->is_number() ? it->get<int64_t>() : -1;
}

std::string info_string(const Step& s, const char* key) {
    auto it = s.info.find(key);
    return it != s.info.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace tcpscope
