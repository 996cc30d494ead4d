// rst-before-accept: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "readiness_facts.h"

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

const StepMatch kSelect{StepOp::Select, "read"};

// select() on the listener: readable once the handshake put a connection in
// the accept queue, and still readable after the RST closed it there.
FactResult listener_stays_readable(const FactContext& c) {
    const Step* first = c.timeline.find_step("server", kSelect, 0);
    const Step* again = c.timeline.find_step("server", kSelect, 1);
    const Step* accept = c.timeline.find_step("server", kAccept);
    uint64_t queued = c.timeline.cookie_of("server");
    if (first == nullptr || again == nullptr || accept == nullptr || queued == 0) {
        return fails("no two select() calls before an accept() that returned a connection");
    }
    // The queued connection's state as its events tell it, and its RST. The
    // first select() may have been called before the handshake's last ACK
    // was handled (and waited for it): ask what the state was when it returned.
    std::string at_first = state_at(c.timeline, queued, first->ts_ns);
    std::string at_again = state_at(c.timeline, queued, again->start_ns);
    const Event* rst = nullptr;
    for (const Event* e : c.timeline.of_cookie(queued)) {
        if (e->kind == EventKind::ResetReceived && rst == nullptr) rst = e;
    }
    bool order = rst != nullptr && first->ts_ns < rst->ts_ns && rst->ts_ns < again->start_ns &&
                 again->ts_ns < accept->start_ns;
    uint64_t listener = first->cookie;
    bool readable = first->ret == 1 && ready_mask(*first, listener) == kReadyIn &&
                    again->ret == 1 && ready_mask(*again, listener) == kReadyIn &&
                    again->cookie == listener;
    return {readable && order && at_first == "ESTABLISHED" && at_again == "CLOSE",
            describe(*first) + " with the queued connection " + (at_first.empty() ? "?" : at_first) +
                "; " + (rst ? "RST received" : "no RST received") + "; " + describe(*again) +
                " with it " + (at_again.empty() ? "?" : at_again) +
                (order ? "; both before accept()" : "; NOT in that order")};
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
    spec.setup =
        "The client connects and aborts (SO_LINGER {1,0}, close) while the connection still "
        "waits in the server's accept queue.";
    spec.facts = {
        {"rst-before-accept.client-aborts-first",
         "the client aborts (SO_LINGER {1,0}, close) before the server calls accept(): a RST leaves",
         client_aborts_first},
        {"rst-before-accept.queued-connection-reset",
         "the RST closes the queued connection before accept(): ESTABLISHED -> CLOSE, ECONNRESET",
         queued_connection_reset},
        {"rst-before-accept.listener-stays-readable",
         "select() reports the listener readable with the connection queued, and still "
         "readable after the RST closed it (ESTABLISHED, then CLOSE, in the queue)",
         listener_stays_readable},
        {"rst-before-accept.accept-returns-it",
         "accept() does not fail with ECONNABORTED: it returns that connection", accept_returns_it},
        {"rst-before-accept.first-recv-econnreset",
         "the first recv() on it fails with ECONNRESET", first_recv_econnreset},
    };
    spec.explanation =
        "The handshake completes in the kernel: the connection is ESTABLISHED and waits in the "
        "listener's accept queue before the server ever calls accept(). The client's abort "
        "sends a RST, which finds that queued socket, closes it and sets ECONNRESET on it. "
        "UNIX Network Programming (5.11) expects accept() to fail with ECONNABORTED (POSIX; "
        "SVR4 gave EPROTO), or the connection to vanish from the queue unseen (Berkeley). "
        "Linux does neither: the dead socket stays in the queue, accept() hands it over like "
        "any other, and the error surfaces on the first call that uses it: recv() = -1 "
        "ECONNRESET. A server must expect errors on a socket accept() just returned. "
        "select() on the listener tells the same story before accept(): a listening socket "
        "is readable while its accept queue is not empty, and the reset connection is still "
        "in it, so select() keeps reporting it readable after the RST (a server that selects "
        "and then accepts a non-blocking listener sees no EAGAIN here, unlike the books' "
        "Berkeley case where the connection vanished from the queue).";
    return spec;
}

}  // namespace tcpscope
