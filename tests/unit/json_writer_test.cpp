// The hand-written JSON hot path must write exactly what the nlohmann
// reference encoder writes, for every kind and the awkward values.
#include <gtest/gtest.h>

#include <climits>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "json_encoding.h"
#include "json_writer.h"
#include "recording.h"

namespace tcpscope {
namespace {

const ResetReasons kReasons({{1, "NO_SOCKET"}, {9, "TCP_TIMEWAIT_SOCKET"}});

Event base(EventKind kind) {
    Event e;
    e.kind = kind;
    e.ts_ns = 18446744073709551615ull;
    e.pid = 4294967295u;
    e.tid = 7;
    e.cur_pid = 8;
    e.comm = "we\"ird\\x01";
    e.cur_comm = "tab\there";
    e.attribution = "owner";
    e.irq = true;
    e.cgroup_id = 1;
    e.family = AF_INET6;
    e.local = {"::1", 65535};
    e.remote = {"fe80::1", 1};
    e.cookie = 123456789012345ull;
    e.netns = 4026531840u;
    return e;
}

std::string reference(const Event& e, const WallClock* clock = nullptr) {
    return event_to_json(e, kReasons, clock).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string fast(const Event& e, const WallClock* clock = nullptr) {
    std::string out;
    append_event_json(out, e, kReasons, clock);
    return out;
}

TEST(JsonWriter, MatchesTheReferenceForEveryKind) {
    for (int k = 0; k < TS_KIND_COUNT; ++k) {
        Event e = base(static_cast<EventKind>(k));
        e.old_state = 1;
        e.new_state = 99;
        e.state = 6;
        e.error = 32;
        e.signal = 13;
        e.target_pid = 5;
        e.signal_result = 1;
        e.ret = -32;
        e.tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
        e.payload_len = 1;
        e.seq = 4294967295u;
        EXPECT_EQ(fast(e), reference(e)) << kind_name(e.kind);
        // And the other branch of every optional.
        e.prev_state_ns = 0;
        e.reason = 9;
        e.err = -16;
        e.ret = 5;
        e.irq = false;
        e.no_socket = true;
        e.family = AF_INET;
        e.local = {"127.0.0.1", 0};
        EXPECT_EQ(fast(e), reference(e)) << kind_name(e.kind);
        e.close_stats = CloseStats{18446744073709551615ull, 0, 4294967295u, 0, 0, 0, 0, false};
        EXPECT_EQ(fast(e), reference(e)) << kind_name(e.kind);
        e.close_stats->fin_received = true;
        EXPECT_EQ(fast(e), reference(e)) << kind_name(e.kind);
        // The RTT state, at the edge of its 32 bits.
        e.close_stats->srtt_us = 4294967295u;
        e.close_stats->min_rtt_us = 1;
        e.close_stats->rto_us = 120000000;
        e.close_stats->snd_cwnd = 65535;
        EXPECT_EQ(fast(e), reference(e)) << kind_name(e.kind);
    }
}

// With a wall clock both write "time" right after "ts_ns", byte for byte
// alike, whatever the offset and the timestamp (saturated at both ends).
TEST(JsonWriter, MatchesTheReferenceWithWallClock) {
    for (int64_t offset : {int64_t{0}, int64_t{1795902000123456789}, int64_t{-5}, INT64_MIN,
                           INT64_MAX}) {
        const WallClock clock{offset};
        for (uint64_t ts : {uint64_t{0}, uint64_t{999}, uint64_t{86399999999999},
                            uint64_t{18446744073709551615ull}}) {
            for (int k = 0; k < TS_KIND_COUNT; ++k) {
                Event e = base(static_cast<EventKind>(k));
                e.ts_ns = ts;
                EXPECT_EQ(fast(e, &clock), reference(e, &clock)) << kind_name(e.kind);
            }
        }
    }
    Event e = base(EventKind::State);
    e.ts_ns = 1000;
    const WallClock clock{1795910399999999000};  // 2026-11-28T23:59:59.999999
    std::string line = fast(e, &clock);
    EXPECT_NE(line.find(",\"ts_ns\":1000,\"time\":\"2026-11-29T00:00:00.000000Z\",\"pid\":"),
              std::string::npos)
        << line;
    EXPECT_EQ(fast(e).find("\"time\""), std::string::npos) << "no clock, no time";
}

TEST(JsonWriter, EscapesLikeTheReference) {
    Event e = base(EventKind::SockError);
    e.error = INT_MIN;
    e.comm = std::string("ctl\x01\x1f\n\r\b\f\"\\", 11);
    EXPECT_EQ(fast(e), reference(e));
    auto parsed = nlohmann::json::parse(fast(e));
    EXPECT_EQ(parsed.at("comm").get<std::string>(), e.comm);
}

// append_json_string writes what nlohmann writes with its replace handler,
// for any bytes: every string of one and two bytes, and every string of
// three and four over the bytes where UTF-8 decoding changes its mind
// (the edges of each lead and continuation range, controls, quotes).
TEST(JsonWriter, StringsOfAnyBytesEscapeLikeTheReference) {
    auto check = [](const std::string& s) {
        std::string fast;
        append_json_string(fast, s);
        std::string reference = Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
        if (fast != reference) {
            std::string hex;
            for (unsigned char c : s) hex += " " + std::to_string(c);
            ADD_FAILURE() << "bytes" << hex << ": " << fast << " != " << reference;
            return false;
        }
        return true;
    };
    for (int a = 0; a < 256; ++a) {
        if (!check(std::string(1, static_cast<char>(a)))) return;
        for (int b = 0; b < 256; ++b) {
            if (!check(std::string{static_cast<char>(a), static_cast<char>(b)})) return;
        }
    }
    const unsigned char edges[] = {0x00, 0x1f, '"',  '\\', 'a',  0x7f, 0x80, 0x8f, 0x90,
                                   0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1,
                                   0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
    for (unsigned char a : edges) {
        for (unsigned char b : edges) {
            for (unsigned char c : edges) {
                std::string s{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
                if (!check(s)) return;
                for (unsigned char d : edges) {
                    if (!check(s + static_cast<char>(d))) return;
                }
            }
        }
    }
}

TEST(JsonWriter, AppendsToWhatIsThere) {
    std::string out = "x";
    append_event_json(out, base(EventKind::State), kReasons);
    EXPECT_EQ(out.substr(0, 6), "x{\"v\":");
}

// The keys event_fields declares for one event, in order, as a writer
// with `clock` walks them: the schema's own account of the line.
class KeyListing : public JsonFieldWriter {
public:
    explicit KeyListing(bool clock) : clock_(clock) {}
    template <class T, class... Rest>
    void field(const char* key, const T&, const Rest&...) { keys.push_back(key); }
    template <class T>
    void required(const char* key, const T&) { keys.push_back(key); }
    template <class Compute>
    void computed(const char* key, Compute) { keys.push_back(key); }
    template <class T>
    void time(const char* key, const T&) {
        if (clock_) keys.push_back(key);
    }
    std::vector<std::string> keys;

private:
    bool clock_;
};

std::vector<std::string> declared_keys(const Event& e, bool clock) {
    KeyListing listing(clock);
    event_fields(listing, e);
    return listing.keys;
}

std::vector<std::string> written_keys(const std::string& line) {
    std::vector<std::string> keys;
    const Json parsed = Json::parse(line);
    for (const auto& item : parsed.items()) keys.push_back(item.key());
    return keys;
}

// One event through every walker of its field list: the fast line equals
// the reference byte for byte, holds exactly the keys the list declares (a
// key added to the list and not written, or written and not declared,
// fails), and reads back (recording.cpp) into an event that writes the
// same line again (a key the reader drops fails).
void check_every_walker(const Event& e, const ResetReasons& reasons, const std::string& where) {
    const WallClock clock{1795902000123456789};
    for (const WallClock* c : {static_cast<const WallClock*>(nullptr), &clock}) {
        std::string line;
        append_event_json(line, e, reasons, c);
        ASSERT_EQ(line, event_to_json(e, reasons, c).dump(-1, ' ', false, Json::error_handler_t::replace))
            << where;
        ASSERT_EQ(written_keys(line), declared_keys(e, c != nullptr)) << where << ": " << line;
        ResetReasons read_reasons = reasons;
        auto back = event_from_json(nlohmann::json::parse(line), read_reasons);
        ASSERT_TRUE(back) << where << ": " << line;
        std::string again;
        append_event_json(again, *back, read_reasons, c);
        ASSERT_EQ(again, line) << where << ": read back differs";
    }
}

// Every event of every recorded run (scenarios/<name>/recording.jsonl).
TEST(JsonWriter, EveryRecordedEventThroughEveryWalker) {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(TCPSCOPE_SCENARIO_SOURCES)) {
        std::filesystem::path run = entry.path() / "recording.jsonl";
        if (std::filesystem::exists(run)) paths.push_back(run);
    }
    std::sort(paths.begin(), paths.end());
    ASSERT_FALSE(paths.empty());
    size_t events = 0;
    for (const auto& path : paths) {
        std::ifstream in(path);
        Recording r = read_recording(in);
        for (size_t i = 0; i < r.events.size(); ++i) {
            check_every_walker(r.events[i], r.reasons,
                               path.parent_path().filename().string() + " event " + std::to_string(i));
            if (HasFatalFailure()) return;
        }
        events += r.events.size();
    }
    EXPECT_GT(events, 100u);
}

// Samples of every kind with every optional key present and absent, every
// flag set and clear, a container, and each drop's listener keys.
TEST(JsonWriter, EveryKindAndFlagThroughEveryWalker) {
    auto container = std::make_shared<ContainerIdentity>();
    container->id = "0123456789ab";
    container->runtime = "containerd";
    container->pod_uid = "1c2d";
    container->qos = "burstable";
    auto runtime_only = std::make_shared<ContainerIdentity>();
    runtime_only->id = "feed";
    for (int k = 0; k < TS_KIND_COUNT; ++k) {
        for (int variant = 0; variant < 4; ++variant) {
            Event e = base(static_cast<EventKind>(k));
            const bool set = variant & 1;
            e.irq = set;
            e.no_socket = set;
            e.minisock = !set;
            e.attribution = set ? "listener" : "unknown";
            e.family = set ? AF_INET : AF_INET6;
            e.local = set ? Endpoint{"127.0.0.1", 40000} : Endpoint{"::1", 5000};
            e.container = variant == 0 ? nullptr : variant == 1 ? container : runtime_only;
            e.old_state = 2;
            e.new_state = 7;
            e.state = set ? 1 : 10;
            if (set) {
                e.prev_state_ns = 123;
                e.close_stats = CloseStats{1, 2, 3, 4, 5, 6, 7, variant == 3};
                e.reason = 9;
                e.err = -110;
                e.accept_queue = 129;
                e.accept_backlog = 128;
                e.drop_seen_by = "listener";
                e.drop_reason = "ACCEPT_QUEUE_FULL";
                e.drop_count = 3;
            } else {
                e.drop_reason = "NETFILTER_DROP";
                e.drop_reason_code = 16;
            }
            e.error = set ? 104 : 32;
            e.signal = 13;
            e.target_pid = 99;
            e.netns_cookie = 4096;
            e.signal_result = set ? 0 : 1;
            e.ret = set ? -11 : 4096;
            e.dir = set ? TS_DIR_RX : TS_DIR_TX;
            e.tcp_flags = set ? (TS_TCP_SYN | TS_TCP_ACK) : TS_TCP_RST;
            e.payload_len = set ? 0 : 1448;
            e.seq = 1;
            e.ack_seq = 2;
            e.ifindex = 1;
            check_every_walker(e, kReasons,
                               std::string(kind_name(e.kind)) + " variant " + std::to_string(variant));
            if (HasFatalFailure()) return;
        }
    }
}

}  // namespace
}  // namespace tcpscope
