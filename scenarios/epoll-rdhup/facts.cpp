// epoll-rdhup: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "readiness_facts.h"

namespace tcpscope {

namespace {

const StepMatch kWait{StepOp::EpollWait};

FactResult data_and_fin_arrived(const FactContext& c) {
    const Step* wait = c.timeline.find_step("server", kWait);
    if (wait == nullptr) return fails("the server made no epoll_wait()");
    int64_t bytes = 0;
    std::vector<const Event*> fins;
    for (const Event* p : packets_from(c.timeline, c.timeline.between(0, wait->start_ns), "client")) {
        bytes += p->payload_len;
        if (p->tcp_flags & TS_TCP_FIN) fins.push_back(p);
    }
    std::string now = state_at(c.timeline, c.timeline.cookie_of("server"), wait->start_ns);
    return {bytes == 100 && fins.size() == 1 && now == "CLOSE_WAIT",
            "before the wait the client sent " + std::to_string(bytes) + " bytes and " +
                describe(fins, c.reasons) + "; the server's socket was in " +
                (now.empty() ? "?" : now) + " (its state events)"};
}

FactResult one_wakeup_in_rdhup(const FactContext& c) {
    const Step* wait = c.timeline.find_step("server", kWait);
    if (wait == nullptr) return fails("the server made no epoll_wait()");
    auto mask = ready_mask(*wait, c.timeline.cookie_of("server"));
    return {wait->ret == 1 && mask == (kReadyIn | kReadyRdhup), describe(*wait)};
}

FactResult no_wakeup_after_partial_read(const FactContext& c) {
    const Step* first = c.timeline.find_step("server", kWait, 0);
    const Step* again = c.timeline.find_step("server", kWait, 1);
    const Step* recv = c.timeline.find_step("server", kRecv, 0);
    const Step* diag = again ? c.timeline.next_step(again, "server", kSockDiag) : nullptr;
    if (first == nullptr || again == nullptr || recv == nullptr || diag == nullptr) {
        return fails("missing the second epoll_wait(), the partial recv() or the sock_diag");
    }
    bool partial = recv->ret == 50 && recv->start_ns > first->ts_ns && recv->ts_ns < again->start_ns;
    // Nothing arrived from the client meanwhile: no new edge.
    auto segments = packets_from(c.timeline, c.timeline.between(first->ts_ns, again->ts_ns), "client");
    // Recv-Q is rcv_nxt - copied_seq, and the FIN takes a sequence number
    // of its own: the unread bytes plus 1 for the FIN behind them.
    bool waiting = diag_state(*diag) == "CLOSE_WAIT" && info_number(*diag, "recv_q") == 100 - recv->ret + 1;
    return {partial && timed_out(*again) && segments.empty() && waiting,
            describe(*recv) + "; " + describe(*again) + " after " +
                std::to_string((again->ts_ns - again->start_ns) / 1000000) +
                " ms; client segments meanwhile: " + describe(segments, c.reasons) + "; " +
                describe_diag(*diag)};
}

FactResult rest_then_eof(const FactContext& c) {
    const Step* rest = c.timeline.find_step("server", kRecv, 1);
    const Step* eof = c.timeline.find_step("server", kRecv, 2);
    if (rest == nullptr || eof == nullptr) return fails("the server made fewer than three recv()");
    std::vector<std::string> unseen;
    bool kernel = kernel_agrees_on_each(c, {rest, eof}, EventKind::Recv, &unseen);
    return {rest->ret == 50 && eof->ret == 0 && !eof->failed() && kernel,
            describe(*rest) + "; then " + describe(*eof), unseen};
}

}  // namespace

ScenarioFacts epoll_rdhup_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The server's socket registered EPOLLIN|EPOLLET|EPOLLRDHUP; the client sends 100 bytes "
        "and closes; the server waits, reads 50, waits.";
    spec.facts = {
        {"epoll-rdhup.data-and-fin-arrived",
         "the client's 100 bytes and its FIN arrived before the wait: the server's socket is in "
         "CLOSE_WAIT",
         data_and_fin_arrived},
        {"epoll-rdhup.one-wakeup-in-rdhup",
         "one edge-triggered wake-up carries IN|RDHUP (0x2001): data and FIN together",
         one_wakeup_in_rdhup},
        {"epoll-rdhup.no-wakeup-after-partial-read",
         "after a partial read (50 of 100 bytes) no further wake-up comes: the next wait times "
         "out, while 50 bytes and the EOF wait (sock_diag: CLOSE_WAIT, Recv-Q 51: the 50 "
         "bytes and 1 for the FIN)",
         no_wakeup_after_partial_read},
        {"epoll-rdhup.rest-then-eof",
         "reading on returns the other 50 bytes, then 0 (EOF)", rest_then_eof},
    };
    spec.explanation =
        "The data and the FIN each woke the socket's waiters, but an edge-triggered entry is "
        "put on the ready list once and stays there until epoll_wait() reports it: both "
        "arrivals before the wait make one report, whose bits are what the socket says when "
        "asked, IN (bytes queued) and RDHUP (the peer shut its sending side: the FIN moved "
        "the socket to CLOSE_WAIT). RDHUP is not an event of its own that will come later: "
        "it was in this report, and there will be no other, since nothing more can arrive "
        "from a peer that closed. A reader that reads part of the data and waits for the "
        "next event before it looks for the end of file waits forever, with the rest of the "
        "data and the EOF in the queue (sock_diag: CLOSE_WAIT, Recv-Q 51: ss counts the "
        "FIN as one more byte, since Recv-Q is the next sequence number expected minus the "
        "next to be read, and the FIN has a sequence number of its own). With EPOLLET, "
        "read until EAGAIN or 0, and treat RDHUP as \"the EOF is queued behind the data\".";
    return spec;
}

}  // namespace tcpscope
