// The hand-written JSON hot path must write exactly what the nlohmann
// reference encoder writes, for every kind and the awkward values.
#include <gtest/gtest.h>

#include <climits>
#include <sys/socket.h>

#include "json_encoding.h"
#include "json_writer.h"

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

}  // namespace
}  // namespace tcpscope
