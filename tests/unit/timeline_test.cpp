// The timeline builder and the fact checks, on a run recorded from this
// kernel (scenarios/zero-byte-send/recording.jsonl, `tcpscope run
// zero-byte-send --json` on Linux 6.18). Where a test needs a sequence the
// recording does not have, it says how it changed the recording.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "facts.h"
#include "recording.h"
#include "catalog.h"
#include "recording_support.h"
#include "timeline.h"

namespace tcpscope {
namespace {

using testing_support::verdicts_of;

size_t position_of_kind(const Timeline& t, EventKind kind) {
    const auto& entries = t.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
        if (!entries[i].is_step && t.events()[entries[i].index].kind == kind) return i;
    }
    return entries.size();
}

TEST(Fixture, ReadsEveryLine) {
    Recording r = testing_support::load("zero-byte-send");
    EXPECT_EQ(r.malformed, 0u);
    EXPECT_EQ(r.steps.size(), 14u);
    EXPECT_EQ(r.events.size(), 25u);
}

TEST(Timeline, JoinsBySocketCookie) {
    Recording r = testing_support::load("zero-byte-send");
    Timeline t(r.steps, r.events);
    uint64_t client = t.cookie_of("client");
    uint64_t server = t.cookie_of("server");
    ASSERT_NE(client, 0u);
    ASSERT_NE(server, 0u);
    ASSERT_NE(client, server);
    for (const Event* e : t.of_cookie(client)) EXPECT_EQ(t.side_of(*e), "client");
    for (const Event* e : t.of_cookie(server)) EXPECT_EQ(t.side_of(*e), "server");
    auto path = state_path(t, client);
    EXPECT_TRUE(contains_in_order(path, {"CLOSE->SYN_SENT", "SYN_SENT->ESTABLISHED",
                                         "ESTABLISHED->CLOSE_WAIT", "CLOSE_WAIT->CLOSE"}))
        << join(path);
}

TEST(Timeline, JoinsCookielessEventsByAddress) {
    // The RST comes from the server's timewait mini-socket, which has no
    // cookie of the full socket: only its address ties it to the server.
    Recording r = testing_support::load("zero-byte-send");
    Timeline t(r.steps, r.events);
    auto resets = t.of_kind(EventKind::ResetSent);
    ASSERT_EQ(resets.size(), 1u);
    EXPECT_TRUE(resets[0]->minisock);
    EXPECT_EQ(resets[0]->cookie, 0u);
    EXPECT_EQ(t.side_of(*resets[0]), "server");
    // Packets belong to the side whose endpoint sent them.
    int syns = 0, rsts = 0;
    for (const Event* p : t.of_kind(EventKind::Packet)) {
        if (p->tcp_flags & TS_TCP_SYN && !(p->tcp_flags & TS_TCP_ACK)) {
            EXPECT_EQ(t.side_of(*p), "client");
            ++syns;
        }
        if (p->tcp_flags & TS_TCP_RST) {
            EXPECT_EQ(t.side_of(*p), "server");
            ++rsts;
        }
    }
    // The recording has them: the checks above ran.
    EXPECT_EQ(syns, 1);
    EXPECT_EQ(rsts, 1);
}

TEST(Timeline, EventsBelongToTheCallDuringWhichTheyFired) {
    Recording r = testing_support::load("zero-byte-send");
    Timeline t(r.steps, r.events);
    const Step* send_one = t.find_step("client", kSendOne);
    ASSERT_NE(send_one, nullptr);
    int index = t.index_of(send_one);
    bool saw_rst = false;
    for (const auto& entry : t.entries()) {
        if (entry.is_step) continue;
        const Event& e = t.events()[entry.index];
        if (e.kind == EventKind::ResetReceived) {
            EXPECT_EQ(entry.step, index);
            saw_rst = true;
        }
    }
    EXPECT_TRUE(saw_rst);
}

TEST(Timeline, StepsPrecedeTheEventsTheyCause) {
    Recording r = testing_support::load("zero-byte-send");
    Timeline t(r.steps, r.events);
    const auto& entries = t.entries();
    size_t checked = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].is_step || entries[i].step < 0) continue;
        // The owning step's row comes earlier.
        bool found = false;
        for (size_t k = 0; k < i; ++k) {
            found |= entries[k].is_step && static_cast<int>(entries[k].index) == entries[i].step;
        }
        EXPECT_TRUE(found) << "event at row " << i;
        ++checked;
    }
    // Most events fire inside a call (connect, send, close...): were none
    // tied to a step, the loop above would check nothing.
    EXPECT_GE(checked, r.events.size() / 2);
}

TEST(Timeline, PutsRstSentBeforeItsEffectsWhateverTheRawOrder) {
    // On loopback the receiver may handle the RST inside the sender's call,
    // so tcp_receive_reset can fire first (KERNEL.md). The recording has
    // the sender first; move reset_sent 30 us after reset_received to get
    // the other raw order, and expect the same causal order.
    Recording r = testing_support::load("zero-byte-send");
    auto sent = std::find_if(r.events.begin(), r.events.end(),
                             [](const Event& e) { return e.kind == EventKind::ResetSent; });
    auto received = std::find_if(r.events.begin(), r.events.end(),
                                 [](const Event& e) { return e.kind == EventKind::ResetReceived; });
    ASSERT_NE(sent, r.events.end());
    ASSERT_NE(received, r.events.end());
    sent->ts_ns = received->ts_ns + 30000;
    Timeline t(r.steps, r.events);
    EXPECT_LT(position_of_kind(t, EventKind::ResetSent), position_of_kind(t, EventKind::ResetReceived));
    // The raw timestamp is kept.
    EXPECT_EQ(t.of_kind(EventKind::ResetSent)[0]->ts_ns, received->ts_ns + 30000);
}

TEST(Facts, MissingSigpipeFailsTheLastFact) {
    Recording r = testing_support::load("zero-byte-send");
    r.events.erase(std::remove_if(r.events.begin(), r.events.end(),
                                  [](const Event& e) { return e.kind == EventKind::Signal; }),
                   r.events.end());
    auto verdicts = verdicts_of(r, "zero-byte-send");
    ASSERT_EQ(verdicts.size(), 5u);
    EXPECT_FALSE(verdicts[4].ok);
    EXPECT_TRUE(verdicts[0].ok);
}

TEST(Facts, ASegmentDuringTheZeroByteSendFailsTheFirstFact) {
    // Copy the client's one-byte segment into the zero-byte send's window.
    Recording r = testing_support::load("zero-byte-send");
    Timeline before(r.steps, r.events);
    const Step* zero = before.find_step("client", StepMatch{StepOp::Send, "", 0});
    ASSERT_NE(zero, nullptr);
    auto data = std::find_if(r.events.begin(), r.events.end(), [](const Event& e) {
        return e.kind == EventKind::Packet && e.payload_len == 1;
    });
    ASSERT_NE(data, r.events.end());
    Event copy = *data;
    copy.ts_ns = zero->start_ns + (zero->ts_ns - zero->start_ns) / 2;
    r.events.push_back(copy);
    auto verdicts = verdicts_of(r, "zero-byte-send");
    EXPECT_FALSE(verdicts[0].ok) << verdicts[0].detail;
}

TEST(Facts, AWrongResetReasonFailsTheRstFact) {
    Recording r = testing_support::load("zero-byte-send");
    for (auto& e : r.events) {
        if (e.kind == EventKind::ResetSent) e.reason = r.reasons.intern("NOT_SPECIFIED");
    }
    auto verdicts = verdicts_of(r, "zero-byte-send");
    EXPECT_FALSE(verdicts[2].ok) << verdicts[2].detail;
}

}  // namespace
}  // namespace tcpscope
