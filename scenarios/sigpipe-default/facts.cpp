// sigpipe-default: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include <cstdint>

namespace tcpscope {

namespace {


FactResult first_send_draws_rst(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    if (s == nullptr) return fails("the client made no one-byte send");
    auto during = c.timeline.during(*s);
    FactResult rst = closed_socket_answered_reset(c, during, "server");
    FactResult closed = closed_by_reset(c, during, "client", "CLOSE_WAIT", "EPIPE");
    return {s->ret == 1 && !s->failed() && rst.ok && closed.ok,
            describe(*s) + "; " + rst.detail + "; " + closed.detail, rst.unseen};
}

FactResult second_send_raises_sigpipe(const FactContext& c) {
    const Step* first = c.timeline.find_step("client", kSendOne, 0);
    if (first == nullptr) return fails("the client made no one-byte send");
    // The second send never reports itself: look at what the kernel saw of
    // the client after the first one.
    uint64_t cookie = c.timeline.cookie_of("client");
    auto after = c.timeline.between(first->ts_ns + 1, UINT64_MAX);
    std::vector<const Event*> signals, sends;
    for (const Event* e : after) {
        if (e->kind == EventKind::Signal && signal_name(e->signal) == "SIGPIPE" &&
            e->target_pid == first->pid) {
            signals.push_back(e);
        }
        if (e->kind == EventKind::Send && e->cookie == cookie) sends.push_back(e);
    }
    std::vector<std::string> unseen;
    // Before 6.3 the kernel's send result is out of sight: the SIGPIPE
    // alone is then what shows the send failed.
    bool epipe = !shows(c, KernelFeature::SendRecvResults, &unseen) ||
                 (sends.size() == 1 && sends.front()->ret == -32 &&
                  !signals.empty() && signals.front()->ts_ns <= sends.front()->ts_ns);
    return {!signals.empty() && epipe,
            "client pid " + std::to_string(first->pid) + ": " + describe(signals, c.reasons) +
                "; " + describe(sends, c.reasons),
            unseen};
}

FactResult sigpipe_kills_the_client(const FactContext& c) {
    return killed_by_sigpipe(c, c.timeline.find_step("client", StepMatch{StepOp::Wait, "client"}));
}

}  // namespace

ScenarioFacts sigpipe_default_facts() {
    ScenarioFacts spec;
    spec.setup =
        "As zero-byte-send, with SIGPIPE at its default action. The server accepted and closed; "
        "the client sends 0 bytes, 1 byte, then 1 byte again, which kills it.";
    spec.facts = {
        {"sigpipe-default.first-send-draws-rst",
         "the first one-byte send returns 1; the server's timewait socket answers RST "
         "(TCP_TIMEWAIT_SOCKET; an orphan kept in FIN_WAIT2: TCP_ABORT_ON_DATA), closing the client from CLOSE_WAIT with EPIPE",
         first_send_draws_rst},
        {"sigpipe-default.second-send-raises-sigpipe",
         "the second one-byte send generates SIGPIPE for the client, and the kernel's send "
         "returns -EPIPE",
         second_send_raises_sigpipe},
        {"sigpipe-default.sigpipe-kills-the-client",
         "SIGPIPE's default action kills the client before send() returns: wait() reports "
         "signal 13, exit status 141",
         sigpipe_kills_the_client},
    };
    spec.explanation =
        "Up to the first one-byte send this is zero-byte-send: the server's close() left an "
        "orphan that became a FIN_WAIT2 timewait mini-socket; the byte reaches it, it answers "
        "with a RST, and the RST finds the client in CLOSE_WAIT, which sets EPIPE. The second "
        "send finds the socket closed for writing: tcp_sendmsg fails with EPIPE and, because "
        "MSG_NOSIGNAL was not given, raises SIGPIPE on the sender (the kernel's send still "
        "returns -EPIPE, as the send event shows). SIGPIPE's default action is to terminate, "
        "so the process dies on its way back to user space: send() never returns to it, and "
        "its parent's wait() sees death by signal 13, which a shell reports as exit status "
        "141 (128 + 13). Servers ignore SIGPIPE or pass MSG_NOSIGNAL for this reason.";
    return spec;
}

}  // namespace tcpscope
