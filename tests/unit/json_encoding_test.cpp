// JSON lines schema v1: field presence and values per type, and that a
// dump is valid JSON whatever bytes a process name holds.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "event.h"
#include "json_encoding.h"
#include "json_fields.h"
#include "recording.h"
#include "json_writer.h"
#include "sinks.h"

namespace tcpscope {
namespace {

const ResetReasons kReasons({{0, "NOT_SPECIFIED"}, {1, "NO_SOCKET"}, {14, "TCP_STATE"}});

Event socket_event(EventKind kind) {
    Event e;
    e.kind = kind;
    e.ts_ns = 1000;
    e.pid = 42;
    e.tid = 43;
    e.cur_pid = 44;
    e.comm = "client";
    e.cur_comm = "swapper";
    e.family = AF_INET;
    e.local = {"127.0.0.1", 40000};
    e.remote = {"127.0.0.2", 5000};
    e.cookie = 0xffffffffffffff01ull;  // needs all 64 bits
    e.netns = 4026532000u;
    e.cgroup_id = 9;
    return e;
}

// Round trip through text, as a reader of the stream sees it.
Json reparse(const Json& j) {
    return Json::parse(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void expect_common(const Json& j, const char* type) {
    EXPECT_EQ(j.at("v"), 1);
    EXPECT_EQ(j.at("type"), type);
    EXPECT_TRUE(j.at("ts_ns").is_number_unsigned());
    EXPECT_TRUE(j.at("pid").is_number());
    EXPECT_TRUE(j.at("comm").is_string());
    // "v" comes first so that readers can dispatch on it.
    EXPECT_EQ(j.begin().key(), "v");
}

void expect_socket_fields(const Json& j) {
    EXPECT_EQ(j.at("family"), "inet");
    EXPECT_EQ(j.at("saddr"), "127.0.0.1");
    EXPECT_EQ(j.at("sport"), 40000);
    EXPECT_EQ(j.at("daddr"), "127.0.0.2");
    EXPECT_EQ(j.at("dport"), 5000);
    EXPECT_EQ(j.at("cookie").get<uint64_t>(), 0xffffffffffffff01ull);
    EXPECT_EQ(j.at("netns").get<uint64_t>(), 4026532000u);
}

// The word-at-a-time check agrees with the byte-at-a-time definition for
// every byte value at every place of strings up to three words long, in
// plain text and beside another byte that needs escaping or not.
TEST(Json, PlainTextCheckAgreesByteByByte) {
    auto reference = [](const std::string& t) {
        for (unsigned char c : t) {
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) return false;
        }
        return true;
    };
    EXPECT_TRUE(json_plain_text("", 0));
    for (size_t len = 1; len <= 24; ++len) {
        for (size_t at = 0; at < len; ++at) {
            for (int b = 0; b < 256; ++b) {
                for (char other : {'a', '\x7f', '!', '\x01', '\xff'}) {
                    std::string t(len, other);
                    t[at] = static_cast<char>(b);
                    ASSERT_EQ(json_plain_text(t.data(), t.size()), reference(t))
                        << "byte " << b << " at " << at << " of " << len;
                }
            }
        }
    }
}

TEST(Json, EveryKindHasCommonFields) {
    for (uint16_t k = 0; k < TS_KIND_COUNT; ++k) {
        Event e = socket_event(static_cast<EventKind>(k));
        Json j = reparse(event_to_json(e, kReasons));
        SCOPED_TRACE(kind_name(e.kind));
        expect_common(j, kind_name(e.kind));
        EXPECT_EQ(j.at("ts_ns"), 1000u);
        EXPECT_EQ(j.at("pid"), 42u);
        EXPECT_EQ(j.at("comm"), "client");
        if (e.kind != EventKind::Signal) {
            expect_socket_fields(j);
        } else {
            EXPECT_FALSE(j.contains("saddr"));
            EXPECT_FALSE(j.contains("cookie"));
            EXPECT_TRUE(j.contains("netns"));
        }
    }
}

TEST(Json, StateFields) {
    Event e = socket_event(EventKind::State);
    e.old_state = 2;
    e.new_state = 1;
    Json j = reparse(event_to_json(e, kReasons));
    expect_common(j, "state");
    EXPECT_EQ(j.at("old_state"), "SYN_SENT");
    EXPECT_EQ(j.at("new_state"), "ESTABLISHED");
    ASSERT_TRUE(j.contains("prev_state_ns"));
    EXPECT_TRUE(j.at("prev_state_ns").is_null());
    e.prev_state_ns = 12345;
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("prev_state_ns"), 12345u);
    e.prev_state_ns = 0;  // known, but zero: not null
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("prev_state_ns"), 0u);
    EXPECT_FALSE(j.contains("bytes_acked")) << "only a move to CLOSE carries what it moved";
    e.close_stats = CloseStats{1000, 2000, 3, 41234, 40012, 244000, 17, true};
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("fin_received"), true);
    EXPECT_EQ(j.at("srtt_us"), 41234u);
    EXPECT_EQ(j.at("min_rtt_us"), 40012u);
    EXPECT_EQ(j.at("rto_us"), 244000u);
    EXPECT_EQ(j.at("snd_cwnd"), 17u);
    EXPECT_EQ(j.at("bytes_acked"), 1000u);
    EXPECT_EQ(j.at("bytes_received"), 2000u);
    EXPECT_EQ(j.at("total_retrans"), 3u);
    // Read back as a recording reads it.
    ResetReasons names;
    auto back = event_from_json(j, names);
    ASSERT_TRUE(back.has_value());
    ASSERT_TRUE(back->close_stats.has_value());
    EXPECT_EQ(*back->close_stats, (CloseStats{1000, 2000, 3, 41234, 40012, 244000, 17, true}));
    // A recording made before the RTT was read back has none: 0s.
    j.erase("srtt_us");
    j.erase("min_rtt_us");
    j.erase("rto_us");
    j.erase("snd_cwnd");
    back = event_from_json(j, names);
    ASSERT_TRUE(back.has_value() && back->close_stats.has_value());
    EXPECT_EQ(*back->close_stats, (CloseStats{1000, 2000, 3, 0, 0, 0, 0, true}));
    e.close_stats.reset();
    e.new_state = 99;
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("new_state"), "STATE_99");
}

TEST(Json, Ipv6Family) {
    Event e = socket_event(EventKind::State);
    e.family = AF_INET6;
    e.local = {"::1", 1};
    Json j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("family"), "inet6");
    EXPECT_EQ(j.at("saddr"), "::1");
}

TEST(Json, ResetReasonNullWhenAbsent) {
    Event e = socket_event(EventKind::ResetSent);
    e.state = 1;
    Json j = reparse(event_to_json(e, kReasons));
    expect_common(j, "reset_sent");
    EXPECT_EQ(j.at("state"), "ESTABLISHED");
    ASSERT_TRUE(j.contains("reason"));
    EXPECT_TRUE(j.at("reason").is_null());
    EXPECT_EQ(j.at("no_socket"), false);
    EXPECT_EQ(j.at("minisock"), false);

    e.reason = 14;
    e.no_socket = true;
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("reason"), "TCP_STATE");
    EXPECT_EQ(j.at("no_socket"), true);
    e.reason = 77;
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("reason"), "REASON_77");
    // An empty table (kernel without the enum) still names the number.
    j = reparse(event_to_json(e, ResetReasons{}));
    EXPECT_EQ(j.at("reason"), "REASON_77");
}

TEST(Json, ResetReceived) {
    Event e = socket_event(EventKind::ResetReceived);
    e.state = 8;
    Json j = reparse(event_to_json(e, kReasons));
    expect_common(j, "reset_received");
    EXPECT_EQ(j.at("state"), "CLOSE_WAIT");
    EXPECT_TRUE(j.at("reason").is_null());
    EXPECT_FALSE(j.contains("no_socket")) << "no_socket only describes RSTs we send";
}

TEST(Json, Retransmit) {
    Event e = socket_event(EventKind::Retransmit);
    e.state = 1;
    Json j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("state"), "ESTABLISHED");
    EXPECT_TRUE(j.at("err").is_null());
    e.err = -11;
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("err"), -11);
}

TEST(Json, SockError) {
    Event e = socket_event(EventKind::SockError);
    e.error = 104;
    Json j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("errno"), "ECONNRESET");
    EXPECT_EQ(j.at("errno_value"), 104);
}

TEST(Json, Signal) {
    Event e = socket_event(EventKind::Signal);
    e.signal = 13;
    e.target_pid = 42;
    e.signal_result = 0;
    Json j = reparse(event_to_json(e, kReasons));
    expect_common(j, "signal");
    EXPECT_EQ(j.at("signal"), "SIGPIPE");
    EXPECT_EQ(j.at("target_pid"), 42u);
    EXPECT_EQ(j.at("result"), "delivered");
    EXPECT_EQ(j.at("netns"), 4026532000u);
}

TEST(Json, SendNegativeRetHasErrnoName) {
    Event e = socket_event(EventKind::Send);
    e.ret = -32;
    Json j = reparse(event_to_json(e, kReasons));
    expect_common(j, "send");
    EXPECT_EQ(j.at("ret"), -32);
    EXPECT_EQ(j.at("errno"), "EPIPE");
    e.ret = 0;
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("ret"), 0);
    EXPECT_FALSE(j.contains("errno"));
    Event r = socket_event(EventKind::Recv);
    r.ret = -104;
    j = reparse(event_to_json(r, kReasons));
    EXPECT_EQ(j.at("type"), "recv");
    EXPECT_EQ(j.at("errno"), "ECONNRESET");
}

TEST(Json, PacketFlags) {
    Event e = socket_event(EventKind::Packet);
    e.dir = TS_DIR_RX;
    e.tcp_flags = TS_TCP_SYN | TS_TCP_ACK;
    e.payload_len = 0;
    e.seq = 4294967295u;
    e.ack_seq = 1;
    e.ifindex = 1;
    Json j = reparse(event_to_json(e, kReasons));
    expect_common(j, "packet");
    EXPECT_EQ(j.at("dir"), "rx");
    EXPECT_EQ(j.at("flags"), "SYN|ACK");
    EXPECT_EQ(j.at("payload_len"), 0);
    EXPECT_EQ(j.at("seq"), 4294967295u);
    EXPECT_EQ(j.at("ack_seq"), 1u);
    EXPECT_EQ(j.at("ifindex"), 1);
    e.dir = TS_DIR_TX;
    e.tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
    j = reparse(event_to_json(e, kReasons));
    EXPECT_EQ(j.at("dir"), "tx");
    EXPECT_EQ(j.at("flags"), "FIN|ACK");
}

TEST(Json, InvalidUtf8CommFromDecoderStillValidJson) {
    // Through the decoder, as in production: bytes are escaped to ASCII.
    ts_event raw;
    std::memset(&raw, 0, sizeof(raw));
    raw.kind = TS_KIND_STATE;
    const unsigned char bad[TS_COMM_LEN] = {0xff, 0xfe, 0xc3, 0x28, '"', '\\', 0x01, 0xe2,
                                            0x82, 'x', 0xf0, 0x9f, 0x98, 0x80, 0x80, 0xc0};
    std::memcpy(raw.comm, bad, sizeof(bad));
    auto e = decode_event(&raw, sizeof(raw));
    ASSERT_TRUE(e);
    std::string line = event_to_json(*e, kReasons).dump();
    Json back = Json::parse(line);
    EXPECT_EQ(back.at("comm"), e->comm);
}

TEST(Json, InvalidUtf8CommSetDirectlyEncodesAsSinkDoes) {
    // An Event built by someone else with raw bytes: the JSON sink's
    // encoder (append_event_json) must produce parseable JSON, each invalid
    // sequence replaced and the rest kept.
    Event e = socket_event(EventKind::State);
    e.comm = std::string("\xff\xfe\xc3(ok\"\\", 8);
    std::string dumped;
    append_event_json(dumped, e, kReasons);
    Json back;
    ASSERT_NO_THROW(back = Json::parse(dumped)) << dumped;
    EXPECT_EQ(back.at("type"), "state");
    EXPECT_EQ(back.at("comm"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd(ok\"\\");
}

TEST(Json, JsonSinkWritesOneParsableLinePerRecord) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    {
        LineWriter out(fds[1], true, 1 << 20);
        JsonSink sink(out, kReasons, WallClock{1795902000000000000});
        Event e = socket_event(EventKind::State);
        e.ts_ns = 123456789;
        e.comm = "bad\xff\xfe";
        sink.event(e);
        sink.lost(5, 3, 10, LossReason::ProgramSkipped);
        TraceSummary s;
        s.counts["state"] = 1;
        sink.summary(s);
        ASSERT_EQ(out.flush(), LineWriter::Status::Ok);
    }
    std::string all;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    std::vector<Json> lines;
    size_t pos = 0;
    while (pos < all.size()) {
        size_t nl = all.find('\n', pos);
        ASSERT_NE(nl, std::string::npos) << "last line lacks a newline";
        ASSERT_NO_THROW(lines.push_back(Json::parse(all.substr(pos, nl - pos))))
            << all.substr(pos, nl - pos);
        pos = nl + 1;
    }
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].at("type"), "state");
    EXPECT_EQ(lines[0].at("time"), "2026-11-28T21:40:00.123456Z");
    EXPECT_EQ(lines[1].at("type"), "lost");
    EXPECT_EQ(lines[1].at("reason"), "program_skipped");
    EXPECT_EQ(lines[1].at("time"), "2026-11-28T21:40:00.000000Z");
    EXPECT_EQ(lines[2].at("type"), "summary");
    for (const auto& j : lines) EXPECT_EQ(j.at("v"), 1);
}

TEST(Json, Lost) {
    Json j = reparse(lost_to_json(77, 5, 12, "ringbuf_full"));
    EXPECT_EQ(j.at("v"), 1);
    EXPECT_EQ(j.at("type"), "lost");
    EXPECT_EQ(j.at("ts_ns"), 77u);
    EXPECT_EQ(j.at("count"), 5u);
    EXPECT_EQ(j.at("total"), 12u);
    EXPECT_EQ(j.at("reason"), "ringbuf_full");
    EXPECT_FALSE(j.contains("time"));
    const WallClock clock{951782400000000000};  // 2000-02-29T00:00:00
    j = reparse(lost_to_json(77000, 5, 12, "ringbuf_full", &clock));
    EXPECT_EQ(j.at("time"), "2000-02-29T00:00:00.000077Z");
    auto it = j.begin();
    EXPECT_EQ((++++++it).key(), "time") << "right after ts_ns";
}

TEST(Json, Summary) {
    TraceSummary s;
    s.counts["state"] = 10;
    s.counts["reset_sent"] = 3;
    s.lost = 2;
    s.lost_by_reason[static_cast<size_t>(LossReason::RingbufFull)] = 1;
    s.lost_by_reason[static_cast<size_t>(LossReason::WriteFailed)] = 1;
    s.undecodable = 1;
    s.duration_ns = 5000000000ull;
    Json j = reparse(summary_to_json(s));
    EXPECT_EQ(j.at("lost_by_reason"),
              Json::parse(R"({"ringbuf_full":1,"program_skipped":0,"write_failed":1})"));
    EXPECT_EQ(j.at("v"), 1);
    EXPECT_EQ(j.at("type"), "summary");
    EXPECT_EQ(j.at("counts").at("state"), 10u);
    EXPECT_EQ(j.at("counts").at("reset_sent"), 3u);
    EXPECT_EQ(j.at("events"), 13u);
    EXPECT_EQ(j.at("lost"), 2u);
    EXPECT_EQ(j.at("undecodable"), 1u);
    EXPECT_EQ(j.at("duration_ns"), 5000000000ull);
    TraceSummary empty;
    j = reparse(summary_to_json(empty));
    EXPECT_TRUE(j.at("counts").is_object());
    EXPECT_TRUE(j.at("counts").empty());
    EXPECT_EQ(j.at("events"), 0u);
}

}  // namespace
}  // namespace tcpscope
