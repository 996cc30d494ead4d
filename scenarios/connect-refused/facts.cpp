// connect-refused: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

namespace tcpscope {

namespace {


// The client's own address as the kernel saw it. The failed connect()
// reports its local address as 0.0.0.0:<port> (the RST unhashed the socket
// before getsockname() ran), so the timeline cannot tie the SYN and the RST
// to the client by address: take it from the client socket's state events,
// which carry the real source address once the port is chosen.
std::string client_endpoint(const FactContext& c, uint64_t cookie) {
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::State && e->local.port != 0) return endpoint_key(e->local, e->family);
    }
    return {};
}

// The client's SYN during the connect call: source = the client's
// endpoint, destination = the address connect() aimed at.
const Event* client_syn(const FactContext& c, const Step& connect, const std::string& from) {
    for (const Event* e : c.timeline.during(connect)) {
        if (e->kind == EventKind::Packet && e->dir == TS_DIR_TX &&
            (e->tcp_flags & TS_TCP_SYN) && !(e->tcp_flags & TS_TCP_ACK) &&
            endpoint_key(e->local, e->family) == from &&
            endpoint_key(e->remote, e->family) == connect.remote) {
            return e;
        }
    }
    return nullptr;
}

FactResult rst_answers_syn(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    std::string from = client_endpoint(c, s->cookie);
    if (from.empty()) return fails("no state event gives the client's address");
    const Event* syn = client_syn(c, *s, from);
    if (syn == nullptr) {
        return fails("no SYN from " + from + " to " + s->remote + " during " + describe(*s));
    }
    // The answer: tcp_send_reset with no socket, from the closed port back
    // to the client's endpoint, and the RST segment itself on the wire.
    std::vector<const Event*> resets, rst_packets;
    for (const Event* e : c.timeline.during(*s)) {
        bool back = endpoint_key(e->local, e->family) == s->remote &&
                    endpoint_key(e->remote, e->family) == from;
        if (!back) continue;
        if (e->kind == EventKind::ResetSent) resets.push_back(e);
        if (e->kind == EventKind::Packet && e->dir == TS_DIR_TX) rst_packets.push_back(e);
    }
    std::vector<std::string> unseen;
    bool reason_ok = sent_without_socket(c, resets, &unseen);
    // The RST acknowledges the SYN (a SYN counts as one sequence number).
    bool rst_acks_syn = false;
    for (const Event* p : rst_packets) {
        rst_acks_syn |= (p->tcp_flags & TS_TCP_RST) && (p->tcp_flags & TS_TCP_ACK) &&
                        p->ack_seq == syn->seq + 1;
    }
    return {reason_ok && rst_acks_syn,
            "client " + from + ": " + describe(*syn, c.reasons) + " seq " +
                std::to_string(syn->seq) + "; from " + s->remote + ": " +
                describe(resets, c.reasons) + "; segments: " + describe(rst_packets, c.reasons) +
                (rst_packets.empty() ? "" : " ack " + std::to_string(rst_packets.front()->ack_seq)),
            unseen};
}

FactResult syn_sent_to_close(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    auto path = state_path(c.timeline, s->cookie);
    auto during = c.timeline.during(*s);
    std::vector<const Event*> received;
    for (const Event* e : during) {
        if (e->kind == EventKind::ResetReceived && e->cookie == s->cookie) received.push_back(e);
    }
    bool in_syn_sent = received.size() == 1 && tcp_state_name(received.front()->state) == "SYN_SENT";
    // Exactly these two transitions: it never reached ESTABLISHED.
    bool path_ok = path == std::vector<std::string>{"CLOSE->SYN_SENT", "SYN_SENT->CLOSE"};
    return {in_syn_sent && path_ok,
            "client: " + (path.empty() ? std::string("no state change") : join(path)) + "; " +
                describe(received, c.reasons)};
}

FactResult connect_refused(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnect);
    if (s == nullptr) return fails("the client made no connect()");
    std::vector<const Event*> errors;
    for (const Event* e : c.timeline.during(*s)) {
        if (e->kind == EventKind::SockError && e->cookie == s->cookie) errors.push_back(e);
    }
    bool refused = errors.size() == 1 && errno_name(errors.front()->error) == "ECONNREFUSED";
    return {s->ret == -1 && s->errno_name == "ECONNREFUSED" && refused,
            describe(*s) + "; client: " + describe(errors, c.reasons)};
}

FactResult so_error_consumed(const FactContext& c) {
    const Step* connect = c.timeline.find_step("client", kConnect);
    const Step* s = c.timeline.find_step("client", kSoError);
    if (connect == nullptr || s == nullptr) return fails("no connect() or no getsockopt(SO_ERROR)");
    // No new error was set on the socket between connect() and the read.
    std::vector<const Event*> errors;
    for (const Event* e : c.timeline.between(connect->ts_ns + 1, s->ts_ns)) {
        if (e->kind == EventKind::SockError && e->cookie == connect->cookie) errors.push_back(e);
    }
    bool zero = fetched_so_error(*s) == std::optional<std::string>("0");
    return {s->ret == 0 && s->cookie == connect->cookie && zero && errors.empty(),
            describe(*s) + "; socket errors set since connect() returned: " + describe(errors, c.reasons)};
}

}  // namespace

ScenarioFacts connect_refused_facts() {
    ScenarioFacts spec;
    spec.setup =
        "A blocking connect() to a port nobody listens on (127.0.0.1:5999 in a namespace of its "
        "own), then getsockopt(SO_ERROR).";
    spec.facts = {
        {"connect-refused.rst-answers-syn",
         "the SYN is answered by a RST sent with no socket (reason NO_SOCKET), acknowledging "
         "the SYN",
         rst_answers_syn},
        {"connect-refused.syn-sent-to-close",
         "the RST arrives in SYN_SENT: the client goes CLOSE -> SYN_SENT -> CLOSE and never "
         "reaches ESTABLISHED",
         syn_sent_to_close},
        {"connect-refused.connect-refused",
         "connect() returns -1 ECONNREFUSED: the RST set socket error 111 (ECONNREFUSED)",
         connect_refused},
        {"connect-refused.so-error-consumed",
         "getsockopt(SO_ERROR) afterwards reads 0: connect() already consumed the error",
         so_error_consumed},
    };
    spec.explanation =
        "connect() moved the socket to SYN_SENT and sent a SYN to 127.0.0.1:5999. Nothing in "
        "the namespace listens there, so the kernel found no socket for the segment and "
        "answered from tcp_v4_send_reset with no socket at all (reason NO_SOCKET): a RST|ACK "
        "whose acknowledgment number is the SYN's sequence number + 1, the only way the "
        "client can tell that the RST answers its own SYN. A RST received in SYN_SENT means "
        "\"connection refused\": tcp_reset() sets the socket error to ECONNREFUSED and the "
        "socket goes straight from SYN_SENT to CLOSE. The blocking connect() waits for the "
        "handshake (on loopback the RST is handled as soon as it releases the socket lock to "
        "wait); finding the socket in CLOSE, it returns the pending socket error, "
        "which also clears it, so a getsockopt(SO_ERROR) afterwards reads 0. This is what "
        "the books describe (a RST in answer to a SYN is a hard error, ECONNREFUSED, at "
        "once, unlike an ICMP unreachable or a silent peer, which connect() retries until "
        "it times out).";
    return spec;
}

}  // namespace tcpscope
