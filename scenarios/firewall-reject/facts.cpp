// firewall-reject: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include "firewall_facts.h"

namespace tcpscope {

namespace {

FactResult listener_exists(const FactContext& c) {
    const Step* listen = c.timeline.find_step("server", kListen);
    const Step* connect = c.timeline.find_step("client", kConnect);
    if (listen == nullptr || connect == nullptr) return fails("no listen() by the server or no connect()");
    // The listener went to LISTEN before the connect and left it only after.
    const Event* into = nullptr;
    const Event* out = nullptr;
    for (const Event* e : c.timeline.of_cookie(listen->cookie)) {
        if (e->kind != EventKind::State) continue;
        if (tcp_state_name(e->new_state) == "LISTEN") into = e;
        if (tcp_state_name(e->old_state) == "LISTEN" && out == nullptr) out = e;
    }
    bool ok = listen->ret == 0 && listen->local == connect->remote && into != nullptr &&
              into->ts_ns < connect->start_ns && (out == nullptr || out->ts_ns > connect->ts_ns);
    return {ok, describe(*listen) + " on " + listen->local + "; server: " +
                    (into ? describe(*into, c.reasons) : std::string("never LISTEN")) +
                    (out ? ", later " + describe(*out, c.reasons) : std::string())};
}

FactResult syn_dropped(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    SynExchange x = syn_exchange(c, *s);
    if (x.from.empty()) return fails("no state event gives the client's address");
    bool netfilter = x.drops.size() == 1 && x.drops.front()->drop_reason == "NETFILTER_DROP";
    bool ok = x.syns.size() == 1 && netfilter && x.syn_acks.empty() &&
              x.drops.front()->seq == x.syns.front()->seq;
    return {ok, "client " + x.from + ": " + describe(x.syns, c.reasons) + "; dropped: " +
                    describe(x.drops, c.reasons) + "; SYN-ACKs from " + s->remote + ": " +
                    describe(x.syn_acks, c.reasons)};
}

FactResult counter_agrees(const FactContext& c) {
    const Step* counter = c.timeline.find_step("runner", kNftCounter);
    const Step* connect = c.timeline.find_step("client", kConnect);
    if (counter == nullptr || connect == nullptr) return fails("no nft counter step or no connect()");
    auto drops = netfilter_drops_to(c, connect->remote, counter->ts_ns);
    return {counter->ret == 1 && drops.size() == 1,
            "the rule's counter: " + std::to_string(counter->ret) + " packets; NETFILTER_DROP drops "
            "toward " + connect->remote + " shown: " + std::to_string(drops.size())};
}

FactResult rst_without_socket(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    SynExchange x = syn_exchange(c, *s);
    if (x.syns.empty() || x.drops.empty()) return fails("no SYN, or no drop of it");
    // The RST answers the SYN (acknowledges its sequence number + 1) and
    // has no socket behind it (cookie 0: the listener never saw the SYN).
    // It leaves before the SYN's drop fires: the rule sends it, then its
    // verdict has the SYN freed.
    bool ok = x.rsts.size() == 1;
    if (ok) {
        const Event* rst = x.rsts.front();
        ok = (rst->tcp_flags & TS_TCP_ACK) && rst->ack_seq == x.syns.front()->seq + 1 &&
             rst->cookie == 0;
    }
    return {ok, "from " + s->remote + " to " + x.from + ": " + describe(x.rsts, c.reasons) +
                    (x.rsts.empty() ? "" : " ack " + std::to_string(x.rsts.front()->ack_seq) +
                                               ", socket cookie " + std::to_string(x.rsts.front()->cookie))};
}

FactResult tcp_sent_no_reset(const FactContext& c) {
    std::vector<const Event*> sent = c.timeline.of_kind(EventKind::ResetSent);
    std::vector<std::string> unseen;
    // Before 6.10 tcp_send_reset is silent for a RST sent with no socket,
    // the one TCP itself would send for a port nobody listens on: its
    // absence then proves nothing.
    shows(c, KernelFeature::ResetWithoutSocket, &unseen);
    return {sent.empty(), "tcp_send_reset: " + describe(sent, c.reasons), unseen};
}

FactResult connect_refused(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    std::vector<const Event*> received, errors;
    for (const Event* e : c.timeline.during(*s)) {
        if (e->cookie != s->cookie) continue;
        if (e->kind == EventKind::ResetReceived) received.push_back(e);
        if (e->kind == EventKind::SockError) errors.push_back(e);
    }
    bool in_syn_sent = received.size() == 1 && tcp_state_name(received.front()->state) == "SYN_SENT";
    bool refused = errors.size() == 1 && errno_name(errors.front()->error) == "ECONNREFUSED";
    auto path = state_path(c.timeline, s->cookie);
    bool path_ok = path == std::vector<std::string>{"CLOSE->SYN_SENT", "SYN_SENT->CLOSE"};
    return {s->ret == -1 && s->errno_name == "ECONNREFUSED" && in_syn_sent && refused && path_ok,
            describe(*s) + "; client: " + describe(received, c.reasons) + "; " +
                describe(errors, c.reasons) + "; " + join(path)};
}

}  // namespace

ScenarioFacts firewall_reject_facts() {
    ScenarioFacts spec;
    spec.setup =
        "In a namespace of its own, an nftables table (inet tsc_fw) whose input chain holds "
        "`tcp dport 5000 tcp flags syn counter reject with tcp reset`; a server listening on "
        "127.0.0.1:5000; a client making a blocking connect() to it; then the rule's counter, "
        "read with `nft -j list table inet tsc_fw`.";
    spec.facts = {
        {"firewall-reject.listener-exists",
         "a listener exists: the server's socket is in LISTEN on the port before the connect "
         "and until it returned",
         listener_exists},
        {"firewall-reject.syn-dropped",
         "the SYN is dropped on the way in with NETFILTER_DROP: TCP never sees it, the listener "
         "never answers (no SYN-ACK)",
         syn_dropped},
        {"firewall-reject.counter-agrees",
         "the rule's own counter says 1, as many as the drops shown", counter_agrees},
        {"firewall-reject.rst-without-socket",
         "a RST|ACK acknowledging the SYN leaves the server's port with no socket behind it",
         rst_without_socket},
        {"firewall-reject.tcp-sent-no-reset",
         "TCP sent no RST (no tcp_send_reset): the RST was the firewall's", tcp_sent_no_reset},
        {"firewall-reject.connect-refused",
         "the client gets the RST in SYN_SENT: CLOSE -> SYN_SENT -> CLOSE, socket error "
         "ECONNREFUSED, connect() -1 ECONNREFUSED",
         connect_refused},
    };
    spec.explanation =
        "The client's connect() fails exactly as if nobody listened (compare connect-refused), "
        "yet the server is in LISTEN. The RST is not TCP's: netfilter's input hook ran before "
        "the segment reached tcp_v4_rcv, the rule's `reject with tcp reset` built a RST|ACK "
        "acknowledging the SYN (nf_send_reset, in the name of the address and port the SYN "
        "was for) and sent it, and the rule's verdict dropped the SYN, which skb:kfree_skb "
        "shows with the reason NETFILTER_DROP. So the listener never saw the SYN, "
        "tcp:tcp_send_reset never fired (TCP sent nothing; before Linux 6.10 that tracepoint "
        "is silent for every RST without a socket, so only the drop tells the two apart), and "
        "the RST on the wire has no socket behind it. The client cannot tell: a RST in "
        "SYN_SENT is \"connection refused\", tcp_reset() sets ECONNREFUSED and the socket "
        "goes to CLOSE. On this host the drop reason tells: NETFILTER_DROP just before a RST "
        "means a firewall, NO_SOCKET (or a RST with reason NO_SOCKET) means nobody listens.";
    return spec;
}

}  // namespace tcpscope
