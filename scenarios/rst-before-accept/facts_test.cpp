// The facts of rst-before-accept (facts.cpp; a scenario about how a connection
// ends and what select, poll and epoll report) on its run recorded on Linux
// 6.18 (recording.jsonl, `tcpscope run rst-before-accept --json`): changing the
// recording the way a different kernel behaviour would makes the fact about
// that behaviour fail, and leaves a fact about something else holding (that
// every fact holds on the recording itself: tests/unit/recorded_runs_test.cpp).
// Facts are named by their id.
#include <gtest/gtest.h>

#include <algorithm>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

const StepMatch kSelect{StepOp::Select, "read"};

TEST(RstBeforeAccept, TheTextbookEconnabortedFailsTheAcceptFact) {
    Recording r = load("rst-before-accept");
    Step* accept = step(r, "server", kAccept);
    ASSERT_NE(accept, nullptr);
    accept->ret = -1;
    accept->errno_name = "ECONNABORTED";
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "rst-before-accept.accept-returns-it").ok);
}

TEST(RstBeforeAccept, NoResetOnTheQueuedSocketFailsTheFact) {
    Recording r = load("rst-before-accept");
    r.events.erase(std::remove_if(r.events.begin(), r.events.end(),
                                  [](const Event& e) { return e.kind == EventKind::ResetReceived; }),
                   r.events.end());
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "rst-before-accept.queued-connection-reset").ok);
}

TEST(RstBeforeAccept, AListenerNoLongerReadableFailsTheSelectFact) {
    // The Berkeley account: the reset connection leaves the queue.
    Recording r = load("rst-before-accept");
    Step* again = step(r, "server", kSelect, 1);
    ASSERT_NE(again, nullptr);
    report_ready(again, again->cookie, 0);
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "rst-before-accept.listener-stays-readable").ok);
}

TEST(RstBeforeAccept, NoRstBetweenTheSelectsFailsTheSelectFact) {
    Recording r = load("rst-before-accept");
    erase_events(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetReceived;
    });
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "rst-before-accept.listener-stays-readable").ok);
}

}  // namespace
}  // namespace tcpscope
