// The causes `tcpscope exec` gives to the errors calls hand over without
// failing: the value getsockopt(SO_ERROR) fetched, and a readiness call's
// ERR/HUP on a socket (how a non-blocking connect() ends). The same words
// as for a failed call, from the same engine; how the fetched value and the
// "Why:" lines read.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "captured_call.h"
#include "facts.h"
#include "failure_cause.h"
#include "readiness.h"
#include "slow_connect.h"
#include "syscalls.h"

namespace tcpscope {
namespace {

constexpr uint32_t kGetsockopt = 55;
constexpr uint64_t kCookie = 42;
const ResetReasons kReasons({{1, "NO_SOCKET"}});

// An event on the client's socket 127.0.0.1:40000 -> 127.0.0.1:7199.
Event event(EventKind kind, uint64_t ts, uint64_t cookie = kCookie) {
    Event e;
    e.kind = kind;
    e.ts_ns = ts;
    e.cookie = cookie;
    e.family = AF_INET;
    e.local = {"127.0.0.1", 40000};
    e.remote = {"127.0.0.1", 7199};
    return e;
}

Event state(uint64_t ts, int from, int to) {
    Event e = event(EventKind::State, ts);
    e.old_state = from;
    e.new_state = to;
    return e;
}

Event sock_error(uint64_t ts, int err) {
    Event e = event(EventKind::SockError, ts);
    e.error = err;
    return e;
}

// What a refused non-blocking connect leaves (as 6.18 traces it): CLOSE ->
// SYN_SENT, the RST sent with no socket (NO_SOCKET), received in SYN_SENT,
// SYN_SENT -> CLOSE, ECONNREFUSED set on the socket.
std::vector<Event> refusal() {
    Event sent = event(EventKind::ResetSent, 1'000'000, 0);
    sent.no_socket = true;
    sent.reason = 1;
    sent.local = {"127.0.0.1", 7199};
    sent.remote = {"127.0.0.1", 40000};
    Event received = event(EventKind::ResetReceived, 1'000'000);
    received.state = 2;  // SYN_SENT
    return {state(500'000, 7, 2), sent, received, state(1'010'000, 2, 7), sock_error(1'020'000, 111)};
}

Step call(StepOp op, const std::string& text, int64_t ret, uint64_t ts) {
    Step s;
    s.op = op;
    s.call = text;
    s.ret = ret;
    s.cookie = kCookie;
    s.side = "client";
    s.start_ns = ts - 5;
    s.ts_ns = ts;
    return s;
}

Step so_error_step(const StepInfo& value, uint64_t ts = 2'000'000) {
    Step s = call(StepOp::GetSockOpt, "getsockopt(3, SO_ERROR)", 0, ts);
    s.arg = "SO_ERROR";
    s.info["so_error"] = value;
    return s;
}

// A readiness step that reported the socket with these bits.
Step ready_step(StepOp op, const std::string& text, uint32_t mask, uint64_t ts = 2'000'000) {
    Step s = call(op, text, 1, ts);
    s.info["ready"] = StepInfo::array();
    s.info["ready"].push_back({{"cookie", kCookie}, {"events", readiness_names(mask)}, {"mask", mask}});
    return s;
}

constexpr uint32_t kOutErrHup = kReadyOut | kReadyErr | kReadyHup;
const char* const kRefusedCause = "RST received in SYN_SENT at 1.0 ms (no socket on the peer's port, NO_SOCKET)";

TEST(FetchedSoError, TheCaptureKeepsTheValueByNameAndZeroAsTheScenariosWriteIt) {
    ts_call r{};
    r.nr = kGetsockopt;
    r.args[0] = 3;
    r.args[1] = SOL_SOCKET;
    r.args[2] = SO_ERROR;
    r.args[3] = 0x1000;  // optval's address: non-NULL
    r.optval = 111;
    r.optval_valid = 1;
    auto refused = decode_call(&r, sizeof(r));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->step.info["so_error"], "ECONNREFUSED");
    EXPECT_EQ(fetched_so_error(refused->step), "ECONNREFUSED");
    r.optval = 0;
    auto none = decode_call(&r, sizeof(r));
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->step.info["so_error"].is_number_integer()) << none->step.info.dump();
    EXPECT_EQ(fetched_so_error(none->step), "0");
}

TEST(FetchedSoError, OnlyAGetsockoptOfSoErrorFetchesOne) {
    EXPECT_EQ(fetched_so_error(so_error_step(0)), "0");
    EXPECT_EQ(fetched_so_error(so_error_step("EPIPE")), "EPIPE");
    EXPECT_EQ(fetched_so_error(so_error_step(104)), "ECONNRESET");
    Step send = call(StepOp::Send, "sendto(3, buf, 1)", 1, 10);
    send.info["so_error"] = "EPIPE";
    EXPECT_FALSE(fetched_so_error(send));
    Step bare = so_error_step(0);
    bare.info.erase("so_error");
    EXPECT_FALSE(fetched_so_error(bare));
}

TEST(FetchedSoError, TheCallsLineShowsTheValueAfterItsResult) {
    EXPECT_EQ(describe(so_error_step("ECONNREFUSED")), "getsockopt(3, SO_ERROR) = 0, so_error ECONNREFUSED");
    EXPECT_EQ(describe(so_error_step(0)), "getsockopt(3, SO_ERROR) = 0, so_error 0");
    EXPECT_EQ(describe(call(StepOp::Connect, "connect(3, 127.0.0.1:7199)", 0, 10)),
              "connect(3, 127.0.0.1:7199) = 0");
}

TEST(ExecCauses, ARefusalFetchedBySoErrorHasTheCauseABlockingConnectGets) {
    Step connect = call(StepOp::Connect, "connect(3, 127.0.0.1:7199)", -1, 1'500'000);
    connect.errno_name = "ECONNREFUSED";
    const std::string blocking = failure_cause(connect, refusal(), kReasons, 0);
    EXPECT_EQ(blocking, kRefusedCause);
    EXPECT_EQ(failure_cause(so_error_step("ECONNREFUSED"), refusal(), kReasons, 0), blocking);
}

TEST(ExecCauses, ASoErrorOfZeroHandsNothingOver) {
    EXPECT_TRUE(delivered_errors(so_error_step(0), refusal()).empty());
    EXPECT_EQ(failure_cause(so_error_step(0), refusal(), kReasons, 0), "");
}

TEST(ExecCauses, PollsErrHupOnTheRefusedSocketNamesTheErrorAndItsCause) {
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kOutErrHup);
    auto delivered = delivered_errors(poll, refusal());
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0].errno_name, "ECONNREFUSED");
    EXPECT_EQ(delivered[0].via, "ready");
    EXPECT_EQ(failure_cause(poll, refusal(), kReasons, 0), std::string("ECONNREFUSED: ") + kRefusedCause);
}

TEST(ExecCauses, EpollWaitsErrHupIsExplainedAlike) {
    Step wait = ready_step(StepOp::EpollWait, "epoll_wait(4, events, 1)", kOutErrHup);
    EXPECT_EQ(failure_cause(wait, refusal(), kReasons, 0), std::string("ECONNREFUSED: ") + kRefusedCause);
}

TEST(ExecCauses, AHupAloneAfterTheErrorWasFetchedStillNamesIt) {
    // SO_ERROR read first clears the error: the next poll says OUT|HUP only.
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kReadyOut | kReadyHup, 3'000'000);
    EXPECT_EQ(failure_cause(poll, refusal(), kReasons, 0), std::string("ECONNREFUSED: ") + kRefusedCause);
}

TEST(ExecCauses, AConnectThatTimedOutThroughPollCountsTheSynRetransmissions) {
    std::vector<Event> events{state(0, 7, 2), event(EventKind::Retransmit, 1'000'000),
                              event(EventKind::Retransmit, 3'000'000), state(6'999'000, 2, 7),
                              sock_error(7'000'000, 110)};
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kOutErrHup, 7'100'000);
    EXPECT_EQ(failure_cause(poll, events, kReasons, 0),
              "ETIMEDOUT: 2 retransmissions unanswered, then socket error ETIMEDOUT at 7.0 ms");
}

// A SYN dropped on its way in at the peer, before any socket took it:
// no cookie, the peer's side local.
Event syn_drop(uint64_t ts, const std::string& reason) {
    Event e = event(EventKind::Drop, ts, 0);
    e.local = {"127.0.0.1", 7199};
    e.remote = {"127.0.0.1", 40000};
    e.dir = TS_DIR_RX;
    e.tcp_flags = TS_TCP_SYN;
    e.drop_reason = reason;
    return e;
}

TEST(ExecCauses, ATimeoutNamesTheFirewallRuleThatDroppedTheSyns) {
    Event elsewhere = syn_drop(2'000'000, "NETFILTER_DROP");
    elsewhere.remote.port = 40001;  // another connection's SYN
    std::vector<Event> events{state(0, 7, 2), syn_drop(10, "NETFILTER_DROP"),
                              event(EventKind::Retransmit, 1'000'000), syn_drop(1'000'010, "NETFILTER_DROP"),
                              elsewhere, state(6'999'000, 2, 7), sock_error(7'000'000, 110),
                              syn_drop(8'000'000, "NETFILTER_DROP")};  // after the call: not its cause
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kOutErrHup, 7'100'000);
    EXPECT_EQ(failure_cause(poll, events, kReasons, 0),
              "ETIMEDOUT: 1 retransmission unanswered: 2 SYNs dropped on this host (NETFILTER_DROP: "
              "a firewall rule), then socket error ETIMEDOUT at 7.0 ms");
}

TEST(ExecCauses, ARefusalWithNoTcpResetAndTheSynDroppedIsAFirewallsReject) {
    Event received = event(EventKind::ResetReceived, 1'000'000);
    received.state = 2;
    std::vector<Event> events{state(500'000, 7, 2), syn_drop(600'000, "NETFILTER_DROP"), received,
                              state(1'010'000, 2, 7), sock_error(1'020'000, 111)};
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kOutErrHup);
    EXPECT_EQ(failure_cause(poll, events, kReasons, 0),
              "ECONNREFUSED: RST received in SYN_SENT at 1.0 ms, from a firewall rule: 1 SYN dropped "
              "on this host (NETFILTER_DROP: a firewall rule), and no TCP socket sent a RST");
    // The kernel's own refusal (a TCP RST, then the SYN freed: NO_SOCKET)
    // keeps its words.
    std::vector<Event> plain = refusal();
    plain.push_back(syn_drop(1'000'001, "NO_SOCKET"));
    EXPECT_EQ(failure_cause(poll, plain, kReasons, 0), std::string("ECONNREFUSED: ") + kRefusedCause);
}

TEST(ExecCauses, ReadyWithoutErrOrHupHandsNothingOver) {
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kReadyOut);
    EXPECT_TRUE(delivered_errors(poll, refusal()).empty());
}

TEST(ExecCauses, AHupAfterAnOrderlyCloseHasNoError) {
    std::vector<Event> events{state(0, 7, 2), state(100, 2, 1), state(1'000'000, 1, 8),
                              state(1'500'000, 8, 9), state(1'600'000, 9, 7)};
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kReadyIn | kReadyHup);
    EXPECT_EQ(failure_cause(poll, events, kReasons, 0), "");
}

TEST(ExecCauses, AnErrorBeforeTheSocketConnectedAgainIsNotTheNewAttempts) {
    std::vector<Event> events = refusal();
    events.push_back(state(1'500'000, 7, 2));  // connect() again
    events.push_back(state(1'600'000, 2, 1));
    events.push_back(state(1'800'000, 1, 7));  // then closed with no error
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kReadyOut | kReadyHup);
    EXPECT_TRUE(delivered_errors(poll, events).empty());
}

TEST(ExecCauses, AnErrorOnAnotherSocketIsNotThisOnes) {
    std::vector<Event> events = refusal();
    for (auto& e : events) e.cookie = e.cookie ? 7 : 0;
    Step poll = ready_step(StepOp::Poll, "poll(fds, 1)", kOutErrHup);
    EXPECT_EQ(failure_cause(poll, events, kReasons, 0), "");
}

TEST(ExecCauses, ExplainFailuresGivesEveryHandOverItsCauseAndTheWhyLinesShowTheFetchedValue) {
    Step connect = call(StepOp::Connect, "connect(3, 127.0.0.1:7199)", -1, 900'000);
    connect.errno_name = "EINPROGRESS";
    std::vector<Step> steps{connect, ready_step(StepOp::Poll, "poll(fds, 1)", kOutErrHup, 1'900'000),
                            so_error_step("ECONNREFUSED", 2'000'000),
                            call(StepOp::Close, "close(3)", 0, 2'100'000)};
    steps[0].start_ns = 0;
    EXPECT_EQ(explain_failures(steps, refusal(), kReasons), 2u);
    EXPECT_FALSE(steps[0].info.contains("cause"));  // EINPROGRESS: nothing failed yet
    EXPECT_FALSE(steps[3].info.contains("cause"));
    EXPECT_EQ(why_lines(steps),
              std::string("  client poll(fds, 1) = 1 OUT|ERR|HUP: ECONNREFUSED: ") + kRefusedCause + "\n" +
                  "  client getsockopt(3, SO_ERROR) = 0, so_error ECONNREFUSED: " + kRefusedCause + "\n");
}

TEST(ExecCauses, AFailedCallsWhyLineReadsAsBefore) {
    Step connect = call(StepOp::Connect, "connect(3, 127.0.0.1:7199)", -1, 1'500'000);
    connect.errno_name = "ECONNREFUSED";
    std::vector<Step> steps{connect};
    steps[0].start_ns = 0;
    explain_failures(steps, refusal(), kReasons);
    EXPECT_EQ(why_lines(steps), std::string("  client connect(3, 127.0.0.1:7199) = -1 ECONNREFUSED: ") +
                                    kRefusedCause + "\n");
}

// A blocking connect that returned after its SYN was retransmitted: the
// listener it connected to (here, or a wildcard one on its port in its
// namespace) counted accept-queue drops meanwhile.
Step slow_connect(uint64_t start, uint64_t end) {
    Step s;
    s.op = StepOp::Connect;
    s.side = "client";
    s.cookie = kCookie;
    s.start_ns = start;
    s.ts_ns = end;
    s.netns = 7;
    s.remote = "127.0.0.1:7199";
    return s;
}

Event syn_retransmit(uint64_t ts) {
    Event e = event(EventKind::Retransmit, ts);
    e.state = 2;  // SYN_SENT
    return e;
}

Event listener_drop(uint64_t ts, const std::string& addr, const std::string& reason) {
    Event e = event(EventKind::Drop, ts, 99);
    e.local = {addr, 7199};
    e.remote = {};
    e.netns = 7;
    e.drop_seen_by = "listener";
    e.drop_reason = reason;
    e.drop_count = 2;
    e.accept_backlog = 1;
    return e;
}

TEST(SlowConnect, AFullAcceptQueueIsWhyTheConnectTookASecond) {
    const std::vector<Event> events = {syn_retransmit(1'010'000'000),
                                       listener_drop(400'000'000, "127.0.0.1", "ACCEPT_QUEUE_FULL")};
    EXPECT_EQ(slow_connect_cause(slow_connect(0, 1'020'000'000), events),
              "took 1.02 s: its SYN was retransmitted once; the listener 127.0.0.1:7199 dropped SYNs, "
              "its accept queue full (backlog 1)");
    // A wildcard listener on the port, in the connect's namespace.
    const std::vector<Event> wildcard = {syn_retransmit(1'010'000'000),
                                         listener_drop(1'500'000'000, "0.0.0.0", "ACCEPT_QUEUE_FULL")};
    EXPECT_NE(slow_connect_cause(slow_connect(0, 1'020'000'000), wildcard).find("listener 0.0.0.0:7199"),
              std::string::npos);
    // ... but not another namespace's.
    std::vector<Event> elsewhere = wildcard;
    elsewhere[1].netns = 8;
    EXPECT_EQ(slow_connect_cause(slow_connect(0, 1'020'000'000), elsewhere),
              "took 1.02 s: its SYN was retransmitted once (the first went unanswered)");
}

TEST(SlowConnect, OnlyAConnectThatWaitedForASynRetransmitHasACause) {
    const std::vector<Event> none = {listener_drop(400'000'000, "127.0.0.1", "ACCEPT_QUEUE_FULL")};
    EXPECT_EQ(slow_connect_cause(slow_connect(0, 1'000'000), none), "");
    Step failed = slow_connect(0, 1'020'000'000);
    failed.ret = -1;
    failed.errno_name = "ETIMEDOUT";
    EXPECT_EQ(slow_connect_cause(failed, {syn_retransmit(1'010'000'000)}), "");
    // A drop the listener counted long after the connect is another's.
    const std::vector<Event> late = {syn_retransmit(1'010'000'000),
                                     listener_drop(9'000'000'000, "127.0.0.1", "ACCEPT_QUEUE_FULL")};
    EXPECT_EQ(slow_connect_cause(slow_connect(0, 1'020'000'000), late),
              "took 1.02 s: its SYN was retransmitted once (the first went unanswered)");
    // explain_slow_connects keeps a cause already given.
    std::vector<Step> steps = {slow_connect(0, 1'020'000'000), slow_connect(0, 1'020'000'000)};
    steps[1].info["cause"] = "given";
    EXPECT_EQ(explain_slow_connects(steps, late), 1u);
    EXPECT_EQ(steps[1].info["cause"], "given");
}

TEST(SlowConnect, ASynDroppedByAFirewallRuleHereIsNamed) {
    Event drop = event(EventKind::Drop, 5'000'000, 0);
    drop.local = {"127.0.0.1", 7199};
    drop.remote = {"127.0.0.1", 40000};
    drop.tcp_flags = TS_TCP_SYN;
    drop.drop_reason = "NETFILTER_DROP";
    const std::vector<Event> events = {state(1'000'000, 7, 2), drop, syn_retransmit(1'010'000'000),
                                       syn_retransmit(3'010'000'000)};
    EXPECT_EQ(slow_connect_cause(slow_connect(0, 3'020'000'000), events),
              "took 3.02 s: its SYN was retransmitted 2 times: 1 SYN dropped on this host "
              "(NETFILTER_DROP: a firewall rule)");
}

}  // namespace
}  // namespace tcpscope
