#include "run_json.h"

#include "json_encoding.h"
#include "event_fields.h"
#include "json_writer.h"
#include "step_fields.h"

namespace tcpscope {

namespace {

const ResetReasons kNoReasons;  // run's own lines name no reset reason

// "v", "type" and "scenario": how every line of run's own begins.
template <class F>
void run_line_fields(F& f, const char* type, const std::string& scenario) {
    f.computed("v", [] { return kJsonSchemaVersion; });
    f.computed("type", [type] { return type; });
    f.field("scenario", scenario);
}

template <class F>
void verdict_fields(F& f, const Verdict& v) {
    f.field("fact", v.fact);
    f.field("ok", v.ok);
    f.computed("status", [&] { return v.status(); });
    f.field("detail", v.detail);
}

template <class F>
void run_summary_fields(F& f, const RunSummary& s) {
    f.field("facts", s.facts);
    f.field("held", s.held);
    f.field("not_observable", s.not_observable);
    f.field("ok", s.ok);
    if (f.when(!s.verdict.empty())) f.field("verdict", s.verdict);
    f.field("counts", s.counts);
    f.field("steps", s.steps);
    f.field("lost", s.lost);
    if (f.when(s.untraced != 0)) f.field("untraced", s.untraced);
    f.field("exit_code", s.exit_code);
    f.field("term_signal", s.term_signal);
    f.field("timed_out", s.timed_out);
    f.field("duration_ns", s.duration_ns);
    if (f.when(!s.lost_by_reason.empty())) f.field("lost_by_reason", s.lost_by_reason);
    if (f.when(!s.error.empty())) f.field("error", s.error);
}

}  // namespace

void append_run_event_json(std::string& out, const Event& event, const ResetReasons& reasons,
                           const std::string& scenario, const std::string& side,
                           const WallClock* clock) {
    append_record_json(out, event, [&](auto& f, const Event& e) {
        event_fields(f, e);
        f.field("scenario", scenario);
        f.field("side", side, NameOrNull{});
    }, reasons, clock);
}

void append_run_step_json(std::string& out, const Step& step, const std::string& scenario) {
    append_record_json(out, step, [&scenario](auto& f, const Step& s) {
        run_line_fields(f, "step", scenario);
        step_fields(f, s);
    }, kNoReasons, nullptr);
}

void append_verdict_json(std::string& out, const Verdict& verdict, const std::string& scenario) {
    append_record_json(out, verdict, [&scenario](auto& f, const Verdict& v) {
        run_line_fields(f, "verdict", scenario);
        verdict_fields(f, v);
    }, kNoReasons, nullptr);
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

void append_run_summary_json(std::string& out, const RunSummary& summary) {
    append_record_json(out, summary, [](auto& f, const RunSummary& s) {
        run_line_fields(f, "summary", s.scenario);
        run_summary_fields(f, s);
    }, kNoReasons, nullptr);
}

}  // namespace tcpscope
