// close-wait-forever: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

namespace tcpscope {

namespace {

const StepMatch kLinger2{StepOp::SetSockOpt, "TCP_LINGER2"};
// sock_diag steps name the queried 4-tuple local first: the server's
// connection is the one whose local end is the listening address.
const StepMatch kDiagServer{StepOp::SockDiag, "127.0.0.1:5000"};

// TCP_LINGER2 in ms, as the server set it (0 when not reported).
int64_t linger2_ms(const FactContext& c) {
    const Step* s = c.timeline.find_step("server", kLinger2);
    if (s == nullptr || s->ret != 0) return 0;
    return s->size * 1000;
}

// Which way the kernel kept the orphan. On the ACK of its FIN
// (tcp_rcv_state_process, FIN_WAIT1) it normally hands the connection to a
// timewait mini-socket at once. When that ACK is handled while the socket
// is still owned, from its backlog as close() releases the lock, it keeps
// the full socket in FIN_WAIT2 on the keepalive timer for TCP_LINGER2, and
// then, TCP_LINGER2 being under TIME_WAIT's 60 s, resets the connection
// (tcp_keepalive_timer, reason TCP_STATE). On loopback the ACK is the
// client's delayed ACK, 40 ms after the FIN: close() takes that long only
// when the machine holds it up (seen once beside the churn on 6.12 under
// qemu). sock_diag's first look tells which: a mini-socket's timer is
// "timewait", the full socket's "keepalive".
bool kept_full_socket(const FactContext& c) {
    const Step* first = c.timeline.find_step("client", kDiagServer, 0);
    return first != nullptr && first->ret == 0 && diag_state(*first) == "FIN_WAIT2" &&
           info_string(*first, "timer") == "keepalive";
}

const char* kFullSocketNote =
    " (the ACK of the FIN came while close() still held the socket: the kernel kept the full "
    "socket in FIN_WAIT2 on the keepalive timer)";

FactResult server_closes_at_once(const FactContext& c) {
    const Step* close = c.timeline.find_step("server", kClose);
    if (close == nullptr) return fails("the server never called close()");
    uint64_t cookie = c.timeline.cookie_of("server");
    // Up to the client's first look (its first recv): "at once".
    const Step* first_recv = c.timeline.find_step("client", kRecv);
    uint64_t until = first_recv ? first_recv->start_ns : close->ts_ns;
    auto window = c.timeline.between(close->start_ns, until);
    std::vector<std::string> path;
    for (const Event* e : select(c.timeline, window, EventKind::State)) {
        if (e->cookie == cookie) {
            path.push_back(tcp_state_name(e->old_state) + "->" + tcp_state_name(e->new_state));
        }
    }
    bool fin = false;
    auto packets = packets_from(c.timeline, window, "server");
    for (const Event* p : packets) fin |= (p->tcp_flags & TS_TCP_FIN) != 0;
    const bool full = kept_full_socket(c);
    std::vector<std::string> expected = {"ESTABLISHED->FIN_WAIT1", "FIN_WAIT1->FIN_WAIT2"};
    if (!full) expected.push_back("FIN_WAIT2->CLOSE");
    return {close->ret == 0 && cookie != 0 && path == expected && fin,
            describe(*close) + "; server socket before the client's first recv: " +
                (path.empty() ? "no state change" : join(path)) +
                "; server segments: " + describe(packets, c.reasons) + (full ? kFullSocketNote : "")};
}

FactResult client_reads_eof_again_and_again(const FactContext& c) {
    uint64_t cookie = c.timeline.cookie_of("client");
    bool close_wait = false;
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        close_wait |= is_transition(*e, "ESTABLISHED", "CLOSE_WAIT");
    }
    std::vector<std::string> seen;
    std::vector<std::string> unseen;
    int eofs = 0;
    for (int i = 0; i < 3; ++i) {
        const Step* s = c.timeline.find_step("client", kRecv, i);
        if (s == nullptr) {
            seen.push_back("no recv #" + std::to_string(i + 1));
            continue;
        }
        // The kernel's own result for that call (sock_recv_length).
        auto results = select(c.timeline, c.timeline.during(*s), EventKind::Recv, "client");
        bool kernel_zero = kernel_agrees(c, *s, EventKind::Recv, &unseen);
        eofs += s->ret == 0 && !s->failed() && kernel_zero;
        seen.push_back(describe(*s) + " (kernel: " + describe(results, c.reasons) + ")");
    }
    return {cookie != 0 && close_wait && eofs == 3,
            std::string("client ESTABLISHED->CLOSE_WAIT ") + (close_wait ? "seen" : "not seen") +
                "; " + join(seen, "; "),
            unseen};
}

FactResult fin_wait2_minisocket_seen(const FactContext& c) {
    uint64_t cookie = c.timeline.cookie_of("server");
    int64_t linger = linger2_ms(c);
    if (linger <= 0) return fails("the server set no TCP_LINGER2");
    const Step* first = c.timeline.find_step("client", kDiagServer, 0);
    const Step* second = c.timeline.find_step("client", kDiagServer, 1);
    if (first == nullptr || second == nullptr) return fails("fewer than two sock_diag looks at the server's socket");
    const bool full = kept_full_socket(c);
    bool ok = true;
    for (const Step* s : {first, second}) {
        int64_t left = info_number(*s, "timer_ms");
        ok &= s->ret == 0 && diag_state(*s) == "FIN_WAIT2" &&
              info_string(*s, "timer") == (full ? "keepalive" : "timewait") && left > 0 && left <= linger &&
              s->cookie == cookie;
    }
    // Counting down, not re-armed.
    ok &= info_number(*second, "timer_ms") < info_number(*first, "timer_ms");
    // Up to the second look the tracepoints saw the full socket end at
    // FIN_WAIT2 -> CLOSE, and nothing of the mini-socket after that; or,
    // when the kernel kept the full socket, reach FIN_WAIT2 and stay.
    std::vector<std::string> path;
    for (const Event* e : c.timeline.between(0, second->ts_ns)) {
        if (e->kind == EventKind::State && e->cookie == cookie)
            path.push_back(tcp_state_name(e->old_state) + "->" + tcp_state_name(e->new_state));
    }
    bool ends_right = !path.empty() && path.back() == (full ? "FIN_WAIT1->FIN_WAIT2" : "FIN_WAIT2->CLOSE");
    return {ok && ends_right,
            "TCP_LINGER2 " + std::to_string(linger) + " ms; " + describe_diag(*first) + "; " +
                describe_diag(*second) + "; server socket cookie " + std::to_string(cookie) +
                " traced until then: " + (path.empty() ? "nothing" : join(path)) + (full ? kFullSocketNote : "")};
}

FactResult minisocket_expires_silently(const FactContext& c) {
    int64_t linger = linger2_ms(c);
    const Step* close = c.timeline.find_step("server", kClose);
    const Step* alive = c.timeline.find_step("client", kDiagServer, 1);
    const Step* gone = c.timeline.find_step("client", kDiagServer, 2);
    if (close == nullptr || alive == nullptr || gone == nullptr) {
        return fails("missing the server's close() or the sock_diag looks before and after TCP_LINGER2");
    }
    uint64_t cookie = c.timeline.cookie_of("server");
    bool past_linger = gone->start_ns > close->ts_ns + static_cast<uint64_t>(linger) * 1'000'000;
    bool vanished = gone->ret == 0 && diag_state(*gone).empty() && diag_state(*alive) == "FIN_WAIT2";
    // Between the last look that found it and the one that did not: no
    // event about the server's connection, and nothing on the wire.
    std::vector<const Event*> noise;
    auto between = c.timeline.between(alive->ts_ns, gone->ts_ns);
    for (const Event* e : between) {
        if (e->kind == EventKind::Packet || e->cookie == cookie || c.timeline.side_of(*e) == "server") {
            noise.push_back(e);
        }
    }
    const std::string seen = describe_diag(*alive) + "; " + describe_diag(*gone) + " (" +
                             std::to_string((gone->start_ns - close->ts_ns) / 1'000'000) +
                             " ms after close); events in between: " + describe(noise, c.reasons);
    if (!kept_full_socket(c)) return {past_linger && vanished && noise.empty(), seen};
    // The full socket is not silent: once TCP_LINGER2 has run out since
    // close(), the keepalive timer resets the connection (TCP_STATE) and it
    // goes FIN_WAIT2 -> CLOSE.
    const Event* closed = nullptr;
    for (const Event* e : between) {
        if (e->cookie == cookie && is_transition(*e, "FIN_WAIT2", "CLOSE")) closed = e;
    }
    const bool late = closed != nullptr && closed->ts_ns >= close->ts_ns + static_cast<uint64_t>(linger) * 1'000'000;
    FactResult rst = sent_reset(c, between, "server", "TCP_STATE");
    return {past_linger && vanished && late && rst.ok,
            seen + "; " + rst.detail + kFullSocketNote + ": reset when TCP_LINGER2 ran out", rst.unseen};
}

FactResult client_stays_in_close_wait(const FactContext& c) {
    uint64_t cookie = c.timeline.cookie_of("client");
    auto diags = own_diags(c, "client");
    if (cookie == 0) return fails("no client connection was reported");
    // The client's last look at its own socket, after the mini-socket expired.
    const Step* last = diags.empty() ? nullptr : diags.back();
    if (last == nullptr) return fails("the client never looked at its own socket");
    const Step* expired = c.timeline.find_step("client", kDiagServer, 2);
    bool after_expiry = expired != nullptr && last->start_ns > expired->ts_ns;
    // Up to that look: the client's state path ends in CLOSE_WAIT and no FIN left it.
    std::vector<std::string> path;
    for (const Event* e : c.timeline.between(0, last->ts_ns)) {
        if (e->kind == EventKind::State && e->cookie == cookie) {
            path.push_back(tcp_state_name(e->old_state) + "->" + tcp_state_name(e->new_state));
        }
    }
    std::vector<const Event*> fins;
    for (const Event* p : packets_from(c.timeline, c.timeline.between(0, last->ts_ns), "client")) {
        if (p->tcp_flags & TS_TCP_FIN) fins.push_back(p);
    }
    const std::string seen = describe_diag(*last) + "; client path until then: " +
                             (path.empty() ? "no state change" : join(path)) + "; client FINs: " +
                             describe(fins, c.reasons);
    if (kept_full_socket(c)) {
        // The server's reset (the fact before) ends it: CLOSE_WAIT until
        // that RST, then CLOSE, and still no FIN of its own.
        const std::vector<std::string> reset_path = {"CLOSE->SYN_SENT", "SYN_SENT->ESTABLISHED",
                                                     "ESTABLISHED->CLOSE_WAIT", "CLOSE_WAIT->CLOSE"};
        bool reset = false;
        for (const Event* e : c.timeline.between(0, last->ts_ns))
            reset |= e->kind == EventKind::ResetReceived && e->cookie == cookie;
        return {after_expiry && path == reset_path && reset && fins.empty() && diag_state(*last).empty(),
                seen + kFullSocketNote + ": it stayed in CLOSE_WAIT until the server's RST"};
    }
    bool still = !path.empty() && path.back() == "ESTABLISHED->CLOSE_WAIT";
    return {after_expiry && still && fins.empty() && diag_state(*last) == "CLOSE_WAIT" &&
                last->cookie == cookie,
            seen};
}

}  // namespace

ScenarioFacts close_wait_forever_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The server sets TCP_LINGER2 to a few seconds and closes; the client never calls "
        "close(). The server's orphan becomes a FIN_WAIT2 mini-socket that only sock_diag can "
        "see, and it expires without any event, while the client sits in CLOSE_WAIT reading EOF "
        "after EOF.";
    spec.facts = {
        {"close-wait-forever.server-closes-at-once",
         "the server's close() sends a FIN and its socket goes ESTABLISHED -> FIN_WAIT1 -> "
         "FIN_WAIT2 -> CLOSE at once",
         server_closes_at_once},
        {"close-wait-forever.client-reads-eof-again-and-again",
         "the client goes ESTABLISHED -> CLOSE_WAIT and each of its three recv() calls returns 0 "
         "(EOF)",
         client_reads_eof_again_and_again},
        {"close-wait-forever.fin-wait2-minisocket-seen",
         "the orphan lives on as a FIN_WAIT2 mini-socket that no tracepoint shows: sock_diag "
         "finds it (same cookie) with a timewait timer counting down from TCP_LINGER2",
         fin_wait2_minisocket_seen},
        {"close-wait-forever.minisocket-expires-silently",
         "after TCP_LINGER2 the mini-socket is gone (sock_diag finds nothing) with no event and "
         "no packet",
         minisocket_expires_silently},
        {"close-wait-forever.client-stays-in-close-wait",
         "the client stays in CLOSE_WAIT, with no FIN sent, as long as it does not call close()",
         client_stays_in_close_wait},
    };
    spec.explanation =
        "The server's close() sends a FIN. The client's kernel acknowledges it and moves the "
        "client's socket to CLOSE_WAIT: the peer has finished sending, and only the client's "
        "own close() can move it further. The server's socket gets the ACK and reaches "
        "FIN_WAIT2; as it is an orphan (no descriptor left), Linux does not keep the full socket "
        "waiting for the peer's FIN: it hands the connection to a small timewait mini-socket in "
        "the FIN_WAIT2 substate, and the tracepoints see the full socket end with FIN_WAIT2 -> "
        "CLOSE. From then on no tracepoint reports anything about it: only sock_diag (what `ss` "
        "uses) lists the mini-socket, with a timer that starts at TCP_LINGER2 (tcp_fin_timeout, "
        "60 s by default, when the option is not set). The client's recv() returns 0 each time: "
        "end of file is a state, not a one-off event, so reading it again changes nothing. "
        "When the timer runs out the mini-socket is simply freed: no packet, no state change, "
        "no tracepoint, and sock_diag no longer finds it. The client is still in CLOSE_WAIT "
        "and would stay there for as long as the process lives, since nothing in TCP times "
        "out CLOSE_WAIT: a pile of CLOSE_WAIT sockets means an application that forgot to "
        "close. The books' state diagram shows FIN_WAIT2 waiting for the peer's FIN forever; "
        "Linux bounds an orphan's FIN_WAIT2 with this timer. (When the client finally exits, "
        "its FIN finds no connection and is answered with a RST, after the last step.) One "
        "detail of Linux's own: the hand-over to the mini-socket happens when the ACK of the "
        "FIN is handled outside close(). If close() still holds the socket when the ACK comes "
        "(a machine busy enough to hold it up past the peer's 40 ms delayed ACK), the kernel "
        "keeps the full socket in FIN_WAIT2 on its keepalive timer instead (sock_diag shows "
        "timer keepalive), and when TCP_LINGER2 runs out it resets the connection (reason "
        "TCP_STATE): the server goes FIN_WAIT2 -> CLOSE and the client leaves CLOSE_WAIT on "
        "that RST. The run says which way the kernel went.";
    return spec;
}

}  // namespace tcpscope
