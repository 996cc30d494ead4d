// The stuck detector on snapshots made by hand: when a socket is first
// reported, how often again, its final record, and the "at least" age of
// sockets older than the trace. Also the census the metrics make of the
// same snapshot, and trace's filters on a snapshot's sockets.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "socket_census.h"
#include "stuck_detector.h"
#include "stuck_format.h"

namespace tcpscope {
namespace {

constexpr uint64_t kSecond = 1000000000ull;
constexpr int kEstablished = 1, kCloseWait = 8, kLastAck = 9, kListen = 10;

SocketRecord close_wait(uint64_t cookie, uint64_t state_ts) {
    SocketRecord s;
    s.cookie = cookie;
    s.state = kCloseWait;
    s.family = AF_INET;
    s.local = {"127.0.0.1", 5000};
    s.remote = {"127.0.0.1", static_cast<uint16_t>(40000 + cookie)};
    s.recv_q = 5;
    s.has_storage = true;
    s.pid = 4242;
    s.comm = "leaky";
    s.state_ts = state_ts;
    return s;
}

SocketSnapshot at(uint64_t seconds, std::vector<SocketRecord> sockets) {
    SocketSnapshot snap;
    snap.taken_ns = seconds * kSecond;
    snap.netns = 99;
    snap.sockets = std::move(sockets);
    return snap;
}

TEST(Stuck, ReportedOncePerPeriodThenAFinalRecord) {
    StuckDetector d({10 * kSecond, 0}, 0);
    EXPECT_TRUE(d.update(at(1, {close_wait(1, kSecond / 2)})).empty());
    auto r = d.update(at(11, {close_wait(1, kSecond / 2)}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].phase, StuckPhase::Stuck);
    EXPECT_EQ(r[0].age_ns, 10 * kSecond + kSecond / 2);
    EXPECT_FALSE(r[0].age_at_least);
    EXPECT_EQ(r[0].report, 1u);
    EXPECT_EQ(r[0].socket.recv_q, 5u);
    EXPECT_EQ(r[0].netns, 99u);
    EXPECT_TRUE(d.update(at(15, {close_wait(1, kSecond / 2)})).empty()) << "once per period";
    EXPECT_TRUE(d.update(at(20, {close_wait(1, kSecond / 2)})).empty());
    r = d.update(at(21, {close_wait(1, kSecond / 2)}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].report, 2u);
    r = d.update(at(22, {}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].phase, StuckPhase::Ended);
    EXPECT_EQ(r[0].new_state, 0) << "gone";
    EXPECT_EQ(r[0].report, 3u);
    EXPECT_EQ(d.tracked(), 0u) << "forgotten with the socket";
    EXPECT_TRUE(d.update(at(40, {})).empty());
}

TEST(Stuck, ASocketOlderThanTheTraceIsAtLeastAsOldAsTheTrace) {
    StuckDetector d({10 * kSecond, 0}, 95 * kSecond);
    EXPECT_TRUE(d.update(at(100, {close_wait(1, 0)})).empty());
    auto r = d.update(at(106, {close_wait(1, 0)}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].age_at_least);
    EXPECT_EQ(r[0].age_ns, 11 * kSecond);
    std::string line = stuck_text_line(r[0], 95 * kSecond);
    EXPECT_NE(line.find("CLOSE_WAIT for at least 11.00 s, Recv-Q 5"), std::string::npos) << line;
}

TEST(Stuck, ASocketFirstSeenLaterWithNoAgeCountsFromThatSighting) {
    StuckDetector d({10 * kSecond, 0}, 0);
    EXPECT_TRUE(d.update(at(50, {})).empty());
    EXPECT_TRUE(d.update(at(51, {close_wait(1, 0)})).empty());
    EXPECT_TRUE(d.update(at(60, {close_wait(1, 0)})).empty());
    auto r = d.update(at(61, {close_wait(1, 0)}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].age_at_least);
    EXPECT_EQ(r[0].age_ns, 10 * kSecond);
}

TEST(Stuck, MovingToAnotherStateEndsTheSpell) {
    StuckDetector d({10 * kSecond, 5 * kSecond}, 0);
    ASSERT_EQ(d.update(at(20, {close_wait(1, kSecond)})).size(), 1u);
    SocketRecord last_ack = close_wait(1, 21 * kSecond);
    last_ack.state = kLastAck;
    auto r = d.update(at(21, {last_ack}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].phase, StuckPhase::Ended);
    EXPECT_EQ(r[0].new_state, kLastAck);
    EXPECT_EQ(r[0].socket.state, kCloseWait);
    nlohmann::json j = nlohmann::json::parse(stuck_to_json(r[0], WallClock{0}).dump());
    EXPECT_EQ(j.at("type"), "stuck");
    EXPECT_EQ(j.at("phase"), "ended");
    EXPECT_EQ(j.at("new_state"), "LAST_ACK");
    EXPECT_EQ(j.at("pid"), 4242);
    EXPECT_EQ(j.at("comm"), "leaky");
    // The new spell in LAST_ACK is its own.
    r = d.update(at(31, {last_ack}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].socket.state, kLastAck);
    EXPECT_EQ(r[0].report, 1u);
}

TEST(Stuck, EstablishedOnlyWhileRetransmitting) {
    SocketRecord s = close_wait(1, kSecond);
    s.state = kEstablished;
    s.has_info = true;
    EXPECT_FALSE(stuck_candidate(s));
    s.retransmits = 3;
    EXPECT_TRUE(stuck_candidate(s));
    s.state = kListen;
    EXPECT_FALSE(stuck_candidate(s));
    StuckDetector d({2 * kSecond, 0}, 10 * kSecond);
    s.state = kEstablished;
    EXPECT_TRUE(d.update(at(10, {s})).empty()) << "its age is how long it was seen retransmitting";
    auto r = d.update(at(12, {s}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].age_at_least);
    EXPECT_EQ(r[0].age_ns, 2 * kSecond);
}

TEST(Stuck, CensusOfTheSameSnapshot) {
    SocketRecord unknown = close_wait(2, 0);
    unknown.pid = 0;
    unknown.comm.clear();
    SocketRecord est = close_wait(3, 0);
    est.state = kEstablished;
    SocketCensus c = census_of(at(100, {close_wait(1, 40 * kSecond), unknown, est}));
    EXPECT_EQ(c.by_state[kCloseWait], 2u);
    EXPECT_EQ(c.by_state[kEstablished], 1u);
    ASSERT_EQ(c.close_wait.count("leaky"), 1u);
    EXPECT_TRUE(c.close_wait["leaky"].age_known);
    EXPECT_DOUBLE_EQ(c.close_wait["leaky"].oldest_seconds, 60.0);
    ASSERT_EQ(c.close_wait.count("?"), 1u);
    EXPECT_FALSE(c.close_wait["?"].age_known);
}

TEST(Stuck, TraceFiltersApplyToSockets) {
    SocketRecord s = close_wait(1, 0);
    ts_filter f{};
    EXPECT_TRUE(socket_passes(s, f));
    f.nports = 1;
    f.ports[0] = 5000;
    EXPECT_TRUE(socket_passes(s, f));
    f.ports[0] = 5001;
    EXPECT_FALSE(socket_passes(s, f));
    f = {};
    f.pid = 4242;
    EXPECT_TRUE(socket_passes(s, f));
    f.pid = 1;
    EXPECT_FALSE(socket_passes(s, f));
    f = {};
    f.has_comm = 1;
    std::memcpy(f.comm, "leaky", 5);
    EXPECT_TRUE(socket_passes(s, f));
    s.pid = 0;
    EXPECT_FALSE(socket_passes(s, f)) << "an unknown owner never passes a process filter";
    f = {};
    f.addr_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", f.addr);
    EXPECT_TRUE(socket_passes(s, f));
    s.family = AF_INET6;
    s.local = {"::ffff:127.0.0.1", 5000};
    s.remote = {"::1", 1};
    EXPECT_TRUE(socket_passes(s, f)) << "the mapped form of a dual-stack socket";
    inet_pton(AF_INET, "10.0.0.1", f.addr);
    EXPECT_FALSE(socket_passes(s, f));
}

}  // namespace
}  // namespace tcpscope
