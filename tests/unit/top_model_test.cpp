// `tcpscope top`'s pure part: rows from recorded runs (the real event
// streams of the scenarios on 6.18, through the same story builder as
// `trace --connections`), and from stories made by hand for what a
// recording cannot show (RTTs, percentiles, many groups); sorting, the
// filter, the groupings, the keys, and the frame as text and JSON.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "latency_histogram.h"
#include "recording_support.h"
#include "top_format.h"
#include "top_keys.h"
#include "top_model.h"
#include "top_sink.h"

namespace tcpscope {
namespace {

using testing_support::load;

constexpr uint64_t kSecond = 1000000000ull;

// A recorded run through top's sink, every story complete, one frame.
TopFrame frame_of_recording(const Recording& r, TopModel& model, TopView view = {}) {
    TopSink sink(model, r.reasons, StoryOptions{});
    uint64_t last = 0;
    for (const auto& e : r.events) {
        sink.event(e);
        last = e.ts_ns;
    }
    model.frame(r.events.front().ts_ns, {}, {}, {}, view);  // anchors the rates
    sink.tick(last + 10 * kSecond);
    return model.frame(last + 10 * kSecond, [&](const auto& v) { sink.builder().for_each_open(v); },
                       {}, {}, view);
}

const TopRow* row_named(const TopFrame& f, const std::string& key) {
    for (const auto& r : f.rows) {
        if (r.key == key) return &r;
    }
    return nullptr;
}

ConnectionStory client_story(uint32_t pid, const std::string& comm, const std::string& peer,
                             uint16_t port, Ending ending, uint64_t connect_us, uint32_t srtt_us) {
    ConnectionStory s;
    s.pid = pid;
    s.comm = comm;
    s.role = Role::Client;
    s.local = {"10.0.0.1", 40000};
    s.remote = {peer, port};
    s.ending = ending;
    s.established = ending != Ending::Refused && ending != Ending::Timeout;
    s.states.push_back({2, connect_us * 1000});  // SYN_SENT
    CloseStats stats;
    stats.srtt_us = srtt_us;
    s.stats = stats;
    return s;
}

TEST(TopModel, LingerZeroRecordingCountsBothEndsAndTheResetReason) {
    Recording r = load("linger-zero");
    TopModel model(r.reasons);
    TopFrame f = frame_of_recording(r, model);
    // The scenario forks: a client process and a server process, a row
    // each. The client aborted (SO_LINGER 0: a RST sent, TCP_STATE), the
    // server got the RST.
    ASSERT_EQ(f.rows.size(), 2u);
    const TopRow* client = nullptr;
    const TopRow* server = nullptr;
    for (const auto& row : f.rows) {
        EXPECT_EQ(row.key.rfind("linger-zero[", 0), 0u) << row.key;
        EXPECT_EQ(row.conns, 1u);
        EXPECT_EQ(row.active, 0u);
        EXPECT_EQ(row.ended_by(Ending::Fin), 0u);
        (row.ended_by(Ending::Aborted) ? client : server) = &row;
    }
    ASSERT_TRUE(client && server);
    EXPECT_EQ(client->ended_by(Ending::Aborted), 1u);
    EXPECT_EQ(client->reset_sent_reasons, (std::map<std::string, uint64_t>{{"TCP_STATE", 1}}));
    EXPECT_TRUE(client->connect_p50_us.has_value()) << "the client's SYN_SENT was seen";
    EXPECT_EQ(server->ended_by(Ending::ResetReceived), 1u);
    EXPECT_TRUE(server->reset_sent_reasons.empty());
    EXPECT_FALSE(server->connect_p50_us.has_value()) << "a server has no connect time";
    EXPECT_EQ(f.totals.conns, 2u);
    EXPECT_EQ(f.totals.ended[static_cast<size_t>(Ending::Aborted)], 1u);
    EXPECT_FALSE(client->rtt_p50_us.has_value()) << "the recording has no RTT: shown as -";
}

TEST(TopModel, ConnectRefusedRecordingIsRefusedWithNoConnectTime) {
    Recording r = load("connect-refused");
    TopModel model(r.reasons);
    TopView view;
    view.grouping = Grouping::LocalPort;
    TopFrame f = frame_of_recording(r, model, view);
    ASSERT_EQ(f.rows.size(), 1u);
    EXPECT_EQ(f.rows[0].key.substr(0, 2), "->") << "a client is grouped by the port it reaches";
    EXPECT_EQ(f.rows[0].ended_by(Ending::Refused), 1u);
    EXPECT_EQ(f.rows[0].conns, 1u);
    EXPECT_FALSE(f.rows[0].connect_p50_us.has_value()) << "refused: no connect time";
    EXPECT_EQ(f.totals.ended[static_cast<size_t>(Ending::Refused)], 1u);
}

TEST(TopModel, RttAndConnectPercentilesPerPeer) {
    ResetReasons reasons;
    TopModel model(reasons);
    // 100 connections to one peer: RTT 1..100 ms, connect 1..100 us; one to
    // another peer with an unknown RTT (0).
    for (uint32_t i = 1; i <= 100; ++i) {
        model.on_story(client_story(7, "curl", "10.0.0.2", 80, Ending::Fin, i, i * 1000));
    }
    model.on_story(client_story(7, "curl", "10.0.0.3", 80, Ending::Fin, 5, 0));
    TopView view;
    view.grouping = Grouping::RemoteAddr;
    TopFrame f = model.frame(kSecond, {}, {}, {}, view);
    const TopRow* a = row_named(f, "10.0.0.2");
    const TopRow* b = row_named(f, "10.0.0.3");
    ASSERT_TRUE(a && b);
    // The connect times are exact below 64 us; the RTTs within 3%.
    EXPECT_EQ(*a->connect_p50_us, 50u);
    ASSERT_TRUE(a->rtt_p50_us && a->rtt_p99_us);
    EXPECT_NEAR(static_cast<double>(*a->rtt_p50_us), 50000, 50000 * 0.03);
    EXPECT_NEAR(static_cast<double>(*a->rtt_p99_us), 99000, 99000 * 0.03);
    EXPECT_FALSE(b->rtt_p50_us.has_value()) << "srtt_us 0 is unknown, not 0 ms";
    EXPECT_EQ(format_latency_us(b->rtt_p50_us), "-");
    EXPECT_EQ(top_table_line(*b).find("0us"), std::string::npos);
}

TEST(LatencyHistogram, ExactBelow64AndWithin3PercentAbove) {
    for (uint64_t v : {0ull, 1ull, 63ull}) {
        EXPECT_EQ(LatencyHistogram::value_of(LatencyHistogram::bucket_of(v)), v);
    }
    for (uint64_t v = 64; v < 100000000; v = v * 13 / 10 + 1) {
        const double got = static_cast<double>(LatencyHistogram::value_of(LatencyHistogram::bucket_of(v)));
        EXPECT_NEAR(got, static_cast<double>(v), static_cast<double>(v) * 0.03) << v;
    }
    LatencyHistogram h;
    EXPECT_FALSE(h.percentile(0.5).has_value());
    h.add(10);
    h.add(20);
    h.add(30);
    EXPECT_EQ(*h.percentile(0.5), 20u);
    EXPECT_EQ(*h.percentile(0.99), 30u);
    EXPECT_EQ(*h.percentile(0.01), 10u);
}

TEST(TopModel, RatesAreOverTheLastIntervalAndCountsSinceStart) {
    ResetReasons reasons;
    TopModel model(reasons);
    Event e;
    e.kind = EventKind::State;
    e.old_state = 7;  // CLOSE
    e.new_state = 2;  // SYN_SENT
    e.pid = 9;
    e.comm = "ab";
    e.remote = {"10.0.0.9", 443};
    e.local = {"10.0.0.1", 50000};
    model.frame(kSecond, {}, {}, {}, {});
    for (int i = 0; i < 6; ++i) model.on_event(e);
    TopFrame f1 = model.frame(3 * kSecond, {}, {}, {}, {});  // 2 s
    ASSERT_EQ(f1.rows.size(), 1u);
    EXPECT_DOUBLE_EQ(f1.rows[0].new_per_s, 3.0);
    EXPECT_DOUBLE_EQ(f1.totals.new_per_s, 3.0);
    TopFrame f2 = model.frame(4 * kSecond, {}, {}, {}, {});
    EXPECT_DOUBLE_EQ(f2.rows[0].new_per_s, 0.0);
    EXPECT_EQ(f2.rows[0].conns, 6u);
    // A retransmit counts in the same row; the server side's SYN_RECV from
    // LISTEN too, but no other state change.
    Event rt = e;
    rt.kind = EventKind::Retransmit;
    model.on_event(rt);
    Event other = e;
    other.old_state = 2;
    other.new_state = 1;
    model.on_event(other);
    TopFrame f3 = model.frame(5 * kSecond, {}, {}, {}, {});
    EXPECT_EQ(f3.rows[0].retransmits, 1u);
    EXPECT_DOUBLE_EQ(f3.rows[0].retrans_per_s, 1.0);
    EXPECT_EQ(f3.rows[0].conns, 6u);
}

TEST(TopModel, ActiveAndStuckAreWhatIsNow) {
    ResetReasons reasons;
    TopModel model(reasons);
    ConnectionStory open = client_story(5, "app", "10.0.0.2", 5432, Ending::Unknown, 10, 0);
    SocketRecord sock;
    sock.state = 8;  // CLOSE_WAIT
    sock.local = {"10.0.0.1", 41000};
    sock.remote = {"10.0.0.2", 5432};
    sock.has_storage = true;
    sock.pid = 5;
    sock.comm = "app";
    StuckReport young, old;
    young.socket = sock;
    young.age_ns = 12 * kSecond;
    old.socket = sock;
    old.age_ns = 200 * kSecond;
    auto two_open = [&](const std::function<void(const ConnectionStory&)>& visit) {
        visit(open);
        visit(open);
    };
    TopFrame f = model.frame(kSecond, two_open, {young, old}, {{"CLOSE_WAIT", 2}}, {});
    ASSERT_EQ(f.rows.size(), 1u);
    EXPECT_EQ(f.rows[0].key, "app[5]");
    EXPECT_EQ(f.rows[0].active, 2u);
    EXPECT_EQ(f.rows[0].stuck, 2u);
    EXPECT_EQ(f.rows[0].stuck_oldest_ns, 200 * kSecond);
    EXPECT_EQ(f.rows[0].stuck_oldest_state, "CLOSE_WAIT");
    EXPECT_EQ(format_age_ns(f.rows[0].stuck_oldest_ns), "3m20s");
    TopFrame later = model.frame(2 * kSecond, {}, {}, {}, {});
    EXPECT_EQ(later.rows[0].active, 0u) << "recounted each frame";
    EXPECT_EQ(later.rows[0].stuck, 0u);
}

TEST(TopModel, GroupingsSortAndFilter) {
    ResetReasons reasons;
    TopModel model(reasons);
    model.on_story(client_story(1, "alpha", "10.0.0.2", 80, Ending::Fin, 10, 0));
    for (int i = 0; i < 3; ++i) model.on_story(client_story(2, "beta", "10.0.0.3", 443, Ending::ResetReceived, 10, 0));
    ConnectionStory server = client_story(3, "nginx", "10.0.0.4", 33000, Ending::Fin, 10, 0);
    server.role = Role::Server;
    server.local = {"10.0.0.1", 8080};
    model.on_story(server);

    TopView view;
    view.sort = Column::ResetReceived;
    TopFrame f = model.frame(kSecond, {}, {}, {}, view);
    ASSERT_EQ(f.rows.size(), 3u);
    EXPECT_EQ(f.rows[0].key, "beta[2]");
    view.ascending = true;
    view.sort = Column::Group;
    recut(f, view);
    EXPECT_EQ(f.rows[0].key, "alpha[1]");
    view.filter = "NGI";  // case does not matter
    recut(f, view);
    ASSERT_EQ(f.rows.size(), 1u);
    EXPECT_EQ(f.rows[0].key, "nginx[3]");
    EXPECT_EQ(f.rows_hidden, 2u);

    view = {};
    view.grouping = Grouping::LocalPort;
    view.sort = Column::Group;
    view.ascending = true;
    recut(f, view);
    std::vector<std::string> keys;
    for (const auto& r : f.rows) keys.push_back(r.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"->443", "->80", ":8080"}));
    view.grouping = Grouping::RemoteAddr;
    recut(f, view);
    EXPECT_EQ(f.rows.size(), 3u);
    EXPECT_EQ(model.recent_stories(Grouping::RemoteAddr, "10.0.0.3").size(), 3u);
}

TEST(TopModel, PortKeyReadsAClientFromTheEphemeralRange) {
    ResetReasons reasons;
    TopModel model(reasons);
    EXPECT_EQ(model.port_key(Role::Unknown, {"::1", 45000}, {"::1", 22}), "->22");
    EXPECT_EQ(model.port_key(Role::Unknown, {"::1", 22}, {"::1", 45000}), ":22");
    EXPECT_EQ(model.port_key(Role::Server, {"::1", 45000}, {"::1", 40000}), ":45000");
    EXPECT_EQ(model.process_key(0, ""), "(unknown)");
}

TEST(TopKeys, SortGroupPauseFilterStoriesQuit) {
    TopUi ui;
    EXPECT_TRUE(top_key(ui, '>', 5));
    EXPECT_EQ(ui.view.sort, Column::Active);
    EXPECT_TRUE(top_key(ui, '<', 5));
    EXPECT_TRUE(top_key(ui, '<', 5));
    EXPECT_EQ(ui.view.sort, Column::NewPerS);
    EXPECT_TRUE(top_key(ui, 'r', 5));
    EXPECT_TRUE(ui.view.ascending);
    EXPECT_TRUE(top_key(ui, 'g', 5));
    EXPECT_EQ(ui.view.grouping, Grouping::LocalPort);
    top_key(ui, 'g', 5);
    top_key(ui, 'g', 5);
    EXPECT_EQ(ui.view.grouping, Grouping::Process);
    top_key(ui, ' ', 5);
    EXPECT_TRUE(ui.paused);
    top_key(ui, 'p', 5);
    EXPECT_FALSE(ui.paused);
    // Typing a filter: 'q' and 'g' are text there, not commands.
    top_key(ui, '/', 5);
    EXPECT_EQ(ui.mode, TopMode::Filter);
    for (char c : std::string("qg")) EXPECT_TRUE(top_key(ui, c, 5));
    EXPECT_EQ(ui.view.filter, "qg");
    EXPECT_FALSE(ui.quit);
    EXPECT_TRUE(top_key(ui, kTopKeyBackspace, 5));
    EXPECT_EQ(ui.view.filter, "q");
    top_key(ui, kTopKeyEnter, 5);
    EXPECT_EQ(ui.mode, TopMode::Table);
    EXPECT_EQ(ui.view.filter, "q");
    top_key(ui, '/', 5);
    EXPECT_TRUE(top_key(ui, kTopKeyEscape, 5));
    EXPECT_EQ(ui.view.filter, "");
    // Selection stays within the rows; Enter opens the stories, Esc closes.
    for (int i = 0; i < 9; ++i) top_key(ui, kTopKeyDown, 3);
    EXPECT_EQ(ui.selected, 2u);
    top_key(ui, kTopKeyUp, 3);
    EXPECT_EQ(ui.selected, 1u);
    top_key(ui, kTopKeyEnter, 3);
    EXPECT_EQ(ui.mode, TopMode::Stories);
    top_key(ui, 'q', 3);
    EXPECT_EQ(ui.mode, TopMode::Table);
    EXPECT_FALSE(ui.quit) << "q leaves the stories first";
    top_key(ui, kTopKeyEnter, 0);
    EXPECT_EQ(ui.mode, TopMode::Table) << "no row, no stories";
    top_key(ui, 'q', 3);
    EXPECT_TRUE(ui.quit);
}

TEST(TopFormat, TableLinesAndJsonCarryEveryColumn) {
    ResetReasons reasons({{1, "NO_SOCKET"}, {11, "TCP_ABORT_ON_CLOSE"}});
    TopModel model(reasons);
    ConnectionStory s = client_story(4, "srv", "10.0.0.2", 80, Ending::Aborted, 100, 2500);
    s.reset_reason = 11;
    model.on_story(s);
    TopFrame f = model.frame(kSecond, {}, {}, {{"ESTABLISHED", 3}}, {});
    f.self.cpu_percent = 1.5;
    f.self.lost_by_reason = {{"ringbuf_full", 2}};
    const std::string header = top_table_header(f);
    EXPECT_NE(header.find("vCONNS"), std::string::npos) << "the sort column is marked: " << header;
    EXPECT_EQ(header.substr(column_offset(Column::Conns), 6), "vCONNS") << "where the screen marks it";
    const std::string line = top_table_line(f.rows[0]);
    EXPECT_NE(line.find("TCP_ABORT_ON_CLOSE:1"), std::string::npos) << line;
    EXPECT_NE(line.find("2.5ms"), std::string::npos) << line;
    f.clock = "12:44:50 UTC";
    const auto lines = top_header_lines(f);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].rfind("12:44:50 UTC  tcpscope top  group: process", 0), 0u) << lines[0];
    EXPECT_NE(lines[2].find("ESTABLISHED 3"), std::string::npos);
    EXPECT_NE(lines[3].find("cpu 1.5%"), std::string::npos);
    EXPECT_NE(lines[3].find("ringbuf_full 2"), std::string::npos);

    Json j = top_frame_to_json(f, WallClock::anchor());
    EXPECT_EQ(j["type"], "top");
    EXPECT_EQ(j["grouping"], "process");
    EXPECT_EQ(j["tcpscope"]["lost"]["ringbuf_full"], 2);
    ASSERT_EQ(j["rows"].size(), 1u);
    const Json& row = j["rows"][0];
    for (const char* key : {"group", "new_per_s", "conns", "active", "ended", "reset_sent_reasons",
                            "retrans_per_s", "retransmits", "stuck", "stuck_oldest_s",
                            "stuck_oldest_state", "connect_p50_ms", "connect_p99_ms", "rtt_p50_ms",
                            "rtt_p99_ms"}) {
        EXPECT_TRUE(row.contains(key)) << key;
    }
    EXPECT_EQ(row["ended"]["aborted"], 1);
    EXPECT_EQ(row["reset_sent_reasons"]["TCP_ABORT_ON_CLOSE"], 1);
    EXPECT_DOUBLE_EQ(row["rtt_p50_ms"].get<double>(), LatencyHistogram::value_of(LatencyHistogram::bucket_of(2500)) / 1000.0);
    EXPECT_TRUE(j["totals"]["ended"].contains("refused"));
}

}  // namespace
}  // namespace tcpscope
