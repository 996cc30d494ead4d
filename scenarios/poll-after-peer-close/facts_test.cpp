// The facts of poll-after-peer-close (facts.cpp; a scenario about what select,
// poll and epoll report) on its run recorded on Linux 6.18 (recording.jsonl,
// `tcpscope run poll-after-peer-close --json`): changing the recording the way
// a different kernel behaviour would makes the fact about that behaviour fail,
// and leaves a fact about something else holding (that every fact holds on the
// recording itself: tests/unit/recorded_runs_test.cpp). Facts are named by
// their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(PollAfterPeerClose, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("poll-after-peer-close");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", false);
    Verdict v = verdict(verdicts_of(r, "poll-after-peer-close"), "poll-after-peer-close.write-draws-rst");
    EXPECT_TRUE(v.ok) << v.detail;
}

TEST(PollAfterPeerClose, AKeptOrphanAnsweringForAMinisocketFailsTheRstFact) {
    Recording r = load("poll-after-peer-close");
    keep_server_orphan(r, "TCP_TIMEWAIT_SOCKET", false);
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "poll-after-peer-close.write-draws-rst").ok);
}

TEST(PollAfterPeerClose, NoRdhupFailsTheFirstPollFact) {
    Recording r = load("poll-after-peer-close");
    report_ready(step(r, "client", kPoll, 0), cookie_of(r, "client"), kReadyIn | kReadyOut);
    EXPECT_TRUE(fails_and_holds(r, "poll-after-peer-close.first-poll", "poll-after-peer-close.second-poll"));
}

TEST(PollAfterPeerClose, APollBeforeTheFinFailsTheFirstPollFact) {
    // The same bits, but the client's socket not yet in CLOSE_WAIT: the
    // bits no longer agree with the state the kernel reported.
    Recording r = load("poll-after-peer-close");
    Step* poll = step(r, "client", kPoll, 0);
    ASSERT_NE(poll, nullptr);
    Event* close_wait = event_where(r, [](const Event& e, const std::string& side) {
        return side == "client" && is_state(e, "ESTABLISHED", "CLOSE_WAIT");
    });
    ASSERT_NE(close_wait, nullptr);
    close_wait->ts_ns = poll->ts_ns + 1;
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "poll-after-peer-close.first-poll").ok);
}

TEST(PollAfterPeerClose, EconnresetOnTheSecondRecvFailsTheFact) {
    Recording r = load("poll-after-peer-close");
    fail_with_kernel(r, step(r, "client", kRecv, 1), EventKind::Recv, "ECONNRESET");
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "poll-after-peer-close.second-recv-still-zero").ok);
}

TEST(PollAfterPeerClose, ARstSettingEconnresetFailsTheFacts) {
    Recording r = load("poll-after-peer-close");
    set_sock_error(r, "client", "ECONNRESET");
    auto verdicts = verdicts_of(r, "poll-after-peer-close");
    EXPECT_FALSE(verdict(verdicts, "poll-after-peer-close.rst-hits-close-wait").ok);
    EXPECT_FALSE(verdict(verdicts, "poll-after-peer-close.second-recv-still-zero").ok);
}

TEST(PollAfterPeerClose, NoErrAfterTheRstFailsTheSecondPollFact) {
    Recording r = load("poll-after-peer-close");
    report_ready(step(r, "client", kPoll, 1), cookie_of(r, "client"), kReadyIn | kReadyOut | kReadyRdhup);
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "poll-after-peer-close.second-poll").ok);
}

TEST(PollAfterPeerClose, AKernelRecvResultThatDisagreesFailsTheFact) {
    Recording r = load("poll-after-peer-close");
    Event* kernel = kernel_result(r, step(r, "client", kRecv, 0), EventKind::Recv);
    ASSERT_NE(kernel, nullptr);
    kernel->ret = -104;
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "poll-after-peer-close.first-recv-eof").ok);
}

}  // namespace
}  // namespace tcpscope
