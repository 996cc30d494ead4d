// The facts of time-wait (facts.cpp; a scenario about how a connection ends) on
// its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run time-wait
// --json`): changing the recording the way a different kernel behaviour would
// makes the fact about that behaviour fail, and leaves a fact about something
// else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include <algorithm>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(TimeWait, AStateEventToTimeWaitFailsTheInvisibilityFact) {
    Recording r = load("time-wait");
    auto last = std::find_if(r.events.rbegin(), r.events.rend(), [](const Event& e) {
        return e.kind == EventKind::State && tcp_state_name(e.new_state) == "CLOSE" &&
               tcp_state_name(e.old_state) == "FIN_WAIT2";
    });
    ASSERT_NE(last, r.events.rend());
    last->new_state = *tcp_state_from_name("TIME_WAIT");
    EXPECT_FALSE(verdict(verdicts_of(r, "time-wait"), "time-wait.time-wait-only-in-sock-diag").ok);
}

TEST(TimeWait, ReuseOnTheNewSocketAloneBindingFailsTheFact) {
    // Round 1 (listener without SO_REUSEADDR): the rebind with SO_REUSEADDR
    // succeeds, as the books' reading of SO_REUSEADDR would have it.
    Recording r = load("time-wait");
    Step* reuse_bind = step(r, "server", StepMatch{StepOp::Bind, "127.0.0.1:5000"}, 2);
    ASSERT_NE(reuse_bind, nullptr);
    reuse_bind->ret = 0;
    reuse_bind->errno_name.clear();
    EXPECT_TRUE(fails_and_holds(r, "time-wait.rebind-without-original-reuse",
                                "time-wait.rebind-with-original-reuse"));
}

TEST(TimeWait, ReuseOnBothStillRefusedFailsTheFact) {
    Recording r = load("time-wait");
    Step* reuse_bind = step(r, "server", StepMatch{StepOp::Bind, "127.0.0.1:5001"}, 2);
    ASSERT_NE(reuse_bind, nullptr);
    reuse_bind->ret = -1;
    reuse_bind->errno_name = "EADDRINUSE";
    EXPECT_FALSE(verdict(verdicts_of(r, "time-wait"), "time-wait.rebind-with-original-reuse").ok);
}

}  // namespace
}  // namespace tcpscope
