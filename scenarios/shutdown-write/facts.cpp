// shutdown-write: the facts and the explanation; spec.setup says what the
// program does.
#include "event_text.h"
#include "scenario_facts.h"

namespace tcpscope {

namespace {

const StepMatch kShutdown{StepOp::Shutdown, "SHUT_WR"};
const StepMatch kReply{StepOp::Send, "", 5};  // send(fd, "reply", 5)

std::string path_text(const std::vector<std::string>& path) {
    return path.empty() ? "no state change" : join(path);
}

// The first packet from `side` with `flag` set, at or after `from`.
const Event* first_packet(const FactContext& c, const std::string& side, uint8_t flag,
                          uint64_t from, int min_payload = 0) {
    for (const Event* p : packets_from(c.timeline, c.timeline.between(from, UINT64_MAX), side)) {
        if ((flag == 0 || (p->tcp_flags & flag)) && p->payload_len >= min_payload) return p;
    }
    return nullptr;
}

const Event* state_event(const FactContext& c, uint64_t cookie, const std::string& from,
                         const std::string& to) {
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (is_transition(*e, from, to)) return e;
    }
    return nullptr;
}

FactResult shutdown_sends_fin(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kShutdown);
    if (s == nullptr) return fails("the client never called shutdown(SHUT_WR)");
    uint64_t cookie = c.timeline.cookie_of("client");
    auto during = c.timeline.during(*s);
    auto states = select(c.timeline, during, EventKind::State, "client");
    bool to_fw1 = false;
    for (const Event* e : states) {
        to_fw1 |= e->cookie == cookie && tcp_state_name(e->old_state) == "ESTABLISHED" &&
                  tcp_state_name(e->new_state) == "FIN_WAIT1";
    }
    std::vector<const Event*> fins;
    for (const Event* p : packets_from(c.timeline, during, "client")) {
        if (p->tcp_flags & TS_TCP_FIN) fins.push_back(p);
    }
    // The server's ACK of that FIN moves it on to FIN_WAIT2 before the
    // server's own FIN is processed: the client's path says so, FIN_WAIT1 ->
    // FIN_WAIT2 (a FIN processed first would make it FIN_WAIT1 -> CLOSING).
    // Not by comparing timestamps with the server's FIN on the wire: while
    // the client is inside shutdown() its socket is locked, and the segments
    // that arrive meanwhile wait in the backlog until the call releases it
    // (seen under qemu: the reply and the server's FIN sent at 39.9 and
    // 40.4 ms, the client's FIN_WAIT1 -> FIN_WAIT2 at 43.5 ms), still in order.
    const Event* fw2 = state_event(c, cookie, "FIN_WAIT1", "FIN_WAIT2");
    bool fw2_first = fw2 != nullptr &&
                     contains_in_order(state_path(c.timeline, cookie),
                                       {"ESTABLISHED->FIN_WAIT1", "FIN_WAIT1->FIN_WAIT2"});
    return {s->ret == 0 && !s->failed() && to_fw1 && fins.size() == 1 && fw2_first,
            describe(*s) + "; during it: " + describe(states, c.reasons) + "; " +
                describe(fins, c.reasons) + "; client path: " +
                path_text(state_path(c.timeline, cookie))};
}

FactResult server_reads_eof_and_closes(const FactContext& c) {
    const Step* request = c.timeline.find_step("server", kRecv, 0);
    const Step* eof = c.timeline.find_step("server", kRecv, 1);
    const Step* close = c.timeline.find_step("server", kClose);
    if (request == nullptr || eof == nullptr || close == nullptr) {
        return fails("missing the server's two recv() calls or its close()");
    }
    uint64_t cookie = c.timeline.cookie_of("server");
    auto path = state_path(c.timeline, cookie);
    bool path_ok = contains_in_order(
        path, {"ESTABLISHED->CLOSE_WAIT", "CLOSE_WAIT->LAST_ACK", "LAST_ACK->CLOSE"});
    // EOF is read once the client's FIN has made it CLOSE_WAIT.
    const Event* cw = state_event(c, cookie, "ESTABLISHED", "CLOSE_WAIT");
    bool eof_after_fin = cw != nullptr && cw->ts_ns <= eof->ts_ns;
    bool last_ack_in_close = false;
    for (const Event* e : select(c.timeline, c.timeline.during(*close), EventKind::State, "server")) {
        last_ack_in_close |= e->cookie == cookie && tcp_state_name(e->new_state) == "LAST_ACK";
    }
    return {request->ret == 7 && eof->ret == 0 && !eof->failed() && path_ok && eof_after_fin &&
                last_ack_in_close,
            describe(*request) + "; " + describe(*eof) + "; " + describe(*close) +
                "; server path: " + path_text(path)};
}

FactResult client_reads_reply_after_its_fin(const FactContext& c) {
    const Step* shut = c.timeline.find_step("client", kShutdown);
    const Step* reply = c.timeline.find_step("client", kRecv, 0);
    const Step* eof = c.timeline.find_step("client", kRecv, 1);
    if (shut == nullptr || reply == nullptr || eof == nullptr) {
        return fails("missing the client's shutdown() or its two recv() calls");
    }
    std::string data;
    if (reply->info.contains("data") && reply->info["data"].is_string()) {
        data = reply->info["data"].get<std::string>();
    }
    // On the wire: the client's FIN first, then the server's 5-byte reply.
    const Event* fin = first_packet(c, "client", TS_TCP_FIN, shut->start_ns);
    const Event* seg = first_packet(c, "server", 0, shut->start_ns, 1);
    bool order = fin != nullptr && seg != nullptr && fin->ts_ns < seg->ts_ns && seg->payload_len == 5;
    std::vector<std::string> unseen;
    bool kernel_five = kernel_agrees(c, *reply, EventKind::Recv, &unseen);
    return {reply->start_ns > shut->ts_ns && reply->ret == 5 && data == "reply" && kernel_five &&
                order && eof->ret == 0 && !eof->failed(),
            describe(*reply) + " \"" + data + "\"; " + describe(*eof) + "; client FIN: " +
                (fin ? describe(*fin, c.reasons) : "none") + ", then server data: " +
                (seg ? describe(*seg, c.reasons) : "none"),
            unseen};
}

FactResult closed_before_close(const FactContext& c) {
    const Step* close = c.timeline.find_step("client", kClose);
    if (close == nullptr) return fails("the client never called close()");
    uint64_t cookie = c.timeline.cookie_of("client");
    const Event* done = state_event(c, cookie, "FIN_WAIT2", "CLOSE");
    const Step* server_close = c.timeline.find_step("server", kClose);
    const Event* server_fin =
        server_close ? first_packet(c, "server", TS_TCP_FIN, server_close->start_ns) : nullptr;
    bool ok = done != nullptr && server_fin != nullptr && server_fin->ts_ns <= done->ts_ns &&
              done->ts_ns < close->start_ns;
    std::string when = done == nullptr ? std::string("never")
                       : done->ts_ns < close->start_ns
                           ? duration_text(close->start_ns - done->ts_ns) + " before close()"
                           : duration_text(done->ts_ns - close->start_ns) + " after close()";
    return {ok, "server FIN: " + (server_fin ? describe(*server_fin, c.reasons) : "none") +
                    "; client FIN_WAIT2 -> CLOSE: " + when + "; client path: " +
                    path_text(state_path(c.timeline, cookie))};
}

FactResult time_wait_via_sock_diag(const FactContext& c) {
    const Step* close = c.timeline.find_step("client", kClose);
    auto diags = own_diags(c, "client");
    if (close == nullptr || diags.empty()) return fails("no client close() or connection");
    uint64_t cookie = c.timeline.cookie_of("client");
    const Step* before = nullptr;
    const Step* after = nullptr;
    for (const Step* s : diags) {
        if (s->ts_ns < close->start_ns) before = s;
        else if (after == nullptr) after = s;
    }
    if (before == nullptr || after == nullptr) return fails("no sock_diag look before and after close()");
    auto tw = [&](const Step* s) {
        return diag_state(*s) == "TIME_WAIT" && s->info.value("timer", std::string()) == "timewait" &&
               s->cookie == cookie;
    };
    // close() on a descriptor whose connection already ended: nothing happens.
    std::vector<const Event*> from_close;
    for (const Event* e : c.timeline.during(*close)) {
        if (c.timeline.side_of(*e) == "client" || e->cookie == cookie) from_close.push_back(e);
    }
    // And no tracepoint ever reported a move to TIME_WAIT.
    std::vector<const Event*> to_tw;
    for (const Event* e : c.timeline.of_kind(EventKind::State)) {
        if (tcp_state_name(e->new_state) == "TIME_WAIT") to_tw.push_back(e);
    }
    return {tw(before) && tw(after) && from_close.empty() && to_tw.empty(),
            describe_diag(*before) + " (cookie " + std::to_string(before->cookie) +
                ", the client's is " + std::to_string(cookie) + "); " + describe(*close) +
                " caused: " + describe(from_close, c.reasons) + "; then " + describe_diag(*after) +
                "; state events into TIME_WAIT: " + describe(to_tw, c.reasons)};
}

}  // namespace

ScenarioFacts shutdown_write_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The client sends a request, shutdown(SHUT_WR)s and keeps reading; the server reads to "
        "EOF, replies and closes. The half-closed client still reads the reply, and its socket "
        "reaches TIME_WAIT (a mini-socket only sock_diag shows) before it calls close().";
    spec.facts = {
        {"shutdown-write.shutdown-sends-fin",
         "shutdown(SHUT_WR) returns 0 and sends a FIN at once: the client goes ESTABLISHED -> "
         "FIN_WAIT1, then FIN_WAIT2 when the server acknowledges it",
         shutdown_sends_fin},
        {"shutdown-write.server-reads-eof-and-closes",
         "the server reads the request, then 0 (EOF), and goes ESTABLISHED -> CLOSE_WAIT -> "
         "LAST_ACK -> CLOSE",
         server_reads_eof_and_closes},
        {"shutdown-write.client-reads-reply-after-its-fin",
         "the client still reads the reply after its own FIN: recv() = 5 (\"reply\"), then 0",
         client_reads_reply_after_its_fin},
        {"shutdown-write.closed-before-close",
         "on the server's FIN the client's socket goes FIN_WAIT2 -> CLOSE before the client "
         "calls close()",
         closed_before_close},
        {"shutdown-write.time-wait-via-sock-diag",
         "sock_diag (not a tracepoint) shows the connection in TIME_WAIT while the descriptor is "
         "still open; close() then changes nothing",
         time_wait_via_sock_diag},
    };
    spec.explanation =
        "shutdown(SHUT_WR) closes only the sending direction: the kernel sends a FIN at once "
        "(unlike close(), it does so even though the descriptor stays open and other "
        "descriptors may share the socket) and the client moves to FIN_WAIT1, then to "
        "FIN_WAIT2 when the server's next segment acknowledges the FIN. Receiving is "
        "untouched, which is the point of a half-close: the server reads the request, then 0 "
        "because the FIN marks the end of the client's data, and its socket is in "
        "CLOSE_WAIT, where it may still send. Its reply reaches the half-closed client, whose "
        "recv() returns it, and the server's close() sends the second FIN (CLOSE_WAIT -> "
        "LAST_ACK, then CLOSE on the client's ACK). That FIN completes the client's side of "
        "the state diagram: the books draw FIN_WAIT2 -> TIME_WAIT, and Linux does it by "
        "ending the full socket (FIN_WAIT2 -> CLOSE is the last tracepoint event) and "
        "handing the connection to a TIME_WAIT mini-socket, which no tracepoint reports; "
        "sock_diag (what `ss` uses) shows it with its 60 s timewait timer. All of this "
        "happens while the client's descriptor is still open, before close(): the recv() "
        "that returned 0 already found the connection finished. The final close() only "
        "releases the descriptor: no packet, no event, and the mini-socket is unchanged.";
    return spec;
}

}  // namespace tcpscope
