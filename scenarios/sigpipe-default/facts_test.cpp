// The facts of sigpipe-default (facts.cpp; a scenario about how a connection
// ends) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run
// sigpipe-default --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include <algorithm>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(SigpipeDefault, AClientThatSurvivesFailsTheDeathFact) {
    Recording r = load("sigpipe-default");
    Step* wait = step(r, "client", StepMatch{StepOp::Wait, "client"});
    ASSERT_NE(wait, nullptr);
    wait->info = {{"exit_status", 0}};
    EXPECT_TRUE(fails_and_holds(r, "sigpipe-default.sigpipe-kills-the-client",
                                "sigpipe-default.second-send-raises-sigpipe"));
}

TEST(SigpipeDefault, NoSigpipeFailsTheSignalFact) {
    Recording r = load("sigpipe-default");
    r.events.erase(std::remove_if(r.events.begin(), r.events.end(),
                                  [](const Event& e) { return e.kind == EventKind::Signal; }),
                   r.events.end());
    EXPECT_FALSE(verdict(verdicts_of(r, "sigpipe-default"), "sigpipe-default.second-send-raises-sigpipe").ok);
}

// Both of the kernel's answers to data sent to the closed server hold, and
// a reason that does not match the socket that sent it does not.
TEST(SigpipeDefault, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("sigpipe-default");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", false);
    Verdict v = verdict(verdicts_of(r, "sigpipe-default"), "sigpipe-default.first-send-draws-rst");
    EXPECT_TRUE(v.ok) << v.detail;
    EXPECT_NE(v.detail.find("kept in FIN_WAIT2"), std::string::npos) << v.detail;
}

TEST(SigpipeDefault, AKeptOrphanAnsweringForAMinisocketFailsTheRstFact) {
    Recording r = load("sigpipe-default");
    keep_server_orphan(r, "TCP_TIMEWAIT_SOCKET", false);
    EXPECT_FALSE(verdict(verdicts_of(r, "sigpipe-default"), "sigpipe-default.first-send-draws-rst").ok);
}

}  // namespace
}  // namespace tcpscope
