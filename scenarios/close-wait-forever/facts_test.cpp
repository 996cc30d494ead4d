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

// The kernel's other way with the orphan: the client's ACK of the FIN came
// while close() still held the socket, so the full socket stays in
// FIN_WAIT2 on the keepalive timer, and when TCP_LINGER2 runs out the timer
// resets the connection (TCP_STATE): the server goes FIN_WAIT2 -> CLOSE then,
// and the client leaves CLOSE_WAIT on that RST. What was seen beside the
// churn on 6.12 under qemu, made from this kernel's run.
void keep_full_orphan(Recording& r, uint64_t* expiry_out = nullptr) {
    const Step* close = step(r, "server", kClose);
    ASSERT_NE(close, nullptr);
    const Step* linger = step(r, "server", StepMatch(StepOp::SetSockOpt, "TCP_LINGER2"));
    ASSERT_NE(linger, nullptr);
    const uint64_t expiry = close->ts_ns + static_cast<uint64_t>(linger->size) * 1'000'000'000 + 50'000'000;
    for (int nth = 0; nth < 2; ++nth) {
        Step* look = step(r, "client", kDiagServer, nth);
        ASSERT_NE(look, nullptr);
        look->info["timer"] = "keepalive";
    }
    Event* handover = event_where(r, [](const Event& e, const std::string& side) {
        return side == "server" && is_state(e, "FIN_WAIT2", "CLOSE");
    });
    Event* fin = event_where(r, [](const Event& e, const std::string& side) {
        return is_fin_from(e, side, "server");
    });
    Event* close_wait = event_where(r, [](const Event& e, const std::string& side) {
        return side == "client" && is_state(e, "ESTABLISHED", "CLOSE_WAIT");
    });
    ASSERT_NE(handover, nullptr);
    ASSERT_NE(fin, nullptr);
    ASSERT_NE(close_wait, nullptr);
    handover->ts_ns = expiry;
    if (expiry_out) *expiry_out = expiry;
    Event reset = *handover;
    reset.kind = EventKind::ResetSent;
    reset.state = state_value("FIN_WAIT2");
    reset.reason = r.reasons.intern("TCP_STATE");
    reset.ts_ns = expiry - 2;
    Event rst = *fin;
    rst.tcp_flags = TS_TCP_RST | TS_TCP_ACK;
    rst.ts_ns = expiry - 1;
    Event received = *close_wait;
    received.kind = EventKind::ResetReceived;
    received.state = state_value("CLOSE_WAIT");
    received.ts_ns = expiry + 1;
    Event closed = *close_wait;
    closed.old_state = state_value("CLOSE_WAIT");
    closed.new_state = state_value("CLOSE");
    closed.ts_ns = expiry + 2;
    for (const Event& e : {reset, rst, received, closed}) r.events.push_back(e);
    // The client's last look at its own socket finds nothing.
    const Step* gone = step(r, "client", kDiagServer, 2);
    Step* connect = step(r, "client", kConnect);
    ASSERT_NE(gone, nullptr);
    ASSERT_NE(connect, nullptr);
    Step* last = nullptr;
    for (auto& st : r.steps) {
        if (st.side == "client" && StepMatch(StepOp::SockDiag, connect->local).matches(st)) last = &st;
    }
    ASSERT_NE(last, nullptr);
    last->info = gone->info;
    last->ret = gone->ret;
    last->cookie = gone->cookie;
}

TEST(CloseWaitForever, TheFullOrphanOnTheKeepaliveTimerHoldsEveryFactAndSaysSo) {
    Recording r = load("close-wait-forever");
    keep_full_orphan(r);
    for (const Verdict& v : verdicts_of(r, "close-wait-forever")) {
        EXPECT_TRUE(v.ok) << v.fact_id << ": " << v.detail;
        if (v.fact_id != "close-wait-forever.client-reads-eof-again-and-again")
            EXPECT_NE(v.detail.find("keepalive timer"), std::string::npos) << v.fact_id << ": " << v.detail;
    }
}

TEST(CloseWaitForever, TheFullOrphanMustBeResetWhenTheLingerRunsOut) {
    // Kept on the keepalive timer, it may not vanish silently.
    Recording r = load("close-wait-forever");
    uint64_t expiry = 0;
    keep_full_orphan(r, &expiry);
    ASSERT_EQ(erase_events(r, [&](const Event& e, const std::string&) {
                  return e.ts_ns == expiry - 2 || e.ts_ns == expiry - 1;
              }),
              2u);
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.minisocket-expires-silently",
                                "close-wait-forever.fin-wait2-minisocket-seen"));
}

TEST(CloseWaitForever, TheFullOrphanClosedBeforeTheLingerRunsOutFailsTheFacts) {
    // Closed at once, but sock_diag showed the full socket on its timer:
    // the two do not go together.
    Recording r = load("close-wait-forever");
    keep_full_orphan(r);
    Event* handover = event_where(r, [](const Event& e, const std::string& side) {
        return side == "server" && is_state(e, "FIN_WAIT2", "CLOSE");
    });
    const Event* fin_wait2 = event_where(r, [](const Event& e, const std::string& side) {
        return side == "server" && is_state(e, "FIN_WAIT1", "FIN_WAIT2");
    });
    ASSERT_NE(handover, nullptr);
    ASSERT_NE(fin_wait2, nullptr);
    handover->ts_ns = fin_wait2->ts_ns + 1000;
    auto verdicts = verdicts_of(r, "close-wait-forever");
    EXPECT_FALSE(verdict(verdicts, "close-wait-forever.server-closes-at-once").ok)
        << verdict(verdicts, "close-wait-forever.server-closes-at-once").detail;
    EXPECT_FALSE(verdict(verdicts, "close-wait-forever.fin-wait2-minisocket-seen").ok);
    EXPECT_FALSE(verdict(verdicts, "close-wait-forever.minisocket-expires-silently").ok);
}

TEST(CloseWaitForever, AClientThatLeavesCloseWaitWithoutTheResetFailsTheCloseWaitFact) {
    Recording r = load("close-wait-forever");
    uint64_t expiry = 0;
    keep_full_orphan(r, &expiry);
    ASSERT_EQ(erase_events(r, [&](const Event& e, const std::string&) {
                  return e.kind == EventKind::ResetReceived && e.ts_ns == expiry + 1;
              }),
              1u);
    EXPECT_TRUE(fails_and_holds(r, "close-wait-forever.client-stays-in-close-wait",
                                "close-wait-forever.minisocket-expires-silently"));
}

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
