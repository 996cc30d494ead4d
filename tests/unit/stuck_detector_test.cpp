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
#include "exposition.h"
#include "stuck_families.h"
#include "stuck_format.h"

namespace tcpscope {
namespace {

const WallClock kEpochClock{0};  // the wall clock at the epoch: "time" from ts_ns 0

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

TEST(Stuck, StuckNowHoldsEveryStuckSocketNotOnlyThoseReported) {
    // What `metrics --stuck` shows at each scrape: the whole stuck set,
    // though update() reports a socket once per period.
    StuckDetector d({10 * kSecond, 0}, 0);
    d.update(at(6, {close_wait(1, kSecond / 2), close_wait(2, 5 * kSecond)}));
    EXPECT_TRUE(d.stuck_now().empty());
    EXPECT_EQ(d.update(at(12, {close_wait(1, kSecond / 2), close_wait(2, 5 * kSecond)})).size(), 1u);
    EXPECT_TRUE(d.update(at(15, {close_wait(1, kSecond / 2), close_wait(2, 5 * kSecond)})).size() == 1u)
        << "cookie 2 passes 10 s at 15 s";
    EXPECT_TRUE(d.update(at(16, {close_wait(1, kSecond / 2), close_wait(2, 5 * kSecond)})).empty());
    auto now = d.stuck_now();
    ASSERT_EQ(now.size(), 2u);
    for (const auto& r : now) {
        EXPECT_EQ(r.ts_ns, 16 * kSecond);
        EXPECT_EQ(r.age_ns, r.socket.cookie == 1 ? 15 * kSecond + kSecond / 2 : 11 * kSecond);
    }
    // Closed: gone from the set at the next update.
    d.update(at(17, {close_wait(2, 5 * kSecond)}));
    now = d.stuck_now();
    ASSERT_EQ(now.size(), 1u);
    EXPECT_EQ(now[0].socket.cookie, 2u);
}

TEST(Stuck, MetricsGaugesByStateAndOwner) {
    StuckDetector d({10 * kSecond, 0}, 0);
    SocketRecord old_one = close_wait(3, 0);  // older than the tracer: age at least 20 s
    SocketRecord other = close_wait(4, 2 * kSecond);
    other.comm = "a\x01" "b\n";  // bytes a process name may hold
    SocketRecord retrans;
    retrans.cookie = 5;
    retrans.state = kEstablished;
    retrans.has_info = true;
    retrans.retransmits = 2;
    d.update(at(2, {close_wait(1, kSecond / 2), old_one, other, retrans}));
    d.update(at(20, {close_wait(1, kSecond / 2), old_one, other, retrans}));
    std::string text = render_text_format(stuck_families(d.stuck_now(), 10 * kSecond));
    EXPECT_NE(text.find("tcpscope_stuck_sockets{state=\"CLOSE_WAIT\",comm=\"leaky\"} 2"), std::string::npos)
        << text;
    EXPECT_NE(text.find("tcpscope_stuck_oldest_seconds{state=\"CLOSE_WAIT\",comm=\"leaky\"} 20"),
              std::string::npos);
    EXPECT_NE(text.find("tcpscope_stuck_sockets{state=\"CLOSE_WAIT\",comm=\"a?b?\"} 1"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_stuck_oldest_seconds{state=\"CLOSE_WAIT\",comm=\"a?b?\"} 18"),
              std::string::npos);
    EXPECT_NE(text.find("tcpscope_stuck_sockets{state=\"ESTABLISHED_RETRANSMITTING\",comm=\"?\"} 1"),
              std::string::npos);
    EXPECT_NE(text.find("tcpscope_stuck_threshold_seconds 10"), std::string::npos);
    // Nothing stuck: the two gauges have no series; the threshold stays.
    text = render_text_format(stuck_families({}, 10 * kSecond));
    EXPECT_EQ(text.find("tcpscope_stuck_sockets{"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_stuck_threshold_seconds 10"), std::string::npos);
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
    nlohmann::json j = nlohmann::json::parse(stuck_to_json(r[0], &kEpochClock).dump());
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
    // The words say what the age is: time retransmitting, not established.
    std::string line = stuck_text_line(r[0], 10 * kSecond);
    EXPECT_NE(line.find("ESTABLISHED, retransmitting unacknowledged data for at least 2.00 s"),
              std::string::npos) << line;
    EXPECT_NE(line.find("the same segment sent again 3 times"), std::string::npos) << line;
    EXPECT_EQ(stuck_to_json(r[0], &kEpochClock).at("age_of"), "retransmitting");
    // Acknowledged at last: its spell ends, and the line says how.
    s.retransmits = 0;
    r = d.update(at(13, {s}));
    ASSERT_EQ(r.size(), 1u);
    line = stuck_text_line(r[0], 10 * kSecond);
    EXPECT_NE(line.find("ESTABLISHED, retransmitting ended after at least 3.00 s: acknowledged"),
              std::string::npos) << line;
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
