// The facts of accept-queue-full (facts.cpp) on its run recorded on Linux
// 6.18 (recording.jsonl, `tcpscope run accept-queue-full --json`): a
// namespace counter that disagrees, a drop with another name or from a
// listener of another backlog, a SYN retransmit that is not there, each
// fails the fact about it and leaves the others holding (that every fact
// holds on the recording itself: tests/unit/recorded_runs_test.cpp). Facts
// are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

// The step that reported the namespace's TcpExt counters (as facts.cpp
// finds it).
Step* counters_step(Recording& r) {
    for (auto& s : r.steps) {
        if (s.op == StepOp::Other && s.info.is_object() && s.info.contains("ListenOverflows")) return &s;
    }
    ADD_FAILURE() << "no step with the namespace's counters";
    return nullptr;
}

bool is_listener_drop(const Event& e, const std::string&) {
    return e.kind == EventKind::Drop && e.drop_seen_by == "listener";
}

TEST(AcceptQueueFull, TheRecordingHasListenerDropsAndSynRetransmits) {
    // What the other tests alter.
    Recording r = load("accept-queue-full");
    EXPECT_GE(events_where(r, is_listener_drop).size(), 2u);
    EXPECT_GE(events_where(r, [](const Event& e, const std::string&) {
                  return e.kind == EventKind::Retransmit;
              }).size(),
              1u);
}

TEST(AcceptQueueFull, AnOverflowTheListenerDidNotShowFailsTheCountFact) {
    Recording r = load("accept-queue-full");
    Step* counters = counters_step(r);
    ASSERT_NE(counters, nullptr);
    counters->info["ListenOverflows"] = counters->info["ListenOverflows"].get<uint64_t>() + 1;
    EXPECT_TRUE(fails_and_holds(r, "accept-queue-full.drops-equal-overflows",
                                "accept-queue-full.named-queue-full"));
}

TEST(AcceptQueueFull, ADropNamedOtherwiseFailsTheNameFact) {
    Recording r = load("accept-queue-full");
    Event* drop = event_where(r, is_listener_drop);
    ASSERT_NE(drop, nullptr);
    drop->drop_reason = "TCP_LISTEN_OVERFLOW";
    EXPECT_TRUE(fails_and_holds(r, "accept-queue-full.named-queue-full",
                                "accept-queue-full.drops-equal-overflows"));
}

TEST(AcceptQueueFull, AListenerOfAnotherBacklogFailsTheNameFact) {
    Recording r = load("accept-queue-full");
    Event* drop = event_where(r, is_listener_drop);
    ASSERT_NE(drop, nullptr);
    drop->accept_backlog = 128;
    EXPECT_FALSE(verdict(verdicts_of(r, "accept-queue-full"), "accept-queue-full.named-queue-full").ok);
}

TEST(AcceptQueueFull, NoSynRetransmitFailsTheRetransmitAndTimingFacts) {
    // The slow connects then waited for nothing the kernel did.
    Recording r = load("accept-queue-full");
    ASSERT_GE(erase_events(r, [](const Event& e, const std::string&) { return e.kind == EventKind::Retransmit; }),
              1u);
    auto verdicts = verdicts_of(r, "accept-queue-full");
    EXPECT_FALSE(verdict(verdicts, "accept-queue-full.syn-retransmits-match").ok);
    EXPECT_FALSE(verdict(verdicts, "accept-queue-full.connect-times-follow-retransmits").ok);
    EXPECT_TRUE(verdict(verdicts, "accept-queue-full.drops-equal-overflows").ok);
}

TEST(AcceptQueueFull, MoreSynRetransmitsThanTheNamespaceCountedFailTheRetransmitFact) {
    Recording r = load("accept-queue-full");
    Step* counters = counters_step(r);
    ASSERT_NE(counters, nullptr);
    counters->info["TCPSynRetrans"] = 0;
    EXPECT_TRUE(fails_and_holds(r, "accept-queue-full.syn-retransmits-match",
                                "accept-queue-full.connect-times-follow-retransmits"));
}

}  // namespace
}  // namespace tcpscope
