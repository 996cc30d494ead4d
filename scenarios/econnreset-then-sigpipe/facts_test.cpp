// The facts of econnreset-then-sigpipe (facts.cpp; a scenario about a peer that
// goes away) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run
// econnreset-then-sigpipe --json`): changing the recording the way a different
// kernel behaviour would makes the fact about that behaviour fail, and leaves a
// fact about something else holding (that every fact holds on the recording
// itself: tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(EconnresetThenSigpipe, AFinFromTheServerFailsTheRstFact) {
    // close() sending a FIN, as the books describe it.
    Recording r = load("econnreset-then-sigpipe");
    Event* rst = event_where(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && side == "server" && (e.tcp_flags & TS_TCP_RST);
    });
    ASSERT_NE(rst, nullptr);
    rst->tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
    EXPECT_TRUE(fails_and_holds(r, "econnreset-then-sigpipe.close-sends-rst",
                                "econnreset-then-sigpipe.rst-hits-established"));
}

TEST(EconnresetThenSigpipe, AnotherResetReasonFailsTheRstFact) {
    Recording r = load("econnreset-then-sigpipe");
    Event* rst = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetSent;
    });
    ASSERT_NE(rst, nullptr);
    rst->reason = r.reasons.intern("TCP_STATE");
    EXPECT_FALSE(verdict(verdicts_of(r, "econnreset-then-sigpipe"), "econnreset-then-sigpipe.close-sends-rst").ok);
}

TEST(EconnresetThenSigpipe, EpipeFromTheResetFailsTheEstablishedFact) {
    // The error tcp_reset() sets in CLOSE_WAIT, not in ESTABLISHED.
    Recording r = load("econnreset-then-sigpipe");
    set_sock_error(r, "client", "EPIPE");
    EXPECT_TRUE(fails_and_holds(r, "econnreset-then-sigpipe.rst-hits-established",
                                "econnreset-then-sigpipe.first-send-econnreset"));
}

TEST(EconnresetThenSigpipe, AFirstSendThatGetsEpipeFailsTheFact) {
    // The pending error not reported: the first send already gets EPIPE.
    Recording r = load("econnreset-then-sigpipe");
    fail_with_kernel(r, step(r, "client", kSendOne, 0), EventKind::Send, "EPIPE");
    EXPECT_TRUE(fails_and_holds(r, "econnreset-then-sigpipe.first-send-econnreset",
                                "econnreset-then-sigpipe.second-send-sigpipe"));
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
    EXPECT_TRUE(fails_and_holds(r, "econnreset-then-sigpipe.first-send-econnreset",
                                "econnreset-then-sigpipe.second-send-sigpipe"));
}

TEST(EconnresetThenSigpipe, NoSigpipeAtTheSecondSendFailsTheFact) {
    Recording r = load("econnreset-then-sigpipe");
    EXPECT_EQ(erase_events(r, is_signal), 1u);
    EXPECT_TRUE(fails_and_holds(r, "econnreset-then-sigpipe.second-send-sigpipe",
                                "econnreset-then-sigpipe.sigpipe-kills"));
}

TEST(EconnresetThenSigpipe, TheResetReportedTwiceFailsTheSecondSendFact) {
    // The second send finds ECONNRESET again instead of EPIPE.
    Recording r = load("econnreset-then-sigpipe");
    Event* second = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Send && e.ret == -32;
    });
    ASSERT_NE(second, nullptr);
    second->ret = -104;
    EXPECT_FALSE(verdict(verdicts_of(r, "econnreset-then-sigpipe"), "econnreset-then-sigpipe.second-send-sigpipe").ok);
}

TEST(EconnresetThenSigpipe, AClientThatSurvivesFailsTheDeathFact) {
    Recording r = load("econnreset-then-sigpipe");
    Step* wait = step(r, "client", StepMatch{StepOp::Wait, "client"});
    ASSERT_NE(wait, nullptr);
    wait->info = {{"exit_status", 0}};
    EXPECT_TRUE(fails_and_holds(r, "econnreset-then-sigpipe.sigpipe-kills",
                                "econnreset-then-sigpipe.second-send-sigpipe"));
}

}  // namespace
}  // namespace tcpscope
