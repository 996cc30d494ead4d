// econnreset-then-sigpipe: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include <cstdint>

namespace tcpscope {

namespace {

const StepMatch kSendHello{StepOp::Send, "", 5};  // send(fd, "hello", 5)
const StepMatch kWait{StepOp::Wait, "client"};

FactResult close_sends_rst(const FactContext& c) {
    const Step* diag = c.timeline.find_step("server", kSockDiag);
    const Step* close = c.timeline.find_step("server", kClose);
    if (diag == nullptr || close == nullptr) return fails("no server sock_diag or close()");
    auto during = c.timeline.during(*close);
    FactResult rst = sent_reset(c, during, "server", "TCP_ABORT_ON_CLOSE");
    // A RST instead of a FIN: no FIN from the server, straight to CLOSE.
    std::vector<const Event*> fins;
    for (const Event* p : packets_from(c.timeline, during, "server")) {
        if (p->tcp_flags & TS_TCP_FIN) fins.push_back(p);
    }
    auto path = state_path(c.timeline, c.timeline.cookie_of("server"));
    bool unread = diag_state(*diag) == "ESTABLISHED" && diag->info.value("recv_q", 0u) == 5u;
    bool abort = !path.empty() && path.back() == "ESTABLISHED->CLOSE";
    return {unread && rst.ok && fins.empty() && abort && close->ret == 0,
            describe_diag(*diag) + "; " + describe(*close) + "; " + rst.detail + "; FINs: " +
                describe(fins, c.reasons) + "; server: " + join(path),
            rst.unseen};
}

// From the server's close() to the client's first one-byte send: where the
// RST reaches the client (on loopback, inside the server's close()).
std::vector<const Event*> rst_window(const FactContext& c, const Step& close) {
    const Step* send = c.timeline.find_step("client", kSendOne, 0);
    return c.timeline.between(close.start_ns, send ? send->start_ns : close.ts_ns);
}

FactResult rst_hits_established(const FactContext& c) {
    const Step* close = c.timeline.find_step("server", kClose);
    if (close == nullptr) return fails("the server never closed");
    return closed_by_reset(c, rst_window(c, *close), "client", "ESTABLISHED", "ECONNRESET");
}

FactResult first_send_econnreset(const FactContext& c) {
    const Step* connect = c.timeline.find_step("client", kConnect);
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    if (connect == nullptr || s == nullptr) return fails("no connect() or no one-byte send");
    uint64_t cookie = c.timeline.cookie_of("client");
    // No SIGPIPE for the client from its connect() up to the end of this send.
    std::vector<const Event*> signals, sends;
    for (const Event* e : c.timeline.between(connect->start_ns, s->ts_ns)) {
        if (e->kind == EventKind::Signal && e->target_pid == s->pid) signals.push_back(e);
    }
    for (const Event* e : c.timeline.during(*s)) {
        if (e->kind == EventKind::Send && e->cookie == cookie) sends.push_back(e);
    }
    std::vector<std::string> unseen;
    bool kernel_reset = kernel_agrees(c, *s, EventKind::Send, &unseen);
    return {s->ret == -1 && s->errno_name == "ECONNRESET" && kernel_reset && signals.empty(),
            describe(*s) + "; kernel: " + describe(sends, c.reasons) + "; signals to pid " +
                std::to_string(s->pid) + ": " + describe(signals, c.reasons),
            unseen};
}

FactResult second_send_sigpipe(const FactContext& c) {
    const Step* first = c.timeline.find_step("client", kSendOne, 0);
    const Step* wait = c.timeline.find_step("client", kWait);
    if (first == nullptr || wait == nullptr) return fails("no one-byte send or no wait(client)");
    // The second send never reports itself: look at what the kernel saw of
    // the client between the first send and the client's death.
    uint64_t cookie = c.timeline.cookie_of("client");
    std::vector<const Event*> signals, sends;
    for (const Event* e : c.timeline.between(first->ts_ns + 1, wait->ts_ns)) {
        if (e->kind == EventKind::Signal && e->target_pid == first->pid) signals.push_back(e);
        if (e->kind == EventKind::Send && e->cookie == cookie) sends.push_back(e);
    }
    bool sigpipe = signals.size() == 1 && signals.front()->signal == 13 &&
                   signal_result_name(signals.front()->signal_result) == "delivered";
    // Before 6.3 the kernel's send result is out of sight: the SIGPIPE
    // alone then shows that the second send failed.
    std::vector<std::string> unseen;
    bool epipe = !shows(c, KernelFeature::SendRecvResults, &unseen) ||
                 (sends.size() == 1 && sends.front()->ret == -32 && sigpipe &&
                  signals.front()->ts_ns <= sends.front()->ts_ns);
    return {sigpipe && epipe,
            "client pid " + std::to_string(first->pid) + ": " + describe(signals, c.reasons) +
                "; kernel: " + describe(sends, c.reasons),
            unseen};
}

FactResult sigpipe_kills(const FactContext& c) {
    return killed_by_sigpipe(c, c.timeline.find_step("client", kWait));
}

}  // namespace

ScenarioFacts econnreset_then_sigpipe_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The client's \"hello\" reaches the server unread; the server closes (RST); the client, "
        "SIGPIPE at its default action, sends one byte twice.";
    spec.facts = {
        {"econnreset-then-sigpipe.close-sends-rst",
         "the server closes with the client's 5 bytes unread (Recv-Q 5): a RST instead of a "
         "FIN, reason TCP_ABORT_ON_CLOSE, server ESTABLISHED -> CLOSE",
         close_sends_rst},
        {"econnreset-then-sigpipe.rst-hits-established",
         "the RST hits the client in ESTABLISHED: ESTABLISHED -> CLOSE with socket error "
         "ECONNRESET (104)",
         rst_hits_established},
        {"econnreset-then-sigpipe.first-send-econnreset",
         "the first send returns -1 ECONNRESET and no SIGPIPE is generated",
         first_send_econnreset},
        {"econnreset-then-sigpipe.second-send-sigpipe",
         "the second send generates SIGPIPE (delivered) and the kernel's send returns -EPIPE",
         second_send_sigpipe},
        {"econnreset-then-sigpipe.sigpipe-kills",
         "SIGPIPE's default action kills the client before send() returns: wait() reports "
         "signal 13, exit status 141",
         sigpipe_kills},
    };
    spec.explanation =
        "The server closed a socket whose receive queue still held the client's 5 bytes. "
        "Closing with unread data tells the peer that data was lost, so Linux (RFC 2525) "
        "aborts instead of sending a FIN: a RST with reason TCP_ABORT_ON_CLOSE, and the "
        "server's socket goes straight to CLOSE. The RST finds the client in ESTABLISHED, so "
        "tcp_reset() sets the socket error to ECONNRESET (104) and closes the socket; the "
        "client has made no call yet and learns nothing. Its first send finds the pending "
        "error: tcp_sendmsg fails, and sk_stream_error() returns the pending error (and "
        "clears it) instead of EPIPE. Only EPIPE raises SIGPIPE, so this send returns -1 "
        "ECONNRESET and the process lives on. The second send finds no pending error, only "
        "a socket closed for writing: EPIPE, and this time SIGPIPE, whose default action "
        "kills the process before send() returns (its parent sees signal 13, exit status "
        "141 in a shell). The books' rule \"writing to a reset connection raises SIGPIPE\" "
        "is true of the second write, not the first: the first one reports the reset.";
    return spec;
}

}  // namespace tcpscope
