// The facts of server-killed (facts.cpp; a scenario about a peer that goes
// away) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run
// server-killed --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

// The kernel's other path (keep_server_orphan), as sock_diag then sees it:
// the full orphan in FIN_WAIT2 on its keepalive timer (seen on 6.12).
void keep_the_orphan(Recording& r, const char* reason, bool minisock) {
    Step* look = step(r, "client", kSockDiag);
    ASSERT_NE(look, nullptr);
    look->info["timer"] = "keepalive";
    keep_server_orphan(r, reason, minisock);
}

TEST(ServerKilled, NoFinFromTheKilledServerFailsTheCloseFact) {
    // The books' crashed process that leaves its peer hanging.
    Recording r = load("server-killed");
    EXPECT_EQ(erase_events(r, [](const Event& e, const std::string& side) {
                  return e.kind == EventKind::Packet && side == "server" && (e.tcp_flags & TS_TCP_FIN);
              }),
              1u);
    EXPECT_TRUE(fails_and_holds(r, "server-killed.kernel-closes-server",
                                "server-killed.blocked-recv-returns-eof"));
}

TEST(ServerKilled, AResetForTheBlockedRecvFailsTheEofFact) {
    // The dying server's socket aborted (a RST): recv() fails instead of EOF.
    Recording r = load("server-killed");
    fail_with_kernel(r, step(r, "client", kRecv), EventKind::Recv, "ECONNRESET");
    EXPECT_TRUE(fails_and_holds(r, "server-killed.blocked-recv-returns-eof",
                                "server-killed.kernel-closes-server"));
}

TEST(ServerKilled, AnOrphanFreedAtOnceFailsTheMinisocketFact) {
    Recording r = load("server-killed");
    Step* look = step(r, "client", kSockDiag);
    ASSERT_NE(look, nullptr);
    look->info = {{"tcp_state", nullptr}};
    look->cookie = 0;
    EXPECT_TRUE(fails_and_holds(r, "server-killed.fin-wait2-minisocket",
                                "server-killed.minisocket-answers-rst"));
}

TEST(ServerKilled, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("server-killed");
    keep_the_orphan(r, "TCP_ABORT_ON_DATA", false);
    auto verdicts = verdicts_of(r, "server-killed");
    EXPECT_TRUE(verdict(verdicts, "server-killed.fin-wait2-minisocket").ok)
        << verdict(verdicts, "server-killed.fin-wait2-minisocket").detail;
    EXPECT_TRUE(verdict(verdicts, "server-killed.minisocket-answers-rst").ok)
        << verdict(verdicts, "server-killed.minisocket-answers-rst").detail;
}

TEST(ServerKilled, AKeptOrphanAnsweringAsAMinisocketFailsTheResetFact) {
    Recording r = load("server-killed");
    keep_the_orphan(r, "TCP_TIMEWAIT_SOCKET", true);
    EXPECT_TRUE(fails_and_holds(r, "server-killed.minisocket-answers-rst",
                                "server-killed.fin-wait2-minisocket"));
}

TEST(ServerKilled, ASendRefusedAfterEofFailsTheFirstSendFact) {
    // A kernel that refuses to send once the peer's FIN came.
    Recording r = load("server-killed");
    fail_with_kernel(r, step(r, "client", kSendOne, 0), EventKind::Send, "EPIPE");
    EXPECT_TRUE(fails_and_holds(r, "server-killed.first-send-goes-out",
                                "server-killed.minisocket-answers-rst"));
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
    EXPECT_TRUE(fails_and_holds(r, "server-killed.minisocket-answers-rst",
                                "server-killed.client-error-is-epipe"));
}

TEST(ServerKilled, EconnresetInCloseWaitFailsTheEpipeFact) {
    // The books: a RST gives ECONNRESET, whatever the state.
    Recording r = load("server-killed");
    set_sock_error(r, "client", "ECONNRESET");
    Step* so = step(r, "client", kSoError);
    ASSERT_NE(so, nullptr);
    so->info["so_error"] = "ECONNRESET";
    EXPECT_TRUE(fails_and_holds(r, "server-killed.client-error-is-epipe",
                                "server-killed.minisocket-answers-rst"));
}

TEST(ServerKilled, NoSigpipeFailsTheLaterSendsFact) {
    Recording r = load("server-killed");
    EXPECT_EQ(erase_events(r, is_signal), 2u);
    EXPECT_TRUE(fails_and_holds(r, "server-killed.later-sends-sigpipe", "server-killed.first-send-goes-out"));
}

}  // namespace
}  // namespace tcpscope
