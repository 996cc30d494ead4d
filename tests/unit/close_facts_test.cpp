// The facts of the scenarios about how a connection ends (zero-byte-send, sigpipe-default,
// close-unread-data, linger-zero, time-wait, rst-before-accept), on runs
// recorded on Linux 6.18 (tests/fixtures/<name>.jsonl, `tcpscope run <name>
// --json`). Each scenario: changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail (that every fact
// holds on the recording itself: recorded_runs_test.cpp).
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
    auto verdicts = verdicts_of(r, "sigpipe-default");
    EXPECT_FALSE(verdict(verdicts, "kills the client").ok);
    EXPECT_TRUE(verdict(verdicts, "generates SIGPIPE").ok);
}

TEST(SigpipeDefault, NoSigpipeFailsTheSignalFact) {
    Recording r = load("sigpipe-default");
    r.events.erase(std::remove_if(r.events.begin(), r.events.end(),
                                  [](const Event& e) { return e.kind == EventKind::Signal; }),
                   r.events.end());
    EXPECT_FALSE(verdict(verdicts_of(r, "sigpipe-default"), "generates SIGPIPE").ok);
}

// Both of the kernel's answers to data sent to the closed server hold, and
// a reason that does not match the socket that sent it does not.
TEST(SigpipeDefault, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("sigpipe-default");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", false);
    Verdict v = verdict(verdicts_of(r, "sigpipe-default"), "the first one-byte send");
    EXPECT_TRUE(v.ok) << v.detail;
    EXPECT_NE(v.detail.find("kept in FIN_WAIT2"), std::string::npos) << v.detail;
}

TEST(SigpipeDefault, AKeptOrphanAnsweringForAMinisocketFailsTheRstFact) {
    Recording r = load("sigpipe-default");
    keep_server_orphan(r, "TCP_TIMEWAIT_SOCKET", false);
    EXPECT_FALSE(verdict(verdicts_of(r, "sigpipe-default"), "the first one-byte send").ok);
}

TEST(ZeroByteSend, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("zero-byte-send");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", false);
    auto verdicts = verdicts_of(r, "zero-byte-send");
    for (const auto& v : verdicts) EXPECT_TRUE(v.ok) << v.fact << ": " << v.detail;
}

TEST(ZeroByteSend, AnAbortFromAMinisocketFailsTheRstFact) {
    Recording r = load("zero-byte-send");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", true);
    EXPECT_FALSE(verdict(verdicts_of(r, "zero-byte-send"), "answers with a RST").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "zero-byte-send"), "answers with a RST").ok);
}

TEST(CloseUnreadData, AFinFromTheCloserFailsTheRstFact) {
    // The server's RST turned into a FIN, as close() does without unread data.
    Recording r = load("close-unread-data");
    for (auto& e : r.events) {
        if (e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_RST)) e.tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
    }
    EXPECT_FALSE(verdict(verdicts_of(r, "close-unread-data"), "and no FIN").ok);
}

TEST(CloseUnreadData, AnotherResetReasonFailsTheRstFact) {
    Recording r = load("close-unread-data");
    for (auto& e : r.events) {
        if (e.kind == EventKind::ResetSent) e.reason = r.reasons.intern("NOT_SPECIFIED");
    }
    EXPECT_FALSE(verdict(verdicts_of(r, "close-unread-data"), "and no FIN").ok);
}

TEST(CloseUnreadData, ACloserLeftInTimeWaitFailsTheNothingLeftFact) {
    Recording r = load("close-unread-data");
    Step* after = step(r, "server", kSockDiag, 1);
    ASSERT_NE(after, nullptr);
    after->info = {{"tcp_state", "TIME_WAIT"}, {"timer", "timewait"}};
    EXPECT_FALSE(verdict(verdicts_of(r, "close-unread-data"), "no FIN_WAIT").ok);
}

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
    EXPECT_FALSE(verdict(verdicts_of(r, "linger-zero"), "nothing else leaves").ok);
}

TEST(LingerZero, TheServerReadingTheQueuedDataFailsTheDiscardFact) {
    Recording r = load("linger-zero");
    Step* first = step(r, "server", kRecv);
    ASSERT_NE(first, nullptr);
    first->ret += 1;
    EXPECT_FALSE(verdict(verdicts_of(r, "linger-zero"), "discarded").ok);
}

TEST(TimeWait, AStateEventToTimeWaitFailsTheInvisibilityFact) {
    Recording r = load("time-wait");
    auto last = std::find_if(r.events.rbegin(), r.events.rend(), [](const Event& e) {
        return e.kind == EventKind::State && tcp_state_name(e.new_state) == "CLOSE" &&
               tcp_state_name(e.old_state) == "FIN_WAIT2";
    });
    ASSERT_NE(last, r.events.rend());
    last->new_state = *tcp_state_from_name("TIME_WAIT");
    EXPECT_FALSE(verdict(verdicts_of(r, "time-wait"), "no tracepoint reports").ok);
}

TEST(TimeWait, ReuseOnTheNewSocketAloneBindingFailsTheFact) {
    // Round 1 (listener without SO_REUSEADDR): the rebind with SO_REUSEADDR
    // succeeds, as the books' reading of SO_REUSEADDR would have it.
    Recording r = load("time-wait");
    Step* reuse_bind = step(r, "server", StepMatch{StepOp::Bind, "127.0.0.1:5000"}, 2);
    ASSERT_NE(reuse_bind, nullptr);
    reuse_bind->ret = 0;
    reuse_bind->errno_name.clear();
    auto verdicts = verdicts_of(r, "time-wait");
    EXPECT_FALSE(verdict(verdicts, "listener without SO_REUSEADDR").ok);
    EXPECT_TRUE(verdict(verdicts, "listener with SO_REUSEADDR").ok);
}

TEST(TimeWait, ReuseOnBothStillRefusedFailsTheFact) {
    Recording r = load("time-wait");
    Step* reuse_bind = step(r, "server", StepMatch{StepOp::Bind, "127.0.0.1:5001"}, 2);
    ASSERT_NE(reuse_bind, nullptr);
    reuse_bind->ret = -1;
    reuse_bind->errno_name = "EADDRINUSE";
    EXPECT_FALSE(verdict(verdicts_of(r, "time-wait"), "listener with SO_REUSEADDR").ok);
}

TEST(RstBeforeAccept, TheTextbookEconnabortedFailsTheAcceptFact) {
    Recording r = load("rst-before-accept");
    Step* accept = step(r, "server", kAccept);
    ASSERT_NE(accept, nullptr);
    accept->ret = -1;
    accept->errno_name = "ECONNABORTED";
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "does not fail").ok);
}

TEST(RstBeforeAccept, NoResetOnTheQueuedSocketFailsTheFact) {
    Recording r = load("rst-before-accept");
    r.events.erase(std::remove_if(r.events.begin(), r.events.end(),
                                  [](const Event& e) { return e.kind == EventKind::ResetReceived; }),
                   r.events.end());
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "closes the queued connection").ok);
}

}  // namespace
}  // namespace tcpscope
