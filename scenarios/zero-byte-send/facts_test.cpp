// The facts of zero-byte-send (facts.cpp; a scenario about how a connection
// ends) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run zero-
// byte-send --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include <algorithm>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(ZeroByteSend, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("zero-byte-send");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", false);
    auto verdicts = verdicts_of(r, "zero-byte-send");
    for (const auto& v : verdicts) EXPECT_TRUE(v.ok) << v.fact << ": " << v.detail;
}

TEST(ZeroByteSend, AnAbortFromAMinisocketFailsTheRstFact) {
    Recording r = load("zero-byte-send");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", true);
    EXPECT_FALSE(verdict(verdicts_of(r, "zero-byte-send"), "zero-byte-send.peer-answers-rst").ok);
}

TEST(ZeroByteSend, AnAbortOnDataFromTheMinisocketPathFailsTheRstFact) {
    // The handover to the mini-socket happened at close(): the RST must be
    // the mini-socket's, whatever its reason says.
    Recording r = load("zero-byte-send");
    Event* rst = event_where(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::ResetSent && side == "server";
    });
    ASSERT_NE(rst, nullptr);
    rst->reason = r.reasons.intern("TCP_ABORT_ON_DATA");
    EXPECT_FALSE(verdict(verdicts_of(r, "zero-byte-send"), "zero-byte-send.peer-answers-rst").ok);
}

}  // namespace
}  // namespace tcpscope
