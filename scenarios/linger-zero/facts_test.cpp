// The facts of linger-zero (facts.cpp; a scenario about how a connection ends)
// on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run linger-zero
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

TEST(LingerZero, DataLeavingAfterCloseFailsTheRstFact) {
    // The queued data flushed after close(), as a lingering close would.
    Recording r = load("linger-zero");
    Timeline before(r.steps, r.events);
    const Step* close = before.find_step("client", kClose);
    ASSERT_NE(close, nullptr);
    auto data = std::find_if(r.events.begin(), r.events.end(), [](const Event& e) {
        return e.kind == EventKind::Packet && e.payload_len > 0;
    });
    ASSERT_NE(data, r.events.end());
    Event copy = *data;
    copy.ts_ns = close->ts_ns + 1000;
    r.events.push_back(copy);
    EXPECT_FALSE(verdict(verdicts_of(r, "linger-zero"), "linger-zero.rst-at-once").ok);
}

TEST(LingerZero, TheServerReadingTheQueuedDataFailsTheDiscardFact) {
    // Everything the client sent arrives: nothing was discarded.
    Recording r = load("linger-zero");
    Step* first = step(r, "server", kRecv);
    Step* diag = step(r, "client", kSockDiag);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(diag, nullptr);
    first->ret += diag->info.value("send_q", 0);
    EXPECT_FALSE(verdict(verdicts_of(r, "linger-zero"), "linger-zero.queued-data-discarded").ok);
}

TEST(LingerZero, LessThanWasAcknowledgedFailsTheDiscardFact) {
    Recording r = load("linger-zero");
    Step* first = step(r, "server", kRecv);
    ASSERT_NE(first, nullptr);
    first->ret -= 1;
    EXPECT_FALSE(verdict(verdicts_of(r, "linger-zero"), "linger-zero.queued-data-discarded").ok);
}

TEST(LingerZero, BytesInFlightWhenTheClientLookedMayStillArrive) {
    // Send-Q counts what was not yet acknowledged: a segment in flight at
    // the look can reach the server before the RST (6.1 under qemu).
    Recording r = load("linger-zero");
    Step* first = step(r, "server", kRecv);
    ASSERT_NE(first, nullptr);
    first->ret += 1;
    EXPECT_TRUE(verdict(verdicts_of(r, "linger-zero"), "linger-zero.queued-data-discarded").ok);
}

}  // namespace
}  // namespace tcpscope
