// zero-byte-send: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

namespace tcpscope {

namespace {

const StepMatch kSendZero{StepOp::Send, "", 0};  // send(fd, "", 0)

FactResult zero_send_is_silent(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendZero);
    if (s == nullptr) return fails("the client made no zero-byte send");
    // Up to the next client call: anything the zero-byte send caused.
    const Step* next = c.timeline.next_step(s, "client");
    auto window = c.timeline.between(s->start_ns, next ? next->start_ns - 1 : s->ts_ns);
    auto packets = packets_from(c.timeline, window, "client");
    auto states = select(c.timeline, window, EventKind::State, "client");
    std::string seen = describe(*s) + "; client segments: " + describe(packets, c.reasons) +
                       "; client state changes: " + describe(states, c.reasons);
    return {s->ret == 0 && s->errno_name.empty() && packets.empty() && states.empty(), seen};
}

FactResult peer_answers_rst(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    if (s == nullptr) return fails("the client made no one-byte send");
    return closed_socket_answered_reset(c, c.timeline.during(*s), "server");
}

FactResult client_closes_with_epipe(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    if (s == nullptr) return fails("the client made no one-byte send");
    return closed_by_reset(c, c.timeline.during(*s), "client", "CLOSE_WAIT", "EPIPE");
}

FactResult next_send_epipe_sigpipe(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 1);
    if (s == nullptr) return fails("the client made no second one-byte send");
    auto signals = select(c.timeline, c.timeline.during(*s), EventKind::Signal);
    bool sigpipe = false;
    for (const Event* e : signals) sigpipe |= e->signal == 13 && e->target_pid == s->pid;
    return {s->ret == -1 && s->errno_name == "EPIPE" && sigpipe,
            describe(*s) + "; " + describe(signals, c.reasons)};
}

}  // namespace

ScenarioFacts zero_byte_send_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The server accepted and closed; the client (SIGPIPE ignored, non-blocking) sends 0 "
        "bytes, then 1 byte, then 1 byte.";
    spec.facts = {
        {"zero-byte-send.zero-send-is-silent",
         "send(0) returns 0 with no segment on the wire and no state change",
         zero_send_is_silent},
        {"zero-byte-send.one-byte-goes-out",
         "send(1) returns 1 and one 1-byte segment leaves the client", first_one_byte_send_leaves},
        {"zero-byte-send.peer-answers-rst",
         "the peer's timewait socket answers with a RST, reason TCP_TIMEWAIT_SOCKET (an "
         "orphan kept in FIN_WAIT2: TCP_ABORT_ON_DATA)",
         peer_answers_rst},
        {"zero-byte-send.client-closes-with-epipe",
         "the RST hits the client in CLOSE_WAIT: CLOSE_WAIT -> CLOSE, socket error EPIPE",
         client_closes_with_epipe},
        {"zero-byte-send.next-send-epipe-sigpipe",
         "the next send returns -1 EPIPE and SIGPIPE is generated for the client",
         next_send_epipe_sigpipe},
    };
    spec.explanation =
        "The server's close() sent a FIN: the client moved to CLOSE_WAIT, and the server's "
        "socket, now an orphan, finished as a FIN_WAIT2 timewait mini-socket. A send of zero "
        "bytes has nothing to queue, so tcp_sendmsg returns 0 without building a segment: "
        "nothing reaches the wire and nothing changes. The one-byte send is accepted into the "
        "send queue and returns 1 (the kernel cannot know yet that the peer is gone); the "
        "segment reaches the mini-socket, which can only answer with a RST. The RST finds "
        "the client in CLOSE_WAIT, and a RST in CLOSE_WAIT sets EPIPE, not ECONNRESET (books "
        "often say the first error after a RST is ECONNRESET). The socket is now closed for "
        "writing, so the next send fails with EPIPE and raises SIGPIPE, which would kill a "
        "process that did not ignore it. (Now and then the server's close() still holds its "
        "socket when the client's ACK of the FIN arrives; the kernel then keeps the full orphan "
        "in FIN_WAIT2 on a timer instead of a mini-socket, and it answers the byte with a RST "
        "for TCP_ABORT_ON_DATA: the client sees the same RST.)";
    return spec;
}

}  // namespace tcpscope
