// epoll-edge-triggered: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "readiness_facts.h"

namespace tcpscope {

namespace {

const StepMatch kWaitEt{StepOp::EpollWait, "et"};
const StepMatch kWaitLt{StepOp::EpollWait, "lt"};
const StepMatch kSend{StepOp::Send};

// The client's data segments among `events`, and their bytes.
std::vector<const Event*> data_segments(const FactContext& c, const std::vector<const Event*>& events,
                                        int64_t* bytes) {
    std::vector<const Event*> out;
    *bytes = 0;
    for (const Event* p : packets_from(c.timeline, events, "client")) {
        if (p->payload_len > 0) {
            out.push_back(p);
            *bytes += p->payload_len;
        }
    }
    return out;
}

// Everything the client put on the wire before the server's first wait.
int64_t bytes_sent(const FactContext& c) {
    const Step* wait = c.timeline.find_step("server", kWaitEt);
    int64_t bytes = 0;
    if (wait != nullptr) data_segments(c, c.timeline.between(0, wait->start_ns), &bytes);
    return bytes;
}

FactResult one_edge(const FactContext& c) {
    const Step* send = c.timeline.find_step("client", kSend);
    const Step* wait = c.timeline.find_step("server", kWaitEt);
    if (send == nullptr || wait == nullptr) return fails("no client send() or no wait on et");
    int64_t bytes = 0;
    auto segments = data_segments(c, c.timeline.between(send->start_ns, wait->start_ns), &bytes);
    auto mask = ready_mask(*wait, c.timeline.cookie_of("server"));
    return {send->ret == 4096 && bytes == 4096 && segments.size() == 1 && wait->ret == 1 &&
                mask == kReadyIn,
            describe(*send) + "; client data segments: " + describe(segments, c.reasons) + "; " +
                describe(*wait)};
}

FactResult reads_one_kib(const FactContext& c) {
    const Step* wait = c.timeline.find_step("server", kWaitEt);
    const Step* recv = wait ? c.timeline.next_step(wait, "server", kRecv) : nullptr;
    if (recv == nullptr) return fails("no recv() after the wait on et");
    std::vector<std::string> unseen;
    bool kernel = kernel_agrees(c, *recv, EventKind::Recv, &unseen);
    return {recv->ret == 1024 && recv->size == 1024 && kernel, describe(*recv), unseen};
}

FactResult never_woken_again(const FactContext& c) {
    const Step* first = c.timeline.find_step("server", kWaitEt, 0);
    const Step* again = c.timeline.find_step("server", kWaitEt, 1);
    const Step* recv = first ? c.timeline.next_step(first, "server", kRecv) : nullptr;
    const Step* diag = again ? c.timeline.next_step(again, "server", kSockDiag) : nullptr;
    if (again == nullptr || recv == nullptr || diag == nullptr) {
        return fails("no second wait on et, no recv() before it or no sock_diag after it");
    }
    // No new data arrived in between: no new edge to report.
    int64_t arrived = 0;
    auto segments = data_segments(c, c.timeline.between(first->ts_ns, again->ts_ns), &arrived);
    int64_t queued = bytes_sent(c) - recv->ret;
    int64_t recv_q = info_number(*diag, "recv_q");
    return {timed_out(*again) && segments.empty() && queued == 3072 && recv_q == queued,
            describe(*again) + " after " + std::to_string((again->ts_ns - again->start_ns) / 1000000) +
                " ms; client data segments meanwhile: " + describe(segments, c.reasons) + "; " +
                describe_diag(*diag) + " (sent " + std::to_string(bytes_sent(c)) + " - read " +
                std::to_string(recv->ret) + " = " + std::to_string(queued) + ")"};
}

FactResult level_triggered_until_drained(const FactContext& c) {
    uint64_t cookie = c.timeline.cookie_of("server");
    // The edge-triggered reader's 1 KiB came first.
    const Step* et_recv = c.timeline.find_step("server", kRecv, 0);
    int64_t et_read = et_recv ? et_recv->ret : 0;
    int64_t read = 0;
    std::vector<std::string> seen;
    bool ok = true;
    const Step* last = nullptr;
    for (int i = 0;; ++i) {
        const Step* wait = c.timeline.find_step("server", kWaitLt, i);
        if (wait == nullptr) break;
        last = wait;
        const Step* recv = c.timeline.next_step(wait, "server", kRecv);
        // Readable while anything is queued; the wait after the last read
        // finds nothing and times out.
        bool queued = bytes_sent(c) - et_read - read > 0 && recv != nullptr;
        if (wait->ret == 1) {
            ok &= queued && ready_mask(*wait, cookie) == kReadyIn && recv->ret > 0;
            read += recv ? recv->ret : 0;
            seen.push_back(describe(*wait) + ", " + describe(*recv));
        } else {
            seen.push_back(describe(*wait));
        }
    }
    // With the et reader's 1 KiB: all that was sent.
    int64_t total = read + et_read;
    auto diags = c.timeline.find_step("server", kSockDiag, 1);
    bool drained = diags != nullptr && info_number(*diags, "recv_q") == 0;
    ok &= last != nullptr && timed_out(*last) && total == bytes_sent(c) && read == 3072 && drained;
    return {ok, join(seen, "; ") + "; read in all " + std::to_string(total) + " of " +
                    std::to_string(bytes_sent(c)) +
                    (diags ? "; " + describe_diag(*diags) : std::string("; no final sock_diag"))};
}

}  // namespace

ScenarioFacts epoll_edge_triggered_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The server's socket registered twice, \"et\" (EPOLLIN|EPOLLET) and \"lt\" (EPOLLIN); "
        "the client sends 4 KiB once.";
    spec.facts = {
        {"epoll-edge-triggered.one-edge",
         "the client's 4 KiB arrive in one segment and the edge-triggered wait reports IN",
         one_edge},
        {"epoll-edge-triggered.reads-one-kib",
         "the edge-triggered reader reads 1 KiB", reads_one_kib},
        {"epoll-edge-triggered.never-woken-again",
         "its next wait is never woken: it times out with no new segment, while 3 KiB wait "
         "(sock_diag Recv-Q 3072 = bytes sent - bytes read)",
         never_woken_again},
        {"epoll-edge-triggered.level-triggered-until-drained",
         "the level-triggered registration reports IN on every wait until the queue is "
         "drained (3 x 1 KiB), then times out; Recv-Q 0",
         level_triggered_until_drained},
    };
    spec.explanation =
        "epoll tells about a socket by putting it on the instance's ready list when the "
        "socket wakes its waiters (here: when the 4 KiB segment was queued). epoll_wait() "
        "then asks the socket which events hold and reports them. A level-triggered entry is "
        "put back on the ready list after each report, so the next epoll_wait() asks again "
        "and reports IN for as long as bytes are queued. An edge-triggered (EPOLLET) entry "
        "is not put back: it returns only when the socket wakes again, which takes a new "
        "segment, a FIN, a RST, an error. Nothing more comes here, so the reader that read "
        "1 KiB and went back to epoll_wait() sleeps while 3 KiB wait in the receive queue "
        "(Recv-Q, as sock_diag and ss show it). The rule of EPOLLET is to read (or write) "
        "until EAGAIN before waiting again; epoll(7) says so, and this is the bug it warns "
        "of. The same socket registered level-triggered in a second instance is reported "
        "readable on each wait until the last byte is read.";
    return spec;
}

}  // namespace tcpscope
