// Every JSON key tcpscope writes is in docs/schema.md, where its record type
// is described. The lines are real output: the recorded runs of every
// scenario (scenarios/<name>/recording.jsonl), and the same runs encoded again by today's
// encoders (trace's lines, run's, stories, stuck reports, exec's steps, the
// summaries, the kernel lines), so a key added to an encoder and not to the
// document fails here. (list --json and info --json: tests/docs, docs.schema.)
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "call_record_support.h"
#include "captured_call.h"
#include "facts.h"
#include "failure_cause.h"
#include "json_encoding.h"
#include "json_writer.h"
#include "kernel_info.h"
#include "line_writer.h"
#include "recording.h"
#include "run_json.h"
#include "story_builder.h"
#include "story_format.h"
#include "story_sink.h"
#include "stuck_format.h"
#include "syscalls.h"

namespace tcpscope {
namespace {

namespace fs = std::filesystem;

// docs/schema.md read as blocks: a table row is about the types named (in
// backquotes) in its first cell, a section about the types named in its
// heading; the rest of the text is about every type.
struct SchemaDoc {
    std::vector<std::pair<std::set<std::string>, std::string>> blocks;
    std::string shared;

    static SchemaDoc read(const std::string& path) {
        std::ifstream in(path);
        EXPECT_TRUE(in.good()) << path;
        SchemaDoc doc;
        std::set<std::string> section;
        bool code = false;
        const std::regex name("`([a-z_]+)`");
        auto names_in = [&](const std::string& text) {
            std::set<std::string> out;
            for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
                out.insert((*it)[1]);
            }
            return out;
        };
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("```", 0) == 0) code = !code;
            if (code) continue;
            if (line.rfind("#", 0) == 0) {
                section = names_in(line);
            } else if (line.rfind("| `", 0) == 0) {
                std::string first = line.substr(1, line.find('|', 1) - 1);
                doc.blocks.emplace_back(names_in(first), line);
            } else if (!section.empty()) {
                doc.blocks.emplace_back(section, line);
            } else {
                doc.shared += line + "\n";
            }
        }
        return doc;
    }

    std::string about(const std::string& type) const {
        std::string text;
        for (const auto& [types, block] : blocks) {
            if (types.count(type)) text += block + "\n";
        }
        return text;
    }
};

const SchemaDoc& schema() {
    static const SchemaDoc doc = SchemaDoc::read(std::string(TCPSCOPE_DOCS) + "/schema.md");
    return doc;
}

// Objects keyed by values (event types, tracepoint names), not by keys.
bool is_map(const std::string& key) { return key == "counts" || key == "tracepoints"; }

void collect_keys(const nlohmann::json& j, const std::string& prefix, std::set<std::string>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            out.insert(prefix + it.key());
            if (!is_map(it.key())) collect_keys(it.value(), prefix + it.key() + ".", out);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) collect_keys(v, prefix, out);
    }
}

// The keys of the lines given, by type: what the test holds the document to.
class Written {
public:
    void line(const std::string& text, const std::string& where) {
        nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        ASSERT_TRUE(j.is_object()) << where << ": " << text;
        ASSERT_TRUE(j.contains("type")) << where << ": " << text;
        collect_keys(j, "", keys_[j["type"].get<std::string>()]);
    }
    void line(const Json& j, const std::string& where) { line(j.dump(), where); }

    // Each type and key not found where the document describes that type.
    std::vector<std::string> undocumented(const SchemaDoc& doc) const {
        std::vector<std::string> missing;
        for (const auto& [type, keys] : keys_) {
            std::string mine = doc.about(type);
            if (mine.empty()) missing.push_back("type " + type + ": no row or section");
            for (const auto& path : keys) {
                std::string key = path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
                std::string quoted = "`" + key + "`";
                if (mine.find(quoted) == std::string::npos && doc.shared.find(quoted) == std::string::npos) {
                    missing.push_back("type " + type + ": key " + path);
                }
            }
        }
        return missing;
    }

    size_t types() const { return keys_.size(); }
    bool has(const std::string& type, const std::string& key) const {
        auto it = keys_.find(type);
        return it != keys_.end() && it->second.count(key);
    }

private:
    std::map<std::string, std::set<std::string>> keys_;
};

// The recorded run in each scenario's folder (scenarios/<name>/recording.jsonl).
std::vector<fs::path> recordings() {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(TCPSCOPE_SCENARIO_SOURCES)) {
        fs::path run = entry.path() / "recording.jsonl";
        if (entry.is_directory() && fs::exists(run)) out.push_back(run);
    }
    std::sort(out.begin(), out.end());
    return out;
}

Recording load(const fs::path& path) {
    std::ifstream in(path);
    return read_recording(in);
}

// What a LineWriter wrote, through a file of its own.
class CapturedLines {
public:
    CapturedLines() {
        char name[] = "/tmp/tcpscope-schema-XXXXXX";
        fd_ = mkstemp(name);
        path_ = name;
        writer_ = std::make_unique<LineWriter>(fd_, true);
    }
    ~CapturedLines() { std::remove(path_.c_str()); }
    LineWriter& writer() { return *writer_; }
    std::vector<std::string> lines() {
        writer_->flush();
        std::ifstream in(path_);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    }

private:
    int fd_ = -1;
    std::string path_;
    std::unique_ptr<LineWriter> writer_;
};

// Every kind of line the encoders write, from the recorded runs and from
// samples for what a recording cannot hold.
Written everything_written() {
    Written w;
    const WallClock clock{1'700'000'000'000'000'000};
    for (const auto& path : recordings()) {
        const std::string where = path.parent_path().filename().string() + "/recording.jsonl";
        // As recorded.
        std::ifstream in(path);
        for (std::string l; std::getline(in, l);) {
            if (!l.empty()) w.line(l, where);
        }
        // As today's encoders write the same run.
        Recording r = load(path);
        const std::string scenario = path.stem().string();
        for (const auto& e : r.events) {
            w.line(event_to_json(e, r.reasons, &clock), where + " (trace)");
            std::string fast;
            append_event_json(fast, e, r.reasons, &clock);
            w.line(fast, where + " (trace, fast encoder)");
            std::string run_line;
            append_run_event_json(run_line, e, r.reasons, scenario, "client", &clock);
            w.line(run_line, where + " (run)");
        }
        for (const auto& s : r.steps) {
            std::string step;
            append_run_step_json(step, s, scenario);
            w.line(step, where + " (step)");
        }
        w.line(kernel_support_to_json(r.kernel).dump(), where + " (kernel)");
        // Its connection stories, as trace --connections writes them.
        StoryBuilder builder(r.reasons);
        for (const auto& e : r.events) builder.add(e);
        for (const auto& story : builder.take_closed()) {
            std::string line;
            append_story_json(line, story, r.reasons, &clock);
            w.line(line, where + " (story)");
        }
    }

    // A move to CLOSE with what the socket moved (the recordings predate it).
    Event closing;
    closing.kind = EventKind::State;
    closing.family = AF_INET;
    closing.local = {"127.0.0.1", 40000};
    closing.remote = {"127.0.0.1", 5000};
    closing.old_state = 1;
    closing.new_state = 7;
    closing.close_stats = CloseStats{1, 2, 3, 0, 0, 0, 0, true};
    const ResetReasons no_reasons;
    w.line(event_to_json(closing, no_reasons, &clock), "close stats");

    // trace's own lines.
    w.line(lost_to_json(1, 2, 3, "ringbuf_full", &clock), "lost");
    TraceSummary summary;
    summary.counts["state"] = 1;
    w.line(summary_to_json(summary), "trace summary");
    {
        CapturedLines out, summary_out;
        StorySink sink(std::make_unique<JsonStoryOutput>(out.writer(), no_reasons, clock), no_reasons);
        sink.summary(summary);
        for (const auto& l : out.lines()) w.line(l, "trace --connections summary");
    }

    // run's and exec's.
    Verdict verdict{"a fact", true, "what was seen", true};
    std::string line;
    append_verdict_json(line, verdict, "zero-byte-send");
    w.line(line, "verdict");
    RunSummary run;
    run.scenario = "zero-byte-send";
    run.count("state");
    run.lost_by_reason = {{"ringbuf_full", 0}, {"program_skipped", 0}, {"calls", 0}};
    run.error = "why it could not run";
    run.verdict = "pass";
    line.clear();
    append_run_summary_json(line, run);
    w.line(line, "run summary");

    // A stuck socket, reported and ended.
    StuckReport stuck;
    stuck.socket.family = AF_INET;
    stuck.socket.state = 8;
    stuck.socket.has_info = true;
    stuck.socket.pid = 7;
    stuck.socket.comm = "server";
    w.line(stuck_to_json(stuck, &clock), "stuck");
    stuck.phase = StuckPhase::Ended;
    w.line(stuck_to_json(stuck, &clock), "stuck ended");

    // exec's steps: getsockopt(SO_ERROR), accept, poll, and a failed
    // connect with its cause.
    auto call = [](uint32_t nr, int64_t ret, uint64_t sk, uint64_t cookie, uint64_t start) {
        ts_call r = call_record(nr, ret, sk, cookie, start);
        on_loopback(r);
        return r;
    };
    std::vector<CapturedCall> calls;
    ts_call refused = call(42 /* connect */, -ECONNREFUSED, 0xA000, 55, 10);
    calls.push_back(*decode_call(&refused, sizeof(refused)));
    ts_call so_error = call(55 /* getsockopt */, 0, 0xA000, 55, 20);
    so_error.args[1] = SOL_SOCKET;
    so_error.args[2] = SO_ERROR;
    so_error.optval = ECONNREFUSED;
    so_error.optval_valid = 1;
    calls.push_back(*decode_call(&so_error, sizeof(so_error)));
    ts_call accepted = call(288 /* accept4 */, 4, 0xB000, 77, 30);
    accepted.new_sk = 0xC000;
    calls.push_back(*decode_call(&accepted, sizeof(accepted)));
    ts_call poll = call(7 /* poll */, 1, 0, 0, 40);
    poll.nready = 1;
    poll.ready[0] = ts_ready{3, 0x2001, 0, 0xA000};
    calls.push_back(*decode_call(&poll, sizeof(poll)));
    std::vector<Step> steps = finish_calls(calls);
    Event rst;
    rst.kind = EventKind::ResetReceived;
    rst.ts_ns = 12;
    rst.cookie = 55;
    rst.state = 2;  // SYN_SENT
    rst.family = AF_INET;
    rst.local = {"127.0.0.1", 40000};
    rst.remote = {"127.0.0.1", 5000};
    explain_failures(steps, {rst}, no_reasons);
    for (const auto& s : steps) {
        line.clear();
        append_run_step_json(line, s, "a-command");
        w.line(line, "exec step");
    }

    // info --json's object (list --json's: tests/docs).
    KernelSupport support;
    support.release = "6.18";
    w.line(kernel_info_json(support), "info --json");
    return w;
}

TEST(SchemaDoc, EveryKeyWrittenIsInDocsSchemaWhereItsTypeIsDescribed) {
    Written written = everything_written();
    // The samples did reach the keys the document must cover.
    EXPECT_GE(written.types(), 17u);
    EXPECT_TRUE(written.has("step", "info.so_error"));
    EXPECT_TRUE(written.has("step", "info.cause"));
    EXPECT_TRUE(written.has("summary", "connections_cut_short"));
    EXPECT_TRUE(written.has("state", "bytes_acked"));
    EXPECT_TRUE(written.has("stuck", "new_state"));
    EXPECT_TRUE(written.has("connection", "states.ns"));
    for (const auto& missing : written.undocumented(schema())) ADD_FAILURE() << missing << " is not in docs/schema.md";
}

TEST(SchemaDoc, ATypeOrKeyLeftOutOfTheDocumentIsFound) {
    // The check itself: a document without `so_error`, nor a `stuck` row.
    SchemaDoc doc = schema();
    for (auto& [types, text] : doc.blocks) {
        for (size_t at; (at = text.find("`so_error`")) != std::string::npos;) text.replace(at, 10, "so_error");
        types.erase("stuck");
    }
    auto missing = everything_written().undocumented(doc);
    auto has = [&](const std::string& what) {
        return std::find(missing.begin(), missing.end(), what) != missing.end();
    };
    EXPECT_TRUE(has("type step: key info.so_error"));
    EXPECT_TRUE(has("type stuck: no row or section"));
}

}  // namespace
}  // namespace tcpscope
