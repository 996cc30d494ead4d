// poll-after-peer-close: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "readiness_facts.h"

namespace tcpscope {

namespace {

const StepMatch kPoll{StepOp::Poll};
constexpr uint32_t kAfterFin = kReadyIn | kReadyOut | kReadyRdhup;                           // 0x2005
constexpr uint32_t kAfterRst = kReadyIn | kReadyOut | kReadyErr | kReadyHup | kReadyRdhup;  // 0x201d

// The nth poll reported `expected` for the client's socket, which its state
// events had put in `state` before the call.
FactResult poll_reports(const FactContext& c, int nth, uint32_t expected, const std::string& state) {
    const Step* poll = c.timeline.find_step("client", kPoll, nth);
    if (poll == nullptr) return fails("the client made no poll() number " + std::to_string(nth + 1));
    uint64_t cookie = c.timeline.cookie_of("client");
    auto mask = ready_mask(*poll, cookie);
    std::string now = state_at(c.timeline, cookie, poll->start_ns);
    return {poll->ret == 1 && mask == expected && now == state,
            describe(*poll) + "; the client's socket was in " + (now.empty() ? "?" : now) +
                " (its state events)"};
}

FactResult first_poll(const FactContext& c) { return poll_reports(c, 0, kAfterFin, "CLOSE_WAIT"); }

FactResult recv_returns_zero(const FactContext& c, int nth) {
    const Step* recv = c.timeline.find_step("client", kRecv, nth);
    if (recv == nullptr) return fails("the client made no recv() number " + std::to_string(nth + 1));
    std::vector<std::string> unseen;
    bool kernel = kernel_agrees(c, *recv, EventKind::Recv, &unseen);
    return {recv->ret == 0 && !recv->failed() && kernel, describe(*recv), unseen};
}

FactResult first_recv_eof(const FactContext& c) { return recv_returns_zero(c, 0); }

// From the one-byte send to the second poll: the RST and what it did.
std::vector<const Event*> after_write(const FactContext& c, const Step& send) {
    return until_next_step(c, send, kPoll, false);
}

FactResult write_draws_rst(const FactContext& c) {
    const Step* send = c.timeline.find_step("client", kSendOne, 0);
    if (send == nullptr) return fails("the client made no one-byte send");
    return both(sent_one_segment(c, send, "client", 1),
                closed_socket_answered_reset(c, after_write(c, *send), "server"));
}

FactResult rst_hits_close_wait(const FactContext& c) {
    const Step* send = c.timeline.find_step("client", kSendOne, 0);
    if (send == nullptr) return fails("the client made no one-byte send");
    return closed_by_reset(c, after_write(c, *send), "client", "CLOSE_WAIT", "EPIPE");
}

FactResult second_poll(const FactContext& c) { return poll_reports(c, 1, kAfterRst, "CLOSE"); }

FactResult second_recv_still_zero(const FactContext& c) {
    FactResult zero = recv_returns_zero(c, 1);
    // And the kernel never set ECONNRESET on the client's socket.
    std::vector<const Event*> resets;
    for (const Event* e : c.timeline.of_cookie(c.timeline.cookie_of("client"))) {
        if (e->kind == EventKind::SockError && errno_name(e->error) == "ECONNRESET") resets.push_back(e);
    }
    return {zero.ok && resets.empty(),
            zero.detail + "; ECONNRESET set on the client: " + describe(resets, c.reasons), zero.unseen};
}

FactResult write_gets_epipe(const FactContext& c) { return send_epipe_with_sigpipe(c, 1); }

}  // namespace

ScenarioFacts poll_after_peer_close_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The server accepted and closed; the client (SIGPIPE ignored) polls, reads, writes one "
        "byte, polls and reads again, writes again.";
    spec.facts = {
        {"poll-after-peer-close.first-poll",
         "after the peer's FIN (client in CLOSE_WAIT) poll reports IN|OUT|RDHUP (0x2005): "
         "readable with nothing to read, and still writable",
         first_poll},
        {"poll-after-peer-close.first-recv-eof",
         "the recv() that readable promised returns 0 (EOF)", first_recv_eof},
        {"poll-after-peer-close.write-draws-rst",
         "the write returns 1, one 1-byte segment leaves, and the peer's timewait socket "
         "answers with a RST, reason TCP_TIMEWAIT_SOCKET (an orphan kept in FIN_WAIT2: "
         "TCP_ABORT_ON_DATA)",
         write_draws_rst},
        {"poll-after-peer-close.rst-hits-close-wait",
         "the RST hits the client in CLOSE_WAIT: CLOSE_WAIT -> CLOSE, socket error EPIPE",
         rst_hits_close_wait},
        {"poll-after-peer-close.second-poll",
         "poll now reports IN|OUT|ERR|HUP|RDHUP (0x201d) on the closed socket", second_poll},
        {"poll-after-peer-close.second-recv-still-zero",
         "recv() still returns 0, not ECONNRESET: no ECONNRESET was ever set", second_recv_still_zero},
        {"poll-after-peer-close.write-gets-epipe",
         "the next write fails: -1 EPIPE, with SIGPIPE",
         write_gets_epipe},
    };
    spec.explanation =
        "\"Readable\" means a read will not block, not that there is data. The server's FIN "
        "moved the client to CLOSE_WAIT and shut its receive side, so poll() says IN (and "
        "RDHUP, the peer closed its sending side) while recv() has nothing but the end of "
        "file to give: it returns 0. OUT stays on: after a FIN the peer may still read, as "
        "far as TCP knows, so the client may send. It does, the byte goes out, and the "
        "server's orphan, by now a FIN_WAIT2 timewait mini-socket with no process to read "
        "anything, answers with a RST (TCP_TIMEWAIT_SOCKET). The RST finds the client in "
        "CLOSE_WAIT, so tcp_reset() sets EPIPE (ECONNRESET is for a RST in ESTABLISHED or a "
        "FIN_WAIT state) and closes the socket: poll() now adds ERR (an error is pending) "
        "and HUP (both directions are shut), 0x201d. Yet recv() still returns 0: "
        "tcp_recvmsg() sees the FIN it already received and reports the end of file before "
        "it looks at the pending error. The error stays pending until a call that cares "
        "takes it: the next send() fails with EPIPE (and raises SIGPIPE, ignored here). A "
        "program that waits for recv() to return ECONNRESET after the peer's RST will not "
        "see it when the peer had closed first.";
    return spec;
}

}  // namespace tcpscope
