// The facts of close-unread-data (facts.cpp; a scenario about how a connection
// ends) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run
// close-unread-data --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include <algorithm>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

TEST(CloseUnreadData, AFinFromTheCloserFailsTheRstFact) {
    // The server's RST turned into a FIN, as close() does without unread data.
    Recording r = load("close-unread-data");
    for (auto& e : r.events) {
        if (e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_RST)) e.tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
    }
    EXPECT_FALSE(verdict(verdicts_of(r, "close-unread-data"), "close-unread-data.rst-instead-of-fin").ok);
}

TEST(CloseUnreadData, AnotherResetReasonFailsTheRstFact) {
    Recording r = load("close-unread-data");
    for (auto& e : r.events) {
        if (e.kind == EventKind::ResetSent) e.reason = r.reasons.intern("NOT_SPECIFIED");
    }
    EXPECT_FALSE(verdict(verdicts_of(r, "close-unread-data"), "close-unread-data.rst-instead-of-fin").ok);
}

TEST(CloseUnreadData, ACloserLeftInTimeWaitFailsTheNothingLeftFact) {
    Recording r = load("close-unread-data");
    Step* after = step(r, "server", kSockDiag, 1);
    ASSERT_NE(after, nullptr);
    after->info = {{"tcp_state", "TIME_WAIT"}, {"timer", "timewait"}};
    EXPECT_FALSE(verdict(verdicts_of(r, "close-unread-data"), "close-unread-data.nothing-left-of-the-closer").ok);
}

}  // namespace
}  // namespace tcpscope
