// The facts of the scenarios about how a connection attempt ends
// (connect-refused, nonblocking-connect), on runs recorded on Linux 6.18
// (tests/fixtures/<name>.jsonl): changing the recording the way a different
// kernel behaviour would makes the fact about that behaviour fail, and
// leaves a fact about something else holding.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

// ---- connect-refused ----

bool is_rst_sent(const Event& e, const std::string&) { return e.kind == EventKind::ResetSent; }

TEST(ConnectRefused, AResetWithAnotherReasonFailsTheRstFact) {
    // A RST from a socket that exists (a listener refusing, say), not the
    // kernel's answer for a port with no socket.
    Recording r = load("connect-refused");
    Event* rst = event_where(r, is_rst_sent);
    ASSERT_NE(rst, nullptr);
    rst->reason = r.reasons.intern("NOT_SPECIFIED");
    rst->no_socket = false;
    auto verdicts = verdicts_of(r, "connect-refused");
    EXPECT_FALSE(verdict(verdicts, "answered by a RST").ok);
    EXPECT_TRUE(verdict(verdicts, "connect() returns -1 ECONNREFUSED").ok);
}

TEST(ConnectRefused, AResetThatDoesNotAcknowledgeTheSynFailsTheRstFact) {
    // A stray RST (ack of something else) does not answer this SYN.
    Recording r = load("connect-refused");
    Event* rst = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_RST);
    });
    ASSERT_NE(rst, nullptr);
    rst->ack_seq += 1000;
    EXPECT_FALSE(verdict(verdicts_of(r, "connect-refused"), "answered by a RST").ok);
}

TEST(ConnectRefused, AResetInEstablishedFailsTheSynSentFact) {
    // The handshake completed and the connection was reset afterwards.
    Recording r = load("connect-refused");
    Event* received = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetReceived;
    });
    Event* closed = event_where(r, [](const Event& e, const std::string&) {
        return is_state(e, "SYN_SENT", "CLOSE");
    });
    ASSERT_NE(received, nullptr);
    ASSERT_NE(closed, nullptr);
    received->state = state_value("ESTABLISHED");
    closed->old_state = state_value("ESTABLISHED");
    Event established = *closed;
    established.old_state = state_value("SYN_SENT");
    established.new_state = state_value("ESTABLISHED");
    established.ts_ns = received->ts_ns - 1;
    r.events.push_back(established);
    auto verdicts = verdicts_of(r, "connect-refused");
    EXPECT_FALSE(verdict(verdicts, "never reaches ESTABLISHED").ok);
    EXPECT_TRUE(verdict(verdicts, "answered by a RST").ok);
}

TEST(ConnectRefused, ATimeoutFailsTheRefusedFact) {
    // The SYN was dropped (a firewall): connect() times out.
    Recording r = load("connect-refused");
    make_fail(step(r, "client", kConnect), "ETIMEDOUT");
    set_sock_error(r, "client", "ETIMEDOUT");
    auto verdicts = verdicts_of(r, "connect-refused");
    EXPECT_FALSE(verdict(verdicts, "connect() returns -1 ECONNREFUSED").ok);
    EXPECT_TRUE(verdict(verdicts, "never reaches ESTABLISHED").ok);
}

TEST(ConnectRefused, AnErrorLeftPendingFailsTheSoErrorFact) {
    // connect() reported the error without consuming it.
    Recording r = load("connect-refused");
    Step* so = step(r, "client", kSoError);
    ASSERT_NE(so, nullptr);
    so->info["so_error"] = "ECONNREFUSED";
    auto verdicts = verdicts_of(r, "connect-refused");
    EXPECT_FALSE(verdict(verdicts, "afterwards reads 0").ok);
    EXPECT_TRUE(verdict(verdicts, "connect() returns -1 ECONNREFUSED").ok);
}

// ---- nonblocking-connect ----

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
    auto verdicts = verdicts_of(r, "nonblocking-connect");
    EXPECT_FALSE(verdict(verdicts, "EINPROGRESS").ok);
    EXPECT_TRUE(verdict(verdicts, "to the listener").ok);
}

TEST(NonblockingConnect, ARefusalWithoutPollerrFailsThePollFact) {
    Recording r = load("nonblocking-connect");
    Step* poll = step(r, "client", kPollOut, 1);
    ASSERT_NE(poll, nullptr);
    poll->info["revents"] = StepInfo::array({"POLLOUT"});
    auto verdicts = verdicts_of(r, "nonblocking-connect");
    EXPECT_FALSE(verdict(verdicts, "poll() reports both sockets writable").ok);
    EXPECT_TRUE(verdict(verdicts, "SO_ERROR reads ECONNREFUSED once").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "nonblocking-connect"), "poll() reports both sockets writable").ok);
}

TEST(NonblockingConnect, AnErrorOnTheAcceptedConnectionFailsTheListenerFact) {
    Recording r = load("nonblocking-connect");
    Step* so = step(r, "client", kSoError, 0);
    ASSERT_NE(so, nullptr);
    so->info["so_error"] = "ETIMEDOUT";
    auto verdicts = verdicts_of(r, "nonblocking-connect");
    EXPECT_FALSE(verdict(verdicts, "to the listener").ok);
    EXPECT_TRUE(verdict(verdicts, "poll() reports both sockets writable").ok);
}

TEST(NonblockingConnect, TheServerAcceptingAnotherConnectionFailsTheListenerFact) {
    Recording r = load("nonblocking-connect");
    Step* accept = step(r, "server", kAccept);
    ASSERT_NE(accept, nullptr);
    accept->info["accepted"]["remote"] = "127.0.0.1:1";
    EXPECT_FALSE(verdict(verdicts_of(r, "nonblocking-connect"), "to the listener").ok);
}

TEST(NonblockingConnect, AResetFromASocketFailsTheClosedPortRstFact) {
    Recording r = load("nonblocking-connect");
    Event* rst = event_where(r, is_rst_sent);
    ASSERT_NE(rst, nullptr);
    rst->reason = r.reasons.intern("TCP_FLAGS");
    rst->no_socket = false;
    auto verdicts = verdicts_of(r, "nonblocking-connect");
    EXPECT_FALSE(verdict(verdicts, "to the closed port").ok);
    EXPECT_TRUE(verdict(verdicts, "SYN_SENT -> CLOSE with socket error ECONNREFUSED").ok);
}

TEST(NonblockingConnect, AResetErrorFailsTheRefusedFact) {
    // The RST taken as the reset of a connection, not a refusal.
    Recording r = load("nonblocking-connect");
    set_sock_error(r, "client", "ECONNRESET");
    auto verdicts = verdicts_of(r, "nonblocking-connect");
    EXPECT_FALSE(verdict(verdicts, "SYN_SENT -> CLOSE with socket error ECONNREFUSED").ok);
    EXPECT_TRUE(verdict(verdicts, "to the closed port").ok);
}

TEST(NonblockingConnect, AStickySoErrorFailsTheReadOnceFact) {
    // Reading SO_ERROR does not clear it.
    Recording r = load("nonblocking-connect");
    Step* second = step(r, "client", kSoError, 2);
    ASSERT_NE(second, nullptr);
    second->info["so_error"] = "ECONNREFUSED";
    auto verdicts = verdicts_of(r, "nonblocking-connect");
    EXPECT_FALSE(verdict(verdicts, "SO_ERROR reads ECONNREFUSED once").ok);
    EXPECT_TRUE(verdict(verdicts, "second connect()").ok);
}

TEST(NonblockingConnect, ASecondConnectReportingTheRefusalFailsTheAbortedFact) {
    // What it returns when SO_ERROR was not read first.
    Recording r = load("nonblocking-connect");
    make_fail(step(r, "client", kConnectClosed, 1), "ECONNREFUSED");
    auto verdicts = verdicts_of(r, "nonblocking-connect");
    EXPECT_FALSE(verdict(verdicts, "second connect()").ok);
    EXPECT_TRUE(verdict(verdicts, "SO_ERROR reads ECONNREFUSED once").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "nonblocking-connect"), "second connect()").ok);
}

}  // namespace
}  // namespace tcpscope
