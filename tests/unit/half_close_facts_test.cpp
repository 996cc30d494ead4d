// The facts of the scenarios about a connection closed in one direction
// (close-wait-forever, shutdown-write), on runs recorded on Linux 6.18
// (tests/fixtures/<name>.jsonl): changing the recording the way a different
// kernel behaviour would makes the fact about that behaviour fail, and
// leaves a fact about something else holding.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

// ---- close-wait-forever ----

// sock_diag looks at the server's connection (local end: the listening address).
const StepMatch kDiagServer{StepOp::SockDiag, "127.0.0.1:5000"};

bool is_fin_from(const Event& e, const std::string& side, const std::string& want) {
    return e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_FIN) && side == want;
}

TEST(CloseWaitForever, AnAbortiveCloseFailsTheServerFinFact) {
    // The server's close() resets instead (as with unread data or SO_LINGER 0).
    Recording r = load("close-wait-forever");
    Event* fin = event_where(r, [](const Event& e, const std::string& side) {
        return is_fin_from(e, side, "server");
    });
    ASSERT_NE(fin, nullptr);
    fin->tcp_flags = TS_TCP_RST | TS_TCP_ACK;
    auto verdicts = verdicts_of(r, "close-wait-forever");
    EXPECT_FALSE(verdict(verdicts, "the server's close() sends a FIN").ok);
    EXPECT_TRUE(verdict(verdicts, "three recv() calls").ok);
}

TEST(CloseWaitForever, EofReportedOnlyOnceFailsTheEofFact) {
    // End of file as a one-off event: the second recv() would block.
    Recording r = load("close-wait-forever");
    fail_with_kernel(r, step(r, "client", kRecv, 1), EventKind::Recv, "EAGAIN");
    auto verdicts = verdicts_of(r, "close-wait-forever");
    EXPECT_FALSE(verdict(verdicts, "three recv() calls").ok);
    EXPECT_TRUE(verdict(verdicts, "FIN_WAIT2 mini-socket").ok);
}

TEST(CloseWaitForever, AFinWait2WithoutATimerFailsTheMinisocketFact) {
    // The books' FIN_WAIT2, waiting for the peer's FIN with no timer.
    Recording r = load("close-wait-forever");
    for (int nth = 0; nth < 2; ++nth) {
        Step* look = step(r, "client", kDiagServer, nth);
        ASSERT_NE(look, nullptr);
        look->info["timer"] = "off";
        look->info["timer_ms"] = 0;
    }
    auto verdicts = verdicts_of(r, "close-wait-forever");
    EXPECT_FALSE(verdict(verdicts, "FIN_WAIT2 mini-socket").ok);
    EXPECT_TRUE(verdict(verdicts, "after TCP_LINGER2").ok);
}

TEST(CloseWaitForever, ATimerThatIsReArmedFailsTheMinisocketFact) {
    Recording r = load("close-wait-forever");
    Step* second = step(r, "client", kDiagServer, 1);
    ASSERT_NE(second, nullptr);
    second->info["timer_ms"] = 2950;
    EXPECT_FALSE(verdict(verdicts_of(r, "close-wait-forever"), "FIN_WAIT2 mini-socket").ok);
}

TEST(CloseWaitForever, AMinisocketThatOutlivesTheTimerFailsTheExpiryFact) {
    Recording r = load("close-wait-forever");
    Step* gone = step(r, "client", kDiagServer, 2);
    ASSERT_NE(gone, nullptr);
    gone->info = {{"tcp_state", "FIN_WAIT2"}, {"timer", "timewait"}, {"timer_ms", 0}};
    gone->cookie = step(r, "client", kDiagServer, 1)->cookie;
    auto verdicts = verdicts_of(r, "close-wait-forever");
    EXPECT_FALSE(verdict(verdicts, "after TCP_LINGER2").ok);
    EXPECT_TRUE(verdict(verdicts, "FIN_WAIT2 mini-socket").ok);
}

TEST(CloseWaitForever, AResetAtExpiryFailsTheSilentExpiryFact) {
    // The expiring orphan tells the peer with a RST.
    Recording r = load("close-wait-forever");
    Step* alive = step(r, "client", kDiagServer, 1);
    Step* gone = step(r, "client", kDiagServer, 2);
    ASSERT_NE(alive, nullptr);
    ASSERT_NE(gone, nullptr);
    Event* fin = event_where(r, [](const Event& e, const std::string& side) {
        return is_fin_from(e, side, "server");
    });
    ASSERT_NE(fin, nullptr);
    Event rst = *fin;
    rst.tcp_flags = TS_TCP_RST;
    rst.ts_ns = alive->ts_ns + (gone->start_ns - alive->ts_ns) / 2;
    r.events.push_back(rst);
    auto verdicts = verdicts_of(r, "close-wait-forever");
    EXPECT_FALSE(verdict(verdicts, "after TCP_LINGER2").ok);
    EXPECT_TRUE(verdict(verdicts, "stays in CLOSE_WAIT").ok);
}

TEST(CloseWaitForever, AClientThatClosesOnItsOwnFailsTheCloseWaitFact) {
    // A kernel that times out CLOSE_WAIT: the client's FIN (and LAST_ACK)
    // come before its last look, after the mini-socket expired.
    Recording r = load("close-wait-forever");
    Step* gone = step(r, "client", kDiagServer, 2);
    ASSERT_NE(gone, nullptr);
    Step* connect = step(r, "client", kConnect);
    ASSERT_NE(connect, nullptr);
    // The client's last look at its own connection.
    Step* last = nullptr;
    for (auto& s : r.steps) {
        if (s.side == "client" && StepMatch(StepOp::SockDiag, connect->local).matches(s)) last = &s;
    }
    ASSERT_NE(last, nullptr);
    uint64_t at = gone->ts_ns + (last->start_ns - gone->ts_ns) / 2;
    for (Event* e : events_where(r, [](const Event& e, const std::string& side) {
             return is_state(e, "CLOSE_WAIT", "LAST_ACK") || is_fin_from(e, side, "client");
         })) {
        e->ts_ns = at++;
    }
    auto verdicts = verdicts_of(r, "close-wait-forever");
    EXPECT_FALSE(verdict(verdicts, "stays in CLOSE_WAIT").ok);
    EXPECT_TRUE(verdict(verdicts, "after TCP_LINGER2").ok);
}

// ---- shutdown-write ----

TEST(ShutdownWrite, AShutdownThatSendsNoFinFailsTheShutdownFact) {
    // The FIN kept back until close(), as if shutdown() only marked the socket.
    Recording r = load("shutdown-write");
    Event* fin = event_where(r, [](const Event& e, const std::string& side) {
        return is_fin_from(e, side, "client");
    });
    ASSERT_NE(fin, nullptr);
    fin->tcp_flags = TS_TCP_ACK;
    auto verdicts = verdicts_of(r, "shutdown-write");
    EXPECT_FALSE(verdict(verdicts, "shutdown(SHUT_WR) returns 0").ok);
    EXPECT_TRUE(verdict(verdicts, "the server reads the request").ok);
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
    EXPECT_TRUE(verdict(verdicts_of(r, "shutdown-write"), "shutdown(SHUT_WR) returns 0").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "shutdown-write"), "shutdown(SHUT_WR) returns 0").ok);
}

TEST(ShutdownWrite, AServerThatSeesAResetFailsTheEofFact) {
    // shutdown() taken as an abort: the server's read fails instead of EOF.
    Recording r = load("shutdown-write");
    Step* eof = step(r, "server", kRecv, 1);
    ASSERT_NE(eof, nullptr);
    make_fail(eof, "ECONNRESET");
    auto verdicts = verdicts_of(r, "shutdown-write");
    EXPECT_FALSE(verdict(verdicts, "the server reads the request").ok);
    EXPECT_TRUE(verdict(verdicts, "the client still reads the reply").ok);
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
    auto verdicts = verdicts_of(r, "shutdown-write");
    EXPECT_FALSE(verdict(verdicts, "the server reads the request").ok);
    EXPECT_TRUE(verdict(verdicts, "FIN_WAIT2 -> CLOSE before").ok);
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
    auto verdicts = verdicts_of(r, "shutdown-write");
    EXPECT_FALSE(verdict(verdicts, "the client still reads the reply").ok);
    EXPECT_TRUE(verdict(verdicts, "FIN_WAIT2 -> CLOSE before").ok);
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
    auto verdicts = verdicts_of(r, "shutdown-write");
    EXPECT_FALSE(verdict(verdicts, "FIN_WAIT2 -> CLOSE before").ok);
    EXPECT_TRUE(verdict(verdicts, "the client still reads the reply").ok);
}

TEST(ShutdownWrite, ACloseThatEndsTimeWaitFailsTheSockDiagFact) {
    // close() taking the TIME_WAIT mini-socket with it.
    Recording r = load("shutdown-write");
    Step* after = step(r, "client", kSockDiag, 1);
    ASSERT_NE(after, nullptr);
    after->info = {{"tcp_state", nullptr}};
    after->cookie = 0;
    auto verdicts = verdicts_of(r, "shutdown-write");
    EXPECT_FALSE(verdict(verdicts, "sock_diag (not a tracepoint)").ok);
    EXPECT_TRUE(verdict(verdicts, "FIN_WAIT2 -> CLOSE before").ok);
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
    auto verdicts = verdicts_of(r, "shutdown-write");
    EXPECT_FALSE(verdict(verdicts, "sock_diag (not a tracepoint)").ok);
    EXPECT_TRUE(verdict(verdicts, "shutdown(SHUT_WR) returns 0").ok);
}

}  // namespace
}  // namespace tcpscope
