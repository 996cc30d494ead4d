// The lines `tcpscope run --json` writes beyond the steps (event lines with
// "scenario" and "side", "verdict", the per-scenario "summary"), held to
// the schema v1 of docs/schema.md: each line is parsed back with nlohmann and every
// documented key is checked for presence, order, type and value, including
// strings that need escaping.
#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "json_encoding.h"
#include "json_writer.h"
#include "run_json.h"

namespace tcpscope {
namespace {

const ResetReasons kReasons({{1, "NO_SOCKET"}, {14, "TCP_STATE"}});

// The JSON types docs/schema.md documents.
enum class T { Uint, Int, Str, Bool, Object, StrOrNull, UintOrNull, IntOrNull };
using Schema = std::vector<std::pair<std::string, T>>;

bool has_type(const Json& v, T t) {
    switch (t) {
    case T::Uint: return v.is_number_unsigned();
    case T::Int: return v.is_number_integer();
    case T::Str: return v.is_string();
    case T::Bool: return v.is_boolean();
    case T::Object: return v.is_object();
    case T::StrOrNull: return v.is_string() || v.is_null();
    case T::UintOrNull: return v.is_number_unsigned() || v.is_null();
    case T::IntOrNull: return v.is_number_integer() || v.is_null();
    }
    return false;
}

// The line parses (nlohmann's parser also rejects invalid UTF-8), holds no
// raw control byte, and has exactly the keys of `schema`, in that order,
// each of its type.
Json parse_against(const std::string& line, const Schema& schema) {
    for (unsigned char c : line) {
        EXPECT_GE(c, 0x20) << "raw control byte in " << line;
    }
    Json j;
    EXPECT_NO_THROW(j = Json::parse(line)) << line;
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    std::vector<std::string> expected;
    for (const auto& [key, type] : schema) expected.push_back(key);
    EXPECT_EQ(keys, expected) << line;
    for (const auto& [key, type] : schema) {
        if (!j.contains(key)) continue;
        EXPECT_TRUE(has_type(j.at(key), type)) << key << " in " << line;
    }
    return j;
}

Schema operator+(Schema a, const Schema& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const Schema kCommon = {{"v", T::Uint},        {"type", T::Str},        {"ts_ns", T::Uint},
                        {"time", T::Str},      {"pid", T::Uint},      {"tid", T::Uint},        {"comm", T::Str},
                        {"attribution", T::Str}, {"cur_pid", T::Uint},  {"cur_comm", T::Str}, {"cur_thread", T::Str},
                        {"context", T::Str},   {"cgroup_id", T::Uint}};
const Schema kSocket = {{"family", T::Str}, {"saddr", T::Str},  {"sport", T::Uint},
                        {"daddr", T::Str},  {"dport", T::Uint}, {"cookie", T::Uint},
                        {"netns", T::Uint}, {"netns_cookie", T::Uint}};

// The keys of each event type (docs/schema.md's table), `ret_negative` for send/recv.
Schema event_schema(EventKind kind, bool ret_negative) {
    switch (kind) {
    case EventKind::State:
        return kCommon + kSocket +
               Schema{{"old_state", T::Str}, {"new_state", T::Str}, {"prev_state_ns", T::UintOrNull}};
    case EventKind::ResetSent:
        return kCommon + kSocket +
               Schema{{"state", T::Str}, {"reason", T::StrOrNull}, {"no_socket", T::Bool},
                      {"minisock", T::Bool}};
    case EventKind::ResetReceived:
        // "always null" (docs/schema.md) is the kernel side's doing: it never marks
        // a received RST with a reason. The encoder writes what it is given.
        return kCommon + kSocket + Schema{{"state", T::Str}, {"reason", T::StrOrNull}};
    case EventKind::Retransmit:
        return kCommon + kSocket + Schema{{"state", T::Str}, {"err", T::IntOrNull}};
    case EventKind::SockError:
        return kCommon + kSocket + Schema{{"errno", T::Str}, {"errno_value", T::Int}};
    case EventKind::Signal:
        return kCommon + Schema{{"signal", T::Str}, {"target_pid", T::Uint}, {"netns", T::Uint}, {"netns_cookie", T::Uint},
                                {"result", T::Str}};
    case EventKind::Send:
    case EventKind::Recv:
        return kCommon + kSocket +
               (ret_negative ? Schema{{"ret", T::Int}, {"errno", T::Str}} : Schema{{"ret", T::Int}});
    case EventKind::Packet:
        return kCommon + kSocket +
               Schema{{"dir", T::Str},  {"flags", T::Str},   {"payload_len", T::Uint},
                      {"seq", T::Uint}, {"ack_seq", T::Uint}, {"ifindex", T::Uint}};
    case EventKind::Drop:
        return kCommon + kSocket +
               Schema{{"reason", T::Str},   {"reason_code", T::Int}, {"dir", T::Str},
                      {"flags", T::Str},    {"payload_len", T::Uint}, {"seq", T::Uint},
                      {"ack_seq", T::Uint}, {"ifindex", T::Uint}, {"seen_by", T::Str},
                      {"count", T::Uint},   {"queue", T::UintOrNull}, {"backlog", T::UintOrNull}};
    }
    return {};
}

const Schema kRunKeys = {{"scenario", T::Str}, {"side", T::StrOrNull}};

Event event_of(EventKind kind) {
    Event e;
    e.kind = kind;
    e.ts_ns = 18446744073709551615ull;
    e.pid = 4294967295u;
    e.tid = 7;
    e.cur_pid = 8;
    e.comm = "zero-byte-send";
    e.cur_comm = "swapper/1";
    e.attribution = "owner";
    e.irq = true;
    e.cgroup_id = 1;
    e.family = AF_INET;
    e.local = {"127.0.0.1", 5000};
    e.remote = {"127.0.0.1", 39706};
    e.cookie = 0xffffffffffffff01ull;
    e.netns = 4026532177u;
    e.old_state = 1;
    e.new_state = 4;
    e.state = 1;
    e.error = 32;
    e.signal = 13;
    e.target_pid = 5;
    e.signal_result = 1;
    e.ret = -32;
    e.tcp_flags = TS_TCP_FIN | TS_TCP_ACK;
    e.payload_len = 1;
    e.seq = 4294967295u;
    e.ack_seq = 3;
    e.ifindex = 1;
    return e;
}

// `run` takes its wall clock as each scenario starts.
const WallClock kClock{1795902000000000000};  // 2026-11-28T21:40:00 at ts_ns 0

std::string run_event_line(const Event& e, const std::string& scenario, const std::string& side) {
    std::string line;
    append_run_event_json(line, e, kReasons, scenario, side, &kClock);
    return line;
}

TEST(RunJson, EventLinesAreTheTraceLinesPlusScenarioAndSide) {
    for (int k = 0; k < TS_KIND_COUNT; ++k) {
        for (int variant = 0; variant < 2; ++variant) {
            Event e = event_of(static_cast<EventKind>(k));
            if (variant == 1) {  // the other branch of every optional
                e.prev_state_ns = 0;
                e.reason = 14;
                e.err = -16;
                e.ret = 5;
                e.irq = false;
                e.no_socket = true;
                e.family = AF_INET6;
                e.local = {"::1", 0};
            }
            SCOPED_TRACE(std::string(kind_name(e.kind)) + " variant " + std::to_string(variant));
            const std::string side = variant == 0 ? "client" : "";
            std::string line = run_event_line(e, "zero-byte-send", side);
            Json j = parse_against(line, event_schema(e.kind, e.ret < 0) + kRunKeys);

            // The same bytes as `trace --json`, then the two keys.
            std::string trace;
            append_event_json(trace, e, kReasons, &kClock);
            ASSERT_FALSE(trace.empty());
            EXPECT_EQ(line.substr(0, trace.size() - 1), trace.substr(0, trace.size() - 1));

            EXPECT_EQ(j.at("v"), 1);
            EXPECT_EQ(j.at("type"), kind_name(e.kind));
            EXPECT_EQ(j.at("ts_ns").get<uint64_t>(), e.ts_ns);
            EXPECT_EQ(j.at("time"), rfc3339_utc(kClock.realtime_ns(e.ts_ns)));
            EXPECT_EQ(j.at("pid").get<uint64_t>(), e.pid);
            EXPECT_EQ(j.at("comm"), "zero-byte-send");
            EXPECT_EQ(j.at("cur_comm"), "swapper/1");
            EXPECT_EQ(j.at("context"), variant == 0 ? "softirq" : "process");
            EXPECT_EQ(j.at("scenario"), "zero-byte-send");
            if (side.empty()) {
                EXPECT_TRUE(j.at("side").is_null());
            } else {
                EXPECT_EQ(j.at("side"), "client");
            }
            if (e.kind != EventKind::Signal) {
                EXPECT_EQ(j.at("family"), variant == 0 ? "inet" : "inet6");
                EXPECT_EQ(j.at("cookie").get<uint64_t>(), e.cookie);
                EXPECT_EQ(j.at("dport"), 39706);
            }
            switch (e.kind) {
            case EventKind::State:
                EXPECT_EQ(j.at("old_state"), "ESTABLISHED");
                EXPECT_EQ(j.at("new_state"), "FIN_WAIT1");
                break;
            case EventKind::ResetSent:
                EXPECT_EQ(j.at("reason"), variant == 0 ? Json(nullptr) : Json("TCP_STATE"));
                EXPECT_EQ(j.at("no_socket"), variant == 1);
                break;
            case EventKind::Retransmit:
                EXPECT_EQ(j.at("err"), variant == 0 ? Json(nullptr) : Json(-16));
                break;
            case EventKind::SockError:
                EXPECT_EQ(j.at("errno"), "EPIPE");
                EXPECT_EQ(j.at("errno_value"), 32);
                break;
            case EventKind::Send:
            case EventKind::Recv:
                EXPECT_EQ(j.at("ret"), e.ret);
                if (e.ret < 0) EXPECT_EQ(j.at("errno"), "EPIPE");
                break;
            case EventKind::Packet:
                EXPECT_EQ(j.at("flags"), "FIN|ACK");
                EXPECT_EQ(j.at("seq"), 4294967295u);
                break;
            default:
                break;
            }
        }
    }
}

TEST(RunJson, EventLineEscapesNamesAndScenario) {
    Event e = event_of(EventKind::State);
    e.comm = std::string("we\"ird\\\x01\n", 9);
    e.cur_comm = "\xff\xfe";  // not what the decoder lets through, but still valid JSON
    std::string line = run_event_line(e, "sc\"en\\ario", "server");
    Json j = parse_against(line, event_schema(EventKind::State, false) + kRunKeys);
    EXPECT_EQ(j.at("comm"), e.comm);
    EXPECT_EQ(j.at("cur_comm"), "\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(j.at("scenario"), "sc\"en\\ario");
    EXPECT_EQ(j.at("side"), "server");
}

const Schema kVerdict = {{"v", T::Uint},   {"type", T::Str}, {"scenario", T::Str},
                         {"fact", T::Str}, {"ok", T::Bool},  {"status", T::Str},
                         {"detail", T::Str}};

TEST(RunJson, StepLineCarriesTheProtocolKeys) {
    Step s;
    s.op = StepOp::Send;
    s.size = 1;
    s.call = "send(fd, \"x\", 1)";
    s.ret = -1;
    s.errno_name = "EPIPE";
    s.cookie = 42;
    s.side = "client";
    s.start_ns = 10;
    s.ts_ns = 20;
    s.pid = 7;
    s.netns = 4026531840u;
    s.local = "127.0.0.1:40000";
    s.remote = "127.0.0.1:5000";
    s.info = {{"so_error", "EPIPE"}, {"odd", std::string("\xff\x01")}};
    std::string line;
    append_run_step_json(line, s, "zero-byte-send");
    Json j = parse_against(line, {{"v", T::Uint}, {"type", T::Str}, {"scenario", T::Str},
                                  {"op", T::Str}, {"size", T::Int}, {"call", T::Str},
                                  {"ret", T::Int}, {"errno", T::StrOrNull}, {"cookie", T::Uint},
                                  {"side", T::Str}, {"start_ns", T::Uint}, {"ts_ns", T::Uint},
                                  {"pid", T::Uint}, {"netns", T::Uint}, {"local", T::Str},
                                  {"remote", T::Str}, {"info", T::Object}});
    EXPECT_EQ(j.at("type"), "step");
    EXPECT_EQ(j.at("op"), "send");
    EXPECT_EQ(j.at("errno"), "EPIPE");
    // What the runner reads back is what was written.
    std::optional<Step> back = parse_step(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(StepMatch(StepOp::Send, "", 1).matches(*back));
    EXPECT_EQ(back->call, s.call);
    EXPECT_EQ(back->remote, s.remote);
}

TEST(RunJson, VerdictLine) {
    Verdict v{"send(0) returns 0", true, "send(fd, \"\", 0) = 0; client segments: nothing"};
    std::string line;
    append_verdict_json(line, v, "zero-byte-send");
    Json j = parse_against(line, kVerdict);
    EXPECT_EQ(j.at("v"), 1);
    EXPECT_EQ(j.at("type"), "verdict");
    EXPECT_EQ(j.at("scenario"), "zero-byte-send");
    EXPECT_EQ(j.at("fact"), v.fact);
    EXPECT_EQ(j.at("ok"), true);
    EXPECT_EQ(j.at("detail"), v.detail);
    line.clear();
    v.ok = false;
    append_verdict_json(line, v, "zero-byte-send");
    EXPECT_EQ(parse_against(line, kVerdict).at("ok"), false);
    EXPECT_EQ(parse_against(line, kVerdict).at("status"), "fails");
    // A fact this kernel cannot show is neither held nor failed.
    line.clear();
    v.observable = false;
    append_verdict_json(line, v, "zero-byte-send");
    EXPECT_EQ(parse_against(line, kVerdict).at("ok"), false);
    EXPECT_EQ(parse_against(line, kVerdict).at("status"), "not_observable");
}

TEST(RunJson, VerdictLineEscapesWhatADetailHolds) {
    Verdict v;
    v.fact = "a \"quoted\" fact with a \\ backslash";
    const std::string controls("\x01\x1f\n\r\t\b\f\x7f", 8);
    const std::string valid_utf8 = "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80";  // café → 😀
    // A lone byte, an overlong form, a surrogate, a stray continuation, a
    // sequence cut short: each becomes one U+FFFD.
    const std::string invalid = "\xff|\xc0\xaf|\xed\xa0\x80|\x80|\xe2\x82";
    v.detail = controls + valid_utf8 + invalid;
    std::string line;
    append_verdict_json(line, v, "close-unread-data");
    Json j = parse_against(line, kVerdict);
    EXPECT_EQ(j.at("fact"), v.fact);
    const std::string fffd = "\xef\xbf\xbd";
    EXPECT_EQ(j.at("detail"), controls + valid_utf8 + fffd + "|" + fffd + fffd + "|" + fffd +
                                  fffd + fffd + "|" + fffd + "|" + fffd);
    // What nlohmann itself writes for the same string with its replace handler.
    EXPECT_NE(line.find(Json(v.detail).dump(-1, ' ', false, Json::error_handler_t::replace)),
              std::string::npos)
        << line;
}

const Schema kSummary = {{"v", T::Uint},          {"type", T::Str},        {"scenario", T::Str},
                         {"facts", T::Uint},      {"held", T::Uint},
                         {"not_observable", T::Uint},                      {"ok", T::Bool},
                         {"counts", T::Object},   {"steps", T::Uint},      {"lost", T::Uint},
                         {"exit_code", T::Int},   {"term_signal", T::Int}, {"timed_out", T::Bool},
                         {"duration_ns", T::Uint}};

TEST(RunJson, SummaryLine) {
    RunSummary s;
    s.scenario = "zero-byte-send";
    s.facts = 5;
    s.held = 4;
    s.ok = false;
    for (const char* type : {"state", "packet", "state", "send", "packet", "state"}) s.count(type);
    s.steps = 14;
    s.lost = 2;
    s.exit_code = 0;
    s.term_signal = 0;
    s.timed_out = true;
    s.duration_ns = 18446744073709551615ull;
    std::string line;
    append_run_summary_json(line, s);
    Json j = parse_against(line, kSummary);
    EXPECT_EQ(j.at("v"), 1);
    EXPECT_EQ(j.at("type"), "summary");
    EXPECT_EQ(j.at("scenario"), "zero-byte-send");
    EXPECT_EQ(j.at("facts"), 5u);
    EXPECT_EQ(j.at("held"), 4u);
    EXPECT_EQ(j.at("ok"), false);
    // Per type, in the order each first occurred.
    EXPECT_EQ(j.at("counts").dump(), R"({"state":3,"packet":2,"send":1})");
    EXPECT_EQ(j.at("steps"), 14u);
    EXPECT_EQ(j.at("lost"), 2u);
    EXPECT_EQ(j.at("exit_code"), 0);
    EXPECT_EQ(j.at("term_signal"), 0);
    EXPECT_EQ(j.at("timed_out"), true);
    EXPECT_EQ(j.at("duration_ns").get<uint64_t>(), 18446744073709551615ull);
}

TEST(RunJson, SummaryOfAScenarioThatCouldNotRun) {
    RunSummary s;
    s.scenario = "peer-vanished";
    s.exit_code = -1;
    s.term_signal = 9;
    s.error = "cannot start \"/x\": \x01\xff";
    std::string line;
    append_run_summary_json(line, s);
    Json j = parse_against(line, kSummary + Schema{{"error", T::Str}});
    EXPECT_EQ(j.at("counts"), Json::object());
    EXPECT_EQ(j.at("facts"), 0u);
    EXPECT_EQ(j.at("ok"), false);
    EXPECT_EQ(j.at("exit_code"), -1);
    EXPECT_EQ(j.at("term_signal"), 9);
    EXPECT_EQ(j.at("error"), "cannot start \"/x\": \x01\xef\xbf\xbd");
}

TEST(RunJson, LinesAppendToWhatIsThere) {
    std::string out = "x";
    append_verdict_json(out, Verdict{"f", true, "d"}, "s");
    EXPECT_EQ(out.substr(0, 6), "x{\"v\":");
    out = "x";
    append_run_summary_json(out, RunSummary{});
    EXPECT_EQ(out.substr(0, 6), "x{\"v\":");
    out = "x";
    append_run_event_json(out, event_of(EventKind::State), kReasons, "s", "");
    EXPECT_EQ(out.substr(0, 6), "x{\"v\":");
}

}  // namespace
}  // namespace tcpscope
