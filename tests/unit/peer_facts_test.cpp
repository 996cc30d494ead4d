// The facts of the scenarios about a peer that goes away (peer-vanished,
// peer-rebooted, server-killed, econnreset-then-sigpipe), on runs recorded
// on Linux 6.18 (tests/fixtures/<name>.jsonl): changing the recording the
// way a different kernel behaviour would makes the fact about that
// behaviour fail, and leaves a fact about something else holding.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

bool is_signal(const Event& e, const std::string&) { return e.kind == EventKind::Signal; }

// ---- peer-vanished ----

const StepMatch kUserTimeout{StepOp::SetSockOpt, "TCP_USER_TIMEOUT"};

TEST(PeerVanished, ASendThatReportsTheDownedLinkFailsTheQueuedFact) {
    // A kernel that fails the send at once (as with an ICMP error).
    Recording r = load("peer-vanished");
    fail_with_kernel(r, step(r, "client", kSendOne), EventKind::Send, "EHOSTUNREACH");
    auto verdicts = verdicts_of(r, "peer-vanished");
    EXPECT_FALSE(verdict(verdicts, "send(1) still returns 1").ok);
    EXPECT_TRUE(verdict(verdicts, "nothing ever came back").ok);
}

TEST(PeerVanished, RetransmissionsAtAFixedIntervalFailTheBackoffFact) {
    Recording r = load("peer-vanished");
    auto rt = events_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Retransmit;
    });
    ASSERT_GE(rt.size(), 3u);
    uint64_t gap = rt[1]->ts_ns - rt[0]->ts_ns;
    for (size_t i = 1; i < rt.size(); ++i) rt[i]->ts_ns = rt[0]->ts_ns + i * gap;
    auto verdicts = verdicts_of(r, "peer-vanished");
    EXPECT_FALSE(verdict(verdicts, "retransmitted with growing").ok);
    EXPECT_TRUE(verdict(verdicts, "after TCP_USER_TIMEOUT").ok);
}

TEST(PeerVanished, NoRetransmitTimerFailsTheBackoffFact) {
    Recording r = load("peer-vanished");
    Step* look = step(r, "client", kSockDiag, 0);
    ASSERT_NE(look, nullptr);
    look->info["timer"] = "off";
    EXPECT_FALSE(verdict(verdicts_of(r, "peer-vanished"), "retransmitted with growing").ok);
}

TEST(PeerVanished, AResetFromThePeerFailsTheTimeoutFact) {
    // The peer answered (a RST): ECONNRESET, not a timeout.
    Recording r = load("peer-vanished");
    make_fail(step(r, "client", kRecv), "ECONNRESET");
    set_sock_error(r, "client", "ECONNRESET");
    auto verdicts = verdicts_of(r, "peer-vanished");
    EXPECT_FALSE(verdict(verdicts, "after TCP_USER_TIMEOUT").ok);
    EXPECT_TRUE(verdict(verdicts, "retransmitted with growing").ok);
}

TEST(PeerVanished, AnAbortBeforeTheUserTimeoutFailsTheTimeoutFact) {
    // The same run with a 60 s TCP_USER_TIMEOUT: an abort after ~5 s would
    // be the kernel's own limit, not the user timeout.
    Recording r = load("peer-vanished");
    Step* opt = step(r, "client", kUserTimeout);
    ASSERT_NE(opt, nullptr);
    opt->size = 60000;
    opt->call = "setsockopt(TCP_USER_TIMEOUT 60000)";
    auto verdicts = verdicts_of(r, "peer-vanished");
    EXPECT_FALSE(verdict(verdicts, "after TCP_USER_TIMEOUT").ok);
    EXPECT_TRUE(verdict(verdicts, "retransmitted with growing").ok);
}

TEST(PeerVanished, ASegmentFromTheServerFailsTheNothingCameBackFact) {
    // Something from the server (its abort's RST) got through the link.
    Recording r = load("peer-vanished");
    Step* recv = step(r, "client", kRecv);
    ASSERT_NE(recv, nullptr);
    Event* synack = event_where(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && side == "server";
    });
    ASSERT_NE(synack, nullptr);
    Event rst = *synack;
    rst.tcp_flags = TS_TCP_RST;
    rst.ts_ns = recv->start_ns + 1000;
    r.events.push_back(rst);
    auto verdicts = verdicts_of(r, "peer-vanished");
    EXPECT_FALSE(verdict(verdicts, "nothing ever came back").ok);
    EXPECT_TRUE(verdict(verdicts, "after TCP_USER_TIMEOUT").ok);
}

TEST(PeerVanished, ASocketThatOutlivesTheAbortFailsTheNothingCameBackFact) {
    Recording r = load("peer-vanished");
    Step* last = step(r, "client", kSockDiag, 1);
    Step* first = step(r, "client", kSockDiag, 0);
    ASSERT_NE(last, nullptr);
    ASSERT_NE(first, nullptr);
    last->info = first->info;
    last->cookie = first->cookie;
    EXPECT_FALSE(verdict(verdicts_of(r, "peer-vanished"), "nothing ever came back").ok);
}

// ---- peer-rebooted ----

TEST(PeerRebooted, TheOldServersResetReachingTheClientFailsTheFact) {
    // The link still up when the server died: its abort reaches the client.
    Recording r = load("peer-rebooted");
    Step* kill = step(r, "server", StepMatch{StepOp::Kill, "server"});
    ASSERT_NE(kill, nullptr);
    Event* synack = event_where(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && side == "server";
    });
    ASSERT_NE(synack, nullptr);
    Event rst = *synack;
    rst.tcp_flags = TS_TCP_RST;
    rst.ts_ns = kill->ts_ns + 1000;
    r.events.push_back(rst);
    auto verdicts = verdicts_of(r, "peer-rebooted");
    EXPECT_FALSE(verdict(verdicts, "the old server's connection is aborted").ok);
    EXPECT_TRUE(verdict(verdicts, "send(1) returns 1").ok);
}

TEST(PeerRebooted, NoSegmentLeavingTheClientFailsTheSendFact) {
    // The byte held back (say, a neighbour still unresolved).
    Recording r = load("peer-rebooted");
    EXPECT_EQ(erase_events(r, [](const Event& e, const std::string& side) {
                  return e.kind == EventKind::Packet && side == "client" && e.payload_len == 1;
              }),
              1u);
    auto verdicts = verdicts_of(r, "peer-rebooted");
    EXPECT_FALSE(verdict(verdicts, "send(1) returns 1").ok);
    EXPECT_TRUE(verdict(verdicts, "the rebooted host").ok);
}

TEST(PeerRebooted, AResetFromASocketFailsTheRebootedHostFact) {
    // The connection survived on the server (a socket that answers with
    // its own RST), rather than a host with no socket.
    Recording r = load("peer-rebooted");
    Event* rst = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetSent && e.no_socket;
    });
    ASSERT_NE(rst, nullptr);
    rst->no_socket = false;
    rst->reason = r.reasons.intern("TCP_STATE");
    auto verdicts = verdicts_of(r, "peer-rebooted");
    EXPECT_FALSE(verdict(verdicts, "the rebooted host").ok);
    EXPECT_TRUE(verdict(verdicts, "the RST hits the client in ESTABLISHED").ok);
}

TEST(PeerRebooted, AResetIgnoredByTheClientFailsTheResetFact) {
    // RFC 5961: a RST whose sequence number is not the expected one only
    // draws a challenge ACK; the client's socket lives on.
    Recording r = load("peer-rebooted");
    EXPECT_EQ(erase_events(r, [](const Event& e, const std::string& side) {
                  return side == "client" && (e.kind == EventKind::ResetReceived ||
                                              e.kind == EventKind::SockError ||
                                              is_state(e, "ESTABLISHED", "CLOSE"));
              }),
              3u);
    Step* after = step(r, "client", kSockDiag, 1);
    Step* before = step(r, "client", kSockDiag, 0);
    ASSERT_NE(after, nullptr);
    ASSERT_NE(before, nullptr);
    after->info = before->info;
    after->cookie = before->cookie;
    auto verdicts = verdicts_of(r, "peer-rebooted");
    EXPECT_FALSE(verdict(verdicts, "the RST hits the client in ESTABLISHED").ok);
    EXPECT_TRUE(verdict(verdicts, "the rebooted host").ok);
}

TEST(PeerRebooted, AResetReportedAsEofFailsTheRecvFact) {
    Recording r = load("peer-rebooted");
    Step* first = step(r, "client", kRecv, 0);
    ASSERT_NE(first, nullptr);
    first->ret = 0;
    first->errno_name.clear();
    Event* kernel = kernel_result(r, first, EventKind::Recv);
    ASSERT_NE(kernel, nullptr);
    kernel->ret = 0;
    auto verdicts = verdicts_of(r, "peer-rebooted");
    EXPECT_FALSE(verdict(verdicts, "recv() returns -1 ECONNRESET, then 0").ok);
    EXPECT_TRUE(verdict(verdicts, "a later send returns -1 EPIPE").ok);
}

TEST(PeerRebooted, NoSigpipeFailsTheLaterSendFact) {
    Recording r = load("peer-rebooted");
    EXPECT_EQ(erase_events(r, is_signal), 1u);
    auto verdicts = verdicts_of(r, "peer-rebooted");
    EXPECT_FALSE(verdict(verdicts, "a later send returns -1 EPIPE").ok);
    EXPECT_TRUE(verdict(verdicts, "recv() returns -1 ECONNRESET, then 0").ok);
}

// ---- server-killed ----

TEST(ServerKilled, NoFinFromTheKilledServerFailsTheCloseFact) {
    // The books' crashed process that leaves its peer hanging.
    Recording r = load("server-killed");
    EXPECT_EQ(erase_events(r, [](const Event& e, const std::string& side) {
                  return e.kind == EventKind::Packet && side == "server" && (e.tcp_flags & TS_TCP_FIN);
              }),
              1u);
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_FALSE(verdict(verdicts, "after SIGKILL the kernel closes").ok);
    EXPECT_TRUE(verdict(verdicts, "blocked recv() returns 0").ok);
}

TEST(ServerKilled, AResetForTheBlockedRecvFailsTheEofFact) {
    // The dying server's socket aborted (a RST): recv() fails instead of EOF.
    Recording r = load("server-killed");
    fail_with_kernel(r, step(r, "client", kRecv), EventKind::Recv, "ECONNRESET");
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_FALSE(verdict(verdicts, "blocked recv() returns 0").ok);
    EXPECT_TRUE(verdict(verdicts, "after SIGKILL the kernel closes").ok);
}

TEST(ServerKilled, AnOrphanFreedAtOnceFailsTheMinisocketFact) {
    Recording r = load("server-killed");
    Step* look = step(r, "client", kSockDiag);
    ASSERT_NE(look, nullptr);
    look->info = {{"tcp_state", nullptr}};
    look->cookie = 0;
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_FALSE(verdict(verdicts, "FIN_WAIT2 timewait mini-socket").ok);
    EXPECT_TRUE(verdict(verdicts, "the mini-socket answers with a RST").ok);
}

// The kernel's other path (keep_server_orphan), as sock_diag then sees it:
// the full orphan in FIN_WAIT2 on its keepalive timer (seen on 6.12).
void keep_the_orphan(Recording& r, const char* reason, bool minisock) {
    Step* look = step(r, "client", kSockDiag);
    ASSERT_NE(look, nullptr);
    look->info["timer"] = "keepalive";
    keep_server_orphan(r, reason, minisock);
}

TEST(ServerKilled, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("server-killed");
    keep_the_orphan(r, "TCP_ABORT_ON_DATA", false);
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_TRUE(verdict(verdicts, "FIN_WAIT2 timewait mini-socket").ok)
        << verdict(verdicts, "FIN_WAIT2 timewait mini-socket").detail;
    EXPECT_TRUE(verdict(verdicts, "the mini-socket answers with a RST").ok)
        << verdict(verdicts, "the mini-socket answers with a RST").detail;
}

TEST(ServerKilled, AKeptOrphanAnsweringAsAMinisocketFailsTheResetFact) {
    Recording r = load("server-killed");
    keep_the_orphan(r, "TCP_TIMEWAIT_SOCKET", true);
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_TRUE(verdict(verdicts, "FIN_WAIT2 timewait mini-socket").ok);
    EXPECT_FALSE(verdict(verdicts, "the mini-socket answers with a RST").ok);
}

TEST(ServerKilled, ASendRefusedAfterEofFailsTheFirstSendFact) {
    // A kernel that refuses to send once the peer's FIN came.
    Recording r = load("server-killed");
    fail_with_kernel(r, step(r, "client", kSendOne, 0), EventKind::Send, "EPIPE");
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_FALSE(verdict(verdicts, "the first send returns 1").ok);
    EXPECT_TRUE(verdict(verdicts, "the mini-socket answers with a RST").ok);
}

TEST(ServerKilled, AResetFromNoSocketFailsTheMinisocketResetFact) {
    // The orphan already gone: the kernel answers from no socket.
    Recording r = load("server-killed");
    Event* rst = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetSent;
    });
    ASSERT_NE(rst, nullptr);
    rst->minisock = false;
    rst->no_socket = true;
    rst->state = state_value("CLOSE");
    rst->reason = r.reasons.intern("NO_SOCKET");
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_FALSE(verdict(verdicts, "the mini-socket answers with a RST").ok);
    EXPECT_TRUE(verdict(verdicts, "the RST hits the client in CLOSE_WAIT").ok);
}

TEST(ServerKilled, EconnresetInCloseWaitFailsTheEpipeFact) {
    // The books: a RST gives ECONNRESET, whatever the state.
    Recording r = load("server-killed");
    set_sock_error(r, "client", "ECONNRESET");
    Step* so = step(r, "client", kSoError);
    ASSERT_NE(so, nullptr);
    so->info["so_error"] = "ECONNRESET";
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_FALSE(verdict(verdicts, "the RST hits the client in CLOSE_WAIT").ok);
    EXPECT_TRUE(verdict(verdicts, "the mini-socket answers with a RST").ok);
}

TEST(ServerKilled, NoSigpipeFailsTheLaterSendsFact) {
    Recording r = load("server-killed");
    EXPECT_EQ(erase_events(r, is_signal), 2u);
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_FALSE(verdict(verdicts, "the later sends return -1 EPIPE").ok);
    EXPECT_TRUE(verdict(verdicts, "the first send returns 1").ok);
}

// ---- econnreset-then-sigpipe ----

TEST(EconnresetThenSigpipe, AFinFromTheServerFailsTheRstFact) {
    // close() sending a FIN, as the books describe it.
    Recording r = load("econnreset-then-sigpipe");
    Event* rst = event_where(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && side == "server" && (e.tcp_flags & TS_TCP_RST);
    });
    ASSERT_NE(rst, nullptr);
    rst->tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
    auto verdicts = verdicts_of(r, "econnreset-then-sigpipe");
    EXPECT_FALSE(verdict(verdicts, "a RST instead of a FIN").ok);
    EXPECT_TRUE(verdict(verdicts, "the RST hits the client in ESTABLISHED").ok);
}

TEST(EconnresetThenSigpipe, AnotherResetReasonFailsTheRstFact) {
    Recording r = load("econnreset-then-sigpipe");
    Event* rst = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetSent;
    });
    ASSERT_NE(rst, nullptr);
    rst->reason = r.reasons.intern("TCP_STATE");
    EXPECT_FALSE(verdict(verdicts_of(r, "econnreset-then-sigpipe"), "a RST instead of a FIN").ok);
}

TEST(EconnresetThenSigpipe, EpipeFromTheResetFailsTheEstablishedFact) {
    // The error tcp_reset() sets in CLOSE_WAIT, not in ESTABLISHED.
    Recording r = load("econnreset-then-sigpipe");
    set_sock_error(r, "client", "EPIPE");
    auto verdicts = verdicts_of(r, "econnreset-then-sigpipe");
    EXPECT_FALSE(verdict(verdicts, "the RST hits the client in ESTABLISHED").ok);
    EXPECT_TRUE(verdict(verdicts, "the first send returns -1 ECONNRESET").ok);
}

TEST(EconnresetThenSigpipe, AFirstSendThatGetsEpipeFailsTheFact) {
    // The pending error not reported: the first send already gets EPIPE.
    Recording r = load("econnreset-then-sigpipe");
    fail_with_kernel(r, step(r, "client", kSendOne, 0), EventKind::Send, "EPIPE");
    auto verdicts = verdicts_of(r, "econnreset-then-sigpipe");
    EXPECT_FALSE(verdict(verdicts, "the first send returns -1 ECONNRESET").ok);
    EXPECT_TRUE(verdict(verdicts, "the second send generates SIGPIPE").ok);
}

TEST(EconnresetThenSigpipe, ASigpipeAtTheFirstSendFailsTheFact) {
    // The books' rule: writing to a reset connection raises SIGPIPE.
    Recording r = load("econnreset-then-sigpipe");
    Step* first = step(r, "client", kSendOne, 0);
    Event* sigpipe = event_where(r, is_signal);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(sigpipe, nullptr);
    Event early = *sigpipe;
    early.ts_ns = first->start_ns + 1;
    r.events.push_back(early);
    auto verdicts = verdicts_of(r, "econnreset-then-sigpipe");
    EXPECT_FALSE(verdict(verdicts, "the first send returns -1 ECONNRESET").ok);
    EXPECT_TRUE(verdict(verdicts, "the second send generates SIGPIPE").ok);
}

TEST(EconnresetThenSigpipe, NoSigpipeAtTheSecondSendFailsTheFact) {
    Recording r = load("econnreset-then-sigpipe");
    EXPECT_EQ(erase_events(r, is_signal), 1u);
    auto verdicts = verdicts_of(r, "econnreset-then-sigpipe");
    EXPECT_FALSE(verdict(verdicts, "the second send generates SIGPIPE").ok);
    EXPECT_TRUE(verdict(verdicts, "SIGPIPE's default action kills").ok);
}

TEST(EconnresetThenSigpipe, TheResetReportedTwiceFailsTheSecondSendFact) {
    // The second send finds ECONNRESET again instead of EPIPE.
    Recording r = load("econnreset-then-sigpipe");
    Event* second = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Send && e.ret == -32;
    });
    ASSERT_NE(second, nullptr);
    second->ret = -104;
    EXPECT_FALSE(verdict(verdicts_of(r, "econnreset-then-sigpipe"), "the second send generates SIGPIPE").ok);
}

TEST(EconnresetThenSigpipe, AClientThatSurvivesFailsTheDeathFact) {
    Recording r = load("econnreset-then-sigpipe");
    Step* wait = step(r, "client", StepMatch{StepOp::Wait, "client"});
    ASSERT_NE(wait, nullptr);
    wait->info = {{"exit_status", 0}};
    auto verdicts = verdicts_of(r, "econnreset-then-sigpipe");
    EXPECT_FALSE(verdict(verdicts, "SIGPIPE's default action kills").ok);
    EXPECT_TRUE(verdict(verdicts, "the second send generates SIGPIPE").ok);
}

}  // namespace
}  // namespace tcpscope
