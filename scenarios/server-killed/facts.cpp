// server-killed: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include <algorithm>
#include <cstdint>

namespace tcpscope {

namespace {

const StepMatch kKill{StepOp::Kill, "server"};

// The server's accepted connection's local endpoint ("127.0.0.1:5000").
std::string server_endpoint(const FactContext& c) {
    const Step* accept = c.timeline.find_step("server", kAccept);
    if (accept == nullptr || !accept->info.contains("accepted")) return {};
    const auto& acc = accept->info["accepted"];
    return acc.contains("local") && acc["local"].is_string() ? acc["local"].get<std::string>() : "";
}

FactResult kernel_closes_server(const FactContext& c) {
    const Step* kill = c.timeline.find_step("server", kKill);
    if (kill == nullptr) return fails("the server was never killed");
    uint64_t cookie = c.timeline.cookie_of("server");
    if (cookie == 0) return fails("no server connection was reported");
    // Every transition of the server's connection after the kill.
    std::vector<std::string> path;
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::State && e->ts_ns >= kill->start_ns) {
            path.push_back(tcp_state_name(e->old_state) + "->" + tcp_state_name(e->new_state));
        }
    }
    // Its FIN on the wire, between the kill and the client's first send.
    std::string from = server_endpoint(c);
    const Step* send = c.timeline.find_step("client", kSendOne, 0);
    std::vector<const Event*> fins;
    for (const Event* e : c.timeline.between(kill->start_ns, send ? send->start_ns : UINT64_MAX)) {
        if (e->kind == EventKind::Packet && e->dir == TS_DIR_TX && (e->tcp_flags & TS_TCP_FIN) &&
            endpoint_key(e->local, e->family) == from) {
            fins.push_back(e);
        }
    }
    bool path_ok = path == std::vector<std::string>{"ESTABLISHED->FIN_WAIT1", "FIN_WAIT1->FIN_WAIT2",
                                                    "FIN_WAIT2->CLOSE"};
    return {path_ok && fins.size() == 1,
            describe(*kill) + "; server after it: " +
                (path.empty() ? std::string("no state change") : join(path)) + "; FIN from " +
                from + ": " + describe(fins, c.reasons)};
}

FactResult blocked_recv_returns_eof(const FactContext& c) {
    const Step* recv = c.timeline.find_step("client", kRecv);
    const Step* kill = c.timeline.find_step("server", kKill);
    if (recv == nullptr || kill == nullptr) return fails("no client recv() or no kill");
    uint64_t cookie = c.timeline.cookie_of("client");
    // The client's CLOSE_WAIT (the server's FIN arrived) and the kernel's
    // recv result for the client's socket.
    const Event* close_wait = nullptr;
    std::vector<const Event*> recvs;
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (is_transition(*e, "ESTABLISHED", "CLOSE_WAIT") && close_wait == nullptr) {
            close_wait = e;
        }
        if (e->kind == EventKind::Recv && e->ts_ns >= recv->start_ns && e->ts_ns <= recv->ts_ns) {
            recvs.push_back(e);
        }
    }
    bool blocked = recv->start_ns < kill->start_ns;  // it was waiting when the kill came
    // "At once": returned within 100 ms of the FIN's arrival.
    bool prompt = close_wait && recv->ts_ns >= close_wait->ts_ns &&
                  recv->ts_ns - close_wait->ts_ns < 100'000'000;
    std::vector<std::string> unseen;
    bool eof = kernel_agrees(c, *recv, EventKind::Recv, &unseen);
    std::string seen = describe(*recv) + (blocked ? ", called before the kill" : ", called after the kill");
    if (close_wait) {
        seen += "; client ESTABLISHED -> CLOSE_WAIT, recv returned " +
                std::to_string((static_cast<int64_t>(recv->ts_ns) -
                                static_cast<int64_t>(close_wait->ts_ns)) / 1000) +
                " us later";
    } else {
        seen += "; the client never went to CLOSE_WAIT";
    }
    seen += "; kernel: " + describe(recvs, c.reasons);
    return {recv->ret == 0 && !recv->failed() && blocked && prompt && eof, seen, unseen};
}

// The kernel's other path: the client's ACK of the FIN reached the dying
// server while its close() still held the socket (on loopback the ACK is
// made inside the FIN's transmit, and waits in the socket's backlog), and
// tcp_rcv_state_process() keeps such an orphan as a full socket on its
// FIN_WAIT2 timer ("keepalive" to sock_diag) instead of handing it to a
// mini-socket. Seen once under qemu on 6.12.
bool orphan_kept_in_fin_wait2(const FactContext& c) {
    const Step* diag = c.timeline.find_step("client", kSockDiag);
    return diag != nullptr && diag->ret == 0 && diag_state(*diag) == "FIN_WAIT2" &&
           diag->info.value("timer", std::string()) == "keepalive" &&
           diag->local == server_endpoint(c);
}

FactResult fin_wait2_minisocket(const FactContext& c) {
    const Step* diag = c.timeline.find_step("client", kSockDiag);
    if (diag == nullptr) return fails("no sock_diag step");
    uint64_t cookie = c.timeline.cookie_of("server");
    // The full socket's last event was FIN_WAIT2 -> CLOSE, before the query.
    auto path = state_path(c.timeline, cookie);
    bool handed_over = !path.empty() && path.back() == "FIN_WAIT2->CLOSE";
    bool minisock = diag->ret == 0 && diag_state(*diag) == "FIN_WAIT2" &&
                    diag->info.value("timer", std::string()) == "timewait" &&
                    diag->local == server_endpoint(c);
    bool reached_fin_wait2 = std::find(path.begin(), path.end(), "FIN_WAIT1->FIN_WAIT2") != path.end();
    bool kept = reached_fin_wait2 && orphan_kept_in_fin_wait2(c);
    return {(handed_over && minisock) || kept,
            "server's last event: " + (path.empty() ? std::string("none") : path.back()) +
                "; " + describe_diag(*diag) + " (no tracepoint shows this socket; sock_diag does)" +
                (kept ? "; the orphan itself, kept on its FIN_WAIT2 timer: the client's ACK came "
                        "while the dying server's close() held the socket"
                      : "")};
}

// From the first send to the SO_ERROR read: where the RST and its effects land.
std::vector<const Event*> after_first_send(const FactContext& c, const Step& send) {
    return until_next_step(c, send, kSoError, false);
}

FactResult minisocket_answers_rst(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    if (s == nullptr) return fails("the client made no one-byte send");
    return closed_socket_answered_reset(c, after_first_send(c, *s), "server");
}

FactResult client_error_is_epipe(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    const Step* so = c.timeline.find_step("client", kSoError);
    if (s == nullptr || so == nullptr) return fails("no one-byte send or no getsockopt(SO_ERROR)");
    auto window = after_first_send(c, *s);
    FactResult closed = closed_by_reset(c, window, "client", "CLOSE_WAIT", "EPIPE");
    // No ECONNRESET anywhere for the client's socket.
    std::vector<const Event*> resets;
    for (const Event* e : c.timeline.of_cookie(c.timeline.cookie_of("client"))) {
        if (e->kind == EventKind::SockError && errno_name(e->error) == "ECONNRESET") resets.push_back(e);
    }
    return {closed.ok && resets.empty() && so->ret == 0 &&
                fetched_so_error(*so) == std::optional<std::string>("EPIPE"),
            closed.detail + "; " + describe(*so) + "; ECONNRESET errors: " + describe(resets, c.reasons)};
}

FactResult later_sends_sigpipe(const FactContext& c) {
    uint64_t cookie = c.timeline.cookie_of("client");
    std::string seen;
    std::vector<std::string> unseen;
    bool ok = true;
    for (int nth = 1; nth <= 2; ++nth) {
        const Step* s = c.timeline.find_step("client", kSendOne, nth);
        if (s == nullptr) return fails("the client made fewer than three one-byte sends");
        std::vector<const Event*> signals, sends;
        for (const Event* e : c.timeline.during(*s)) {
            if (e->kind == EventKind::Signal && e->signal == 13 && e->target_pid == s->pid) {
                signals.push_back(e);
            }
            if (e->kind == EventKind::Send && e->cookie == cookie) sends.push_back(e);
        }
        bool kernel_epipe = kernel_agrees(c, *s, EventKind::Send, &unseen);
        ok &= s->ret == -1 && s->errno_name == "EPIPE" && signals.size() == 1 && kernel_epipe;
        seen += (seen.empty() ? "" : "; ") + describe(*s) + ": " + describe(signals, c.reasons) +
                ", " + describe(sends, c.reasons);
    }
    return {ok, seen, unseen};
}

}  // namespace

ScenarioFacts server_killed_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The server process is SIGKILLed while the client is blocked in recv(); then the client "
        "(SIGPIPE ignored) sends three times.";
    spec.facts = {
        {"server-killed.kernel-closes-server",
         "after SIGKILL the kernel closes the server's socket: one FIN, server ESTABLISHED -> "
         "FIN_WAIT1 -> FIN_WAIT2 -> CLOSE",
         kernel_closes_server},
        {"server-killed.blocked-recv-returns-eof",
         "the client's blocked recv() returns 0 (EOF) at once, as the FIN moves it to "
         "CLOSE_WAIT",
         blocked_recv_returns_eof},
        {"server-killed.fin-wait2-minisocket",
         "the server's connection lives on as a FIN_WAIT2 timewait mini-socket (seen through "
         "sock_diag: no tracepoint shows it), or, when the client's ACK came while the dying "
         "close() held the socket, as the orphan itself on its FIN_WAIT2 timer",
         fin_wait2_minisocket},
        {"server-killed.first-send-goes-out",
         "the first send returns 1 and one 1-byte segment leaves the client",
         first_one_byte_send_leaves},
        {"server-killed.minisocket-answers-rst",
         "the mini-socket answers with a RST, reason TCP_TIMEWAIT_SOCKET (a kept orphan: "
         "TCP_ABORT_ON_DATA)",
         minisocket_answers_rst},
        {"server-killed.client-error-is-epipe",
         "the RST hits the client in CLOSE_WAIT: CLOSE_WAIT -> CLOSE with error EPIPE, not "
         "ECONNRESET (SO_ERROR reads EPIPE)",
         client_error_is_epipe},
        {"server-killed.later-sends-sigpipe",
         "the later sends return -1 EPIPE and each generates SIGPIPE", later_sends_sigpipe},
    };
    spec.explanation =
        "A process killed by SIGKILL gets no chance to clean up, but the kernel does it for "
        "it: exiting closes every descriptor, and closing the last reference to a TCP socket "
        "is an ordinary close(). So the server sends a FIN exactly as if it had called "
        "close() (books sometimes suggest a crashed process leaves its peer hanging: that is "
        "a crashed host, see peer-rebooted). The socket, now an orphan, goes FIN_WAIT1 -> "
        "FIN_WAIT2 when the client acknowledges the FIN, then hands over to a FIN_WAIT2 "
        "timewait mini-socket, which no tracepoint reports but sock_diag shows (unless the "
        "client's ACK arrives while close() still holds the socket: the kernel then keeps the "
        "orphan itself on its FIN_WAIT2 timer, and it answers data with TCP_ABORT_ON_DATA). The FIN "
        "wakes the client's blocked recv(), which returns 0: end of file, nothing more will "
        "come. The client's socket is in CLOSE_WAIT and may still send: the one-byte send is "
        "queued and returns 1, and the mini-socket, which has no process behind it to read "
        "anything, answers with a RST (reason TCP_TIMEWAIT_SOCKET). The RST finds the client "
        "in CLOSE_WAIT, and tcp_reset() sets EPIPE for that state, not ECONNRESET (books "
        "say the RST gives ECONNRESET; Linux reserves that for a RST in ESTABLISHED or the "
        "FIN_WAIT states), which getsockopt(SO_ERROR) reads and clears. The socket is closed "
        "for writing, so each further send fails with EPIPE and raises SIGPIPE (ignored "
        "here, otherwise it would kill the client).";
    return spec;
}

}  // namespace tcpscope
