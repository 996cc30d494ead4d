// poll-after-reset: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "readiness_facts.h"

namespace tcpscope {

namespace {

const StepMatch kPoll{StepOp::Poll};
constexpr uint32_t kAfterRst = kReadyIn | kReadyOut | kReadyErr | kReadyHup | kReadyRdhup;  // 0x201d

FactResult close_sends_rst(const FactContext& c) {
    const Step* diag = c.timeline.find_step("server", kSockDiag);
    const Step* close = c.timeline.find_step("server", kClose);
    if (diag == nullptr || close == nullptr) return fails("no server sock_diag or close()");
    FactResult rst = sent_reset(c, c.timeline.during(*close), "server", "TCP_ABORT_ON_CLOSE");
    bool unread = diag_state(*diag) == "ESTABLISHED" && info_number(*diag, "recv_q") == 5;
    return {unread && rst.ok && close->ret == 0,
            describe_diag(*diag) + "; " + describe(*close) + "; " + rst.detail, rst.unseen};
}

FactResult rst_hits_established(const FactContext& c) {
    const Step* close = c.timeline.find_step("server", kClose);
    const Step* poll = c.timeline.find_step("client", kPoll);
    if (close == nullptr || poll == nullptr) return fails("no server close() or no client poll()");
    return closed_by_reset(c, c.timeline.between(close->start_ns, poll->start_ns), "client",
                           "ESTABLISHED", "ECONNRESET");
}

FactResult poll_after_rst(const FactContext& c) {
    const Step* poll = c.timeline.find_step("client", kPoll);
    if (poll == nullptr) return fails("the client made no poll()");
    uint64_t cookie = c.timeline.cookie_of("client");
    auto mask = ready_mask(*poll, cookie);
    std::string now = state_at(c.timeline, cookie, poll->start_ns);
    return {poll->ret == 1 && mask == kAfterRst && now == "CLOSE",
            describe(*poll) + "; the client's socket was in " + (now.empty() ? "?" : now) +
                " (its state events)"};
}

FactResult reads(const FactContext& c) {
    const Step* first = c.timeline.find_step("client", kRecv, 0);
    const Step* second = c.timeline.find_step("client", kRecv, 1);
    if (first == nullptr || second == nullptr) return fails("the client made fewer than two recv()");
    std::vector<std::string> unseen;
    bool kernel = kernel_agrees_on_each(c, {first, second}, EventKind::Recv, &unseen);
    return {first->ret == -1 && first->errno_name == "ECONNRESET" && second->ret == 0 &&
                !second->failed() && kernel,
            describe(*first) + "; then " + describe(*second), unseen};
}

FactResult write_gets_epipe(const FactContext& c) { return send_epipe_with_sigpipe(c, 0); }

}  // namespace

ScenarioFacts poll_after_reset_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The client's \"hello\" reaches the server unread; the server closes (RST); the client "
        "(SIGPIPE ignored) polls, reads twice, writes.";
    spec.facts = {
        {"poll-after-reset.close-sends-rst",
         "the server closes with the client's 5 bytes unread (Recv-Q 5): RST, reason "
         "TCP_ABORT_ON_CLOSE",
         close_sends_rst},
        {"poll-after-reset.rst-hits-established",
         "the RST hits the client in ESTABLISHED: ESTABLISHED -> CLOSE, socket error ECONNRESET",
         rst_hits_established},
        {"poll-after-reset.poll-after-rst",
         "poll reports IN|OUT|ERR|HUP|RDHUP (0x201d) on the reset socket", poll_after_rst},
        {"poll-after-reset.reads",
         "the first recv() = -1 ECONNRESET, the second recv() = 0", reads},
        {"poll-after-reset.write-gets-epipe",
         "the write = -1 EPIPE, with SIGPIPE", write_gets_epipe},
    };
    spec.explanation =
        "The server closed with unread data, so it aborted: a RST (TCP_ABORT_ON_CLOSE). The "
        "RST found the client in ESTABLISHED; tcp_reset() set ECONNRESET as the socket's "
        "pending error and tcp_done() closed the socket and shut both directions. poll() "
        "reports all of that at once: ERR for the pending error, HUP because both directions "
        "are shut, and IN, RDHUP and OUT too, because every call on the socket will now "
        "return at once, if only with an error. The first recv() takes the pending error: "
        "-1 ECONNRESET, and taking it clears it. The second recv() finds no error, only a "
        "receive side that is shut, and returns 0, the end of file, as if the peer had "
        "closed politely: a program that retries a read after ECONNRESET sees an EOF, not "
        "a second error. Writing fails with EPIPE (no error is pending any more, and the "
        "sending side is shut), which raises SIGPIPE (ignored here).";
    return spec;
}

}  // namespace tcpscope
