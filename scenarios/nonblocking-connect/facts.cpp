// nonblocking-connect: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

#include <cstdint>

namespace tcpscope {

namespace {

const StepMatch kConnectOk{StepOp::Connect, "127.0.0.1:5000"};
const StepMatch kConnectRefused{StepOp::Connect, "127.0.0.1:5001"};
const StepMatch kPoll{StepOp::Poll, "POLLOUT"};

// The socket's own address as the kernel saw it (its state events carry
// the source address once the port is chosen).
std::string endpoint_of(const FactContext& c, uint64_t cookie) {
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::State && e->local.port != 0) return endpoint_key(e->local, e->family);
    }
    return {};
}

bool has_revent(const Step& s, const std::string& name) {
    if (!s.info.contains("revents") || !s.info["revents"].is_array()) return false;
    for (const auto& r : s.info["revents"]) {
        if (r.is_string() && r.get<std::string>() == name) return true;
    }
    return false;
}

std::string so_error_of(const Step& s) {
    return fetched_so_error(s).value_or("?");
}

// A socket's state when a call returned: the last transition before ts.
std::string state_at(const FactContext& c, uint64_t cookie, uint64_t ts) {
    std::string state = "CLOSE";
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::State && e->ts_ns <= ts) state = tcp_state_name(e->new_state);
    }
    return state;
}

// connect() = -1 EINPROGRESS, with CLOSE -> SYN_SENT and the SYN to the
// target during the call.
FactResult in_progress(const FactContext& c, const Step* s) {
    if (s == nullptr) return fails("missing connect()");
    std::string from = endpoint_of(c, s->cookie);
    bool syn_sent = false, syn_out = false;
    for (const Event* e : c.timeline.during(*s)) {
        if (e->kind == EventKind::State && e->cookie == s->cookie &&
            tcp_state_name(e->new_state) == "SYN_SENT") {
            syn_sent = true;
        }
        if (e->kind == EventKind::Packet && e->dir == TS_DIR_TX && e->tcp_flags == TS_TCP_SYN &&
            endpoint_key(e->local, e->family) == from &&
            endpoint_key(e->remote, e->family) == s->remote) {
            syn_out = true;
        }
    }
    std::string seen = describe(*s) + " (SYN " + (syn_out ? "sent" : "not seen") +
                       ", socket " + state_at(c, s->cookie, s->ts_ns) + " when it returned)";
    return {s->ret == -1 && s->errno_name == "EINPROGRESS" && syn_sent && syn_out, seen};
}

FactResult connects_in_progress(const FactContext& c) {
    return both(in_progress(c, c.timeline.find_step("client", kConnectOk)),
                in_progress(c, c.timeline.find_step("client", kConnectRefused)));
}

FactResult poll_writable(const FactContext& c) {
    const Step* ok = c.timeline.find_step("client", kPoll, 0);
    const Step* refused = c.timeline.find_step("client", kPoll, 1);
    if (ok == nullptr || refused == nullptr) return fails("the client made fewer than two polls");
    const Step* ok_connect = c.timeline.find_step("client", kConnectOk);
    const Step* refused_connect = c.timeline.find_step("client", kConnectRefused);
    if (ok_connect == nullptr || refused_connect == nullptr) return fails("missing connect()");
    // Writable means "the attempt is over": ESTABLISHED for the first,
    // CLOSE (with an error pending) for the second, by the time poll returned.
    std::string ok_state = state_at(c, ok_connect->cookie, ok->ts_ns);
    std::string refused_state = state_at(c, refused_connect->cookie, refused->ts_ns);
    bool ok_ok = ok->ret == 1 && ok->cookie == ok_connect->cookie && has_revent(*ok, "POLLOUT") &&
                 !has_revent(*ok, "POLLERR") && ok_state == "ESTABLISHED";
    bool refused_ok = refused->ret == 1 && refused->cookie == refused_connect->cookie &&
                      has_revent(*refused, "POLLOUT") && has_revent(*refused, "POLLERR") &&
                      refused_state == "CLOSE";
    std::string revents_ok = ok->info.contains("revents") ? ok->info["revents"].dump() : "?";
    std::string revents_refused =
        refused->info.contains("revents") ? refused->info["revents"].dump() : "?";
    return {ok_ok && refused_ok, "listener: " + describe(*ok) + " " + revents_ok + ", socket " +
                                     ok_state + "; closed port: " + describe(*refused) + " " +
                                     revents_refused + ", socket " + refused_state};
}

FactResult listener_so_error_zero(const FactContext& c) {
    const Step* connect = c.timeline.find_step("client", kConnectOk);
    const Step* so = c.timeline.find_step("client", kSoError, 0);
    const Step* accept = c.timeline.find_step("server", kAccept);
    if (connect == nullptr || so == nullptr) return fails("missing connect() or getsockopt(SO_ERROR)");
    auto path = state_path(c.timeline, connect->cookie);
    bool established = contains_in_order(path, {"CLOSE->SYN_SENT", "SYN_SENT->ESTABLISHED"});
    std::vector<const Event*> errors;
    for (const Event* e : c.timeline.of_cookie(connect->cookie)) {
        if (e->kind == EventKind::SockError && e->ts_ns <= so->ts_ns) errors.push_back(e);
    }
    // The server accepted this very connection.
    std::string from = endpoint_of(c, connect->cookie);
    std::string accepted_remote;
    if (accept && accept->info.contains("accepted") && accept->info["accepted"].contains("remote")) {
        accepted_remote = accept->info["accepted"]["remote"].get<std::string>();
    }
    bool zero = so_error_of(*so) == "0";
    return {established && zero && so->ret == 0 && so->cookie == connect->cookie &&
                errors.empty() && !from.empty() && accepted_remote == from,
            "client " + from + ": " + join(path) + "; " + describe(*so) + "; socket errors: " + describe(errors, c.reasons) +
                "; server accepted " + (accepted_remote.empty() ? "nothing" : accepted_remote)};
}

// From the refused connect() to the end of its poll: where the RST lands
// (on loopback, inside connect() itself).
std::vector<const Event*> refusal_window(const FactContext& c, const Step& connect) {
    const Step* poll = c.timeline.next_step(&connect, "client", kPoll);
    return c.timeline.between(connect.start_ns, poll ? poll->ts_ns : connect.ts_ns);
}

FactResult closed_port_rst(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnectRefused);
    if (s == nullptr) return fails("no connect() to the closed port");
    std::string from = endpoint_of(c, s->cookie);
    if (from.empty()) return fails("no state event gives the client's address");
    const Event* syn = nullptr;
    std::vector<const Event*> resets, answers;
    for (const Event* e : refusal_window(c, *s)) {
        std::string local = endpoint_key(e->local, e->family);
        std::string remote = endpoint_key(e->remote, e->family);
        if (e->kind == EventKind::Packet && e->dir == TS_DIR_TX && local == from &&
            remote == s->remote && e->tcp_flags == TS_TCP_SYN && syn == nullptr) {
            syn = e;
        }
        if (local != s->remote || remote != from) continue;
        if (e->kind == EventKind::ResetSent) resets.push_back(e);
        if (e->kind == EventKind::Packet && e->dir == TS_DIR_TX) answers.push_back(e);
    }
    std::vector<std::string> unseen;
    bool no_socket = sent_without_socket(c, resets, &unseen);
    bool acks_syn = false;
    for (const Event* p : answers) {
        acks_syn |= syn && (p->tcp_flags & TS_TCP_RST) && (p->tcp_flags & TS_TCP_ACK) &&
                    p->ack_seq == syn->seq + 1;
    }
    return {syn && no_socket && acks_syn,
            "client " + from + ": " + (syn ? describe(*syn, c.reasons) : std::string("no SYN")) +
                "; from " + s->remote + ": " + describe(resets, c.reasons) + "; segments: " +
                describe(answers, c.reasons),
            unseen};
}

FactResult closed_port_refused(const FactContext& c) {
    const Step* s = c.timeline.find_step("client", kConnectRefused);
    if (s == nullptr) return fails("no connect() to the closed port");
    std::vector<const Event*> received, errors;
    for (const Event* e : refusal_window(c, *s)) {
        if (e->cookie != s->cookie) continue;
        if (e->kind == EventKind::ResetReceived) received.push_back(e);
        if (e->kind == EventKind::SockError) errors.push_back(e);
    }
    auto path = state_path(c.timeline, s->cookie);
    bool in_syn_sent = received.size() == 1 && tcp_state_name(received.front()->state) == "SYN_SENT";
    bool path_ok = path == std::vector<std::string>{"CLOSE->SYN_SENT", "SYN_SENT->CLOSE"};
    bool refused = errors.size() == 1 && errno_name(errors.front()->error) == "ECONNREFUSED";
    return {in_syn_sent && path_ok && refused,
            "client: " + describe(received, c.reasons) + "; " +
                (path.empty() ? std::string("no state change") : join(path)) + "; " +
                describe(errors, c.reasons)};
}

FactResult so_error_once(const FactContext& c) {
    const Step* connect = c.timeline.find_step("client", kConnectRefused);
    const Step* first = c.timeline.find_step("client", kSoError, 1);
    const Step* second = c.timeline.find_step("client", kSoError, 2);
    if (connect == nullptr || first == nullptr || second == nullptr) {
        return fails("missing connect() to the closed port or its two getsockopt(SO_ERROR)");
    }
    // Nothing set a new error between the two reads.
    std::vector<const Event*> errors;
    for (const Event* e : c.timeline.between(first->ts_ns, second->ts_ns)) {
        if (e->kind == EventKind::SockError && e->cookie == connect->cookie) errors.push_back(e);
    }
    bool ok = first->ret == 0 && second->ret == 0 && first->cookie == connect->cookie &&
              second->cookie == connect->cookie && so_error_of(*first) == "ECONNREFUSED" &&
              so_error_of(*second) == "0" && errors.empty();
    return {ok, describe(*first) + "; " + describe(*second) + "; errors set in between: " +
                    describe(errors, c.reasons)};
}

FactResult reconnect_aborted(const FactContext& c) {
    const Step* first = c.timeline.find_step("client", kConnectRefused, 0);
    const Step* s = c.timeline.find_step("client", kConnectRefused, 1);
    if (first == nullptr || s == nullptr) return fails("no second connect() to the closed port");
    // It fails on the socket's state alone: no SYN, no state change.
    std::vector<const Event*> activity;
    for (const Event* e : c.timeline.during(*s)) {
        if (e->kind == EventKind::Packet || (e->cookie == s->cookie && e->kind == EventKind::State)) {
            activity.push_back(e);
        }
    }
    return {s->ret == -1 && s->errno_name == "ECONNABORTED" && s->cookie == first->cookie &&
                activity.empty(),
            describe(*s) + " on the same socket; packets and state changes during it: " +
                describe(activity, c.reasons)};
}

}  // namespace

ScenarioFacts nonblocking_connect_facts() {
    ScenarioFacts spec;
    spec.setup =
        "Non-blocking connect() to a listener (127.0.0.1:5000) and to a closed port "
        "(127.0.0.1:5001); poll(POLLOUT) and SO_ERROR tell how each ended; a second connect() "
        "on the refused socket.";
    spec.facts = {
        {"nonblocking-connect.connects-in-progress",
         "both non-blocking connect() calls return -1 EINPROGRESS, even on loopback, after "
         "sending their SYN (CLOSE -> SYN_SENT)",
         connects_in_progress},
        {"nonblocking-connect.poll-writable",
         "poll() reports both sockets writable: POLLOUT once the listener's handshake is done "
         "(ESTABLISHED), POLLOUT|POLLERR once the closed port refused (CLOSE)",
         poll_writable},
        {"nonblocking-connect.listener-so-error-zero",
         "to the listener: SYN_SENT -> ESTABLISHED, the server accepts the connection, and "
         "SO_ERROR reads 0",
         listener_so_error_zero},
        {"nonblocking-connect.closed-port-rst",
         "to the closed port: the SYN is answered by a RST sent with no socket (reason "
         "NO_SOCKET)",
         closed_port_rst},
        {"nonblocking-connect.closed-port-refused",
         "the RST arrives in SYN_SENT: SYN_SENT -> CLOSE with socket error ECONNREFUSED",
         closed_port_refused},
        {"nonblocking-connect.so-error-once",
         "SO_ERROR reads ECONNREFUSED once; reading it clears it, the next read gives 0",
         so_error_once},
        {"nonblocking-connect.reconnect-aborted",
         "a second connect() on the refused socket fails with -1 ECONNABORTED and sends "
         "nothing",
         reconnect_aborted},
    };
    spec.explanation =
        "A non-blocking connect() sends the SYN and returns at once with EINPROGRESS: it "
        "never waits, not even for a peer on the same host. On loopback the answer (SYN-ACK "
        "or RST) is actually handled before connect() returns to user space: it arrives "
        "while connect() still holds the socket lock, is queued on the socket's backlog, and "
        "is processed when connect() releases the lock, after it has already chosen "
        "EINPROGRESS (the timeline shows SYN_SENT -> ESTABLISHED or SYN_SENT -> CLOSE inside "
        "the call). The program learns the outcome the documented way: poll() for POLLOUT, "
        "which fires when the attempt is over either way (with POLLERR|POLLHUP when it "
        "failed), then getsockopt(SO_ERROR). For the listener SO_ERROR is 0. For the closed "
        "port, no socket matched the SYN, so the kernel answered with a RST from no socket "
        "(reason NO_SOCKET); a RST in SYN_SENT sets ECONNREFUSED and closes the socket. "
        "SO_ERROR hands the pending error over once and clears it, so a second read gives "
        "0. A second connect() on that socket then finds a socket that was connecting and "
        "is now CLOSE with no error left to report, and fails with ECONNABORTED (had "
        "SO_ERROR not been read, it would have returned ECONNREFUSED). The books' advice "
        "stands: after a failed connect(), close the socket and make a new one.";
    return spec;
}

}  // namespace tcpscope
