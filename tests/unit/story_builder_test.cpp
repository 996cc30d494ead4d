// Connection stories from recorded runs (scenarios/*/recording.jsonl: real
// event streams of the scenarios on 6.18), and from events made by hand
// for what a recording cannot show (the grace after CLOSE, the bound).
#include <malloc.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recording_support.h"
#include "story_builder.h"
#include "story_format.h"

namespace tcpscope {
namespace {

const WallClock kEpochClock{0};  // the wall clock at the epoch: "time" from ts_ns 0

using testing_support::load;

std::vector<ConnectionStory> stories_of(const Recording& r) {
    StoryBuilder builder(r.reasons);
    for (const auto& e : r.events) builder.add(e);
    auto out = builder.take_closed();
    EXPECT_EQ(builder.open_connections(), 0u) << "every connection of a finished run is closed";
    return out;
}

const ConnectionStory& by_role(const std::vector<ConnectionStory>& stories, Role role, int nth = 0) {
    for (const auto& s : stories) {
        if (s.role == role && nth-- == 0) return s;
    }
    static ConnectionStory none;
    ADD_FAILURE() << "no " << role_name(role) << " story";
    return none;
}

std::string cause(const Recording& r, const ConnectionStory& s) { return story_cause(s, r.reasons); }

TEST(Stories, LingerZeroAbortsTheClientAndResetsTheServer) {
    Recording r = load("linger-zero");
    auto stories = stories_of(r);
    ASSERT_EQ(stories.size(), 2u) << "the listener is no connection";
    const auto& client = by_role(stories, Role::Client);
    EXPECT_EQ(client.ending, Ending::Aborted);
    ASSERT_TRUE(client.reset_reason.has_value());
    EXPECT_EQ(r.reasons.name(*client.reset_reason), "TCP_STATE");
    EXPECT_EQ(client.closed_first, Closer::Neither);
    EXPECT_TRUE(client.established);
    EXPECT_EQ(cause(r, client), "closed with SO_LINGER 0: RST instead of FIN (TCP_STATE)");
    const auto& server = by_role(stories, Role::Server);
    EXPECT_EQ(server.ending, Ending::ResetReceived);
    EXPECT_EQ(server.reset_state, 1);  // ESTABLISHED
    EXPECT_EQ(server.errors, std::vector<int>{ECONNRESET});
    EXPECT_EQ(server.comm, "linger-zero");
    EXPECT_EQ(cause(r, server), "RST received in ESTABLISHED: ECONNRESET");
    // Both ends are the same connection seen from each side.
    EXPECT_EQ(client.local, server.remote);
    EXPECT_EQ(client.remote, server.local);
}

TEST(Stories, LingerZeroOnAKernelWithoutReasonsIsStillAnAbort) {
    // Before 6.10 the RST has no reason: the owner's own close() moving
    // the socket to CLOSE says it.
    Recording r = load("linger-zero");
    for (auto& e : r.events) e.reason.reset();
    auto stories = stories_of(r);
    EXPECT_EQ(by_role(stories, Role::Client).ending, Ending::Aborted);
    EXPECT_FALSE(by_role(stories, Role::Client).reset_reason.has_value());
}

TEST(Stories, CloseUnreadDataIsAnAbortOnClose) {
    Recording r = load("close-unread-data");
    auto stories = stories_of(r);
    ASSERT_EQ(stories.size(), 2u);
    const auto& server = by_role(stories, Role::Server);
    EXPECT_EQ(server.ending, Ending::Aborted);
    EXPECT_EQ(cause(r, server), "closed with unread data: RST instead of FIN (TCP_ABORT_ON_CLOSE)");
    const auto& client = by_role(stories, Role::Client);
    EXPECT_EQ(client.ending, Ending::ResetReceived);
    EXPECT_EQ(client.errors, std::vector<int>{ECONNRESET});
}

TEST(Stories, RefusedConnectionIsAStoryThatNeverEstablished) {
    Recording r = load("connect-refused");
    auto stories = stories_of(r);
    ASSERT_EQ(stories.size(), 1u) << "the socketless RST belongs to no connection";
    const auto& s = stories[0];
    EXPECT_EQ(s.role, Role::Client);
    EXPECT_FALSE(s.established);
    EXPECT_EQ(s.ending, Ending::Refused);
    EXPECT_EQ(s.remote.port, 5999);
    ASSERT_EQ(s.states.size(), 1u);
    EXPECT_EQ(s.states[0].state, 2);  // SYN_SENT
    EXPECT_EQ(cause(r, s), "refused: the SYN drew a RST: ECONNREFUSED");
}

TEST(Stories, ZeroByteSendTellsThePeerClosedThenTheWriteDrewARst) {
    Recording r = load("zero-byte-send");
    auto stories = stories_of(r);
    ASSERT_EQ(stories.size(), 2u);
    const auto& client = by_role(stories, Role::Client);
    EXPECT_EQ(client.ending, Ending::ResetReceived);
    EXPECT_EQ(client.closed_first, Closer::Peer);
    EXPECT_EQ(client.reset_state, 8);  // CLOSE_WAIT
    EXPECT_EQ(client.errors, std::vector<int>{EPIPE});
    EXPECT_EQ(client.sigpipes, 1u) << "the SIGPIPE after CLOSE belongs to the story";
    EXPECT_EQ(cause(r, client),
              "peer closed, then our write drew a RST from its timewait socket: EPIPE, SIGPIPE");
    const auto& server = by_role(stories, Role::Server);
    EXPECT_EQ(server.ending, Ending::Fin);
    EXPECT_EQ(server.closed_first, Closer::Local);
    EXPECT_EQ(server.sigpipes, 0u);
}

TEST(Stories, TimeWaitIsOrderlyWithTheTimeOfEachState) {
    Recording r = load("time-wait");
    auto stories = stories_of(r);
    ASSERT_EQ(stories.size(), 4u);
    for (int i = 0; i < 2; ++i) {
        const auto& client = by_role(stories, Role::Client, i);
        EXPECT_EQ(client.ending, Ending::Fin);
        EXPECT_EQ(client.closed_first, Closer::Peer);
        std::vector<int> states;
        for (const auto& span : client.states) {
            states.push_back(span.state);
            EXPECT_TRUE(span.ns.has_value()) << "tcpscope saw every state begin";
        }
        EXPECT_EQ(states, (std::vector<int>{2, 1, 8, 9}));  // SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK
        ASSERT_TRUE(client.start_ns.has_value());
        uint64_t sum = 0;
        for (const auto& span : client.states) sum += *span.ns;
        EXPECT_EQ(sum, client.duration_ns()) << "the states' times add up to its life";
        const auto& server = by_role(stories, Role::Server, i);
        EXPECT_EQ(server.ending, Ending::Fin);
        EXPECT_EQ(server.closed_first, Closer::Local);
        EXPECT_EQ(cause(r, server), "we closed first, then the peer (FIN both ways)");
    }
}

TEST(Stories, PeerVanishedTimesOut) {
    Recording r = load("peer-vanished");
    auto stories = stories_of(r);
    const auto& client = by_role(stories, Role::Client);
    EXPECT_EQ(client.ending, Ending::Timeout);
    EXPECT_EQ(client.retransmits_seen, 4u);
    EXPECT_EQ(client.errors, std::vector<int>{ETIMEDOUT});
    // The recording carries the close stats (the count in words) and the
    // drops of the copies the downed veth's queue discipline refused.
    EXPECT_EQ(cause(r, client),
              "4 retransmissions went unanswered: ETIMEDOUT; 5 segments dropped on this host "
              "(QDISC_DROP: a queue discipline)");
}

TEST(Stories, EveryRecordedScenarioGivesStoriesWithAKnownEnding) {
    for (const char* scenario :
         {"server-killed", "peer-rebooted", "econnreset-then-sigpipe", "rst-before-accept",
          "shutdown-write", "sigpipe-default", "poll-after-reset", "poll-after-peer-close"}) {
        Recording r = load(scenario);
        StoryBuilder builder(r.reasons);
        for (const auto& e : r.events) builder.add(e);
        for (const auto& s : builder.take_closed()) {
            EXPECT_NE(s.ending, Ending::Unknown) << scenario << ": " << story_cause(s, r.reasons);
            EXPECT_NE(s.pid, 0u) << scenario;
            EXPECT_NE(s.role, Role::Unknown) << scenario;
        }
    }
}

TEST(Stories, PeerRebootedGetsEconnresetThenSigpipe) {
    Recording r = load("peer-rebooted");
    auto stories = stories_of(r);
    const auto& client = by_role(stories, Role::Client);
    EXPECT_EQ(client.ending, Ending::ResetReceived);
    EXPECT_EQ(client.reset_state, 1);
    EXPECT_EQ(client.errors, std::vector<int>{ECONNRESET});
}

// ------------------------------------------------- by hand: grace and bound

Event state(uint64_t cookie, uint64_t ts, int from, int to, uint32_t pid = 100) {
    Event e;
    e.kind = EventKind::State;
    e.cookie = cookie;
    e.ts_ns = ts;
    e.old_state = from;
    e.new_state = to;
    e.pid = pid;
    e.comm = "app";
    e.family = 2;
    e.local = {"127.0.0.1", 40000};
    e.remote = {"127.0.0.1", 80};
    e.netns = 7;
    return e;
}

TEST(Stories, WaitForTheGraceThenForgetTheConnection) {
    ResetReasons reasons;
    StoryBuilder b(reasons, StoryOptions{1000, 16});
    b.add(state(1, 10, 7, 2));   // CLOSE -> SYN_SENT
    b.add(state(1, 20, 2, 1));   // -> ESTABLISHED
    b.add(state(1, 30, 1, 8));   // -> CLOSE_WAIT
    Event rst = state(1, 40, 0, 0);
    rst.kind = EventKind::ResetReceived;
    rst.state = 8;
    b.add(rst);
    Event close = state(1, 41, 8, 7);
    close.close_stats = CloseStats{11, 21, 0, 0, 0, 0, 0, true};  // SYN and FIN counted
    b.add(close);
    Event err = state(1, 42, 0, 0);
    err.kind = EventKind::SockError;
    err.error = EPIPE;
    b.add(err);
    EXPECT_TRUE(b.take_complete(41 + 999).empty()) << "still within the grace";
    Event sig;
    sig.kind = EventKind::Signal;
    sig.signal = 13;
    sig.target_pid = 100;
    sig.netns = 7;
    sig.ts_ns = 900;
    b.add(sig);
    auto done = b.take_complete(41 + 1000);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].sigpipes, 1u);
    EXPECT_EQ(done[0].duration_ns(), 31u);
    EXPECT_EQ(done[0].bytes_received, 20u) << "the kernel counted the FIN";
    EXPECT_EQ(done[0].bytes_sent, 10u) << "the kernel counted our SYN";
    EXPECT_EQ(b.open_connections(), 0u) << "freed with the story";
    // A late event of a finished connection starts no new one.
    b.add(err);
    EXPECT_EQ(b.open_connections(), 0u);
    EXPECT_TRUE(b.take_closed().empty());
}

TEST(Stories, ASigpipeOfAnotherProcessIsNotOurs) {
    ResetReasons reasons;
    StoryBuilder b(reasons);
    b.add(state(1, 10, 1, 7));
    Event sig;
    sig.kind = EventKind::Signal;
    sig.signal = 13;
    sig.target_pid = 101;
    sig.netns = 7;
    b.add(sig);
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].sigpipes, 0u);
    EXPECT_FALSE(done[0].start_ns.has_value()) << "older than the trace";
    std::string line = story_text_line(done[0], 0, reasons);
    EXPECT_NE(line.find(" >"), std::string::npos) << "its duration is a lower bound: " << line;
}

// Data after our close: the kernel's tcp_reset() (reported as a RST
// received, in FIN_WAIT2) aborts the socket, which then sends a RST of its
// own. The story says we sent it, for the data, in FIN_WAIT2: with the
// reason (6.10+) and without it (before).
TEST(Stories, DataAfterOurCloseIsOurAbortNotAReceivedRst) {
    for (bool with_reason : {true, false}) {
        ResetReasons reasons({{9, "TCP_ABORT_ON_DATA"}});
        StoryBuilder b(reasons);
        b.add(state(1, 10, 10, 3));  // LISTEN -> SYN_RECV
        b.add(state(1, 20, 3, 1));   // -> ESTABLISHED
        b.add(state(1, 30, 1, 4));   // -> FIN_WAIT1 (our close)
        b.add(state(1, 31, 4, 5));   // -> FIN_WAIT2
        Event received = state(1, 50, 0, 0);
        received.kind = EventKind::ResetReceived;
        received.state = 5;
        b.add(received);
        b.add(state(1, 51, 5, 7));  // -> CLOSE
        Event sent = state(1, 52, 0, 0);
        sent.kind = EventKind::ResetSent;
        sent.state = 7;
        if (with_reason) sent.reason = 9;
        b.add(sent);
        auto done = b.take_closed();
        ASSERT_EQ(done.size(), 1u);
        EXPECT_EQ(done[0].ending, Ending::ResetSent) << with_reason;
        EXPECT_EQ(done[0].reset_state, 5) << "where the data came";
        EXPECT_EQ(done[0].closed_first, Closer::Local);
        std::string cause = story_cause(done[0], reasons);
        EXPECT_NE(cause.find("data came after our close"), std::string::npos) << cause;
        EXPECT_EQ(cause.find("received"), std::string::npos) << cause;
    }
}

// Connections older than the trace, each in a state it can be found in at
// start: the role from the ports, who closed first from the state it
// leaves, and the duration at least since the trace began.
TEST(Stories, OlderThanTheTraceInEachStateFoundAtStart) {
    struct Case {
        const char* found_in;
        std::vector<std::pair<int, int>> moves;
        Ending ending;
        Closer closed_first;
    };
    const std::vector<Case> cases = {
        {"ESTABLISHED, we close", {{1, 4}, {4, 5}, {5, 7}}, Ending::Fin, Closer::Local},
        {"ESTABLISHED, peer closes", {{1, 8}, {8, 9}, {9, 7}}, Ending::Fin, Closer::Peer},
        {"CLOSE_WAIT", {{8, 9}, {9, 7}}, Ending::Fin, Closer::Peer},
        {"LAST_ACK", {{9, 7}}, Ending::Fin, Closer::Peer},
        {"FIN_WAIT1", {{4, 5}, {5, 7}}, Ending::Fin, Closer::Local},
        {"FIN_WAIT2", {{5, 7}}, Ending::Fin, Closer::Local},
        {"CLOSING", {{11, 7}}, Ending::Fin, Closer::Local},
    };
    for (const auto& c : cases) {
        ResetReasons reasons;
        StoryOptions options;
        options.trace_start_ns = 1000;
        StoryBuilder b(reasons, options);
        uint64_t ts = 5000;
        for (auto [from, to] : c.moves) {
            Event e = state(1, ts, from, to);
            e.local = {"10.0.0.1", 51000};  // ephemeral: the client's end
            e.remote = {"10.0.0.2", 443};
            b.add(e);
            ts += 1000;
        }
        auto done = b.take_closed();
        ASSERT_EQ(done.size(), 1u) << c.found_in;
        const ConnectionStory& s = done[0];
        EXPECT_EQ(s.role, Role::Client) << c.found_in;
        EXPECT_TRUE(s.role_from_ports) << c.found_in;
        EXPECT_EQ(s.closed_first, c.closed_first) << c.found_in;
        EXPECT_EQ(s.ending, c.ending) << c.found_in;
        EXPECT_FALSE(s.duration_known()) << c.found_in;
        EXPECT_EQ(s.duration_ns(), s.end_ns - 1000) << c.found_in << ": at least since the trace began";
        std::string line = story_text_line(s, 0, reasons);
        EXPECT_NE(line.find("client? "), std::string::npos) << line;
        EXPECT_NE(line.find(" >"), std::string::npos) << c.found_in << ": a lower bound: " << line;
    }
    // The server's end: its port is the listener's, the peer's ephemeral.
    ResetReasons reasons;
    StoryBuilder b(reasons);
    Event e = state(2, 10, 8, 9);
    e.local = {"10.0.0.2", 443};
    e.remote = {"10.0.0.1", 51000};
    b.add(e);
    e.ts_ns = 20;
    e.old_state = 9;
    e.new_state = 7;
    b.add(e);
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].role, Role::Server);
    // Neither port ephemeral (or both): unknown, said as such.
    StoryBuilder b2(reasons);
    e.local = {"10.0.0.2", 443};
    e.remote = {"10.0.0.1", 8080};
    b2.add(e);
    done = b2.take_closed();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].role, Role::Unknown);
    EXPECT_FALSE(done[0].role_from_ports);
    // Seen opening: the handshake names the role, never the ports.
    StoryBuilder b3(reasons);
    b3.add(state(3, 10, 7, 2));
    b3.add(state(3, 20, 2, 7));
    done = b3.take_closed();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_FALSE(done[0].role_from_ports);
}

TEST(Stories, BoundedByEvictingTheOldestOpenConnection) {
    ResetReasons reasons;
    StoryBuilder b(reasons, StoryOptions{1000, 2});
    b.add(state(1, 10, 7, 2));
    b.add(state(2, 20, 7, 2));
    b.add(state(3, 30, 7, 2));
    EXPECT_EQ(b.open_connections(), 2u);
    EXPECT_EQ(b.evicted(), 1u);
    b.add(state(3, 40, 2, 7));
    b.add(state(2, 40, 2, 7));
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(done[0].cookie, 3u);
    EXPECT_EQ(b.open_connections(), 0u);
}

// An evicted connection that shows up again is followed, but its story
// says its beginning is missing.
TEST(Stories, AConnectionBackAfterItsEvictionIsPartial) {
    ResetReasons reasons;
    StoryBuilder b(reasons, StoryOptions{1000, 2});
    b.add(state(1, 10, 2, 1));  // SYN_SENT -> ESTABLISHED
    b.add(state(2, 20, 2, 1));
    b.add(state(3, 30, 2, 1));  // evicts 1
    ASSERT_EQ(b.evicted(), 1u);
    b.add(state(1, 40, 1, 7));  // 1 closes: evicts 2, the idle longest
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].cookie, 1u);
    EXPECT_TRUE(done[0].partial);
    EXPECT_FALSE(done[0].start_ns.has_value()) << "its SYN_SENT went with the eviction";
    EXPECT_NE(story_text_line(done[0], 0, reasons).find("partial"), std::string::npos);
    const WallClock clock{1795902000000000000};
    EXPECT_EQ(nlohmann::json::parse(story_to_json(done[0], reasons, &clock).dump()).at("partial"),
              true);
    b.add(state(3, 50, 1, 7));
    auto rest = b.take_closed();
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_FALSE(rest[0].partial);
}

// Connections in their grace count against the bound too: at the bound a
// closed one is handed out early rather than kept past max_open.
TEST(Stories, ClosedConnectionsInTheirGraceAreInsideTheBound) {
    ResetReasons reasons;
    StoryBuilder b(reasons, StoryOptions{1000000000, 3});
    for (uint64_t cookie = 1; cookie <= 10; ++cookie) {
        b.add(state(cookie, cookie, 1, 7));  // closes at once, grace 1 s
        EXPECT_LE(b.open_connections(), 3u);
    }
    EXPECT_EQ(b.evicted(), 0u) << "no open connection had to go";
    EXPECT_EQ(b.cut_short(), 7u);
    auto early = b.take_complete(11);  // long before any grace has passed
    ASSERT_EQ(early.size(), 7u);
    EXPECT_EQ(early[0].cookie, 1u) << "the first closed goes first";
    EXPECT_EQ(b.take_closed().size(), 3u);
    // Its late events are not taken for a new connection.
    b.add(state(1, 20, 7, 7));
    EXPECT_EQ(b.open_connections(), 0u);
}

// The bound in memory (the README states it): at max_open connections of
// the longest text a story copies (IPv6 addresses, 15-byte names), with
// more coming, the heap the builder holds stays under 64 MiB.
TEST(Stories, HeapAtTheBoundIsUnder64MiB) {
    ResetReasons reasons;
    const size_t before = mallinfo2().uordblks;
    size_t held = 0;
    {
        StoryBuilder b(reasons);  // the default bound, as trace --connections runs it
        const uint64_t total = 65536 + 20000;
        for (uint64_t c = 1; c <= total; ++c) {
            for (auto [from, to] : {std::pair{7, 2}, std::pair{2, 1}}) {
                Event e = state(c, c * 10 + static_cast<uint64_t>(to), from, to,
                                static_cast<uint32_t>(c));
                e.family = 10;
                e.comm = e.cur_comm = e.cur_thread = "tokio-runtime-w";
                e.local = {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", static_cast<uint16_t>(c)};
                e.remote = {"2001:db8:1111:2222:3333:4444:5555:6666", 443};
                b.add(e);
            }
        }
        EXPECT_EQ(b.open_connections(), 65536u);
        EXPECT_EQ(b.evicted(), total - 65536);
        held = mallinfo2().uordblks - before;
    }
    std::printf("heap held at the bound: %.1f MiB (%zu bytes a connection)\n",
                static_cast<double>(held) / (1 << 20), held / 65536);
    EXPECT_LT(held, 64u << 20);
}

// The hot path writes the same bytes as the reference, for every story of
// every recording and for every optional both ways.
TEST(Stories, FastJsonEqualsTheReference) {
    const WallClock clock{1795902000123456789};
    auto same = [&](const ConnectionStory& s, const ResetReasons& reasons) {
        std::string fast;
        append_story_json(fast, s, reasons, &clock);
        EXPECT_EQ(fast, story_to_json(s, reasons, &clock).dump(-1, ' ', false, Json::error_handler_t::replace));
    };
    for (const char* scenario : {"linger-zero", "zero-byte-send", "connect-refused", "time-wait",
                                 "peer-vanished", "close-unread-data", "server-killed"}) {
        Recording r = load(scenario);
        for (auto s : stories_of(r)) {
            same(s, r.reasons);
            s.start_ns.reset();
            s.stats = CloseStats{5, 6, 7, 41234, 0, 244000, 17, true};  // a 0 is null
            s.bytes_sent = 4;
            s.bytes_received = 5;
            s.reset_reason = 9999;
            s.partial = true;
            s.reset_state = 3;
            s.errors = {EPIPE, 0, 4096};
            s.comm = std::string("a\"b\\c\x01\xff", 8);
            s.family = 10;
            s.local.addr = "::1";
            if (!s.states.empty()) s.states[0].ns.reset();
            same(s, r.reasons);
        }
    }
}

// The RTT state at the end: in the JSON keys (null when not known) and in
// the text's RTT column, from the state event into CLOSE.
TEST(Stories, RttAtTheEndInTextAndJson) {
    ResetReasons reasons;
    const WallClock clock{1795902000000000000};
    StoryBuilder b(reasons);
    b.add(state(1, 10, 7, 2));  // CLOSE -> SYN_SENT
    b.add(state(1, 20, 2, 1));  // -> ESTABLISHED
    Event close = state(1, 40, 1, 7);
    close.close_stats = CloseStats{101, 1, 0, 41234, 40012, 244000, 17, false};
    b.add(close);
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 1u);
    nlohmann::json j = nlohmann::json::parse(story_to_json(done[0], reasons, &clock).dump());
    EXPECT_EQ(j.at("srtt_us"), 41234);
    EXPECT_EQ(j.at("min_rtt_us"), 40012);
    EXPECT_EQ(j.at("rto_us"), 244000);
    EXPECT_EQ(j.at("snd_cwnd"), 17);
    std::string line = story_text_line(done[0], 0, reasons);
    EXPECT_NE(line.find(" 41.2 ms "), std::string::npos) << line;
    EXPECT_EQ(rtt_text(done[0]), "41.2 ms");
    // The RTT column sits under its header.
    std::string header = story_text_header();
    EXPECT_EQ(line.find("41.2 ms"), header.find("RTT ")) << header << "\n" << line;

    // No RTT timed (a refused connect): null, and "-" in the text.
    StoryBuilder b2(reasons);
    b2.add(state(2, 10, 7, 2));
    Event refused = state(2, 20, 2, 7);
    refused.close_stats = CloseStats{0, 0, 0, 0, 0, 1000000, 10, false};
    b2.add(refused);
    auto done2 = b2.take_closed();
    ASSERT_EQ(done2.size(), 1u);
    j = nlohmann::json::parse(story_to_json(done2[0], reasons, &clock).dump());
    EXPECT_TRUE(j.at("srtt_us").is_null()) << j;
    EXPECT_TRUE(j.at("min_rtt_us").is_null()) << j;
    EXPECT_EQ(j.at("rto_us"), 1000000);
    EXPECT_EQ(rtt_text(done2[0]), "-");
    // No close stats at all: every RTT key is null.
    done2[0].stats.reset();
    j = nlohmann::json::parse(story_to_json(done2[0], reasons, &clock).dump());
    for (const char* k : {"srtt_us", "min_rtt_us", "rto_us", "snd_cwnd"}) {
        EXPECT_TRUE(j.at(k).is_null()) << k;
    }
}

TEST(Stories, JsonAndTextCarryTheStory) {
    Recording r = load("zero-byte-send");
    auto stories = stories_of(r);
    const auto& client = by_role(stories, Role::Client);
    const WallClock clock{1795902000000000000};
    nlohmann::json j = nlohmann::json::parse(story_to_json(client, r.reasons, &clock).dump());
    EXPECT_EQ(j.at("v"), 1);
    EXPECT_EQ(j.at("type"), "connection");
    EXPECT_EQ(j.at("role"), "client");
    EXPECT_EQ(j.at("end"), "reset_received");
    EXPECT_EQ(j.at("closed_first"), "peer");
    EXPECT_EQ(j.at("reset_state"), "CLOSE_WAIT");
    EXPECT_EQ(j.at("errors"), nlohmann::json::array({"EPIPE"}));
    EXPECT_EQ(j.at("sigpipe"), 1);
    EXPECT_TRUE(j.at("bytes_sent").is_null()) << "the recording has no close stats";
    EXPECT_EQ(j.at("states").size(), 3u);
    EXPECT_EQ(j.at("states")[2].at("state"), "CLOSE_WAIT");
    EXPECT_EQ(j.at("duration_known"), true);
    std::string line = story_text_line(client, 0, r.reasons);
    EXPECT_NE(line.find("client"), std::string::npos) << line;
    EXPECT_NE(line.find("reset_received"), std::string::npos) << line;
    EXPECT_NE(line.find("EPIPE, SIGPIPE"), std::string::npos) << line;
    EXPECT_NE(story_text_header().find("END"), std::string::npos);
}

}  // namespace
}  // namespace tcpscope

namespace tcpscope {
namespace {

Event listener_drop(uint64_t ts, uint16_t port, const char* reason = "ACCEPT_QUEUE_FULL") {
    Event e;
    e.kind = EventKind::Drop;
    e.ts_ns = ts;
    e.cookie = 99;
    e.family = 2;
    e.local = {"127.0.0.1", port};
    e.netns = 7;
    e.drop_seen_by = "listener";
    e.drop_reason = reason;
    e.drop_count = 2;
    e.accept_queue = 2;
    e.accept_backlog = 1;
    return e;
}

Event with_prev(Event e, uint64_t prev_ns) {
    e.prev_state_ns = prev_ns;
    return e;
}

// A client that waited 1.02 s in SYN_SENT while the listener it connected
// to counted accept-queue drops: the story says why the connect was slow.
TEST(Stories, ASlowConnectIsExplainedByTheListenersFullAcceptQueue) {
    ResetReasons reasons;
    const uint64_t s = 1000000000ull;
    StoryBuilder b(reasons);
    b.add(state(1, 10 * s, 7, 2));                                  // CLOSE -> SYN_SENT
    b.add(listener_drop(10 * s + 600000000ull, 80));                // the look after the drop
    b.add(with_prev(state(1, 10 * s + 1020000000ull, 2, 1), 1020000000ull));  // ESTABLISHED
    b.add(state(1, 12 * s, 1, 4));
    b.add(state(1, 12 * s + 1000, 4, 5));
    b.add(state(1, 12 * s + 2000, 5, 7));
    auto stories = b.take_closed();
    ASSERT_EQ(stories.size(), 1u);
    ASSERT_TRUE(stories[0].syn_dropped);
    EXPECT_EQ(story_cause(stories[0], reasons).rfind(
                  "connect took 1.02 s: first SYN dropped, accept queue of 127.0.0.1:80 full (backlog 1); ", 0),
              0u)
        << story_cause(stories[0], reasons);
}

// A quick connect, a drop at another port, or a drop not named
// ACCEPT_QUEUE_FULL explain nothing.
TEST(Stories, OnlyASlowConnectToTheOverflowingListenerGetsTheCause) {
    ResetReasons reasons;
    const uint64_t s = 1000000000ull;
    for (int variant = 0; variant < 3; ++variant) {
        StoryBuilder b(reasons);
        const uint64_t connect_ns = variant == 0 ? 2000000ull : 1020000000ull;
        b.add(state(1, 10 * s, 7, 2));
        b.add(listener_drop(10 * s + 600000000ull, variant == 1 ? 81 : 80,
                            variant == 2 ? "LISTEN_DROP" : "ACCEPT_QUEUE_FULL"));
        b.add(with_prev(state(1, 10 * s + connect_ns, 2, 1), connect_ns));
        b.add(state(1, 12 * s, 1, 7));
        auto stories = b.take_closed();
        ASSERT_EQ(stories.size(), 1u);
        EXPECT_FALSE(stories[0].syn_dropped) << "variant " << variant;
    }
}

// A SYN dropped before any socket took it names none: it joins the
// connection whose addresses it carries, seen from the peer's end.
Event syn_drop(uint64_t ts, const std::string& reason) {
    Event e = state(0, ts, 0, 0);
    e.kind = EventKind::Drop;
    e.cookie = 0;
    e.pid = 0;
    e.attribution = "unknown";
    e.local = {"127.0.0.1", 80};  // dropped on its way in: the peer's side
    e.remote = {"127.0.0.1", 40000};
    e.dir = TS_DIR_RX;
    e.tcp_flags = TS_TCP_SYN;
    e.drop_reason = reason;
    return e;
}

TEST(Stories, SynsDroppedByAFirewallAreWhyTheConnectTimedOut) {
    ResetReasons reasons;
    StoryBuilder b(reasons);
    b.add(state(1, 10, 7, 2));  // CLOSE -> SYN_SENT
    b.add(syn_drop(11, "NETFILTER_DROP"));
    b.add(syn_drop(1000, "NETFILTER_DROP"));
    b.add(syn_drop(3000, "NETFILTER_DROP"));
    // Another connection's drop (other ports) and a listener's: not ours.
    Event other = syn_drop(3001, "NETFILTER_DROP");
    other.remote.port = 40001;
    b.add(other);
    b.add(state(1, 7000, 2, 7));  // SYN_SENT -> CLOSE
    Event err = state(1, 7001, 0, 0);
    err.kind = EventKind::SockError;
    err.error = ETIMEDOUT;
    b.add(err);
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].ending, Ending::Timeout);
    EXPECT_EQ(done[0].drops_seen, 3u);
    EXPECT_EQ(done[0].syn_drops, 3u);
    EXPECT_EQ(story_cause(done[0], reasons),
              "the SYN went unanswered: 3 SYNs dropped on this host (NETFILTER_DROP: a firewall "
              "rule): ETIMEDOUT");
    nlohmann::json j = nlohmann::json::parse(story_to_json(done[0], reasons, &kEpochClock).dump());
    EXPECT_EQ(j.at("drops_seen"), 3);
    EXPECT_EQ(j.at("drop_reasons"), nlohmann::json::array({"NETFILTER_DROP"}));
    EXPECT_EQ(b.open_connections(), 0u);
}

TEST(Stories, AFirewallRejectIsARefusalByARule) {
    ResetReasons reasons;
    StoryBuilder b(reasons);
    b.add(state(1, 10, 7, 2));
    b.add(syn_drop(11, "NETFILTER_DROP"));
    Event rst = state(1, 12, 0, 0);
    rst.kind = EventKind::ResetReceived;
    rst.state = 2;
    b.add(rst);
    b.add(state(1, 13, 2, 7));
    Event err = state(1, 14, 0, 0);
    err.kind = EventKind::SockError;
    err.error = ECONNREFUSED;
    b.add(err);
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].ending, Ending::Refused);
    EXPECT_EQ(story_cause(done[0], reasons),
              "refused by a firewall rule: the SYN was dropped here (NETFILTER_DROP) and a RST came "
              "back: ECONNREFUSED");
    // Refused by the kernel itself: the SYN's NO_SOCKET drop, which
    // follows the RST, adds nothing to the words.
    StoryBuilder b2(reasons);
    b2.add(state(2, 10, 7, 2));
    rst.cookie = 2;
    b2.add(rst);
    b2.add(syn_drop(12, "NO_SOCKET"));
    b2.add(state(2, 13, 2, 7));
    err.cookie = 2;
    b2.add(err);
    auto done2 = b2.take_closed();
    ASSERT_EQ(done2.size(), 1u);
    EXPECT_EQ(done2[0].drops_seen, 1u);
    EXPECT_EQ(story_cause(done2[0], reasons), "refused: the SYN drew a RST: ECONNREFUSED");
}

// Both ends on this host: the receiver (cookie 2, port 80) drops the
// client's data on its way in, first for memory, then a retransmit for
// the window; each retransmit of the client's follows a drop of what it
// sent, and its story says so.
TEST(Stories, RetransmitsAreJoinedToTheReceiversDropsOnThisHost) {
    ResetReasons reasons;
    StoryBuilder b(reasons);
    b.add(state(1, 10, 7, 2));  // the client: CLOSE -> SYN_SENT
    b.add(state(1, 11, 2, 1));  // -> ESTABLISHED
    Event server = state(2, 12, 3, 1, 200);  // the server: SYN_RECV -> ESTABLISHED
    server.local = {"127.0.0.1", 80};
    server.remote = {"127.0.0.1", 40000};
    b.add(server);
    auto drop = [&](uint64_t ts, const std::string& reason) {
        Event e = server;
        e.kind = EventKind::Drop;
        e.ts_ns = ts;
        e.dir = TS_DIR_RX;
        e.tcp_flags = TS_TCP_PSH | TS_TCP_ACK;
        e.payload_len = 1000;
        e.drop_reason = reason;
        return e;
    };
    auto retransmit = [&](uint64_t ts) {
        Event e = state(1, ts, 0, 0);
        e.kind = EventKind::Retransmit;
        e.state = 1;
        return e;
    };
    b.add(drop(20, "PROTO_MEM"));
    b.add(retransmit(30));
    b.add(drop(31, "TCP_INVALID_END_SEQUENCE"));
    b.add(retransmit(40));  // accepted: no drop follows
    b.add(retransmit(50));  // a retransmit no drop here explains (lost elsewhere)
    Event ack_only = drop(51, "TCP_OLD_DATA");
    ack_only.payload_len = 0;  // a pure ACK dropped: nothing to retransmit
    b.add(ack_only);
    b.add(retransmit(60));
    b.add(state(1, 70, 1, 4));  // FIN_WAIT1
    b.add(state(1, 71, 4, 5));  // FIN_WAIT2
    b.add(state(1, 72, 5, 7));  // CLOSE
    b.add(state(2, 73, 1, 8));
    b.add(state(2, 74, 8, 9));
    b.add(state(2, 75, 9, 7));
    auto done = b.take_closed();
    ASSERT_EQ(done.size(), 2u);
    const ConnectionStory& client = done[0].cookie == 1 ? done[0] : done[1];
    const ConnectionStory& srv = done[0].cookie == 1 ? done[1] : done[0];
    EXPECT_EQ(client.retransmits_seen, 4u);
    EXPECT_EQ(client.retransmits_after_drop, 2u);
    EXPECT_EQ(client.peer_drop_reasons, (std::vector<std::string>{"PROTO_MEM", "TCP_INVALID_END_SEQUENCE"}));
    EXPECT_EQ(client.drops_seen, 0u);  // the drops were of the server's socket
    EXPECT_EQ(srv.drops_seen, 3u);
    EXPECT_EQ(srv.retransmits_after_drop, 0u);
    const std::string cause = story_cause(client, reasons);
    EXPECT_NE(cause.find("2 retransmits of what the receiver on this host dropped (PROTO_MEM: TCP's "
                         "memory limit, TCP_INVALID_END_SEQUENCE: outside the receive window)"),
              std::string::npos)
        << cause;
    nlohmann::json j = nlohmann::json::parse(story_to_json(client, reasons, &kEpochClock).dump());
    EXPECT_EQ(j.at("retransmits_after_drop"), 2);
    EXPECT_EQ(j.at("peer_drop_reasons"), nlohmann::json::array({"PROTO_MEM", "TCP_INVALID_END_SEQUENCE"}));
}

}  // namespace
}  // namespace tcpscope
