// peer-rebooted: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include <cstdint>

namespace tcpscope {

namespace {

const StepMatch kPoll{StepOp::Poll};
const StepMatch kKill{StepOp::Kill, "server"};
const StepMatch kNetnsDel{StepOp::Command, "netns del"};
const StepMatch kNetnsAdd{StepOp::Command, "netns add"};

// The old server's network namespace: the one its accept() ran in.
uint32_t old_server_netns(const FactContext& c) {
    const Step* accept = c.timeline.find_step("server", kAccept);
    return accept ? accept->netns : 0;
}

std::string endpoints_of(const Step& s) { return s.local + " -> " + s.remote; }

FactResult client_told_nothing(const FactContext& c) {
    const Step* kill = c.timeline.find_step("server", kKill);
    const Step* diag = c.timeline.find_step("client", kSockDiag, 0);
    const Step* send = c.timeline.find_step("client", kSendOne, 0);
    if (kill == nullptr || diag == nullptr || send == nullptr) {
        return fails("no kill(server), no client sock_diag or no one-byte send");
    }
    uint64_t server = c.timeline.cookie_of("server");
    uint64_t client = c.timeline.cookie_of("client");
    auto window = c.timeline.between(kill->start_ns, send->start_ns);
    // The dying server aborted its connection (SO_LINGER {1,0}): straight
    // to CLOSE, a RST generated...
    bool aborted = false;
    std::vector<const Event*> server_resets;
    for (const Event* e : window) {
        if (e->cookie != server) continue;
        if (is_transition(*e, "ESTABLISHED", "CLOSE")) aborted = true;
        if (e->kind == EventKind::ResetSent) server_resets.push_back(e);
    }
    std::vector<std::string> unseen;
    bool tcp_state_reason = server_resets.size() == 1 &&
                            (!shows(c, KernelFeature::ResetReason, &unseen) ||
                             (server_resets.front()->reason &&
                              c.reasons.name(*server_resets.front()->reason) == "TCP_STATE"));
    // ...which never left the downed link: no segment from the server and
    // nothing received by the client until it sends.
    auto server_packets = packets_from(c.timeline, window, "server");
    std::vector<const Event*> client_heard;
    for (const Event* e : window) {
        if (e->cookie == client && e->kind != EventKind::Packet) client_heard.push_back(e);
    }
    bool still_established = diag->ret == 0 && diag_state(*diag) == "ESTABLISHED";
    return {aborted && tcp_state_reason && server_packets.empty() && client_heard.empty() &&
                still_established,
            std::string("server: ") + (aborted ? "ESTABLISHED -> CLOSE, " : "no abort, ") +
                describe(server_resets, c.reasons) + "; server segments: " +
                describe(server_packets, c.reasons) + "; client events: " +
                describe(client_heard, c.reasons) + "; " + describe_diag(*diag),
            unseen};
}

// From the first send to the end of the poll that waits for the RST.
std::vector<const Event*> answer_window(const FactContext& c, const Step& send) {
    return until_next_step(c, send, kPoll, true);
}

FactResult new_host_answers_rst(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    const Step* deleted = c.timeline.find_step("server", kNetnsDel);
    const Step* added = c.timeline.find_step("server", kNetnsAdd);
    const Step* listen = c.timeline.find_step("server", kListen);
    if (s == nullptr || deleted == nullptr || added == nullptr || listen == nullptr) {
        return fails("no one-byte send, no `ip netns del`/`ip netns add` or no server listen()");
    }
    // The old host kept no socket: its listener and its connection were
    // closed before its namespace was deleted.
    std::vector<std::string> closed_before;
    for (uint64_t cookie : {listen->cookie, c.timeline.cookie_of("server")}) {
        for (const Event* e : c.timeline.of_cookie(cookie)) {
            if (e->kind == EventKind::State && tcp_state_name(e->new_state) == "CLOSE" &&
                e->ts_ns < deleted->start_ns) {
                closed_before.push_back(tcp_state_name(e->old_state) + "->CLOSE");
            }
        }
    }
    // The RST goes from the server's address to the client's endpoint.
    std::vector<const Event*> resets, rst_packets;
    for (const Event* e : answer_window(c, *s)) {
        if (endpoint_key(e->local, e->family) != s->remote ||
            endpoint_key(e->remote, e->family) != s->local) {
            continue;
        }
        if (e->kind == EventKind::ResetSent) resets.push_back(e);
        if (e->kind == EventKind::Packet && (e->tcp_flags & TS_TCP_RST)) rst_packets.push_back(e);
    }
    // Sent with no socket, in the server's namespace (not the client's), by
    // the namespace made again after the old one was deleted.
    const Event* rst = nullptr;
    for (const Event* r : resets) {
        if (r->no_socket && r->cookie == 0 && r->reason && c.reasons.name(*r->reason) == "NO_SOCKET" &&
            r->netns != s->netns && r->ts_ns > added->ts_ns) {
            rst = r;
        }
    }
    bool on_wire = false;
    for (const Event* p : rst_packets) on_wire |= rst && p->netns == rst->netns;
    std::vector<std::string> unseen;
    if (!shows(c, KernelFeature::ResetWithoutSocket, &unseen)) {
        // tcp_send_reset is silent for it before 6.10: the RST on the wire,
        // from the recreated namespace, stands in (its reason cannot).
        std::string seen = "old server: " +
                           (closed_before.empty() ? std::string("nothing") : join(closed_before)) +
                           " before `ip netns del`; RST segments: " + describe(rst_packets, c.reasons);
        bool from_new_host = false;
        for (const Event* p : rst_packets) {
            from_new_host |= p->netns != s->netns && p->ts_ns > added->ts_ns;
        }
        return {from_new_host && closed_before.size() == 2,
                seen + " (tcp_send_reset is silent for it here: seen on the wire)", unseen};
    }
    uint32_t old_ns = old_server_netns(c);
    std::string seen = "old server: " + (closed_before.empty() ? std::string("nothing") : join(closed_before)) +
                       " before `ip netns del`; to " + s->local + ": " + describe(resets, c.reasons);
    if (rst) {
        seen += " in netns " + std::to_string(rst->netns) +
                (rst->netns == old_ns ? " (the kernel reused the deleted namespace's inode number)"
                                      : " (the old server's was " + std::to_string(old_ns) + ")") +
                ", " + std::to_string((rst->ts_ns - added->ts_ns) / 1000000) + " ms after `ip netns add`";
    } else if (resets.empty()) {
        seen += " (no tcp_send_reset seen: if the recreated namespace's events are missing, the "
                "runner did not keep them)";
    }
    seen += "; RST segments: " + describe(rst_packets, c.reasons);
    return {rst && on_wire && closed_before.size() == 2, seen};
}

FactResult client_reset(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kSendOne, 0);
    const Step* diag = c.timeline.find_step("client", kSockDiag, 1);
    if (s == nullptr || diag == nullptr) return fails("no one-byte send or no second sock_diag");
    FactResult closed = closed_by_reset(c, answer_window(c, *s), "client", "ESTABLISHED", "ECONNRESET");
    bool gone = diag->ret == 0 && diag_state(*diag).empty();
    return {closed.ok && gone, closed.detail + "; " + describe_diag(*diag)};
}

FactResult recv_reset_then_eof(const FactContext& c) {
    uint64_t cookie = c.timeline.cookie_of("client");
    const Step* first = c.timeline.find_step("client", kRecv, 0);
    const Step* second = c.timeline.find_step("client", kRecv, 1);
    if (first == nullptr || second == nullptr) return fails("the client made fewer than two recv()");
    auto kernel = [&](const Step& s) {
        std::vector<const Event*> out;
        for (const Event* e : c.timeline.during(s)) {
            if (e->kind == EventKind::Recv && e->cookie == cookie) out.push_back(e);
        }
        return out;
    };
    auto k1 = kernel(*first), k2 = kernel(*second);
    std::vector<std::string> unseen;
    bool kernel_ok = kernel_agrees(c, *first, EventKind::Recv, &unseen) &&
                     kernel_agrees(c, *second, EventKind::Recv, &unseen);
    bool ok = first->ret == -1 && first->errno_name == "ECONNRESET" && second->ret == 0 &&
              !second->failed() && kernel_ok;
    return {ok,
            describe(*first) + " (kernel: " + describe(k1, c.reasons) + "); " + describe(*second) +
                " (kernel: " + describe(k2, c.reasons) + ")",
            unseen};
}

FactResult later_send_sigpipe(const FactContext& c) {
    uint64_t cookie = c.timeline.cookie_of("client");
    const Step* s = c.timeline.find_step("client", kSendOne, 1);
    if (s == nullptr) return fails("the client made no second one-byte send");
    std::vector<const Event*> signals, sends;
    for (const Event* e : c.timeline.during(*s)) {
        if (e->kind == EventKind::Signal && e->signal == 13 && e->target_pid == s->pid) {
            signals.push_back(e);
        }
        if (e->kind == EventKind::Send && e->cookie == cookie) sends.push_back(e);
    }
    std::vector<std::string> unseen;
    bool epipe = kernel_agrees(c, *s, EventKind::Send, &unseen);
    return {s->ret == -1 && s->errno_name == "EPIPE" && signals.size() == 1 && epipe,
            describe(*s) + " (" + endpoints_of(*s) + "): " + describe(signals, c.reasons) +
                "; kernel: " + describe(sends, c.reasons),
            unseen};
}

}  // namespace

ScenarioFacts peer_rebooted_facts() {
    ScenarioFacts spec;
    spec.setup =
        "Client and server in namespaces joined by veth; the server's link goes down, the "
        "server is killed (its connection aborted), its namespace deleted and made again with "
        "the same address and no sockets; then the client (SIGPIPE ignored) sends, polls, reads "
        "and sends.";
    spec.facts = {
        {"peer-rebooted.client-told-nothing",
         "the old server's connection is aborted (ESTABLISHED -> CLOSE, RST reason TCP_STATE), "
         "but its link is down: nothing reaches the client, which stays ESTABLISHED",
         client_told_nothing},
        {"peer-rebooted.send-goes-out",
         "send(1) returns 1 and one 1-byte segment leaves the client", first_one_byte_send_leaves},
        {"peer-rebooted.new-host-answers-rst",
         "the rebooted host (a new namespace, no sockets) answers with a RST sent with no "
         "socket, reason NO_SOCKET",
         new_host_answers_rst},
        {"peer-rebooted.client-reset",
         "the RST hits the client in ESTABLISHED: ESTABLISHED -> CLOSE with socket error "
         "ECONNRESET, and the socket is gone from sock_diag",
         client_reset},
        {"peer-rebooted.recv-reset-then-eof",
         "recv() returns -1 ECONNRESET, then 0", recv_reset_then_eof},
        {"peer-rebooted.later-send-sigpipe",
         "a later send returns -1 EPIPE and generates SIGPIPE", later_send_sigpipe},
    };
    spec.explanation =
        "A rebooted host has lost every connection it had, but the peer is not told: the "
        "old server's abort (SO_LINGER {1,0}, a RST with reason TCP_STATE) died on a link "
        "that was already down, like a power cut, so the client's socket stays ESTABLISHED "
        "with nothing to send. The namespace standing for the host is then deleted and made "
        "again with the same address (often even with the same namespace inode number, "
        "which the kernel recycles: the new host is told apart from the old one by time, "
        "its RST coming after the namespace was made again). The client's send only copies the byte into the send "
        "queue, so it returns 1: a send succeeds as soon as the kernel accepts the data, "
        "not when the peer gets it. The segment reaches the new host, which has no socket "
        "for it and answers with a RST from no socket (reason NO_SOCKET), the same answer as "
        "for a SYN to a closed port. The RST finds the client in ESTABLISHED: tcp_reset() "
        "sets ECONNRESET and closes the socket (it disappears from sock_diag). The error is "
        "reported once, to the next call that looks: recv() returns -1 ECONNRESET and "
        "clears it. The socket is now closed for reading, so the next recv() returns 0 as "
        "at end of file, and closed for writing, so send() fails with EPIPE and raises "
        "SIGPIPE (ignored here). The books describe the same sequence for a crashed and "
        "rebooted peer (UNP 5.14): the data elicits a RST, and the error shows up on the "
        "next read or write. Without a send, the client would never notice: only "
        "keepalives or an application timeout find a peer that went away quietly.";
    return spec;
}

}  // namespace tcpscope
