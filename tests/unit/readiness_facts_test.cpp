// The facts of the readiness scenarios (poll-after-peer-close,
// poll-after-reset, epoll-edge-triggered, epoll-rdhup, and the select() of
// rst-before-accept), on runs recorded on Linux 6.18. Each: changing the
// recording the way a different kernel behaviour (or the books' account)
// would makes the fact about it fail; that every fact holds on the
// recording itself is recorded_runs_test.cpp.
#include <gtest/gtest.h>

#include "readiness.h"
#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

const StepMatch kPoll{StepOp::Poll};
const StepMatch kSelect{StepOp::Select, "read"};
const StepMatch kWaitEt{StepOp::EpollWait, "et"};
const StepMatch kWaitLt{StepOp::EpollWait, "lt"};
const StepMatch kWait{StepOp::EpollWait};

// The step reported `mask` for its socket (or, with mask 0, nothing ready).
void report(Step* s, uint64_t cookie, uint32_t mask) {
    ASSERT_NE(s, nullptr);
    s->ret = mask ? 1 : 0;
    s->info["ready"] = StepInfo::array();
    if (mask) {
        s->info["ready"].push_back(
            StepInfo{{"cookie", cookie}, {"events", readiness_names(mask)}, {"mask", mask}});
    }
}

uint64_t cookie_of(const Recording& r, const std::string& side) {
    return Timeline(r.steps, r.events).cookie_of(side);
}

// ---- poll-after-peer-close ----

TEST(PollAfterPeerClose, AnOrphanKeptInFinWait2AbortsOnData) {
    Recording r = load("poll-after-peer-close");
    keep_server_orphan(r, "TCP_ABORT_ON_DATA", false);
    Verdict v = verdict(verdicts_of(r, "poll-after-peer-close"), "answers with a RST");
    EXPECT_TRUE(v.ok) << v.detail;
}

TEST(PollAfterPeerClose, AKeptOrphanAnsweringForAMinisocketFailsTheRstFact) {
    Recording r = load("poll-after-peer-close");
    keep_server_orphan(r, "TCP_TIMEWAIT_SOCKET", false);
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "answers with a RST").ok);
}

TEST(PollAfterPeerClose, NoRdhupFailsTheFirstPollFact) {
    Recording r = load("poll-after-peer-close");
    report(step(r, "client", kPoll, 0), cookie_of(r, "client"), kReadyIn | kReadyOut);
    auto verdicts = verdicts_of(r, "poll-after-peer-close");
    EXPECT_FALSE(verdict(verdicts, "IN|OUT|RDHUP (0x2005)").ok);
    EXPECT_TRUE(verdict(verdicts, "IN|OUT|ERR|HUP|RDHUP").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "IN|OUT|RDHUP (0x2005)").ok);
}

TEST(PollAfterPeerClose, EconnresetOnTheSecondRecvFailsTheFact) {
    Recording r = load("poll-after-peer-close");
    fail_with_kernel(r, step(r, "client", kRecv, 1), EventKind::Recv, "ECONNRESET");
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "still returns 0").ok);
}

TEST(PollAfterPeerClose, ARstSettingEconnresetFailsTheFacts) {
    Recording r = load("poll-after-peer-close");
    set_sock_error(r, "client", "ECONNRESET");
    auto verdicts = verdicts_of(r, "poll-after-peer-close");
    EXPECT_FALSE(verdict(verdicts, "hits the client in CLOSE_WAIT").ok);
    EXPECT_FALSE(verdict(verdicts, "still returns 0").ok);
}

TEST(PollAfterPeerClose, NoErrAfterTheRstFailsTheSecondPollFact) {
    Recording r = load("poll-after-peer-close");
    report(step(r, "client", kPoll, 1), cookie_of(r, "client"), kReadyIn | kReadyOut | kReadyRdhup);
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "IN|OUT|ERR|HUP|RDHUP").ok);
}

TEST(PollAfterPeerClose, AKernelRecvResultThatDisagreesFailsTheFact) {
    Recording r = load("poll-after-peer-close");
    Event* kernel = kernel_result(r, step(r, "client", kRecv, 0), EventKind::Recv);
    ASSERT_NE(kernel, nullptr);
    kernel->ret = -104;
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-peer-close"), "readable promised").ok);
}

// ---- poll-after-reset ----

TEST(PollAfterReset, ASecondEconnresetFailsTheReadsFact) {
    Recording r = load("poll-after-reset");
    fail_with_kernel(r, step(r, "client", kRecv, 1), EventKind::Recv, "ECONNRESET");
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "second recv() = 0").ok);
}

TEST(PollAfterReset, NoHupFailsThePollFact) {
    Recording r = load("poll-after-reset");
    report(step(r, "client", kPoll), cookie_of(r, "client"),
           kReadyIn | kReadyOut | kReadyErr | kReadyRdhup);
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "0x201d").ok);
}

TEST(PollAfterReset, ARstInCloseWaitFailsTheResetFact) {
    Recording r = load("poll-after-reset");
    set_sock_error(r, "client", "EPIPE");
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "hits the client in ESTABLISHED").ok);
}

TEST(PollAfterReset, AWriteThatSucceedsFailsTheWriteFact) {
    Recording r = load("poll-after-reset");
    Step* send = step(r, "client", kSendOne);
    ASSERT_NE(send, nullptr);
    send->ret = 1;
    send->errno_name.clear();
    EXPECT_FALSE(verdict(verdicts_of(r, "poll-after-reset"), "-1 EPIPE").ok);
}

// ---- epoll-edge-triggered ----

TEST(EpollEdgeTriggered, AnEdgeReportedAgainFailsTheNeverWokenFact) {
    // Level-triggered behaviour on the et registration.
    Recording r = load("epoll-edge-triggered");
    report(step(r, "server", kWaitEt, 1), cookie_of(r, "server"), kReadyIn);
    auto verdicts = verdicts_of(r, "epoll-edge-triggered");
    EXPECT_FALSE(verdict(verdicts, "never woken").ok);
    EXPECT_TRUE(verdict(verdicts, "reports IN on every wait").ok);
}

TEST(EpollEdgeTriggered, ARecvQThatDisagreesFailsTheNeverWokenFact) {
    Recording r = load("epoll-edge-triggered");
    Step* diag = step(r, "server", kSockDiag, 0);
    ASSERT_NE(diag, nullptr);
    diag->info["recv_q"] = 4096;
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "never woken").ok);
}

TEST(EpollEdgeTriggered, ANewSegmentBetweenTheWaitsFailsTheNeverWokenFact) {
    // A segment arriving would be a new edge: not waking would then be a bug.
    Recording r = load("epoll-edge-triggered");
    Step* again = step(r, "server", kWaitEt, 1);
    ASSERT_NE(again, nullptr);
    Event* data = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Packet && e.payload_len > 0;
    });
    ASSERT_NE(data, nullptr);
    Event copy = *data;
    copy.payload_len = 1;
    copy.ts_ns = again->start_ns + 1000;
    r.events.push_back(copy);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "never woken").ok);
}

TEST(EpollEdgeTriggered, ALevelTriggeredWaitThatTimesOutEarlyFailsTheFact) {
    Recording r = load("epoll-edge-triggered");
    report(step(r, "server", kWaitLt, 1), cookie_of(r, "server"), 0);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "reports IN on every wait").ok);
}

TEST(EpollEdgeTriggered, TwoSegmentsFailTheOneEdgeFact) {
    Recording r = load("epoll-edge-triggered");
    Event* data = event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Packet && e.payload_len == 4096;
    });
    ASSERT_NE(data, nullptr);
    data->payload_len = 2048;
    Event copy = *data;
    copy.seq += 2048;
    copy.ts_ns += 1;
    r.events.push_back(copy);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "in one segment").ok);
}

// ---- epoll-rdhup ----

TEST(EpollRdhup, AWakeUpWithoutRdhupFailsTheFact) {
    Recording r = load("epoll-rdhup");
    report(step(r, "server", kWait, 0), cookie_of(r, "server"), kReadyIn);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "IN|RDHUP (0x2001)").ok);
}

TEST(EpollRdhup, ASecondWakeUpFailsTheNoWakeUpFact) {
    Recording r = load("epoll-rdhup");
    report(step(r, "server", kWait, 1), cookie_of(r, "server"), kReadyIn | kReadyRdhup);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "no further wake-up").ok);
}

TEST(EpollRdhup, NoFinBeforeTheWaitFailsTheArrivalFact) {
    Recording r = load("epoll-rdhup");
    erase_events(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_FIN) && side == "client";
    });
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "arrived before the wait").ok);
}

TEST(EpollRdhup, AnErrorInsteadOfTheEofFailsTheFact) {
    Recording r = load("epoll-rdhup");
    fail_with_kernel(r, step(r, "server", kRecv, 2), EventKind::Recv, "ECONNRESET");
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "then 0 (EOF)").ok);
}

// ---- rst-before-accept: select() on the listener ----

TEST(RstBeforeAccept, AListenerNoLongerReadableFailsTheSelectFact) {
    // The Berkeley account: the reset connection leaves the queue.
    Recording r = load("rst-before-accept");
    Step* again = step(r, "server", kSelect, 1);
    ASSERT_NE(again, nullptr);
    report(again, again->cookie, 0);
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "select() reports the listener").ok);
}

TEST(RstBeforeAccept, NoRstBetweenTheSelectsFailsTheSelectFact) {
    Recording r = load("rst-before-accept");
    erase_events(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetReceived;
    });
    EXPECT_FALSE(verdict(verdicts_of(r, "rst-before-accept"), "select() reports the listener").ok);
}

}  // namespace
}  // namespace tcpscope
