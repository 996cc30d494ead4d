// The facts of fin-wait1-zero-window (facts.cpp; a scenario about a receiver
// that never reads) on its run recorded on Linux 6.18 (recording.jsonl,
// `tcpscope run fin-wait1-zero-window --json`): changing the recording the way
// a different kernel behaviour would makes the fact about that behaviour fail,
// and leaves a fact about something else holding (that every fact holds on the
// recording itself: tests/unit/recorded_runs_test.cpp). Facts are named by
// their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

// The sender's zero-window probes after its last send: empty segments,
// nothing but ACK set.
std::vector<Event*> probes(Recording& r) {
    Step* eagain = last_step(r, "client", kSend);
    if (eagain == nullptr) return {};
    return events_where(r, [&](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && side == "client" && e.payload_len == 0 &&
               e.tcp_flags == TS_TCP_ACK && e.ts_ns > eagain->ts_ns;
    });
}

TEST(FinWait1ZeroWindow, ABufferThatNeverFillsFailsTheEagainFact) {
    // The last send accepted, as a sender with room left would see.
    Recording r = load("fin-wait1-zero-window");
    Step* last = last_step(r, "client", kSend);
    ASSERT_NE(last, nullptr);
    last->ret = 2048;
    last->errno_name.clear();
    Event* kernel = kernel_result(r, last, EventKind::Send);
    ASSERT_NE(kernel, nullptr);
    kernel->ret = 2048;
    EXPECT_TRUE(fails_and_holds(r, "fin-wait1-zero-window.sender-fills-both-buffers",
                                "fin-wait1-zero-window.fin-queued-behind-data"));
}

TEST(FinWait1ZeroWindow, AReceiverThatReadFailsTheRecvQFact) {
    // The receiver's queue no longer holds what it acknowledged.
    Recording r = load("fin-wait1-zero-window");
    Step* look = step(r, "client", StepMatch{StepOp::SockDiag, "127.0.0.1:5000"});
    ASSERT_NE(look, nullptr);
    look->info["recv_q"] = 2048;
    EXPECT_FALSE(verdict(verdicts_of(r, "fin-wait1-zero-window"), "fin-wait1-zero-window.sender-fills-both-buffers").ok);
}

TEST(FinWait1ZeroWindow, TheFinAcknowledgedFailsTheFinWait1Fact) {
    // The FIN went out and was acknowledged: FIN_WAIT1 -> FIN_WAIT2.
    Recording r = load("fin-wait1-zero-window");
    Event* to_fw1 = event_where(r, [](const Event& e, const std::string&) {
        return is_state(e, "ESTABLISHED", "FIN_WAIT1");
    });
    ASSERT_NE(to_fw1, nullptr);
    Event fw2 = *to_fw1;
    fw2.old_state = state_value("FIN_WAIT1");
    fw2.new_state = state_value("FIN_WAIT2");
    fw2.ts_ns += 2'000'000'000;
    r.events.push_back(fw2);
    EXPECT_TRUE(fails_and_holds(r, "fin-wait1-zero-window.close-leaves-it-in-fin-wait1",
                                "fin-wait1-zero-window.fin-queued-behind-data"));
}

TEST(FinWait1ZeroWindow, NoFinInTheSendQueueFailsTheQueuedFact) {
    // Send-Q unchanged by close(): the FIN not queued behind the data.
    Recording r = load("fin-wait1-zero-window");
    Step* close = step(r, "client", kClose);
    ASSERT_NE(close, nullptr);
    int changed = 0;
    for (auto& s : r.steps) {
        if (s.op == StepOp::SockDiag && s.start_ns > close->ts_ns && s.info.value("send_q", 0) > 0) {
            s.info["send_q"] = s.info["send_q"].get<int64_t>() - 1;
            ++changed;
        }
    }
    ASSERT_GT(changed, 0);
    EXPECT_TRUE(fails_and_holds(r, "fin-wait1-zero-window.fin-queued-behind-data",
                                "fin-wait1-zero-window.close-leaves-it-in-fin-wait1"));
}

TEST(FinWait1ZeroWindow, ProbesAtAFixedIntervalFailTheBackoffFact) {
    Recording r = load("fin-wait1-zero-window");
    auto found = probes(r);
    ASSERT_GE(found.size(), 3u);
    uint64_t gap = found[1]->ts_ns - found[0]->ts_ns;
    for (size_t i = 1; i < found.size(); ++i) found[i]->ts_ns = found[0]->ts_ns + i * gap;
    EXPECT_TRUE(fails_and_holds(r, "fin-wait1-zero-window.probes-with-doubling-gaps",
                                "fin-wait1-zero-window.no-fin-on-the-wire"));
}

TEST(FinWait1ZeroWindow, ARetransmitTimerFailsTheProbeFact) {
    // The kernel retransmitting, not probing a shut window.
    Recording r = load("fin-wait1-zero-window");
    Step* close = step(r, "client", kClose);
    ASSERT_NE(close, nullptr);
    Step* look = nullptr;
    for (auto& s : r.steps) {
        if (s.op == StepOp::SockDiag && s.start_ns > close->ts_ns && look == nullptr) look = &s;
    }
    ASSERT_NE(look, nullptr);
    look->info["timer"] = "retransmit";
    EXPECT_FALSE(verdict(verdicts_of(r, "fin-wait1-zero-window"), "fin-wait1-zero-window.probes-with-doubling-gaps").ok);
}

TEST(FinWait1ZeroWindow, AFinOnTheWireFailsTheNoFinFact) {
    // The FIN sent at close(), as the books describe close().
    Recording r = load("fin-wait1-zero-window");
    Step* close = step(r, "client", kClose);
    auto found = probes(r);
    ASSERT_NE(close, nullptr);
    ASSERT_FALSE(found.empty());
    Event fin = *found.front();
    fin.tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
    fin.seq += 1;
    fin.ts_ns = close->ts_ns - 1;
    r.events.push_back(fin);
    EXPECT_TRUE(fails_and_holds(r, "fin-wait1-zero-window.no-fin-on-the-wire",
                                "fin-wait1-zero-window.probes-with-doubling-gaps"));
}

TEST(FinWait1ZeroWindow, DataAfterCloseFailsTheNoFinFact) {
    // The window opened and queued data left after close().
    Recording r = load("fin-wait1-zero-window");
    auto found = probes(r);
    ASSERT_GE(found.size(), 2u);
    Event data = *found.back();
    data.payload_len = 2048;
    data.seq += 1;
    data.ts_ns += 1000;
    r.events.push_back(data);
    EXPECT_TRUE(fails_and_holds(r, "fin-wait1-zero-window.no-fin-on-the-wire",
                                "fin-wait1-zero-window.close-leaves-it-in-fin-wait1"));
}

}  // namespace
}  // namespace tcpscope
