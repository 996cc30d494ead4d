// firewall-drop: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "firewall_facts.h"

namespace tcpscope {

namespace {

// The program's read of the namespace's net.ipv4.tcp_syn_linear_timeouts:
// ret its value, -1 ENOENT before 6.7.
const StepMatch kSynLinearTimeouts{StepOp::Other, "tcp_syn_linear_timeouts"};

FactResult every_syn_dropped(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    SynExchange x = syn_exchange(c, *s);
    if (x.from.empty()) return fails("no state event gives the client's address");
    // Each SYN that left met its drop: as many drops as SYNs, each the same
    // segment (the retransmits keep the first SYN's sequence number).
    bool same_seq = !x.syns.empty();
    for (const Event* d : x.drops) same_seq &= d->seq == x.syns.front()->seq;
    bool all_netfilter = !x.drops.empty();
    for (const Event* d : x.drops) all_netfilter &= d->drop_reason == "NETFILTER_DROP";
    bool ok = x.syns.size() >= 2 && x.drops.size() == x.syns.size() && same_seq && all_netfilter &&
              x.syn_acks.empty();
    return {ok, "client " + x.from + ": " + std::to_string(x.syns.size()) + " SYNs sent (seq " +
                    (x.syns.empty() ? std::string("none") : std::to_string(x.syns.front()->seq)) +
                    "); dropped: " + describe(x.drops, c.reasons) +
                    "; SYN-ACKs from " + s->remote + ": " + describe(x.syn_acks, c.reasons)};
}

FactResult counter_agrees(const FactContext& c) {
    const Step* counter = c.timeline.find_step("runner", kNftCounter);
    if (counter == nullptr) return fails("the rule's counter was not read (no nft counter step)");
    const Step* connect = c.timeline.find_step("client", kConnect);
    if (connect == nullptr) return fails("the client made no connect()");
    auto drops = netfilter_drops_to(c, connect->remote, counter->ts_ns);
    return {counter->ret >= 1 && static_cast<int64_t>(drops.size()) == counter->ret,
            "the rule's counter: " + std::to_string(counter->ret) + " packets; NETFILTER_DROP drops "
            "toward " + connect->remote + " shown: " + std::to_string(drops.size())};
}

// The gap the kernel waits before the nth retransmit of a SYN (1-based):
// the initial RTO, 1 s (no RTT was ever measured), kept for the first
// `linear` retransmits' timers (net.ipv4.tcp_syn_linear_timeouts, 6.7+),
// then doubled each time.
uint64_t expected_gap_ns(size_t nth, int64_t linear) {
    int64_t doublings = static_cast<int64_t>(nth) - 1 - linear;
    return 1000000000ull << (doublings > 0 ? doublings : 0);
}

FactResult syn_backoff(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    const Step* sysctl = c.timeline.find_step("runner", kSynLinearTimeouts);
    if (sysctl == nullptr) return fails("the program did not read tcp_syn_linear_timeouts");
    // Absent before 6.7 (ENOENT): every retransmit doubles the wait.
    int64_t linear = sysctl->ret >= 0 ? sysctl->ret : 0;
    if (sysctl->ret < 0 && sysctl->errno_name != "ENOENT") {
        return fails("reading tcp_syn_linear_timeouts: " + describe(*sysctl));
    }
    SynExchange x = syn_exchange(c, *s);
    std::vector<uint64_t> gaps;
    for (size_t i = 1; i < x.syns.size(); ++i) gaps.push_back(x.syns[i]->ts_ns - x.syns[i - 1]->ts_ns);
    // Loose bounds: a loaded VM fires timers late, never early.
    bool on_time = gaps.size() >= 2;
    std::vector<uint64_t> expected;
    for (size_t i = 0; i < gaps.size(); ++i) {
        uint64_t want = expected_gap_ns(i + 1, linear);
        expected.push_back(want);
        on_time &= gaps[i] >= want * 9 / 10 && gaps[i] <= want * 3 / 2 + 200000000ull;
    }
    // The kernel's own account of them: tcp_retransmit_skb in SYN_SENT.
    std::vector<const Event*> retransmits;
    for (const Event* e : c.timeline.during(*s)) {
        if (e->kind == EventKind::Retransmit && e->cookie == s->cookie) retransmits.push_back(e);
    }
    bool counted = !x.syns.empty() && retransmits.size() == x.syns.size() - 1;
    for (const Event* e : retransmits) counted &= tcp_state_name(e->state) == "SYN_SENT";
    return {on_time && counted,
            "tcp_syn_linear_timeouts " +
                (sysctl->ret >= 0 ? std::to_string(sysctl->ret) : std::string("absent (") + sysctl->errno_name + ")") +
                "; gaps between the SYNs: " + gaps_text(gaps) + " (expected " + gaps_text(expected) +
                "); " + std::to_string(retransmits.size()) + " tcp_retransmit_skb: " +
                describe(retransmits, c.reasons)};
}

FactResult connect_timed_out(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    std::vector<const Event*> errors;
    for (const Event* e : c.timeline.during(*s)) {
        if (e->kind == EventKind::SockError && e->cookie == s->cookie) errors.push_back(e);
    }
    bool timed_out = errors.size() == 1 && errno_name(errors.front()->error) == "ETIMEDOUT";
    auto path = state_path(c.timeline, s->cookie);
    bool path_ok = contains_in_order(path, {"CLOSE->SYN_SENT", "SYN_SENT->CLOSE"}) &&
                   std::find(path.begin(), path.end(), "SYN_SENT->ESTABLISHED") == path.end();
    // TCP_SYNCNT 2: the SYN and two retransmits, then the third RTO
    // (1 + 2 + 4 s) ends it.
    const Step* syncnt = c.timeline.find_step("client", StepMatch(StepOp::SetSockOpt, "TCP_SYNCNT"));
    uint64_t took = s->ts_ns - s->start_ns;
    bool long_enough = took >= 6000000000ull;
    return {s->ret == -1 && s->errno_name == "ETIMEDOUT" && timed_out && path_ok && long_enough &&
                syncnt != nullptr && syncnt->size == 2,
            describe(*s) + " after " + std::to_string(took / 1000000) + " ms; client: " +
                describe(errors, c.reasons) + "; " + join(path)};
}

}  // namespace

ScenarioFacts firewall_drop_facts() {
    ScenarioFacts spec;
    spec.setup =
        "In a namespace of its own, an nftables table (inet tsc_fw) whose input chain holds "
        "`tcp dport 5000 tcp flags syn counter drop`; a server listening on 127.0.0.1:5000; a "
        "client with TCP_SYNCNT 2 making a blocking connect() to it; the namespace's "
        "net.ipv4.tcp_syn_linear_timeouts, read before; then the rule's counter, "
        "read with `nft -j list table inet tsc_fw`.";
    spec.facts = {
        {"firewall-drop.every-syn-dropped",
         "every SYN the client sent, the first and each retransmit, is dropped on the way in "
         "with NETFILTER_DROP, and the listener never answers (no SYN-ACK)",
         every_syn_dropped},
        {"firewall-drop.counter-agrees",
         "the drops tcpscope shows are as many as the rule's own counter says it dropped",
         counter_agrees},
        {"firewall-drop.syn-backoff",
         "the client retransmits the SYN at the kernel's backoff: 1 s apart while "
         "net.ipv4.tcp_syn_linear_timeouts lasts (from 6.7; 4 by default), then twice the "
         "wait before, with tcp_retransmit_skb in SYN_SENT for each",
         syn_backoff},
        {"firewall-drop.connect-timed-out",
         "connect() fails with -1 ETIMEDOUT after the SYN retries (TCP_SYNCNT 2, 7 s): the "
         "socket goes SYN_SENT -> CLOSE with socket error ETIMEDOUT",
         connect_timed_out},
        {"firewall-drop.nobody-reset",
         "nobody sends a RST: the firewall drops silently", nobody_reset},
    };
    spec.explanation =
        "A listener exists, yet nothing answers: the SYN never reaches TCP. Netfilter's input "
        "hook runs before the segment is handed to tcp_v4_rcv, the rule matched it and "
        "returned NF_DROP, and nf_hook_slow freed it with the drop reason NETFILTER_DROP: "
        "the skb:kfree_skb tracepoint shows it, and nothing on TCP's receiving side does (no "
        "SYN_RECV, no SYN-ACK, no RST; in the namespace's counters IpInReceives counts each "
        "SYN while TcpInSegs and ListenDrops stay 0, and only the client's TcpExtTCPSynRetrans "
        "moves). The client sees only silence: its SYN retransmit timer starts at the "
        "initial RTO of 1 s (no RTT was ever measured) and doubles each time, except that "
        "from Linux 6.7 the first net.ipv4.tcp_syn_linear_timeouts retransmits (4 by default) "
        "keep the 1 s wait, so that a SYN lost once costs 1 s, not 1 then 2 then 4. "
        "TCP_SYNCNT 2 gives connect() the time of two doublings, 1 + 2 + 4 = 7 s: 3 SYNs at "
        "0, 1 and 3 s on 6.1, 6 SYNs one second apart on 6.12 and 6.18; then the kernel gives "
        "up, sets ETIMEDOUT, and the blocking connect() returns it. Without TCP_SYNCNT the "
        "default net.ipv4.tcp_syn_retries (6) makes it over two minutes (127 s on 6.1). The "
        "rule's own counter is the kernel's count of what the rule dropped, and it equals the "
        "drops shown: each SYN, first and retransmits, died there. A firewall that drops is "
        "told apart from a lost link by the drop reason on this host; from the client's side "
        "alone the two look the same.";
    return spec;
}

}  // namespace tcpscope
