// The facts of epoll-edge-triggered (facts.cpp; a scenario about what select,
// poll and epoll report) on its run recorded on Linux 6.18 (recording.jsonl,
// `tcpscope run epoll-edge-triggered --json`): changing the recording the way a
// different kernel behaviour would makes the fact about that behaviour fail,
// and leaves a fact about something else holding (that every fact holds on the
// recording itself: tests/unit/recorded_runs_test.cpp). Facts are named by
// their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

const StepMatch kWaitEt{StepOp::EpollWait, "et"};

const StepMatch kWaitLt{StepOp::EpollWait, "lt"};

TEST(EpollEdgeTriggered, AnEdgeReportedAgainFailsTheNeverWokenFact) {
    // Level-triggered behaviour on the et registration.
    Recording r = load("epoll-edge-triggered");
    report_ready(step(r, "server", kWaitEt, 1), cookie_of(r, "server"), kReadyIn);
    EXPECT_TRUE(fails_and_holds(r, "epoll-edge-triggered.never-woken-again",
                                "epoll-edge-triggered.level-triggered-until-drained"));
}

TEST(EpollEdgeTriggered, ARecvQThatDisagreesFailsTheNeverWokenFact) {
    Recording r = load("epoll-edge-triggered");
    Step* diag = step(r, "server", kSockDiag, 0);
    ASSERT_NE(diag, nullptr);
    diag->info["recv_q"] = 4096;
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "epoll-edge-triggered.never-woken-again").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "epoll-edge-triggered.never-woken-again").ok);
}

TEST(EpollEdgeTriggered, ALevelTriggeredWaitThatTimesOutEarlyFailsTheFact) {
    Recording r = load("epoll-edge-triggered");
    report_ready(step(r, "server", kWaitLt, 1), cookie_of(r, "server"), 0);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "epoll-edge-triggered.level-triggered-until-drained").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-edge-triggered"), "epoll-edge-triggered.one-edge").ok);
}

}  // namespace
}  // namespace tcpscope
