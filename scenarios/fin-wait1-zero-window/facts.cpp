// fin-wait1-zero-window: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

namespace tcpscope {

namespace {

const StepMatch kSend{StepOp::Send};  // send(fd, buf, N)

const Step* last_send(const FactContext& c) {
    const Step* last = nullptr;
    for (int i = 0;; ++i) {
        const Step* s = c.timeline.find_step("client", kSend, i);
        if (s == nullptr) break;
        last = s;
    }
    return last;
}

// The receiver's cleanup close() ends the observation (its RST ends the orphan).
uint64_t observation_end(const FactContext& c) {
    const Step* s = c.timeline.find_step("server", kClose);
    return s ? s->start_ns : UINT64_MAX;
}

// Zero-window probes: zero-length segments from the sender whose sequence is
// one below what the receiver acknowledged (Linux's tcp_xmit_probe_skb).
std::vector<const Event*> probes(const FactContext& c, uint64_t from, uint64_t to) {
    std::vector<const Event*> out;
    uint32_t una = 0;
    bool have_una = false;
    for (const Event* e : c.timeline.between(0, to)) {
        if (e->kind != EventKind::Packet) continue;
        std::string side = c.timeline.side_of_endpoint(endpoint_key(e->local, e->family));
        if (side == "server" && (e->tcp_flags & TS_TCP_ACK)) {
            una = e->ack_seq;
            have_una = true;
        } else if (side == "client" && e->ts_ns >= from && have_una && e->payload_len == 0 &&
                   !(e->tcp_flags & (TS_TCP_SYN | TS_TCP_FIN | TS_TCP_RST)) &&
                   e->seq == una - 1) {
            out.push_back(e);
        }
    }
    return out;
}

FactResult sender_fills_both_buffers(const FactContext& c) {
    const Step* last = last_send(c);
    const Step* first = c.timeline.find_step("client", kSend);
    if (last == nullptr) return fails("the sender made no send");
    std::vector<std::string> seen;
    bool accepted_before = true;
    int64_t accepted = 0;
    for (int i = 0;; ++i) {
        const Step* s = c.timeline.find_step("client", kSend, i);
        if (s == nullptr || s == last) break;
        accepted_before &= s->ret > 0;
        accepted += s->ret > 0 ? s->ret : 0;
    }
    auto results = select(c.timeline, c.timeline.during(*last), EventKind::Send, "client");
    std::vector<std::string> unseen;
    bool kernel_eagain = kernel_agrees(c, *last, EventKind::Send, &unseen);
    // The receiver's queue: its Recv-Q equals what the sender's segments
    // carried and the receiver acknowledged.
    const Step* recv_diag = c.timeline.find_step("client", StepMatch{StepOp::SockDiag, "127.0.0.1:5000"});
    uint32_t isn = 0;
    uint32_t acked = 0;
    bool have_isn = false;
    for (const Event* e : c.timeline.of_kind(EventKind::Packet)) {
        std::string side = c.timeline.side_of_endpoint(endpoint_key(e->local, e->family));
        if (side == "client" && (e->tcp_flags & TS_TCP_SYN)) {
            isn = e->seq;
            have_isn = true;
        }
        if (side == "server" && (e->tcp_flags & TS_TCP_ACK) && !(e->tcp_flags & TS_TCP_RST) &&
            recv_diag && e->ts_ns < recv_diag->start_ns) {
            acked = e->ack_seq - isn - 1;
        }
    }
    int64_t recv_q = recv_diag ? info_number(*recv_diag, "recv_q") : -1;
    bool ok = first != last && accepted_before && last->ret == -1 && last->errno_name == "EAGAIN" &&
              kernel_eagain && recv_diag != nullptr && have_isn && recv_q > 0 &&
              recv_q == static_cast<int64_t>(acked);
    return {ok, std::to_string(accepted) + " bytes accepted by the sends before; " +
                    describe(*last) + " (kernel: " + describe(results, c.reasons) + "); " +
                    (recv_diag ? describe_diag(*recv_diag) : std::string("no look at the receiver")) +
                    "; bytes acknowledged on the wire: " + std::to_string(acked),
            unseen};
}

FactResult close_leaves_it_in_fin_wait1(const FactContext& c) {
    const Step* close = c.timeline.find_step("client", kClose);
    if (close == nullptr) return fails("the sender never called close()");
    uint64_t cookie = c.timeline.cookie_of("client");
    auto during = select(c.timeline, c.timeline.during(*close), EventKind::State, "client");
    bool to_fw1 = false;
    for (const Event* e : during) {
        to_fw1 |= e->cookie == cookie && tcp_state_name(e->old_state) == "ESTABLISHED" &&
                  tcp_state_name(e->new_state) == "FIN_WAIT1";
    }
    uint64_t end = observation_end(c);
    std::vector<const Event*> later;
    for (const Event* e : c.timeline.between(close->ts_ns + 1, end)) {
        if (e->kind == EventKind::State && e->cookie == cookie) later.push_back(e);
    }
    std::vector<std::string> looks;
    int fw1 = 0;
    uint64_t last_look = 0;
    for (const Step* s : own_diags(c, "client")) {
        if (s->start_ns < close->ts_ns || s->ts_ns > end) continue;
        looks.push_back(diag_state(*s));
        fw1 += diag_state(*s) == "FIN_WAIT1";
        last_look = s->ts_ns;
    }
    uint64_t held_ms = last_look > close->ts_ns ? (last_look - close->ts_ns) / 1'000'000 : 0;
    return {close->ret == 0 && to_fw1 && later.empty() && fw1 >= 3 &&
                fw1 == static_cast<int>(looks.size()) && held_ms >= 5000,
            describe(*close) + "; during it: " + describe(during, c.reasons) +
                "; sender state changes until the receiver's close: " + describe(later, c.reasons) +
                "; sock_diag after close: " + join(looks) + " (last look " +
                std::to_string(held_ms) + " ms after close)"};
}

FactResult fin_queued_behind_data(const FactContext& c) {
    const Step* close = c.timeline.find_step("client", kClose);
    if (close == nullptr) return fails("the sender never called close()");
    const Step* before = nullptr;
    std::vector<const Step*> after;
    uint64_t end = observation_end(c);
    for (const Step* s : own_diags(c, "client")) {
        if (s->ts_ns < close->start_ns) before = s;
        else if (s->ts_ns <= end) after.push_back(s);
    }
    if (before == nullptr || after.empty()) return fails("no sock_diag look before and after close()");
    int64_t unsent = info_number(*before, "send_q");
    bool ok = diag_state(*before) == "ESTABLISHED" && unsent > 0;
    std::vector<std::string> qs;
    for (const Step* s : after) {
        ok &= diag_state(*s) == "FIN_WAIT1" && info_number(*s, "send_q") == unsent + 1;
        qs.push_back(std::to_string(info_number(*s, "send_q")));
    }
    return {ok, "before close: " + describe_diag(*before) + "; Send-Q after close: " + join(qs)};
}

FactResult probes_with_doubling_gaps(const FactContext& c) {
    const Step* eagain = last_send(c);
    if (eagain == nullptr) return fails("the sender made no send");
    uint64_t end = observation_end(c);
    auto found = probes(c, eagain->ts_ns, end);
    std::vector<uint64_t> gaps;
    bool doubling = gaps_double(found, &gaps);
    // The kernel's own timer for it: "persist", not "retransmit".
    std::vector<std::string> timers;
    bool persist = true;
    for (const Step* s : own_diags(c, "client")) {
        if (s->start_ns < eagain->ts_ns || s->ts_ns > end) continue;
        std::string t = info_string(*s, "timer");
        timers.push_back(t + " " + std::to_string(info_number(*s, "timer_ms")) + " ms");
        persist &= t == "persist";
    }
    return {doubling && persist && !timers.empty(),
            std::to_string(found.size()) + " zero-length probes (seq = acknowledged - 1), gaps: " +
                gaps_text(gaps) + "; sender timer: " +
                (timers.empty() ? "not looked at" : join(timers))};
}

FactResult no_fin_on_the_wire(const FactContext& c) {
    const Step* close = c.timeline.find_step("client", kClose);
    if (close == nullptr) return fails("the sender never called close()");
    uint64_t end = observation_end(c);
    auto packets = packets_from(c.timeline, c.timeline.between(close->start_ns, end), "client");
    std::vector<const Event*> fins, data;
    for (const Event* p : packets) {
        if (p->tcp_flags & TS_TCP_FIN) fins.push_back(p);
        if (p->payload_len > 0) data.push_back(p);
    }
    // The capture did see the sender in that window: its probes.
    auto seen = probes(c, close->start_ns, end);
    return {fins.empty() && data.empty() && !seen.empty(),
            std::to_string(packets.size()) + " sender segments from close() to the receiver's "
            "close, " + std::to_string(seen.size()) + " of them probes; FINs: " +
                describe(fins, c.reasons) + "; data: " + describe(data, c.reasons)};
}

}  // namespace

ScenarioFacts fin_wait1_zero_window_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The receiver never reads, both buffers are small; the sender fills them (non-blocking, "
        "until EAGAIN) and closes. The FIN queues behind the unsent data, so the sender sits in "
        "FIN_WAIT1 sending zero-window probes, and no FIN ever reaches the wire.";
    spec.facts = {
        {"fin-wait1-zero-window.sender-fills-both-buffers",
         "the sender's non-blocking sends are accepted until send() fails with EAGAIN; the "
         "receiver's Recv-Q holds every byte that crossed the wire",
         sender_fills_both_buffers},
        {"fin-wait1-zero-window.close-leaves-it-in-fin-wait1",
         "close() moves the sender ESTABLISHED -> FIN_WAIT1 and it stays in FIN_WAIT1 "
         "(sock_diag, for 6 s) until the receiver closes",
         close_leaves_it_in_fin_wait1},
        {"fin-wait1-zero-window.fin-queued-behind-data",
         "the FIN is queued behind the unsent data: after close() Send-Q = unsent bytes + 1",
         fin_queued_behind_data},
        {"fin-wait1-zero-window.probes-with-doubling-gaps",
         "zero-window probes go out with doubling gaps while the persist timer runs",
         probes_with_doubling_gaps},
        {"fin-wait1-zero-window.no-fin-on-the-wire",
         "no FIN (and no data) leaves the sender after close(): only probes",
         no_fin_on_the_wire},
    };
    spec.explanation =
        "The receiver never reads, so its small receive buffer fills and it advertises a zero "
        "window; the sender's small send buffer then fills with data it may not send, and the "
        "next non-blocking send() fails with EAGAIN. close() does not throw that data away (it "
        "was not unread received data, and no SO_LINGER 0 was set): the socket moves to "
        "FIN_WAIT1 and the FIN is appended to the send queue behind the unsent bytes, which "
        "is why sock_diag's Send-Q grows by exactly one (the FIN takes one sequence number). "
        "A FIN can only be sent once everything before it has been, so as long as the window "
        "stays shut the FIN never reaches the wire and the socket stays in FIN_WAIT1: no "
        "ACK of a FIN can arrive to move it to FIN_WAIT2. Meanwhile the persist timer sends "
        "zero-window probes, empty segments one byte below the acknowledged sequence that "
        "force the receiver to answer with its current window; each probe doubles the next "
        "gap (exponential backoff, kept as long as the window stays shut). The receiver "
        "answers a probe with its still-zero window unless it answered one less than 500 ms "
        "before (duplicate ACKs for out-of-window segments are rate-limited, "
        "net.ipv4.tcp_invalid_ratelimit), so here the second probe goes unanswered; "
        "answered probes reset sock_diag's count, which is why its retrans field mostly "
        "reads 0. The books describe close() as 'sends a FIN'; "
        "here it only queues one. Such an orphan is bounded by the probe limits "
        "(tcp_orphan_retries, or TCP_USER_TIMEOUT as set here) and otherwise would keep "
        "probing; in this run the receiver's cleanup close() (with its data unread) sends a "
        "RST, which ends the sender's socket FIN_WAIT1 -> CLOSE after the observation.";
    return spec;
}

}  // namespace tcpscope
