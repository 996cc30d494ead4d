// The facts of epoll-rdhup (facts.cpp; a scenario about what select, poll and
// epoll report) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope
// run epoll-rdhup --json`): changing the recording the way a different kernel
// behaviour would makes the fact about that behaviour fail, and leaves a fact
// about something else holding (that every fact holds on the recording itself:
// tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

const StepMatch kWait{StepOp::EpollWait};

TEST(EpollRdhup, AWakeUpWithoutRdhupFailsTheFact) {
    Recording r = load("epoll-rdhup");
    report_ready(step(r, "server", kWait, 0), cookie_of(r, "server"), kReadyIn);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "epoll-rdhup.one-wakeup-in-rdhup").ok);
}

TEST(EpollRdhup, ASecondWakeUpFailsTheNoWakeUpFact) {
    Recording r = load("epoll-rdhup");
    report_ready(step(r, "server", kWait, 1), cookie_of(r, "server"), kReadyIn | kReadyRdhup);
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "epoll-rdhup.no-wakeup-after-partial-read").ok);
}

TEST(EpollRdhup, NoFinBeforeTheWaitFailsTheArrivalFact) {
    Recording r = load("epoll-rdhup");
    erase_events(r, [](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_FIN) && side == "client";
    });
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "epoll-rdhup.data-and-fin-arrived").ok);
}

TEST(EpollRdhup, AnErrorInsteadOfTheEofFailsTheFact) {
    Recording r = load("epoll-rdhup");
    fail_with_kernel(r, step(r, "server", kRecv, 2), EventKind::Recv, "ECONNRESET");
    EXPECT_FALSE(verdict(verdicts_of(r, "epoll-rdhup"), "epoll-rdhup.rest-then-eof").ok);
}

}  // namespace
}  // namespace tcpscope
