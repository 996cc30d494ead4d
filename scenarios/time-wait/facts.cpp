// time-wait: the facts and the explanation; spec.setup says what the
// program does.
#include "scenario_facts.h"

namespace tcpscope {

namespace {

const StepMatch kReuse{StepOp::SetSockOpt, "SO_REUSEADDR", 1};

// A new bind() while the port's TIME_WAIT socket lasts.
struct Rebind {
    const Step* bind = nullptr;
    bool reuse = false;  // SO_REUSEADDR on the new socket
};

struct Round {
    std::string port;  // "127.0.0.1:5000"
    bool listener_reuse = false;
    uint64_t server_cookie = 0;
    uint64_t client_cookie = 0;
    const Step* diag = nullptr;
    std::vector<Rebind> rebinds;
};

bool has_reuse(const Timeline& t, uint64_t cookie) {
    for (const auto& s : t.steps()) {
        if (s.side == "server" && kReuse.matches(s) && s.cookie == cookie && s.ret == 0) return true;
    }
    return false;
}

// One round per accept(): its port, its two sockets, what sock_diag said
// of it and the binds that followed.
std::vector<Round> rounds(const Timeline& t) {
    std::vector<Round> out;
    for (const auto& a : t.steps()) {
        if (a.side != "server" || a.op != StepOp::Accept || !a.info.contains("accepted")) continue;
        Round r;
        r.port = a.local;
        r.listener_reuse = has_reuse(t, a.cookie);
        r.server_cookie = a.info["accepted"].value("cookie", uint64_t{0});
        for (const auto& s : t.steps()) {
            if (s.side == "client" && s.op == StepOp::Connect && s.remote == r.port) r.client_cookie = s.cookie;
            if (s.side == "server" && s.op == StepOp::SockDiag && s.arg == r.port) r.diag = &s;
        }
        for (const auto& s : t.steps()) {
            if (r.diag == nullptr || s.side != "server" || !(s.op == StepOp::Bind && s.arg == r.port)) continue;
            if (s.start_ns > r.diag->ts_ns) r.rebinds.push_back({&s, has_reuse(t, s.cookie)});
        }
        out.push_back(r);
    }
    return out;
}

FactResult each_round(const FactContext& c,
                      const std::function<FactResult(const Round&)>& check) {
    auto all = rounds(c.timeline);
    if (all.empty()) return fails("the server accepted no connection");
    FactResult result = holds("");
    std::vector<std::string> details;
    for (const Round& r : all) {
        FactResult one = check(r);
        result.ok &= one.ok;
        details.push_back("port " + r.port + ": " + one.detail);
    }
    result.detail = join(details, "; ");
    return result;
}

FactResult path_of(const FactContext& c, uint64_t cookie, const std::vector<std::string>& expected) {
    auto path = state_path(c.timeline, cookie);
    return {contains_in_order(path, expected), path.empty() ? "no state change" : join(path)};
}

FactResult server_closes_first(const FactContext& c) {
    return each_round(c, [&](const Round& r) {
        return path_of(c, r.server_cookie, {"ESTABLISHED->FIN_WAIT1", "FIN_WAIT1->FIN_WAIT2",
                                            "FIN_WAIT2->CLOSE"});
    });
}

FactResult client_closes_second(const FactContext& c) {
    return each_round(c, [&](const Round& r) {
        const Step* eof = nullptr;
        for (const auto& s : c.timeline.steps()) {
            if (s.side == "client" && s.op == StepOp::Recv && s.cookie == r.client_cookie) eof = &s;
        }
        FactResult path = path_of(c, r.client_cookie, {"ESTABLISHED->CLOSE_WAIT",
                                                       "CLOSE_WAIT->LAST_ACK", "LAST_ACK->CLOSE"});
        if (eof == nullptr) return fails(path.detail + "; no recv() by the client");
        return FactResult{path.ok && eof->ret == 0 && !eof->failed(),
                          describe(*eof) + "; " + path.detail};
    });
}

FactResult time_wait_only_in_sock_diag(const FactContext& c) {
    std::vector<const Event*> to_time_wait;
    for (const Event* e : c.timeline.of_kind(EventKind::State)) {
        if (tcp_state_name(e->new_state) == "TIME_WAIT") to_time_wait.push_back(e);
    }
    FactResult diags = each_round(c, [&](const Round& r) {
        if (r.diag == nullptr) return fails("no sock_diag");
        bool same_socket = r.diag->cookie == r.server_cookie;
        return FactResult{diag_state(*r.diag) == "TIME_WAIT" &&
                              r.diag->info.value("timer", std::string()) == "timewait" &&
                              same_socket,
                          describe_diag(*r.diag) +
                              (same_socket ? ", cookie of the closed server socket"
                                           : ", another socket's cookie")};
    });
    return {to_time_wait.empty() && diags.ok,
            "state events -> TIME_WAIT: " + describe(to_time_wait, c.reasons) + "; " + diags.detail};
}

// The rounds whose listener had (or had not) SO_REUSEADDR, each with its
// rebinds checked: `expect(reuse)` is the errno name a rebind with (or
// without) SO_REUSEADDR on the new socket should get, "" for success.
FactResult rebinds(const FactContext& c, bool listener_reuse,
                   const std::function<std::string(bool)>& expect) {
    std::vector<std::string> details;
    bool ok = true, seen_round = false, seen[2] = {false, false};
    for (const Round& r : rounds(c.timeline)) {
        if (r.listener_reuse != listener_reuse) continue;
        seen_round = true;
        for (const Rebind& b : r.rebinds) {
            seen[b.reuse] = true;
            bool as_expected = b.bind->errno_name == expect(b.reuse) &&
                               (b.bind->ret == 0) == expect(b.reuse).empty();
            ok &= as_expected;
            details.push_back(std::string(b.reuse ? "with" : "without") + " SO_REUSEADDR: " +
                              describe(*b.bind));
        }
    }
    if (!seen_round) {
        return fails(std::string("no round whose listener had ") +
                     (listener_reuse ? "" : "no ") + "SO_REUSEADDR");
    }
    return {ok && seen[0] && seen[1],
            (listener_reuse ? "listener with SO_REUSEADDR; " : "listener without SO_REUSEADDR; ") +
                (details.empty() ? "no bind() while TIME_WAIT lasted" : join(details, "; "))};
}

FactResult rebind_without_original_reuse(const FactContext& c) {
    return rebinds(c, false, [](bool) { return std::string("EADDRINUSE"); });
}

FactResult rebind_with_original_reuse(const FactContext& c) {
    return rebinds(c, true, [](bool reuse) { return std::string(reuse ? "" : "EADDRINUSE"); });
}

}  // namespace

ScenarioFacts time_wait_facts() {
    ScenarioFacts spec;
    spec.setup =
        "In each round the server closes first, the client reads EOF and closes; the server "
        "then drops its listener and binds the port again while the TIME_WAIT mini-socket "
        "lasts. Round 1's listener had no SO_REUSEADDR, round 2's had it.";
    spec.facts = {
        {"time-wait.server-closes-first",
         "the server closes first: ESTABLISHED -> FIN_WAIT1 -> FIN_WAIT2 -> CLOSE",
         server_closes_first},
        {"time-wait.client-closes-second",
         "the client reads EOF (recv = 0), closes: CLOSE_WAIT -> LAST_ACK -> CLOSE",
         client_closes_second},
        {"time-wait.time-wait-only-in-sock-diag",
         "no tracepoint reports -> TIME_WAIT, yet sock_diag finds the server's closed socket in "
         "TIME_WAIT with a timewait timer",
         time_wait_only_in_sock_diag},
        {"time-wait.rebind-without-original-reuse",
         "listener without SO_REUSEADDR: bind() to the port gets EADDRINUSE while TIME_WAIT "
         "lasts, even with SO_REUSEADDR on the new socket",
         rebind_without_original_reuse},
        {"time-wait.rebind-with-original-reuse",
         "listener with SO_REUSEADDR: a new socket with SO_REUSEADDR binds; one without still "
         "gets EADDRINUSE",
         rebind_with_original_reuse},
    };
    spec.explanation =
        "The side that closes first is the one that ends in TIME_WAIT, here the server. Its "
        "socket went FIN_WAIT1 -> FIN_WAIT2; when the client's FIN arrived, tcp_time_wait() "
        "handed the connection to a small timewait mini-socket and closed the full socket: "
        "the last event any tracepoint reports is FIN_WAIT2 -> CLOSE, and no tracepoint ever "
        "shows -> TIME_WAIT or the mini-socket's expiry 60 s later. sock_diag (what `ss` "
        "uses) still lists the connection as TIME_WAIT with a timewait timer, under the full "
        "socket's cookie. The client, which closed second, went CLOSE_WAIT -> LAST_ACK -> "
        "CLOSE and keeps nothing. While the mini-socket lasts it holds the port: a bind() "
        "conflicts with it unless both the new socket and the mini-socket have SO_REUSEADDR, "
        "and the mini-socket has it only if the accepted socket had it, which it inherits from "
        "the listener. So SO_REUSEADDR set only on the restarting server's new socket is not "
        "enough; the one that was listening before had to have it too.";
    return spec;
}

}  // namespace tcpscope
