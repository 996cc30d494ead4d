// The facts of nonblocking-connect (facts.cpp; a scenario about how a
// connection attempt ends) on its run recorded on Linux 6.18 (recording.jsonl,
// `tcpscope run nonblocking-connect --json`): changing the recording the way a
// different kernel behaviour would makes the fact about that behaviour fail,
// and leaves a fact about something else holding (that every fact holds on the
// recording itself: tests/unit/recorded_runs_test.cpp). Facts are named by
// their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

const StepMatch kConnectListener{StepOp::Connect, "127.0.0.1:5000"};

const StepMatch kConnectClosed{StepOp::Connect, "127.0.0.1:5001"};

const StepMatch kPollOut{StepOp::Poll, "POLLOUT"};

TEST(NonblockingConnect, AConnectThatCompletesAtOnceFailsTheInProgressFact) {
    // On loopback the handshake is done before connect() returns: a kernel
    // could report success at once.
    Recording r = load("nonblocking-connect");
    Step* connect = step(r, "client", kConnectListener);
    ASSERT_NE(connect, nullptr);
    connect->ret = 0;
    connect->errno_name.clear();
    EXPECT_TRUE(fails_and_holds(r, "nonblocking-connect.connects-in-progress",
                                "nonblocking-connect.listener-so-error-zero"));
}

TEST(NonblockingConnect, ARefusalWithoutPollerrFailsThePollFact) {
    Recording r = load("nonblocking-connect");
    Step* poll = step(r, "client", kPollOut, 1);
    ASSERT_NE(poll, nullptr);
    poll->info["revents"] = StepInfo::array({"POLLOUT"});
    EXPECT_TRUE(fails_and_holds(r, "nonblocking-connect.poll-writable", "nonblocking-connect.so-error-once"));
}

TEST(NonblockingConnect, APollBeforeTheHandshakeEndsFailsThePollFact) {
    // POLLOUT while the socket is still in SYN_SENT: writable would not mean
    // "the attempt is over".
    Recording r = load("nonblocking-connect");
    Step* connect = step(r, "client", kConnectListener);
    Step* poll = step(r, "client", kPollOut, 0);
    ASSERT_NE(connect, nullptr);
    ASSERT_NE(poll, nullptr);
    Event* established = event_where(r, [&](const Event& e, const std::string&) {
        return e.cookie == connect->cookie && is_state(e, "SYN_SENT", "ESTABLISHED");
    });
    ASSERT_NE(established, nullptr);
    established->ts_ns = poll->ts_ns + 1000;
    EXPECT_FALSE(verdict(verdicts_of(r, "nonblocking-connect"), "nonblocking-connect.poll-writable").ok);
}

TEST(NonblockingConnect, AnErrorOnTheAcceptedConnectionFailsTheListenerFact) {
    Recording r = load("nonblocking-connect");
    Step* so = step(r, "client", kSoError, 0);
    ASSERT_NE(so, nullptr);
    so->info["so_error"] = "ETIMEDOUT";
    EXPECT_TRUE(fails_and_holds(r, "nonblocking-connect.listener-so-error-zero",
                                "nonblocking-connect.poll-writable"));
}

TEST(NonblockingConnect, TheServerAcceptingAnotherConnectionFailsTheListenerFact) {
    Recording r = load("nonblocking-connect");
    Step* accept = step(r, "server", kAccept);
    ASSERT_NE(accept, nullptr);
    accept->info["accepted"]["remote"] = "127.0.0.1:1";
    EXPECT_FALSE(verdict(verdicts_of(r, "nonblocking-connect"), "nonblocking-connect.listener-so-error-zero").ok);
}

TEST(NonblockingConnect, AResetFromASocketFailsTheClosedPortRstFact) {
    Recording r = load("nonblocking-connect");
    Event* rst = event_where(r, is_rst_sent);
    ASSERT_NE(rst, nullptr);
    rst->reason = r.reasons.intern("TCP_FLAGS");
    rst->no_socket = false;
    EXPECT_TRUE(fails_and_holds(r, "nonblocking-connect.closed-port-rst",
                                "nonblocking-connect.closed-port-refused"));
}

TEST(NonblockingConnect, AResetErrorFailsTheRefusedFact) {
    // The RST taken as the reset of a connection, not a refusal.
    Recording r = load("nonblocking-connect");
    set_sock_error(r, "client", "ECONNRESET");
    EXPECT_TRUE(fails_and_holds(r, "nonblocking-connect.closed-port-refused",
                                "nonblocking-connect.closed-port-rst"));
}

TEST(NonblockingConnect, AStickySoErrorFailsTheReadOnceFact) {
    // Reading SO_ERROR does not clear it.
    Recording r = load("nonblocking-connect");
    Step* second = step(r, "client", kSoError, 2);
    ASSERT_NE(second, nullptr);
    second->info["so_error"] = "ECONNREFUSED";
    EXPECT_TRUE(fails_and_holds(r, "nonblocking-connect.so-error-once",
                                "nonblocking-connect.reconnect-aborted"));
}

TEST(NonblockingConnect, ASecondConnectReportingTheRefusalFailsTheAbortedFact) {
    // What it returns when SO_ERROR was not read first.
    Recording r = load("nonblocking-connect");
    make_fail(step(r, "client", kConnectClosed, 1), "ECONNREFUSED");
    EXPECT_TRUE(fails_and_holds(r, "nonblocking-connect.reconnect-aborted",
                                "nonblocking-connect.so-error-once"));
}

TEST(NonblockingConnect, ASecondConnectThatTriesAgainFailsTheAbortedFact) {
    // A kernel that starts a new attempt: a SYN during the second connect().
    Recording r = load("nonblocking-connect");
    Step* again = step(r, "client", kConnectClosed, 1);
    ASSERT_NE(again, nullptr);
    Event* syn = event_where(r, [&](const Event& e, const std::string&) {
        return e.kind == EventKind::Packet && e.tcp_flags == TS_TCP_SYN && e.remote.port == 5001;
    });
    ASSERT_NE(syn, nullptr);
    Event copy = *syn;
    copy.ts_ns = again->start_ns + (again->ts_ns - again->start_ns) / 2;
    r.events.push_back(copy);
    EXPECT_FALSE(verdict(verdicts_of(r, "nonblocking-connect"), "nonblocking-connect.reconnect-aborted").ok);
}

}  // namespace
}  // namespace tcpscope
