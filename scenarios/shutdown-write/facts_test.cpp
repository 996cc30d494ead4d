// The facts of shutdown-write (facts.cpp; a scenario about a connection closed
// in one direction) on its run recorded on Linux 6.18 (recording.jsonl,
// `tcpscope run shutdown-write --json`): changing the recording the way a
// different kernel behaviour would makes the fact about that behaviour fail,
// and leaves a fact about something else holding (that every fact holds on the
// recording itself: tests/unit/recorded_runs_test.cpp). Facts are named by
// their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(ShutdownWrite, AShutdownThatSendsNoFinFailsTheShutdownFact) {
    // The FIN kept back until close(), as if shutdown() only marked the socket.
    Recording r = load("shutdown-write");
    Event* fin = event_where(r, [](const Event& e, const std::string& side) {
        return is_fin_from(e, side, "client");
    });
    ASSERT_NE(fin, nullptr);
    fin->tcp_flags = TS_TCP_ACK;
    EXPECT_TRUE(fails_and_holds(r, "shutdown-write.shutdown-sends-fin",
                                "shutdown-write.server-reads-eof-and-closes"));
}

TEST(ShutdownWrite, AnAckHeldInTheBacklogUntilShutdownReturnsStillHolds) {
    // Seen on 6.12 under qemu: the client is still inside shutdown(), its
    // socket locked, so the reply (which acknowledges its FIN) and the
    // server's FIN wait in the backlog; FIN_WAIT1 -> FIN_WAIT2 comes after
    // the server's FIN left, but still before that FIN is processed.
    Recording r = load("shutdown-write");
    Event* fw2 = event_where(r, [](const Event& e, const std::string& side) {
        return side == "client" && is_state(e, "FIN_WAIT1", "FIN_WAIT2");
    });
    Event* server_fin = event_where(r, [](const Event& e, const std::string& side) {
        return is_fin_from(e, side, "server");
    });
    ASSERT_NE(fw2, nullptr);
    ASSERT_NE(server_fin, nullptr);
    fw2->ts_ns = server_fin->ts_ns + 1000;
    EXPECT_TRUE(verdict(verdicts_of(r, "shutdown-write"), "shutdown-write.shutdown-sends-fin").ok);
}

TEST(ShutdownWrite, TheServersFinProcessedFirstFailsTheShutdownFact) {
    // Simultaneous close: the server's FIN processed before the ACK of ours
    // makes the client FIN_WAIT1 -> CLOSING, not FIN_WAIT2.
    Recording r = load("shutdown-write");
    Event* fw2 = event_where(r, [](const Event& e, const std::string& side) {
        return side == "client" && is_state(e, "FIN_WAIT1", "FIN_WAIT2");
    });
    ASSERT_NE(fw2, nullptr);
    fw2->new_state = 11;  // TCP_CLOSING
    EXPECT_FALSE(verdict(verdicts_of(r, "shutdown-write"), "shutdown-write.shutdown-sends-fin").ok);
}

TEST(ShutdownWrite, AServerThatSeesAResetFailsTheEofFact) {
    // shutdown() taken as an abort: the server's read fails instead of EOF.
    Recording r = load("shutdown-write");
    Step* eof = step(r, "server", kRecv, 1);
    ASSERT_NE(eof, nullptr);
    make_fail(eof, "ECONNRESET");
    EXPECT_TRUE(fails_and_holds(r, "shutdown-write.server-reads-eof-and-closes",
                                "shutdown-write.client-reads-reply-after-its-fin"));
}

TEST(ShutdownWrite, AServerThatClosesWithoutLastAckFailsTheServerFact) {
    // The server's close() in CLOSE_WAIT aborts: straight to CLOSE.
    Recording r = load("shutdown-write");
    Event* last_ack = event_where(r, [](const Event& e, const std::string&) {
        return is_state(e, "CLOSE_WAIT", "LAST_ACK");
    });
    ASSERT_NE(last_ack, nullptr);
    last_ack->new_state = state_value("CLOSE");
    erase_events(r, [](const Event& e, const std::string&) { return is_state(e, "LAST_ACK", "CLOSE"); });
    EXPECT_TRUE(fails_and_holds(r, "shutdown-write.server-reads-eof-and-closes",
                                "shutdown-write.closed-before-close"));
}

TEST(ShutdownWrite, AHalfClosedClientThatCannotReadFailsTheReplyFact) {
    // shutdown(SHUT_WR) closing both directions, as close() would.
    Recording r = load("shutdown-write");
    Step* reply = step(r, "client", kRecv, 0);
    ASSERT_NE(reply, nullptr);
    reply->ret = 0;
    reply->info = StepInfo::object();
    Event* kernel = kernel_result(r, reply, EventKind::Recv);
    ASSERT_NE(kernel, nullptr);
    kernel->ret = 0;
    EXPECT_TRUE(fails_and_holds(r, "shutdown-write.client-reads-reply-after-its-fin",
                                "shutdown-write.closed-before-close"));
}

TEST(ShutdownWrite, TheConnectionEndingOnlyAtCloseFailsTheFact) {
    // A kernel that keeps the full socket in FIN_WAIT2 until the descriptor
    // is closed.
    Recording r = load("shutdown-write");
    Step* close = step(r, "client", kClose);
    ASSERT_NE(close, nullptr);
    Event* done = event_where(r, [](const Event& e, const std::string& side) {
        return side == "client" && is_state(e, "FIN_WAIT2", "CLOSE");
    });
    ASSERT_NE(done, nullptr);
    done->ts_ns = close->start_ns + (close->ts_ns - close->start_ns) / 2;
    EXPECT_TRUE(fails_and_holds(r, "shutdown-write.closed-before-close",
                                "shutdown-write.client-reads-reply-after-its-fin"));
}

TEST(ShutdownWrite, ACloseThatEndsTimeWaitFailsTheSockDiagFact) {
    // close() taking the TIME_WAIT mini-socket with it.
    Recording r = load("shutdown-write");
    Step* after = step(r, "client", kSockDiag, 1);
    ASSERT_NE(after, nullptr);
    after->info = {{"tcp_state", nullptr}};
    after->cookie = 0;
    EXPECT_TRUE(fails_and_holds(r, "shutdown-write.time-wait-via-sock-diag",
                                "shutdown-write.closed-before-close"));
}

TEST(ShutdownWrite, AStateEventIntoTimeWaitFailsTheSockDiagFact) {
    // A kernel whose tracepoint reports the move to TIME_WAIT.
    Recording r = load("shutdown-write");
    Event* done = event_where(r, [](const Event& e, const std::string& side) {
        return side == "client" && is_state(e, "FIN_WAIT2", "CLOSE");
    });
    ASSERT_NE(done, nullptr);
    Event tw = *done;
    tw.new_state = state_value("TIME_WAIT");
    tw.ts_ns -= 1;
    r.events.push_back(tw);
    EXPECT_TRUE(fails_and_holds(r, "shutdown-write.time-wait-via-sock-diag",
                                "shutdown-write.shutdown-sends-fin"));
}

}  // namespace
}  // namespace tcpscope
