// receiver-overrun: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "event_text.h"
#include "firewall_facts.h"  // segment_source / segment_destination

#include <algorithm>
#include <map>

namespace tcpscope {

namespace {

// The program's reading of its namespace's counters once both sockets
// were closed (its own namespace: they count from 0).
const StepMatch kCounters{StepOp::Other, "namespace counters"};
// The server's comparison of what it received with what the client sent:
// ret the bytes equal from the start, info.received and info.sent.
const StepMatch kCompare{StepOp::Other, "bytes in order"};
const StepMatch kSend{StepOp::Send};
const StepMatch kRcvbuf{StepOp::GetSockOpt, "SO_RCVBUF"};

int64_t counter(const Step& s, const char* name) { return std::max<int64_t>(info_number(s, name), 0); }

// Sequence numbers compare modulo 2^32, as TCP compares them.
bool seq_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

bool by_time(const Event* a, const Event* b) { return a->ts_ns < b->ts_ns; }

// The one connection: the client's endpoint (its connect's local address)
// and the server's.
struct Connection {
    const Step* connect = nullptr;
    std::string client, server;
};

Connection connection(const FactContext& c) {
    Connection x;
    x.connect = c.timeline.find_step("client", kConnect);
    if (x.connect == nullptr || x.connect->ret != 0) return x;
    x.client = x.connect->local;
    x.server = x.connect->remote;
    return x;
}

// What the client's data did on its way to the server: each data segment
// as it left the client (a packet event; loopback shows each segment once,
// on its way out) and the server's kernel's drops of the client's data.
struct DataPath {
    std::vector<const Event*> sent;     // in time order
    std::vector<const Event*> dropped;  // drops of the client's data on the way in, in time order
};

DataPath data_path(const FactContext& c, const Connection& x) {
    DataPath p;
    for (const Event& e : c.timeline.events()) {
        if (e.payload_len <= 0 || segment_source(e) != x.client || segment_destination(e) != x.server)
            continue;
        if (e.kind == EventKind::Packet && e.dir == TS_DIR_TX) p.sent.push_back(&e);
        if (e.kind == EventKind::Drop && e.dir == TS_DIR_RX && e.drop_seen_by == "kfree_skb")
            p.dropped.push_back(&e);
    }
    std::sort(p.sent.begin(), p.sent.end(), by_time);
    std::sort(p.dropped.begin(), p.dropped.end(), by_time);
    return p;
}

// Each byte's journey: which transmission carried it last, and whether
// the server's kernel dropped that one. A retransmit may carry other
// boundaries than the copies before it (the sender splits a segment to the
// window the receiver offers, or joins several into one), so the tie
// between a retransmit and a drop is made byte by byte.
struct Resend {
    const Event* packet = nullptr;
    std::vector<const Event*> dropped_before;  // the drops of the copies it replaces
    bool tied = true;                          // every byte's previous copy was dropped
};

struct ByteJourney {
    std::vector<Resend> resends;
    std::vector<const Event*> unmatched_drops;   // a drop of no segment the client sent
    std::vector<const Event*> unanswered_drops;  // dropped bytes never sent again
};

ByteJourney byte_journey(const DataPath& p) {
    ByteJourney j;
    if (p.sent.empty()) return j;
    const uint32_t base = p.sent.front()->seq;
    uint32_t span = 0;
    for (const Event* e : p.sent)
        span = std::max(span, e->seq - base + static_cast<uint32_t>(e->payload_len));
    if (span > (1u << 24)) return j;  // not one connection's few kilobytes
    // For each byte, the transmission (index into p.sent) that carried it last.
    std::vector<int> last(span, -1);
    std::vector<const Event*> drop_of(p.sent.size(), nullptr);
    size_t next_drop = 0;
    // Drops that happened before `until`: each belongs to the latest of
    // the first `copies` transmissions that carried the same segment.
    const auto attach_drops = [&](uint64_t until, size_t copies) {
        while (next_drop < p.dropped.size() && p.dropped[next_drop]->ts_ns < until) {
            const Event* d = p.dropped[next_drop++];
            int owner = -1;
            for (size_t k = 0; k < copies; ++k) {
                if (p.sent[k]->seq == d->seq && p.sent[k]->payload_len == d->payload_len)
                    owner = static_cast<int>(k);
            }
            if (owner < 0 || drop_of[owner] != nullptr)
                j.unmatched_drops.push_back(d);
            else
                drop_of[owner] = d;
        }
    };
    for (size_t i = 0; i < p.sent.size(); ++i) {
        const Event* e = p.sent[i];
        attach_drops(e->ts_ns, i);
        const uint32_t from = e->seq - base;
        const uint32_t to = from + static_cast<uint32_t>(e->payload_len);
        if (from < span && last[from] >= 0) {
            Resend r;
            r.packet = e;
            for (uint32_t b = from; b < to; ++b) {
                const int prev = last[b];
                if (prev < 0) continue;  // a byte sent for the first time (not expected in a retransmit)
                const Event* d = drop_of[prev];
                if (d == nullptr)
                    r.tied = false;
                else if (std::find(r.dropped_before.begin(), r.dropped_before.end(), d) ==
                         r.dropped_before.end())
                    r.dropped_before.push_back(d);
            }
            j.resends.push_back(r);
        }
        for (uint32_t b = from; b < to; ++b) last[b] = static_cast<int>(i);
    }
    attach_drops(UINT64_MAX, p.sent.size());
    // The last copy of every byte: a dropped one was never sent again,
    // unless the receiver dropped it for having it already (TCP_OLD_DATA:
    // a loss probe or a retransmit of bytes an earlier copy delivered,
    // seen on 6.1 under qemu): nothing is left to resend.
    for (uint32_t b = 0; b < span; ++b) {
        if (last[b] < 0 || drop_of[last[b]] == nullptr) continue;
        const Event* d = drop_of[last[b]];
        if (d->drop_reason == "TCP_OLD_DATA") continue;
        if (std::find(j.unanswered_drops.begin(), j.unanswered_drops.end(), d) == j.unanswered_drops.end())
            j.unanswered_drops.push_back(d);
    }
    return j;
}

std::string reasons_text(const std::vector<const Event*>& drops) {
    std::map<std::string, int> n;
    for (const Event* d : drops) ++n[d->drop_reason];
    std::vector<std::string> parts;
    for (const auto& [reason, count] : n) parts.push_back(std::to_string(count) + " " + reason);
    return parts.empty() ? "none" : join(parts);
}

// Whether `run` can show every drop of the scenario's segments. Before
// Linux 6.11 skb:kfree_skb names no socket (rx_sk), and a segment TCP drops
// on its way in has let go of its socket (skb->sk) and its device
// (skb->dev): nothing places the drop in the scenario's namespace. `run`
// then keeps it only when one of the scenario's processes was running (the
// client's send(), on loopback), and leaves out those made in softirq
// while none was (a retransmit sent by the client's timer: seen on 6.1).
// Before 5.17 the tracepoint has no reason, and tcpscope shows no drops.
bool every_drop_shown(const FactContext& c, std::vector<std::string>* unseen) {
    if (!c.kernel.known) return true;
    if (c.kernel.args("kfree_skb") < 3) {
        unseen->push_back(
            "skb:kfree_skb carries no drop reason before Linux 5.17, and tcpscope shows no "
            "drops without one (this kernel: " +
            c.kernel.release + ")");
        return false;
    }
    if (c.kernel.shows(KernelFeature::DropSocket)) return true;
    unseen->push_back(
        "before Linux 6.11 skb:kfree_skb names no socket (rx_sk), and a segment TCP "
        "drops on its way in has let go of its socket and device: a drop made in softirq "
        "while none of the scenario's processes ran (a retransmit sent by the timer) "
        "cannot be placed in the scenario, and run leaves it out (this kernel: " +
        c.kernel.release + ")");
    return false;
}

FactResult kernel_counted_each_drop(const FactContext& c) {
    const Step* s = c.timeline.find_step("runner", kCounters);
    if (s == nullptr) return fails("the program did not report its namespace's counters");
    Connection x = connection(c);
    if (x.client.empty()) return fails("the client did not connect");
    std::vector<std::string> unseen;
    DataPath p = data_path(c, x);
    std::vector<const Event*> no_memory, other, duplicates;
    // A copy of bytes the server had already taken (a retransmit that
    // crossed the ACK of the first copy: seen on 6.1 under qemu) is dropped
    // as TCP_OLD_DATA and counted by DelayedACKLost: neither a memory drop
    // nor a window one. Each shown must be one counted.
    for (const Event* d : p.dropped) {
        (d->drop_reason == "PROTO_MEM" ? no_memory : d->drop_reason == "TCP_OLD_DATA" ? duplicates : other)
            .push_back(d);
    }
    const bool dup_counted = s->info.contains("DelayedACKLost");
    const bool dup_ok = duplicates.empty() ||
                        (dup_counted && static_cast<int64_t>(duplicates.size()) <= counter(*s, "DelayedACKLost"));
    // The receive queue's drops in order and out of order both free the
    // segment with PROTO_MEM. A segment beyond the window the receiver
    // closed is dropped by another check, named differently per kernel
    // (TCP_ZEROWINDOW on 6.12, TCP_INVALID_END_SEQUENCE on 6.18), and
    // counted by TCPZeroWindowDrop or BeyondWindow (6.17+).
    const int64_t memory = counter(*s, "TCPRcvQDrop") + counter(*s, "TCPOFODrop");
    const int64_t window = counter(*s, "TCPZeroWindowDrop") + counter(*s, "BeyondWindow");
    const std::string seen = "PROTO_MEM drops of the client's data: " + std::to_string(no_memory.size()) +
                             "; other drops: " + std::to_string(other.size()) + " (" + reasons_text(other) +
                             "); the namespace: TCPRcvQDrop " + std::to_string(counter(*s, "TCPRcvQDrop")) +
                             ", TCPOFODrop " + std::to_string(counter(*s, "TCPOFODrop")) +
                             ", TCPZeroWindowDrop " + std::to_string(counter(*s, "TCPZeroWindowDrop")) +
                             ", BeyondWindow " +
                             (s->info.contains("BeyondWindow") ? std::to_string(counter(*s, "BeyondWindow"))
                                                               : std::string("(not counted)")) +
                             ", PruneCalled " + std::to_string(counter(*s, "PruneCalled")) + ", RcvPruned " +
                             std::to_string(counter(*s, "RcvPruned")) +
                             (duplicates.empty() ? std::string()
                                                 : "; copies of bytes already taken (TCP_OLD_DATA): " +
                                                       std::to_string(duplicates.size()) + ", DelayedACKLost " +
                                                       (dup_counted ? std::to_string(counter(*s, "DelayedACKLost"))
                                                                    : std::string("(not read)")));
    // What run may leave out (see every_drop_shown): then the drops shown
    // are some of those the kernel counted.
    if (!every_drop_shown(c, &unseen)) {
        return {memory > 0 && static_cast<int64_t>(no_memory.size()) <= memory &&
                    static_cast<int64_t>(other.size()) <= window && dup_ok,
                seen, unseen};
    }
    const int64_t shown_memory = static_cast<int64_t>(no_memory.size());
    const int64_t shown_window = static_cast<int64_t>(other.size());
    FactResult r{memory > 0 && shown_memory == memory && shown_window == window && dup_ok, seen};
    // Fewer drops shown than counted, and none more: drops no tracepoint
    // reported (FactResult::untraced), not judged. One too many is a fault.
    if (!r.ok && memory > 0 && shown_memory <= memory && shown_window <= window && dup_ok)
        r.untraced = static_cast<uint64_t>((memory - shown_memory) + (window - shown_window));
    return r;
}

std::string ms_after(const Event& e, uint64_t origin) {
    // A loss probe can leave before the first drop shown (6.1 under qemu).
    if (e.ts_ns < origin) return "-" + std::to_string((origin - e.ts_ns) / 1000000) + " ms";
    return "+" + std::to_string((e.ts_ns - origin) / 1000000) + " ms";
}

FactResult each_retransmit_resends_a_drop(const FactContext& c) {
    const Step* s = c.timeline.find_step("runner", kCounters);
    if (s == nullptr) return fails("the program did not report its namespace's counters");
    Connection x = connection(c);
    if (x.client.empty()) return fails("the client did not connect");
    std::vector<std::string> unseen;
    const bool visible = every_drop_shown(c, &unseen);
    DataPath p = data_path(c, x);
    ByteJourney j = byte_journey(p);
    // Times from the first drop.
    const uint64_t origin = p.dropped.empty() ? 0 : p.dropped.front()->ts_ns;
    bool tied = !j.resends.empty() && j.unmatched_drops.empty() && j.unanswered_drops.empty();
    std::vector<std::string> lines;
    for (const Resend& r : j.resends) {
        tied &= r.tied && !r.dropped_before.empty();
        std::vector<std::string> why;
        for (const Event* d : r.dropped_before) why.push_back(ms_after(*d, origin) + " " + d->drop_reason);
        lines.push_back(ms_after(*r.packet, origin) + " " + std::to_string(r.packet->payload_len) +
                        " B <- dropped " + (why.empty() ? std::string("never") : join(why, " and ")) +
                        (r.tied ? "" : " (and bytes whose previous copy no drop shows)"));
    }
    // The kernel's account of the same: tcp_retransmit_skb on the client's
    // socket, and the namespace's TcpRetransSegs.
    size_t retransmits = 0;
    for (const Event* e : c.timeline.of_cookie(x.connect->cookie))
        retransmits += e->kind == EventKind::Retransmit;
    const int64_t kernel = counter(*s, "RetransSegs");
    const bool counted = retransmits == j.resends.size() && static_cast<int64_t>(retransmits) == kernel;
    std::string seen = std::to_string(p.dropped.size()) + " drops of the client's data (" +
                       reasons_text(p.dropped) + "); " + std::to_string(j.resends.size()) +
                       " retransmits on the wire, from the first drop: " +
                       (lines.empty() ? std::string("none") : join(lines, "; ")) +
                       "; tcp_retransmit_skb on the client's socket: " + std::to_string(retransmits) +
                       "; the namespace's TcpRetransSegs " + std::to_string(kernel) + " (TCPLossProbes " +
                       std::to_string(counter(*s, "TCPLossProbes")) + ")";
    if (!j.unmatched_drops.empty())
        seen += "; drops of no segment the client sent: " + describe(j.unmatched_drops, c.reasons);
    if (!j.unanswered_drops.empty())
        seen += "; dropped and never sent again: " + describe(j.unanswered_drops, c.reasons);
    // With drops left out, a retransmit's previous copy may have been
    // dropped unseen: what still must hold is that every drop shown is of
    // a segment the client sent and was answered by a retransmit.
    if (!visible) {
        return {counted && !j.resends.empty() && j.unmatched_drops.empty() && j.unanswered_drops.empty(),
                seen, unseen};
    }
    FactResult result{tied && counted, seen};
    // The kernel counted more retransmits than tcp_retransmit_skb reported,
    // and the wire shows as many as the tracepoint: retransmits that no
    // tracepoint reported (FactResult::untraced; seen on our VMs, the
    // timer's sending with no tracepoint firing, the receiver's drop of the
    // copy reported or not). A drop left unanswered is then one such copy
    // may have answered (the reader did get every byte: the next fact), and
    // a drop of no copy on the record may be of such a copy, one per
    // untraced retransmit at most. Every retransmit shown must still
    // resend a drop shown.
    const int64_t untraced = kernel - static_cast<int64_t>(retransmits);
    bool each_resend_tied =
        !j.resends.empty() && static_cast<int64_t>(j.unmatched_drops.size()) <= untraced;
    for (const Resend& r : j.resends) each_resend_tied &= r.tied && !r.dropped_before.empty();
    if (!result.ok && each_resend_tied && retransmits == j.resends.size() && untraced > 0)
        result.untraced = static_cast<uint64_t>(untraced);
    return result;
}

FactResult application_saw_nothing(const FactContext& c) {
    // Every send took its whole count at once.
    std::vector<std::string> sends;
    int64_t offered = 0, taken = 0;
    bool sends_ok = true;
    for (int i = 0;; ++i) {
        const Step* s = c.timeline.find_step("client", kSend, i);
        if (s == nullptr) break;
        offered += s->size;
        taken += s->ret > 0 ? s->ret : 0;
        sends_ok &= s->ret == s->size;
    }
    // The reader got every byte, in order, then the client's FIN.
    int64_t received = 0;
    const Step* last_recv = nullptr;
    for (int i = 0;; ++i) {
        const Step* s = c.timeline.find_step("server", kRecv, i);
        if (s == nullptr) break;
        received += s->ret > 0 ? s->ret : 0;
        last_recv = s;
    }
    const Step* compare = c.timeline.find_step("server", kCompare);
    std::vector<std::string> failed;
    for (const Step& s : c.timeline.steps()) {
        if (s.failed()) failed.push_back(s.side + " " + describe(s));
    }
    std::vector<const Event*> resets;
    for (const Event& e : c.timeline.events()) {
        if (e.kind == EventKind::ResetSent || e.kind == EventKind::ResetReceived ||
            e.kind == EventKind::SockError || ((e.kind == EventKind::Packet) && (e.tcp_flags & TS_TCP_RST))) {
            resets.push_back(&e);
        }
    }
    const bool in_order =
        compare != nullptr && compare->ret == offered && info_number(*compare, "received") == offered;
    const bool ok = offered > 0 && sends_ok && taken == offered && received == offered && in_order &&
                    last_recv != nullptr && last_recv->ret == 0 && failed.empty() && resets.empty();
    return {ok, "sends: " + std::to_string(taken) + " of " + std::to_string(offered) + " bytes taken" +
                    (sends_ok ? ", each in full" : ", not each in full") +
                    "; the reader: " + std::to_string(received) + " bytes, " +
                    (compare == nullptr ? std::string("not compared")
                                        : std::to_string(compare->ret) + " equal to those sent, in order") +
                    ", then " + (last_recv == nullptr ? std::string("no recv") : describe(*last_recv)) +
                    "; calls that failed: " + (failed.empty() ? std::string("none") : join(failed)) +
                    "; errors and RSTs: " + describe(resets, c.reasons)};
}

FactResult window_outlived_buffer(const FactContext& c) {
    const Step* rcvbuf = c.timeline.find_step("server", kRcvbuf);
    const Step* first_recv = c.timeline.find_step("server", kRecv);
    Connection x = connection(c);
    if (rcvbuf == nullptr || first_recv == nullptr || x.client.empty()) {
        return fails("the server did not read SO_RCVBUF or never read, or the client did not connect");
    }
    const int64_t buffer = info_number(*rcvbuf, "value");
    // The bytes the client had put on the wire before the reader read: the
    // window it was offered in the handshake, never taken back.
    DataPath p = data_path(c, x);
    bool any = false;
    uint32_t first = 0, end = 0;
    for (const Event* e : p.sent) {
        if (e->ts_ns >= first_recv->start_ns) break;
        if (!any) first = e->seq;
        const uint32_t e_end = e->seq + static_cast<uint32_t>(e->payload_len);
        if (!any || seq_before(end, e_end)) end = e_end;
        any = true;
    }
    const int64_t before_read = any ? static_cast<int64_t>(end - first) : 0;
    return {buffer > 1 && buffer < 65536 && before_read > buffer, "SO_RCVBUF set to 1, read back as " +
                                                                      std::to_string(buffer) +
                                                                      "; bytes the client sent before "
                                                                      "the first recv(): " +
                                                                      std::to_string(before_read)};
}

}  // namespace

ScenarioFacts receiver_overrun_facts() {
    ScenarioFacts spec;
    spec.setup =
        "In a namespace of its own, a server on 127.0.0.1:8080 accepts a connection, then sets "
        "its SO_RCVBUF to 1 and does not read for 1.5 s; the client (TCP_NODELAY: a segment per "
        "send) sends 8 x 1000 bytes at once. "
        "Then the server reads until it has all 8,000 bytes, compares them with those sent, and "
        "both close; the program reads its namespace's counters (/proc/net/netstat, "
        "/proc/net/snmp).";
    spec.facts = {
        {"receiver-overrun.window-outlived-buffer",
         "SO_RCVBUF 1 becomes the kernel's minimum, a few KB, but the window offered in the "
         "handshake stays: the client sends more than that before the server reads",
         window_outlived_buffer},
        {"receiver-overrun.kernel-counted-each-drop",
         "the receive queue had no memory for the data, and each drop is one the kernel counted: "
         "those named PROTO_MEM (there are some) are as many as the namespace's TCPRcvQDrop and "
         "TCPOFODrop, the others (the window closed after the first drop, named as each kernel "
         "names it) as many as TCPZeroWindowDrop and BeyondWindow",
         kernel_counted_each_drop},
        {"receiver-overrun.each-retransmit-resends-a-drop",
         "each retransmit of the client resends bytes whose previous copy the server's kernel "
         "dropped, and every dropped byte is sent again until a copy is taken; the retransmits "
         "on the wire are as many as tcp_retransmit_skb and the namespace's TcpRetransSegs count",
         each_retransmit_resends_a_drop},
        {"receiver-overrun.application-saw-nothing",
         "the applications see none of it: every send() takes its whole count, no call fails, no "
         "RST, and the reader receives all the bytes in order, then the client's FIN",
         application_saw_nothing},
    };
    spec.explanation =
        "SO_RCVBUF set on a connected socket changes the memory the socket may hold, not the "
        "window it has offered: the kernel raises 1 to its minimum (2,304 bytes on 6.1, 6.12 "
        "and 6.18), but the window of about 64 KiB offered in the handshake stays offered, "
        "since Linux does not take back a window it advertised (unless "
        "net.ipv4.tcp_shrink_window, 6.5+, says so). So the client, seeing room, sends. Its "
        "first segments are queued, each costing about twice its size (the skb's truesize); "
        "the next finds the queue over its budget: tcp_try_rmem_schedule() prunes the queue "
        "(PruneCalled; RcvPruned when that freed too little) and drops the segment with the "
        "reason PROTO_MEM (TcpExtTCPRcvQDrop). The ACK the receiver sends at once does not "
        "cover the lost bytes, so the client's timer resends them: first a tail loss probe "
        "after about 200 ms (TCPLossProbes), then on the retransmission timeout, doubling "
        "(0.2, 0.4, 0.8 s). On 6.12 and 6.18 that ACK also closes the window (a receiver out "
        "of memory advertises zero), so the client holds its other segments and each copy is "
        "dropped as beyond the window: TCP_ZEROWINDOW on 6.12 (TCPZeroWindowDrop), "
        "TCP_INVALID_END_SEQUENCE on 6.18 (BeyondWindow). On 6.1 the window stays open: the "
        "client sends all eight segments, those after the lost one are dropped out of order "
        "(TCPOFODrop), and the retransmits, joined into one segment, are dropped with "
        "PROTO_MEM again (there, run shows only the drops made during a send(): the kernel "
        "names no socket for the others). Once the reader reads, the memory is free and the "
        "window opens; the next copy is taken. Neither application sees any of it: send() "
        "returned as soon as the bytes were in the client's send buffer, and the reader gets "
        "every byte in order, only late, by the time it did not read plus up to one backoff. "
        "The drops, the retransmits and the namespace's counters are where it shows. Set "
        "SO_RCVBUF before listen() or connect() (the window then follows it) or leave it to "
        "the kernel's autotuning, and read promptly.";
    return spec;
}

}  // namespace tcpscope
