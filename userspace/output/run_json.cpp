#include "run_json.h"

#include <charconv>

#include "json_encoding.h"
#include "json_writer.h"

namespace tcpscope {

namespace {

template <class Int>
void number(std::string& out, Int value) {
    char tmp[24];
    auto result = std::to_chars(tmp, tmp + sizeof(tmp), value);
    out.append(tmp, static_cast<size_t>(result.ptr - tmp));
}

void boolean(std::string& out, bool value) { out += value ? "true" : "false"; }

// `{"v":1,"type":"<type>","scenario":"<scenario>"`, the start of every line
// but the events'.
void open_line(std::string& out, const char* type, const std::string& scenario) {
    out += "{\"v\":";
    number(out, kJsonSchemaVersion);
    out += ",\"type\":\"";
    out += type;
    out += "\",\"scenario\":";
    append_json_string(out, scenario);
}

}  // namespace

void append_run_event_json(std::string& out, const Event& event, const ResetReasons& reasons,
                           const std::string& scenario, const std::string& side,
                           const WallClock* clock) {
    append_event_json_fields(out, event, reasons, clock);
    out += ",\"scenario\":";
    append_json_string(out, scenario);
    out += ",\"side\":";
    if (side.empty()) {
        out += "null";
    } else {
        append_json_string(out, side);
    }
    out += '}';
}

void append_run_step_json(std::string& out, const Step& step, const std::string& scenario) {
    StepInfo keys = StepInfo::object();
    step_to_json(step, keys);
    open_line(out, "step", scenario);
    std::string body = keys.dump(-1, ' ', false, StepInfo::error_handler_t::replace);
    out += ',';
    out.append(body, 1, std::string::npos);  // the step's keys, its closing brace
}

void append_verdict_json(std::string& out, const Verdict& verdict, const std::string& scenario) {
    open_line(out, "verdict", scenario);
    out += ",\"fact\":";
    append_json_string(out, verdict.fact);
    out += ",\"ok\":";
    boolean(out, verdict.ok);
    out += ",\"status\":\"";
    out += verdict.status();
    out += "\",\"detail\":";
    append_json_string(out, verdict.detail);
    out += '}';
}

void RunSummary::count(const std::string& type) {
    for (auto& [name, n] : counts) {
        if (name == type) {
            ++n;
            return;
        }
    }
    counts.emplace_back(type, 1);
}

namespace {

// {"name":n,...} in the order given.
void append_counts_object(std::string& out, const std::vector<std::pair<std::string, uint64_t>>& counts) {
    out += '{';
    for (size_t i = 0; i < counts.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, counts[i].first);
        out += ':';
        number(out, counts[i].second);
    }
    out += '}';
}

}  // namespace

void append_run_summary_json(std::string& out, const RunSummary& s) {
    open_line(out, "summary", s.scenario);
    out += ",\"facts\":";
    number(out, s.facts);
    out += ",\"held\":";
    number(out, s.held);
    out += ",\"not_observable\":";
    number(out, s.not_observable);
    out += ",\"ok\":";
    boolean(out, s.ok);
    if (!s.verdict.empty()) {
        out += ",\"verdict\":";
        append_json_string(out, s.verdict);
    }
    out += ",\"counts\":";
    append_counts_object(out, s.counts);
    out += ",\"steps\":";
    number(out, s.steps);
    out += ",\"lost\":";
    number(out, s.lost);
    if (s.untraced) {
        out += ",\"untraced\":";
        number(out, s.untraced);
    }
    out += ",\"exit_code\":";
    number(out, s.exit_code);
    out += ",\"term_signal\":";
    number(out, s.term_signal);
    out += ",\"timed_out\":";
    boolean(out, s.timed_out);
    out += ",\"duration_ns\":";
    number(out, s.duration_ns);
    if (!s.lost_by_reason.empty()) {
        out += ",\"lost_by_reason\":";
        append_counts_object(out, s.lost_by_reason);
    }
    if (!s.error.empty()) {
        out += ",\"error\":";
        append_json_string(out, s.error);
    }
    out += '}';
}

}  // namespace tcpscope
