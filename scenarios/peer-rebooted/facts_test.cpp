// The facts of peer-rebooted (facts.cpp; a scenario about a peer that goes
// away) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run peer-
// rebooted --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

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
    EXPECT_TRUE(fails_and_holds(r, "peer-rebooted.client-told-nothing", "peer-rebooted.send-goes-out"));
}

TEST(PeerRebooted, NoSegmentLeavingTheClientFailsTheSendFact) {
    // The byte held back (say, a neighbour still unresolved).
    Recording r = load("peer-rebooted");
    EXPECT_EQ(erase_events(r, [](const Event& e, const std::string& side) {
                  return e.kind == EventKind::Packet && side == "client" && e.payload_len == 1;
              }),
              1u);
    EXPECT_TRUE(fails_and_holds(r, "peer-rebooted.send-goes-out", "peer-rebooted.new-host-answers-rst"));
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
    EXPECT_TRUE(fails_and_holds(r, "peer-rebooted.new-host-answers-rst", "peer-rebooted.client-reset"));
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
    EXPECT_TRUE(fails_and_holds(r, "peer-rebooted.client-reset", "peer-rebooted.new-host-answers-rst"));
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
    EXPECT_TRUE(fails_and_holds(r, "peer-rebooted.recv-reset-then-eof", "peer-rebooted.later-send-sigpipe"));
}

TEST(PeerRebooted, NoSigpipeFailsTheLaterSendFact) {
    Recording r = load("peer-rebooted");
    EXPECT_EQ(erase_events(r, is_signal), 1u);
    EXPECT_TRUE(fails_and_holds(r, "peer-rebooted.later-send-sigpipe", "peer-rebooted.recv-reset-then-eof"));
}

}  // namespace
}  // namespace tcpscope
