// The facts of peer-vanished (facts.cpp; a scenario about a peer that goes
// away) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope run peer-
// vanished --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

const StepMatch kUserTimeout{StepOp::SetSockOpt, "TCP_USER_TIMEOUT"};
const StepMatch kCounters{StepOp::Other, "namespace counters"};

bool is_retransmit(const Event& e, const std::string&) { return e.kind == EventKind::Retransmit; }

TEST(PeerVanished, ASendThatReportsTheDownedLinkFailsTheQueuedFact) {
    // A kernel that fails the send at once (as with an ICMP error).
    Recording r = load("peer-vanished");
    fail_with_kernel(r, step(r, "client", kSendOne), EventKind::Send, "EHOSTUNREACH");
    EXPECT_TRUE(fails_and_holds(r, "peer-vanished.send-is-queued", "peer-vanished.nothing-came-back"));
}

TEST(PeerVanished, RetransmissionsAtAFixedIntervalFailTheBackoffFact) {
    Recording r = load("peer-vanished");
    auto rt = events_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::Retransmit;
    });
    ASSERT_GE(rt.size(), 3u);
    uint64_t gap = rt[1]->ts_ns - rt[0]->ts_ns;
    for (size_t i = 1; i < rt.size(); ++i) rt[i]->ts_ns = rt[0]->ts_ns + i * gap;
    EXPECT_TRUE(fails_and_holds(r, "peer-vanished.retransmits-with-growing-gaps",
                                "peer-vanished.aborted-with-etimedout"));
}

TEST(PeerVanished, NoRetransmitTimerFailsTheBackoffFact) {
    Recording r = load("peer-vanished");
    Step* look = step(r, "client", kSockDiag, 0);
    ASSERT_NE(look, nullptr);
    look->info["timer"] = "off";
    EXPECT_FALSE(verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.retransmits-with-growing-gaps").ok);
}

TEST(PeerVanished, AResetFromThePeerFailsTheTimeoutFact) {
    // The peer answered (a RST): ECONNRESET, not a timeout.
    Recording r = load("peer-vanished");
    make_fail(step(r, "client", kRecv), "ECONNRESET");
    set_sock_error(r, "client", "ECONNRESET");
    EXPECT_TRUE(fails_and_holds(r, "peer-vanished.aborted-with-etimedout",
                                "peer-vanished.retransmits-with-growing-gaps"));
}

TEST(PeerVanished, AnAbortBeforeTheUserTimeoutFailsTheTimeoutFact) {
    // The same run with a 60 s TCP_USER_TIMEOUT: an abort after ~5 s would
    // be the kernel's own limit, not the user timeout.
    Recording r = load("peer-vanished");
    Step* opt = step(r, "client", kUserTimeout);
    ASSERT_NE(opt, nullptr);
    opt->size = 60000;
    opt->call = "setsockopt(TCP_USER_TIMEOUT 60000)";
    EXPECT_TRUE(fails_and_holds(r, "peer-vanished.aborted-with-etimedout",
                                "peer-vanished.retransmits-with-growing-gaps"));
}

TEST(PeerVanished, ASegmentFromTheServerFailsTheNothingCameBackFact) {
    // Something from the server (its abort's RST) got through the link.
    Recording r = load("peer-vanished");
    Step* recv = step(r, "client", kRecv);
    ASSERT_NE(recv, nullptr);
    Event* synack = event_where(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && side == "server";
    });
    ASSERT_NE(synack, nullptr);
    Event rst = *synack;
    rst.tcp_flags = TS_TCP_RST;
    rst.ts_ns = recv->start_ns + 1000;
    r.events.push_back(rst);
    EXPECT_TRUE(fails_and_holds(r, "peer-vanished.nothing-came-back",
                                "peer-vanished.aborted-with-etimedout"));
}

TEST(PeerVanished, ASocketThatOutlivesTheAbortFailsTheNothingCameBackFact) {
    Recording r = load("peer-vanished");
    Step* last = step(r, "client", kSockDiag, 1);
    Step* first = step(r, "client", kSockDiag, 0);
    ASSERT_NE(last, nullptr);
    ASSERT_NE(first, nullptr);
    last->info = first->info;
    last->cookie = first->cookie;
    EXPECT_FALSE(verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.nothing-came-back").ok);
}

// One more retransmission `before_abort_ns` before the blocked recv()
// returned ETIMEDOUT.
Event* add_retransmission_before_the_abort(Recording& r, uint64_t before_abort_ns) {
    auto rt = events_where(r, is_retransmit);
    Step* recv = step(r, "client", kRecv);
    if (rt.empty() || recv == nullptr) return nullptr;
    Event extra = *rt.back();
    extra.ts_ns = recv->ts_ns - before_abort_ns;
    r.events.push_back(extra);
    return &r.events.back();
}

TEST(PeerVanished, ALastGapCutShortByTheUserTimeoutKeepsTheBackoffFact) {
    // The timer armed for what was left of TCP_USER_TIMEOUT fired a tick
    // early: the byte went out once more, 1 ms before the abort (seen
    // under qemu), after a gap shorter than the one before.
    Recording r = load("peer-vanished");
    auto rt = events_where(r, is_retransmit);
    ASSERT_GE(rt.size(), 3u);
    const uint64_t prev_gap = rt.back()->ts_ns - rt[rt.size() - 2]->ts_ns;
    const uint64_t last = rt.back()->ts_ns;
    Event* extra = add_retransmission_before_the_abort(r, 1'000'000);
    ASSERT_NE(extra, nullptr);
    ASSERT_LT(extra->ts_ns - last, prev_gap) << "the case: a shorter last gap";
    Verdict v = verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.retransmits-with-growing-gaps");
    EXPECT_TRUE(v.ok) << v.detail;
    EXPECT_NE(v.detail.find("cut short"), std::string::npos) << v.detail;
}

TEST(PeerVanished, AShortLastGapWellBeforeTheAbortFailsTheBackoffFact) {
    // A retransmission 100 ms after the last one and a second before the
    // abort: no timer's wait ended there, clamped or not.
    Recording r = load("peer-vanished");
    auto rt = events_where(r, is_retransmit);
    Step* recv = step(r, "client", kRecv);
    ASSERT_FALSE(rt.empty());
    ASSERT_NE(recv, nullptr);
    ASSERT_NE(add_retransmission_before_the_abort(r, recv->ts_ns - rt.back()->ts_ns - 100'000'000), nullptr);
    EXPECT_TRUE(verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.retransmits-with-growing-gaps").failed());
}

TEST(PeerVanished, TheRecordedRunsTimeoutsAreTheRetransmissionsShown) {
    // What the not-judged cases below lean on: on this kernel every
    // retransmission timeout the namespace counts is one tcp_retransmit_skb
    // reports, but the last, which aborts, and the abort is counted once.
    Recording r = load("peer-vanished");
    Step* counters = step(r, "client", kCounters);
    ASSERT_NE(counters, nullptr);
    EXPECT_EQ(info_number(*counters, "TCPTimeouts"),
              static_cast<int64_t>(events_where(r, is_retransmit).size()) + 1);
    EXPECT_EQ(info_number(*counters, "TCPAbortOnTimeout"), 1);
}

TEST(PeerVanished, ARetransmissionNoTracepointReportedIsNotJudgedOnlyWhenItsTimeoutWasCounted) {
    // The second or the third retransmission leaves no event (both seen
    // beside the churn): the gap around it is two gaps in one. The
    // namespace counted its timeout: not judged.
    for (size_t nth : {1u, 2u}) {
        Recording r = load("peer-vanished");
        auto rt = events_where(r, is_retransmit);
        ASSERT_GE(rt.size(), 4u);
        const uint64_t gone = rt[nth]->ts_ns;
        ASSERT_EQ(erase_events(r, [&](const Event& e, const std::string& side) {
                      return is_retransmit(e, side) && e.ts_ns == gone;
                  }),
                  1u);
        Verdict v = verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.retransmits-with-growing-gaps");
        EXPECT_FALSE(v.ok);
        EXPECT_EQ(v.untraced, 1u) << nth << ": " << v.detail;
        // Without that timeout counted, the same gaps fail the fact.
        Step* counters = step(r, "client", kCounters);
        ASSERT_NE(counters, nullptr);
        const int64_t timeouts = info_number(*counters, "TCPTimeouts");
        counters->info["TCPTimeouts"] = timeouts - 1;
        v = verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.retransmits-with-growing-gaps");
        EXPECT_TRUE(v.failed()) << nth << ": " << v.detail;
        // Nor do the counters excuse gaps that are not backoff at all: a
        // gap shorter than the one before, however many attempts went
        // unreported.
        counters->info["TCPTimeouts"] = timeouts + 3;
        auto left = events_where(r, is_retransmit);
        ASSERT_EQ(left.size(), 3u);
        left[1]->ts_ns = left[0]->ts_ns + 600'000'000;
        left[2]->ts_ns = left[1]->ts_ns + 100'000'000;
        EXPECT_TRUE(verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.retransmits-with-growing-gaps").failed())
            << nth;
    }
}

TEST(PeerVanished, AnAbortNoTracepointReportedIsNotJudgedOnlyWhenTheNamespaceCountedIt) {
    // recv() failed with ETIMEDOUT, and neither the move to CLOSE nor the
    // socket's error was reported.
    Recording r = load("peer-vanished");
    ASSERT_EQ(erase_events(r, [](const Event& e, const std::string& side) {
                  return side == "client" && (is_state(e, "ESTABLISHED", "CLOSE") || e.kind == EventKind::SockError);
              }),
              2u);
    Verdict v = verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.aborted-with-etimedout");
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.untraced, 2u) << v.detail;
    // The namespace counted no abort: the fact fails.
    Step* counters = step(r, "client", kCounters);
    ASSERT_NE(counters, nullptr);
    counters->info["TCPAbortOnTimeout"] = 0;
    EXPECT_TRUE(verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.aborted-with-etimedout").failed());
    // Nor without the counters at all (a run recorded before them).
    r.steps.erase(std::remove_if(r.steps.begin(), r.steps.end(),
                                 [](const Step& s) { return kCounters.matches(s); }),
                  r.steps.end());
    EXPECT_TRUE(verdict(verdicts_of(r, "peer-vanished"), "peer-vanished.aborted-with-etimedout").failed());
}

}  // namespace
}  // namespace tcpscope
