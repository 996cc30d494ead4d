// The facts of close-wait-forever (facts.cpp; a scenario about a connection
// closed in one direction) on its run recorded on Linux 6.18 (recording.jsonl,
// `tcpscope run close-wait-forever --json`): changing the recording the way a
// different kernel behaviour would makes the fact about that behaviour fail,
// and leaves a fact about something else holding (that every fact holds on the
// recording itself: tests/unit/recorded_runs_test.cpp). Facts are named by
// their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

// sock_diag looks at the server's connection (local end: the listening address).
const StepMatch kDiagServer{StepOp::SockDiag, "127.0.0.1:5000"};

TEST(CloseWaitForever, AnAbortiveCloseFailsTheServerFinFact) {
    // The server's close() resets instead (as with unread data or SO_LINGER 0).
    Recording r = load("close-wait-forever");
    Event* fin = event_where(r, [](const Event& e, const std::string& side) {
        return is_fin_from(e, side, "server");
    });
    ASSERT_NE(fin, nullptr);
    fin->tcp_flags = TS_TCP_RST | TS_TCP_ACK;
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.server-closes-at-once",
                                "close-wait-forever.client-reads-eof-again-and-again"));
}

TEST(CloseWaitForever, EofReportedOnlyOnceFailsTheEofFact) {
    // End of file as a one-off event: the second recv() would block.
    Recording r = load("close-wait-forever");
    fail_with_kernel(r, step(r, "client", kRecv, 1), EventKind::Recv, "EAGAIN");
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.client-reads-eof-again-and-again",
                                "close-wait-forever.fin-wait2-minisocket-seen"));
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
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.fin-wait2-minisocket-seen",
                                "close-wait-forever.minisocket-expires-silently"));
}

TEST(CloseWaitForever, ATimerThatIsReArmedFailsTheMinisocketFact) {
    Recording r = load("close-wait-forever");
    Step* second = step(r, "client", kDiagServer, 1);
    ASSERT_NE(second, nullptr);
    second->info["timer_ms"] = 2950;
    EXPECT_FALSE(verdict(verdicts_of(r, "close-wait-forever"), "close-wait-forever.fin-wait2-minisocket-seen").ok);
}

TEST(CloseWaitForever, AMinisocketThatOutlivesTheTimerFailsTheExpiryFact) {
    Recording r = load("close-wait-forever");
    Step* gone = step(r, "client", kDiagServer, 2);
    ASSERT_NE(gone, nullptr);
    gone->info = {{"tcp_state", "FIN_WAIT2"}, {"timer", "timewait"}, {"timer_ms", 0}};
    gone->cookie = step(r, "client", kDiagServer, 1)->cookie;
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.minisocket-expires-silently",
                                "close-wait-forever.fin-wait2-minisocket-seen"));
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
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.minisocket-expires-silently",
                                "close-wait-forever.client-stays-in-close-wait"));
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
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.client-stays-in-close-wait",
                                "close-wait-forever.minisocket-expires-silently"));
}

}  // namespace
}  // namespace tcpscope
