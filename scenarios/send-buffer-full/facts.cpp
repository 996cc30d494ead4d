// send-buffer-full: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

namespace tcpscope {

namespace {

const StepMatch kSend{StepOp::Send};  // send(fd, buf, N)
const StepMatch kSndbuf{StepOp::GetSockOpt, "SO_SNDBUF"};
const StepMatch kDiagReceiver{StepOp::SockDiag, "127.0.0.1:5000"};

// The sends up to and including the first that failed.
std::vector<const Step*> burst(const FactContext& c) {
    std::vector<const Step*> out;
    for (int i = 0;; ++i) {
        const Step* s = c.timeline.find_step("client", kSend, i);
        if (s == nullptr) break;
        out.push_back(s);
        if (s->ret < 0) break;
    }
    return out;
}

int64_t accepted_bytes(const std::vector<const Step*>& sends) {
    int64_t total = 0;
    for (const Step* s : sends) total += s->ret > 0 ? s->ret : 0;
    return total;
}

// The scenario looks again when a probe moved bytes between its two looks:
// the last pair is the one taken while nothing moved.
const Step* sender_diag(const FactContext& c) {
    auto diags = own_diags(c, "client");
    return diags.empty() ? nullptr : diags.back();
}

const Step* receiver_diag(const FactContext& c) {
    const Step* last = nullptr;
    for (int i = 0;; ++i) {
        const Step* s = c.timeline.find_step("client", kDiagReceiver, i);
        if (s == nullptr) return last;
        last = s;
    }
}

FactResult full_short_then_eagain(const FactContext& c) {
    auto sends = burst(c);
    if (sends.size() < 3) return fails(std::to_string(sends.size()) + " sends only");
    int64_t chunk = info_number(*sends.front(), "bytes");
    const Step* failed = sends.back();
    const Step* shortcount = sends[sends.size() - 2];
    // Full chunks, then short counts until EAGAIN: usually one, but the
    // peer's ACKs can free room between two calls, and then the next call
    // takes a little more (seen under qemu on 6.12: 59,328 then 29,312).
    size_t full = 0, shorts = 0;
    while (full + 1 < sends.size() && sends[full]->ret == chunk) ++full;
    for (size_t i = full; i + 1 < sends.size(); ++i) shorts += sends[i]->ret > 0 && sends[i]->ret < chunk;
    // The kernel's own results of the last two calls.
    auto kernel_short = select(c.timeline, c.timeline.during(*shortcount), EventKind::Send, "client");
    auto kernel_fail = select(c.timeline, c.timeline.during(*failed), EventKind::Send, "client");
    std::vector<std::string> unseen;
    bool short_ok = kernel_agrees(c, *shortcount, EventKind::Send, &unseen);
    bool eagain_ok = kernel_agrees(c, *failed, EventKind::Send, &unseen);
    bool ok = chunk > 0 && full > 0 && shorts >= 1 && full + shorts + 1 == sends.size() &&
              failed->ret == -1 && failed->errno_name == "EAGAIN" && short_ok && eagain_ok;
    return {ok, std::to_string(full) + " x " + std::to_string(chunk) + " bytes, then " +
                    (shorts > 1 ? std::to_string(shorts) + " short counts, the last " : "") +
                    describe(*shortcount) + " (kernel: " + describe(kernel_short, c.reasons) +
                    "), then " + describe(*failed) + " (kernel: " + describe(kernel_fail, c.reasons) +
                    ")",
            unseen};
}

FactResult receiver_full_window_shut(const FactContext& c) {
    const Step* recv_diag = receiver_diag(c);
    const Step* send_diag = sender_diag(c);
    if (recv_diag == nullptr || send_diag == nullptr) return fails("no sock_diag looks at both ends");
    uint64_t at = std::min(recv_diag->start_ns, send_diag->start_ns);
    // From the wire: the client's first sequence number, the highest byte it
    // sent, and the highest the receiver acknowledged, before the looks.
    uint32_t isn = 0, sent_end = 0, acked = 0;
    bool have_isn = false, have_ack = false;
    for (const Event* e : c.timeline.between(0, at)) {
        if (e->kind != EventKind::Packet) continue;
        std::string side = c.timeline.side_of_endpoint(endpoint_key(e->local, e->family));
        if (side == "client" && (e->tcp_flags & TS_TCP_SYN)) {
            isn = e->seq;
            have_isn = true;
        } else if (side == "client" && e->payload_len > 0) {
            uint32_t end = e->seq + static_cast<uint32_t>(e->payload_len);
            if (static_cast<int32_t>(end - sent_end) > 0 || sent_end == 0) sent_end = end;
        } else if (side == "server" && (e->tcp_flags & TS_TCP_ACK)) {
            acked = e->ack_seq;
            have_ack = true;
        }
    }
    int64_t recv_q = info_number(*recv_diag, "recv_q");
    int64_t on_wire = have_isn && have_ack ? static_cast<int64_t>(acked - isn - 1) : -1;
    bool all_acked = have_ack && sent_end == acked;
    std::string timer = info_string(*send_diag, "timer");
    bool ok = recv_q > 0 && recv_q == on_wire && all_acked && timer == "persist" &&
              info_number(*send_diag, "send_q") > 0;
    return {ok, describe_diag(*recv_diag) + "; bytes the receiver acknowledged: " +
                    std::to_string(on_wire) + (all_acked ? ", all the sender put on the wire"
                                                         : ", NOT all the sender put on the wire") +
                    "; sender: " + describe_diag(*send_diag)};
}

FactResult send_q_holds_the_rest(const FactContext& c) {
    auto sends = burst(c);
    const Step* recv_diag = receiver_diag(c);
    const Step* send_diag = sender_diag(c);
    const Step* before = c.timeline.find_step("client", kSndbuf, 0);
    const Step* after = c.timeline.find_step("client", kSndbuf, 1);
    if (recv_diag == nullptr || send_diag == nullptr || before == nullptr || after == nullptr) {
        return fails("missing the sock_diag looks or the SO_SNDBUF readings");
    }
    int64_t accepted = accepted_bytes(sends);
    int64_t send_q = info_number(*send_diag, "send_q");
    int64_t recv_q = info_number(*recv_diag, "recv_q");
    int64_t buf_before = info_number(*before, "value");
    int64_t buf_after = info_number(*after, "value");
    // Every accepted byte is in one of the two queues; the sender's queue is
    // megabytes, far past the 16 KiB default send buffer: it auto-grew.
    bool ok = send_q > 0 && recv_q >= 0 && send_q + recv_q == accepted && send_q <= buf_after &&
              buf_after >= 1024 * 1024 && buf_after >= buf_before;
    return {ok, std::to_string(accepted) + " bytes accepted by send(); sender Send-Q " +
                    std::to_string(send_q) + " + receiver Recv-Q " + std::to_string(recv_q) + " = " +
                    std::to_string(send_q + recv_q) + "; SO_SNDBUF " + std::to_string(buf_before) +
                    " before the sends, " + std::to_string(buf_after) + " after"};
}

}  // namespace

ScenarioFacts send_buffer_full_facts() {
    ScenarioFacts spec;
    spec.setup =
        "The server accepts and never reads; the client sends 64 KiB chunks on a non-blocking "
        "socket: full counts, one short count, then EAGAIN. The receiver's Recv-Q fills and its "
        "window shuts; the sender's Send-Q (its buffer auto-grown to ~4 MB on loopback) holds "
        "the rest.";
    spec.facts = {
        {"send-buffer-full.full-short-then-eagain",
         "non-blocking send() accepts full 64 KiB chunks, then a short count (or a few, when ACKs "
         "free room between calls), then fails with EAGAIN",
         full_short_then_eagain},
        {"send-buffer-full.receiver-full-window-shut",
         "the receiver's Recv-Q holds everything that crossed the wire and its window is shut: "
         "all sent data is acknowledged, yet the sender sends no more and runs its persist "
         "(zero-window probe) timer",
         receiver_full_window_shut},
        {"send-buffer-full.send-q-holds-the-rest",
         "the sender's Send-Q holds the rest: Send-Q + the receiver's Recv-Q = every byte send() "
         "accepted, megabytes in a send buffer that auto-grew to ~4 MB",
         send_q_holds_the_rest},
    };
    spec.explanation =
        "A non-blocking send() copies as much as fits into the socket's send buffer and returns "
        "that count; it blocks or fails only when nothing fits. While the buffer has room for "
        "a whole 64 KiB chunk, send() returns 65536; the chunk that no longer fits whole is "
        "accepted in part (the short count: send() is allowed to return less than asked, which "
        "the books stress for blocking sockets too); the next call finds no room at all and "
        "fails with EAGAIN. The data went where TCP allowed: the receiver's kernel accepted "
        "segments until its receive buffer, never drained by the application, left no room, "
        "then advertised a zero window. Everything the sender put on the wire is "
        "acknowledged, and the rest waits in the sender's send queue, with the persist timer "
        "armed to probe the shut window. `netstat`/`ss` show this as Send-Q on the sender (bytes "
        "not yet acknowledged or not yet sent) and Recv-Q on the receiver (bytes received but "
        "not read); sock_diag reads the same two numbers, and together they account for every "
        "byte send() accepted. The books picture a send buffer of tens of kilobytes: on Linux "
        "the send buffer is tuned automatically (net.ipv4.tcp_wmem), and over loopback, with "
        "its 64 KiB MSS, it grows to the 4 MB maximum, so a sender can queue megabytes before "
        "it sees EAGAIN.";
    return spec;
}

}  // namespace tcpscope
