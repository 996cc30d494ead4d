// close-unread-data: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

namespace tcpscope {

namespace {


FactResult bytes_unread_at_close(const FactContext& c) {
    const Step* diag = c.timeline.find_step("server", kSockDiag, 0);
    const Step* close = c.timeline.find_step("server", kClose);
    if (diag == nullptr || close == nullptr) return fails("no sock_diag or close() by the server");
    uint32_t recv_q = diag->info.value("recv_q", 0u);
    return {diag_state(*diag) == "ESTABLISHED" && recv_q > 0 && diag->ts_ns < close->start_ns,
            describe_diag(*diag)};
}

FactResult rst_instead_of_fin(const FactContext& c) {
    const Step* close = c.timeline.find_step("server", kClose);
    if (close == nullptr) return fails("the server made no close()");
    auto during = c.timeline.during(*close);
    FactResult rst = sent_reset(c, during, "server", "TCP_ABORT_ON_CLOSE");
    // No FIN from the server at all, not only during close().
    bool fin = false;
    for (const Event* p : packets_from(c.timeline, c.timeline.of_kind(EventKind::Packet), "server")) {
        fin |= (p->tcp_flags & TS_TCP_FIN) != 0;
    }
    return {rst.ok && !fin,
            describe(*close) + "; " + rst.detail +
                (fin ? "; a FIN left the server" : "; no FIN from the server"),
            rst.unseen};
}

FactResult nothing_left_of_the_closer(const FactContext& c) {
    return closed_leaving_nothing(c, "server", c.timeline.find_step("server", kSockDiag, 1));
}

FactResult peer_gets_econnreset(const FactContext& c) {
    const Step* close = c.timeline.find_step("server", kClose);
    if (close == nullptr) return fails("the server made no close()");
    FactResult reset = closed_by_reset(c, c.timeline.during(*close), "client", "ESTABLISHED",
                                       "ECONNRESET");
    return both(reset, returned(c, "client", kRecv, 0, -1, "ECONNRESET"));
}

}  // namespace

ScenarioFacts close_unread_data_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The client sent 5 bytes that the server never read; the server closes.";
    spec.facts = {
        {"close-unread-data.bytes-unread-at-close",
         "the client's bytes wait unread in the server's receive queue when it closes (Recv-Q > 0)",
         bytes_unread_at_close},
        {"close-unread-data.rst-instead-of-fin",
         "close() sends a RST, reason TCP_ABORT_ON_CLOSE, and no FIN", rst_instead_of_fin},
        {"close-unread-data.nothing-left-of-the-closer",
         "the server goes ESTABLISHED -> CLOSE: no FIN_WAIT, and sock_diag finds no TIME_WAIT",
         nothing_left_of_the_closer},
        {"close-unread-data.peer-gets-econnreset",
         "the RST closes the client from ESTABLISHED with ECONNRESET; its recv() = -1 ECONNRESET",
         peer_gets_econnreset},
    };
    spec.explanation =
        "A close() normally sends a FIN after any data still queued, and the closer lingers in "
        "FIN_WAIT and then TIME_WAIT. But when received bytes are still unread, the "
        "application is discarding data the peer believes was delivered, and RFC 2525 (2.17) "
        "says to tell the peer: Linux's tcp_close() counts the unread bytes and, if there are "
        "any, sends a RST instead of a FIN (reason TCP_ABORT_ON_CLOSE, counter "
        "TCPAbortOnClose). The socket goes straight from ESTABLISHED to CLOSE, so nothing is "
        "left behind: no FIN_WAIT, no TIME_WAIT. The RST finds the client in ESTABLISHED, "
        "which sets ECONNRESET; its next recv() reports it, without ever having seen an EOF.";
    return spec;
}

}  // namespace tcpscope
