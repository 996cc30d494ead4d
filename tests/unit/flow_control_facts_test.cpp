// The facts of the scenarios about a receiver that never reads
// (fin-wait1-zero-window, send-buffer-full), on runs recorded on Linux 6.18
// (tests/fixtures/<name>.jsonl): changing the recording the way a different
// kernel behaviour would makes the fact about that behaviour fail, and
// leaves a fact about something else holding.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

const StepMatch kSend{StepOp::Send};

// ---- fin-wait1-zero-window ----

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
    auto verdicts = verdicts_of(r, "fin-wait1-zero-window");
    EXPECT_FALSE(verdict(verdicts, "accepted until send() fails with EAGAIN").ok);
    EXPECT_TRUE(verdict(verdicts, "the FIN is queued behind").ok);
}

TEST(FinWait1ZeroWindow, AReceiverThatReadFailsTheRecvQFact) {
    // The receiver's queue no longer holds what it acknowledged.
    Recording r = load("fin-wait1-zero-window");
    Step* look = step(r, "client", StepMatch{StepOp::SockDiag, "127.0.0.1:5000"});
    ASSERT_NE(look, nullptr);
    look->info["recv_q"] = 2048;
    EXPECT_FALSE(verdict(verdicts_of(r, "fin-wait1-zero-window"), "accepted until send() fails with EAGAIN").ok);
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
    auto verdicts = verdicts_of(r, "fin-wait1-zero-window");
    EXPECT_FALSE(verdict(verdicts, "stays in FIN_WAIT1").ok);
    EXPECT_TRUE(verdict(verdicts, "the FIN is queued behind").ok);
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
    auto verdicts = verdicts_of(r, "fin-wait1-zero-window");
    EXPECT_FALSE(verdict(verdicts, "the FIN is queued behind").ok);
    EXPECT_TRUE(verdict(verdicts, "stays in FIN_WAIT1").ok);
}

TEST(FinWait1ZeroWindow, ProbesAtAFixedIntervalFailTheBackoffFact) {
    Recording r = load("fin-wait1-zero-window");
    auto found = probes(r);
    ASSERT_GE(found.size(), 3u);
    uint64_t gap = found[1]->ts_ns - found[0]->ts_ns;
    for (size_t i = 1; i < found.size(); ++i) found[i]->ts_ns = found[0]->ts_ns + i * gap;
    auto verdicts = verdicts_of(r, "fin-wait1-zero-window");
    EXPECT_FALSE(verdict(verdicts, "zero-window probes go out").ok);
    EXPECT_TRUE(verdict(verdicts, "no FIN (and no data)").ok);
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
    EXPECT_FALSE(verdict(verdicts_of(r, "fin-wait1-zero-window"), "zero-window probes go out").ok);
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
    auto verdicts = verdicts_of(r, "fin-wait1-zero-window");
    EXPECT_FALSE(verdict(verdicts, "no FIN (and no data)").ok);
    EXPECT_TRUE(verdict(verdicts, "zero-window probes go out").ok);
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
    auto verdicts = verdicts_of(r, "fin-wait1-zero-window");
    EXPECT_FALSE(verdict(verdicts, "no FIN (and no data)").ok);
    EXPECT_TRUE(verdict(verdicts, "stays in FIN_WAIT1").ok);
}

// ---- send-buffer-full ----

TEST(SendBufferFull, AllOrNothingSendsFailTheShortCountFact) {
    // No short count: the chunk that does not fit whole is refused.
    Recording r = load("send-buffer-full");
    Step* shortcount = nullptr;
    for (auto& s : r.steps) {
        if (s.side == "client" && kSend.matches(s) && s.ret > 0 && s.ret < s.size) shortcount = &s;
    }
    ASSERT_NE(shortcount, nullptr);
    make_fail(shortcount, "EAGAIN");
    Event* kernel = kernel_result(r, shortcount, EventKind::Send);
    ASSERT_NE(kernel, nullptr);
    kernel->ret = -11;
    auto verdicts = verdicts_of(r, "send-buffer-full");
    EXPECT_FALSE(verdict(verdicts, "accepts full 64 KiB chunks").ok);
    EXPECT_TRUE(verdict(verdicts, "the receiver's Recv-Q holds everything").ok);
}

TEST(SendBufferFull, TwoShortCountsBeforeEagainHold) {
    // The peer's ACKs freed room between two calls: the last full chunk
    // became a short count too (seen under qemu on 6.12).
    Recording r = load("send-buffer-full");
    Step* last_full = nullptr;
    for (auto& s : r.steps) {
        if (s.side == "client" && kSend.matches(s) && s.ret == s.size) last_full = &s;
    }
    ASSERT_NE(last_full, nullptr);
    Event* kernel = kernel_result(r, last_full, EventKind::Send);
    ASSERT_NE(kernel, nullptr);
    last_full->ret -= 6000;
    kernel->ret = last_full->ret;
    auto verdicts = verdicts_of(r, "send-buffer-full");
    EXPECT_TRUE(verdict(verdicts, "accepts full 64 KiB chunks").ok) << verdict(verdicts, "accepts full 64 KiB chunks").detail;
}

TEST(SendBufferFull, AFullChunkAfterAShortCountFailsTheShortCountFact) {
    // A short count in the middle of the full chunks is not the buffer
    // filling up.
    Recording r = load("send-buffer-full");
    std::vector<Step*> sends;
    for (auto& s : r.steps) {
        if (s.side == "client" && kSend.matches(s)) sends.push_back(&s);
    }
    ASSERT_GE(sends.size(), 4u);
    Event* kernel = kernel_result(r, sends[1], EventKind::Send);
    ASSERT_NE(kernel, nullptr);
    sends[1]->ret -= 6000;
    kernel->ret = sends[1]->ret;
    EXPECT_FALSE(verdict(verdicts_of(r, "send-buffer-full"), "accepts full 64 KiB chunks").ok);
}

TEST(SendBufferFull, ARetransmitTimerFailsTheWindowShutFact) {
    // Data lost on the way, not a window shut by the receiver.
    Recording r = load("send-buffer-full");
    Step* connect = step(r, "client", kConnect);
    ASSERT_NE(connect, nullptr);
    Step* sender = step(r, "client", StepMatch{StepOp::SockDiag, connect->local});
    ASSERT_NE(sender, nullptr);
    sender->info["timer"] = "retransmit";
    auto verdicts = verdicts_of(r, "send-buffer-full");
    EXPECT_FALSE(verdict(verdicts, "the receiver's Recv-Q holds everything").ok);
    EXPECT_TRUE(verdict(verdicts, "the sender's Send-Q holds the rest").ok);
}

TEST(SendBufferFull, DataNotAcknowledgedFailsTheWindowShutFact) {
    // The last segment on the wire never acknowledged.
    Recording r = load("send-buffer-full");
    Step* look = step(r, "client", StepMatch{StepOp::SockDiag, "127.0.0.1:5000"});
    ASSERT_NE(look, nullptr);
    auto acks = events_where(r, [&](const Event& e, const std::string& side) {
        return e.kind == EventKind::Packet && side == "server" && e.tcp_flags == TS_TCP_ACK &&
               e.ts_ns < look->start_ns;
    });
    ASSERT_FALSE(acks.empty());
    acks.back()->ack_seq -= 1000;
    look->info["recv_q"] = look->info["recv_q"].get<int64_t>() - 1000;
    EXPECT_FALSE(verdict(verdicts_of(r, "send-buffer-full"), "the receiver's Recv-Q holds everything").ok);
}

TEST(SendBufferFull, ASendBufferThatDoesNotGrowFailsTheSendQFact) {
    // The books' fixed send buffer of tens of kilobytes.
    Recording r = load("send-buffer-full");
    Step* after = step(r, "client", StepMatch{StepOp::GetSockOpt, "SO_SNDBUF"}, 1);
    ASSERT_NE(after, nullptr);
    after->info["value"] = 16384;
    auto verdicts = verdicts_of(r, "send-buffer-full");
    EXPECT_FALSE(verdict(verdicts, "the sender's Send-Q holds the rest").ok);
    EXPECT_TRUE(verdict(verdicts, "accepts full 64 KiB chunks").ok);
    EXPECT_TRUE(verdict(verdicts, "the receiver's Recv-Q holds everything").ok);
}

TEST(SendBufferFull, BytesMissingFromTheQueuesFailTheSendQFact) {
    // Accepted bytes in neither queue: dropped by the sender.
    Recording r = load("send-buffer-full");
    Step* connect = step(r, "client", kConnect);
    ASSERT_NE(connect, nullptr);
    Step* sender = step(r, "client", StepMatch{StepOp::SockDiag, connect->local});
    ASSERT_NE(sender, nullptr);
    sender->info["send_q"] = sender->info["send_q"].get<int64_t>() - 65536;
    EXPECT_FALSE(verdict(verdicts_of(r, "send-buffer-full"), "the sender's Send-Q holds the rest").ok);
}

}  // namespace
}  // namespace tcpscope
