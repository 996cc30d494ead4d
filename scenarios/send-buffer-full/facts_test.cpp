// The facts of send-buffer-full (facts.cpp; a scenario about a receiver that
// never reads) on its run recorded on Linux 6.18 (recording.jsonl, `tcpscope
// run send-buffer-full --json`): changing the recording the way a different
// kernel behaviour would makes the fact about that behaviour fail, and leaves a
// fact about something else holding (that every fact holds on the recording
// itself: tests/unit/recorded_runs_test.cpp). Facts are named by their id.
#include <gtest/gtest.h>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

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
    EXPECT_TRUE(fails_and_holds(r, "send-buffer-full.full-short-then-eagain",
                                "send-buffer-full.receiver-full-window-shut"));
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
    EXPECT_TRUE(verdict(verdicts, "send-buffer-full.full-short-then-eagain").ok) << verdict(verdicts, "send-buffer-full.full-short-then-eagain").detail;
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
    EXPECT_FALSE(verdict(verdicts_of(r, "send-buffer-full"), "send-buffer-full.full-short-then-eagain").ok);
}

TEST(SendBufferFull, ARetransmitTimerFailsTheWindowShutFact) {
    // Data lost on the way, not a window shut by the receiver.
    Recording r = load("send-buffer-full");
    Step* connect = step(r, "client", kConnect);
    ASSERT_NE(connect, nullptr);
    Step* sender = step(r, "client", StepMatch{StepOp::SockDiag, connect->local});
    ASSERT_NE(sender, nullptr);
    sender->info["timer"] = "retransmit";
    EXPECT_TRUE(fails_and_holds(r, "send-buffer-full.receiver-full-window-shut",
                                "send-buffer-full.send-q-holds-the-rest"));
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
    EXPECT_FALSE(verdict(verdicts_of(r, "send-buffer-full"), "send-buffer-full.receiver-full-window-shut").ok);
}

TEST(SendBufferFull, ASendBufferThatDoesNotGrowFailsTheSendQFact) {
    // The books' fixed send buffer of tens of kilobytes.
    Recording r = load("send-buffer-full");
    Step* after = step(r, "client", StepMatch{StepOp::GetSockOpt, "SO_SNDBUF"}, 1);
    ASSERT_NE(after, nullptr);
    after->info["value"] = 16384;
    auto verdicts = verdicts_of(r, "send-buffer-full");
    EXPECT_FALSE(verdict(verdicts, "send-buffer-full.send-q-holds-the-rest").ok);
    EXPECT_TRUE(verdict(verdicts, "send-buffer-full.full-short-then-eagain").ok);
    EXPECT_TRUE(verdict(verdicts, "send-buffer-full.receiver-full-window-shut").ok);
}

TEST(SendBufferFull, BytesMissingFromTheQueuesFailTheSendQFact) {
    // Accepted bytes in neither queue: dropped by the sender.
    Recording r = load("send-buffer-full");
    Step* connect = step(r, "client", kConnect);
    ASSERT_NE(connect, nullptr);
    Step* sender = step(r, "client", StepMatch{StepOp::SockDiag, connect->local});
    ASSERT_NE(sender, nullptr);
    sender->info["send_q"] = sender->info["send_q"].get<int64_t>() - 65536;
    EXPECT_FALSE(verdict(verdicts_of(r, "send-buffer-full"), "send-buffer-full.send-q-holds-the-rest").ok);
}

}  // namespace
}  // namespace tcpscope
