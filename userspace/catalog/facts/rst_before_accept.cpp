// rst-before-accept: the client connects and aborts (SO_LINGER {1,0}, close)
// while the connection still waits in the server's accept queue.
#include "scenario_facts.h"

namespace tcpscope {

namespace {

FactResult client_aborts_first(const FactContext& c) {
    const Step* close = c.timeline.find_step("client", kClose);
    const Step* accept = c.timeline.find_step("server", kAccept);
    if (close == nullptr || accept == nullptr) return fails("no close() by the client or no accept()");
    FactResult rst = sent_reset(c, c.timeline.during(*close), "client");
    return {rst.ok && close->ts_ns < accept->start_ns,
            describe(*close) + "; " + rst.detail +
                (close->ts_ns < accept->start_ns ? "; before accept()" : "; not before accept()"),
            rst.unseen};
}

FactResult queued_connection_reset(const FactContext& c) {
    const Step* accept = c.timeline.find_step("server", kAccept);
    uint64_t cookie = c.timeline.cookie_of("server");
    if (accept == nullptr || cookie == 0) return fails("the server accepted no connection");
    // Only what happened to the accepted socket before accept() was called.
    std::vector<const Event*> before;
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (e->ts_ns < accept->start_ns) before.push_back(e);
    }
    return closed_by_reset(c, before, "server", "ESTABLISHED", "ECONNRESET");
}

FactResult accept_returns_it(const FactContext& c) {
    const Step* accept = c.timeline.find_step("server", kAccept);
    if (accept == nullptr) return fails("the server made no accept()");
    return {accept->ret >= 0 && !accept->failed() && c.timeline.cookie_of("server") != 0,
            describe(*accept)};
}

FactResult first_recv_econnreset(const FactContext& c) {
    const Step* recv = c.timeline.find_step("server", kRecv);
    if (recv == nullptr) return fails("the server made no recv()");
    bool same_socket = recv->cookie == c.timeline.cookie_of("server");
    return {recv->ret == -1 && recv->errno_name == "ECONNRESET" && same_socket,
            describe(*recv) + (same_socket ? " on the accepted socket" : " on another socket")};
}

}  // namespace

ScenarioFacts rst_before_accept_facts() {
    ScenarioFacts spec;
    spec.facts = {
        {"the client aborts (SO_LINGER {1,0}, close) before the server calls accept(): a RST leaves",
         client_aborts_first},
        {"the RST closes the queued connection before accept(): ESTABLISHED -> CLOSE, ECONNRESET",
         queued_connection_reset},
        {"accept() does not fail with ECONNABORTED: it returns that connection", accept_returns_it},
        {"the first recv() on it fails with ECONNRESET", first_recv_econnreset},
    };
    spec.explanation =
        "The handshake completes in the kernel: the connection is ESTABLISHED and waits in the "
        "listener's accept queue before the server ever calls accept(). The client's abort "
        "sends a RST, which finds that queued socket, closes it and sets ECONNRESET on it. "
        "UNIX Network Programming (5.11) expects accept() to fail with ECONNABORTED (POSIX; "
        "SVR4 gave EPROTO), or the connection to vanish from the queue unseen (Berkeley). "
        "Linux does neither: the dead socket stays in the queue, accept() hands it over like "
        "any other, and the error surfaces on the first call that uses it: recv() = -1 "
        "ECONNRESET. A server must expect errors on a socket accept() just returned.";
    return spec;
}

}  // namespace tcpscope
