// accept-queue-full: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "event_text.h"

#include <cstdio>

namespace tcpscope {

namespace {

constexpr uint64_t kSecond = 1000000000ull;

// The namespace's counters, as the program read them once every
// connection was accepted (its own namespace: they count from 0).
const Step* counters(const FactContext& c) {
    for (const Step& s : c.timeline.steps()) {
        if (s.op == StepOp::Other && s.info.is_object() && s.info.contains("ListenOverflows")) return &s;
    }
    return nullptr;
}

uint64_t counter(const Step& s, const char* name) {
    return s.info.contains(name) && s.info[name].is_number_unsigned() ? s.info[name].get<uint64_t>() : 0;
}

// The drop events a listener's counter gave (seen_by "listener").
std::vector<const Event*> listener_drops(const FactContext& c) {
    std::vector<const Event*> out;
    for (const Event* e : c.timeline.of_kind(EventKind::Drop)) {
        if (e->drop_seen_by == "listener" && e->local.port == 8080) out.push_back(e);
    }
    return out;
}

uint64_t dropped(const std::vector<const Event*>& drops, const char* reason = nullptr) {
    uint64_t n = 0;
    for (const Event* e : drops) {
        if (reason == nullptr || e->drop_reason == reason) n += e->drop_count;
    }
    return n;
}

std::string drops_text(const std::vector<const Event*>& drops) {
    std::vector<std::string> parts;
    for (const Event* e : drops) parts.push_back(drop_text(*e));
    return parts.empty() ? "no drop event" : join(parts, "; ");
}

// The SYN retransmits of one client socket.
size_t syn_retransmits(const FactContext& c, uint64_t cookie) {
    size_t n = 0;
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::Retransmit && tcp_state_name(e->state) == "SYN_SENT") ++n;
    }
    return n;
}

std::string seconds(uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f s", ns / 1e9);
    return buf;
}

FactResult drops_equal_overflows(const FactContext& c) {
    const Step* s = counters(c);
    if (s == nullptr) return fails("the program did not report its namespace's counters");
    auto drops = listener_drops(c);
    const uint64_t overflows = counter(*s, "ListenOverflows");
    const uint64_t listen_drops = counter(*s, "ListenDrops");
    const uint64_t seen = dropped(drops);
    return {overflows > 0 && seen == overflows && seen == listen_drops,
            "tcpscope: " + std::to_string(seen) + " dropped (" + drops_text(drops) +
                "); the namespace: ListenOverflows " + std::to_string(overflows) + ", ListenDrops " +
                std::to_string(listen_drops)};
}

FactResult named_queue_full(const FactContext& c) {
    auto drops = listener_drops(c);
    const uint64_t full = dropped(drops, "ACCEPT_QUEUE_FULL");
    bool backlog_one = !drops.empty();
    for (const Event* e : drops) backlog_one &= e->accept_backlog == std::optional<uint32_t>(1);
    return {full > 0 && full == dropped(drops) && backlog_one, drops_text(drops)};
}

FactResult syn_retransmits_match(const FactContext& c) {
    const Step* s = counters(c);
    if (s == nullptr) return fails("the program did not report its namespace's counters");
    size_t total = 0;
    std::vector<std::string> per_client;
    for (int i = 0;; ++i) {
        const Step* connect = c.timeline.find_step("client", kConnect, i);
        if (connect == nullptr) break;
        size_t n = syn_retransmits(c, connect->cookie);
        total += n;
        per_client.push_back(std::to_string(n));
    }
    // TCPSynRetrans also counts the server's SYN-ACK retransmits (an ACK
    // the full queue refused): at least the clients' SYN retransmits.
    const uint64_t kernel = counter(*s, "TCPSynRetrans");
    return {total > 0 && total <= kernel,
            "SYN retransmits per client: " + join(per_client) + " (" + std::to_string(total) +
                "); the namespace's TCPSynRetrans " + std::to_string(kernel)};
}

FactResult connect_times_follow_retransmits(const FactContext& c) {
    // The first SYN retransmit waits the initial RTO, 1 s (0.9 for the
    // timer's slack): a connect whose SYN was retransmitted took at least
    // that, one whose SYN was not took well under it.
    std::vector<std::string> seen;
    bool ok = true;
    bool slow = false;
    int clients = 0;
    for (int i = 0;; ++i) {
        const Step* connect = c.timeline.find_step("client", kConnect, i);
        if (connect == nullptr) break;
        ++clients;
        const size_t k = syn_retransmits(c, connect->cookie);
        const uint64_t took = connect->ts_ns - connect->start_ns;
        const bool waited = took >= kSecond * 9 / 10;
        ok &= connect->ret == 0 && waited == (k > 0);
        slow |= waited;
        seen.push_back(seconds(took) + " after " + std::to_string(k) + " SYN retransmit" +
                       (k == 1 ? "" : "s"));
    }
    return {ok && slow && clients == 4, "connects: " + join(seen)};
}

}  // namespace

ScenarioFacts accept_queue_full_facts() {
    ScenarioFacts spec;
    spec.setup =
        "A listener on 127.0.0.1:8080 with listen(fd, 1), in a namespace of its own; four "
        "clients connect at once. The server accepts one connection after 0.5 s and the rest "
        "after 2.5 s, then reads its namespace's TcpExt counters.";
    spec.facts = {
        {"accept-queue-full.drops-equal-overflows",
         "the drops tcpscope reports for the listener (its sk_drops, looked at once a second) "
         "equal the namespace's own ListenOverflows and ListenDrops",
         drops_equal_overflows},
        {"accept-queue-full.named-queue-full",
         "every drop is named ACCEPT_QUEUE_FULL, on a listener of backlog 1", named_queue_full},
        {"accept-queue-full.syn-retransmits-match",
         "the clients' SYN retransmits are among the namespace's TCPSynRetrans (which also "
         "counts the server's SYN-ACK retransmits)",
         syn_retransmits_match},
        {"accept-queue-full.connect-times-follow-retransmits",
         "every connect succeeds; those whose SYN was retransmitted took 1 s or more (the "
         "initial RTO: 1 s, then 3 s), the others well under: the dropped SYNs are the delay",
         connect_times_follow_retransmits},
    };
    spec.explanation =
        "listen(fd, 1) lets the accept queue hold two connections: the kernel calls it full "
        "when it holds more than the backlog. The first two clients' handshakes complete in "
        "the kernel and wait there; the others' SYNs find the queue full, and "
        "tcp_conn_request() throws them away without an answer (ListenOverflows and "
        "ListenDrops count it, and so does the listener's own drop counter, sk_drops). The "
        "clients hear nothing, so they retransmit their SYN after the initial RTO of 1 s, "
        "then 2 s later: a connect takes 1 s or 3 s instead of microseconds. The kernel's "
        "drop tracepoint (skb:kfree_skb) never fires for those SYNs, on any kernel: the "
        "caller frees them with consume_skb(), as if they had been used. tcpscope sees them "
        "by looking: once a second it asks sock_diag for the LISTEN sockets of the namespace, "
        "with their queue, backlog and drop counter, and writes a drop event (seen_by "
        "listener, reason ACCEPT_QUEUE_FULL) for each rise. The fix is a larger backlog "
        "(and net.core.somaxconn, which caps it) or a server that accepts faster.";
    return spec;
}

}  // namespace tcpscope
