// The facts of poll-after-reset (facts.cpp; a scenario about what select, poll
// and epoll report) on its run recorded on Linux 6.18 (recording.jsonl,
// `tcpscope run poll-after-reset --json`): changing the recording the way a
// different kernel behaviour would makes the fact about that behaviour fail,
// and leaves a fact about something else holding (that every fact holds on the
// recording itself: tests/unit/recorded_runs_test.cpp). Facts are named by
// their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(PollAfterReset, ASecondEconnresetFailsTheReadsFact) {
    Recording r = load("poll-after-reset");
    fail_with_kernel(r, step(r, "client", kRecv, 1), EventKind::Recv, "ECONNRESET");
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "poll-after-reset.reads").ok);
}

TEST(PollAfterReset, NoHupFailsThePollFact) {
    Recording r = load("poll-after-reset");
    report_ready(step(r, "client", kPoll), cookie_of(r, "client"),
           kReadyIn | kReadyOut | kReadyErr | kReadyRdhup);
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "poll-after-reset.poll-after-rst").ok);
}

TEST(PollAfterReset, ARstInCloseWaitFailsTheResetFact) {
    Recording r = load("poll-after-reset");
    set_sock_error(r, "client", "EPIPE");
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "poll-after-reset.rst-hits-established").ok);
}

TEST(PollAfterReset, AWriteThatSucceedsFailsTheWriteFact) {
    Recording r = load("poll-after-reset");
    Step* send = step(r, "client", kSendOne);
    ASSERT_NE(send, nullptr);
    send->ret = 1;
    send->errno_name.clear();
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "poll-after-reset.write-gets-epipe").ok);
}

}  // namespace
}  // namespace tcpscope
