#include "scenario_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "btf_reasons.h"
#include "exit_codes.h"
#include "ladder.h"
#include "ladder_html.h"
#include "line_writer.h"
#include "page_file.h"
#include "catalog.h"
#include "run_json.h"
#include "run_report.h"
#include "command_failure.h"
#include "run_verdict.h"
#include "scenario_reference.h"
#include "scenario_runner.h"
#include "signals.h"
#include "text_format.h"
#include "timeline.h"
#include "wall_clock.h"

namespace tcpscope {

namespace {

const char* const kMe = "tcpscope run";

struct ScenarioResult {
    std::string name;
    size_t facts = 0;
    size_t held = 0;
    bool ok = false;
    std::string note;  // why it did not run to the end
    double seconds = 0;
    size_t not_observable = 0;  // facts this kernel cannot show
    std::string summary;
    std::string page;  // the HTML page written for it, "" if none
    uint64_t lost = 0;  // events lost: then not judged
    uint64_t untraced = 0;  // counted by the kernel, never traced: not judged
    RunVerdict verdict = RunVerdict::Fail;
};

// Where --html writes one scenario's page.
std::string html_page_path(const RunOptions& o, const std::string& name) {
    return o.all ? o.html + "/" + name + ".html" : o.html;
}

std::string outcome_note(const ScenarioOutcome& o) {
    if (!o.error.empty()) return o.error;
    if (o.interrupted) return "interrupted";
    if (o.timed_out) return "timed out and was killed";
    if (o.term_signal) return "scenario program killed by " + signal_name(o.term_signal);
    if (o.exit_code != 0) return "scenario program exited with status " + std::to_string(o.exit_code);
    return "";
}

ScenarioResult run_one(const ScenarioSpec& spec, const RunOptions& o, LineWriter& out,
                       const ResetReasons& reasons, int* exit_code) {
    ScenarioRunConfig config;
    config.program = scenario_program_path(spec.name);
    config.timeout_s = scenario_timeout_s(spec.timeout_s);
    config.privilege = spec.privilege;
    config.verbose = o.verbose;
    // Monotonic -> wall clock, read once as the scenario starts: each
    // event line's "time".
    const WallClock clock = WallClock::anchor();
    TracerError terr;
    ScenarioOutcome outcome = run_scenario(config, &terr);
    for (const auto& w : outcome.warnings) warn(kMe, w);
    ScenarioResult result;
    result.name = spec.name;
    result.facts = spec.facts.size();
    result.note = outcome_note(outcome);
    result.seconds = outcome.duration_ns / 1e9;
    result.summary = spec.summary;
    if (!outcome.error.empty() && outcome.steps.empty()) {
        *exit_code = terr.stage.empty() ? kExitFailure : kExitEnvironment;
        if (o.json) {
            std::string line;
            append_run_summary_json(line, outcome.summary(spec.name, {}));
            out.write_line(line);
        } else {
            out.write_line("tcpscope run " + spec.name + ": " + outcome.error);
        }
        return result;
    }

    Timeline timeline(outcome.steps, outcome.events);
    FactContext context{timeline, reasons, outcome.kernel};
    std::vector<Verdict> verdicts = evaluate(spec.facts, context);
    result.facts = verdicts.size();
    for (const auto& v : verdicts) {
        result.held += v.ok;
        result.not_observable += !v.observable;
    }
    result.ok = outcome.passed(verdicts);
    result.verdict = outcome.verdict(verdicts);
    result.lost = outcome.lost;
    result.untraced = untraced(verdicts);

    // One model for the text ladder and the picture, so they agree.
    RunReport report;
    report.name = spec.name;
    report.heading = "Scenario " + spec.name + ": " + spec.summary;
    report.timeline = &timeline;
    report.reasons = &reasons;
    report.clock = &clock;
    report.kernel = outcome.kernel;
    report.below_ladder = render_verdicts(spec.name, spec.explanation, verdicts);
    report.summary = outcome.summary(spec.name, verdicts);
    const LadderModel model = report_model(report);
    std::string tail = std::to_string(result.held) + "/" + std::to_string(result.facts) +
                       " facts hold; ";
    if (result.not_observable) {
        tail += std::to_string(result.not_observable) + " not observable on this kernel; ";
    }
    tail += std::to_string(outcome.events.size()) + " kernel events, " +
            std::to_string(outcome.lost) + " lost";
    if (!result.note.empty()) tail += "; " + result.note;
    // Facts judged on an incomplete record would read as pass or FAIL
    // for the wrong reason: say so instead.
    if (result.verdict == RunVerdict::NotJudged) tail += "\n" + run_verdict_text(result.verdict, result.lost, result.untraced);
    if (!o.html.empty()) {
        LadderPage page{spec.name, spec.summary, spec.explanation, verdicts, tail};
        std::string path = html_page_path(o, spec.name);
        if (write_run_page(kMe, path, model, page, !o.all)) {
            result.page = path;
        } else {
            result.ok = false;
            result.verdict = RunVerdict::Fail;
            result.note = "page not written";
        }
    }

    report.verdicts = std::move(verdicts);
    report.tail = tail;
    write_run_report(out, o.json, report, model);
    if (!result.ok) *exit_code = kExitFailure;
    return result;
}

}  // namespace

int run_list_command(const ListOptions& o) {
    LineWriter out(STDOUT_FILENO, false);
    if (o.long_form) {
        const std::string text = o.markdown ? scenario_reference_markdown(scenario_catalog())
                                            : scenario_reference_text(scenario_catalog());
        // LineWriter adds each line's newline.
        size_t start = 0;
        while (start < text.size()) {
            const size_t end = text.find('\n', start);
            out.write_line(text.substr(start, end - start));
            start = end == std::string::npos ? text.size() : end + 1;
        }
        out.flush();
        return out.status() == LineWriter::Status::Failed ? kExitFailure : kExitOk;
    }
    for (const auto& s : scenario_catalog()) {
        if (o.json) {
            Json j;
            j["v"] = kJsonSchemaVersion;
            j["type"] = "scenario";
            j["name"] = s.name;
            j["summary"] = s.summary;
            j["facts"] = s.facts.size();
            out.write_line(j.dump());
        } else {
            char line[256];
            std::snprintf(line, sizeof(line), "%-24s %s", s.name.c_str(), s.summary.c_str());
            out.write_line(line);
        }
    }
    out.flush();
    return out.status() == LineWriter::Status::Failed ? kExitFailure : kExitOk;
}

namespace {

// --all: the progress of each scenario on stderr, before and after.
void say_progress(size_t i, size_t n, const ScenarioResult* r, const std::string& name) {
    if (!r) {
        std::fprintf(stderr, "[%zu/%zu] %s ...\n", i + 1, n, name.c_str());
        return;
    }
    std::fprintf(stderr, "[%zu/%zu] %s: %s (%zu/%zu facts, %zu not observable, %.1f s)%s%s\n", i + 1, n,
                 name.c_str(),
                 r->verdict == RunVerdict::Pass        ? "ok"
                 : r->verdict == RunVerdict::NotJudged ? run_verdict_text(r->verdict, r->lost, r->untraced).c_str()
                                                       : "FAILED",
                 r->held, r->facts, r->not_observable, r->seconds, r->note.empty() ? "" : ", ", r->note.c_str());
}

// --all --html: the index of the pages. False when it cannot be written.
bool write_index(const RunOptions& o, const std::vector<ScenarioResult>& results) {
    std::vector<IndexEntry> index;
    for (const auto& r : results) {
        index.push_back({r.name, r.summary, r.page.empty() ? "" : r.name + ".html", r.facts, r.held,
                         r.not_observable, r.verdict != RunVerdict::Fail, r.note, r.lost, r.untraced});
    }
    std::string error;
    if (!write_page(o.html + "/index.html", render_index_html(index), &error)) {
        say(kMe, "--html: " + error);
        return false;
    }
    say(kMe, "pages written: " + o.html + "/index.html");
    return true;
}

// --all as text: the table of every scenario's verdict.
void write_table(LineWriter& out, const std::vector<ScenarioResult>& results) {
    out.write_line("\nSCENARIO                  FACTS  HELD  UNSEEN  VERDICT");
    for (const auto& r : results) {
        char line[256];
        std::string verdict = run_verdict_text(r.verdict, r.lost, r.untraced);
        if (!r.note.empty()) verdict += " (" + r.note + ")";
        std::snprintf(line, sizeof(line), "%-25s %5zu %5zu  %6zu  %s", r.name.c_str(), r.facts, r.held,
                      r.not_observable, verdict.c_str());
        out.write_line(line);
    }
}

std::vector<const ScenarioSpec*> selected_scenarios(const RunOptions& o) {
    std::vector<const ScenarioSpec*> selected;
    if (o.all) {
        for (const auto& s : scenario_catalog()) selected.push_back(&s);
    } else {
        selected.push_back(find_scenario(o.name));
    }
    return selected;
}

}  // namespace

int run_run_command(const RunOptions& o) {
    if (geteuid() != 0) {
        return fail(kMe, kExitEnvironment,
                    "needs root (CAP_BPF and CAP_PERFMON to trace, CAP_NET_ADMIN and CAP_SYS_ADMIN for the "
                    "scenarios' network namespaces)");
    }
    std::string error;
    const int out_fd = o.output.empty() ? STDOUT_FILENO : LineWriter::open_file(o.output, &error);
    if (out_fd < 0) return fail(kMe, kExitUsage, error);
    if (!o.html.empty() && !prepare_page_target(o.html, o.all, &error)) {
        if (out_fd != STDOUT_FILENO) close(out_fd);
        return fail(kMe, kExitUsage, "--html: " + error);
    }
    LineWriter out(out_fd, out_fd != STDOUT_FILENO);
    install_stop_handlers();
    ResetReasons reasons = load_kernel_reset_reasons(&error);

    const std::vector<const ScenarioSpec*> selected = selected_scenarios(o);
    int exit_code = kExitOk;
    std::vector<ScenarioResult> results;
    for (size_t i = 0; i < selected.size() && !stop_requested(); ++i) {
        const ScenarioSpec& spec = *selected[i];
        if (o.all) say_progress(i, selected.size(), nullptr, spec.name);
        results.push_back(run_one(spec, o, out, reasons, &exit_code));
        if (o.all) say_progress(i, selected.size(), &results.back(), spec.name);
        if (out.status() == LineWriter::Status::PipeClosed) return kExitOk;
    }
    if (o.all && !o.html.empty() && !write_index(o, results)) exit_code = kExitFailure;
    if (o.all && !o.json) write_table(out, results);
    out.flush();
    if (stop_requested()) return fail(kMe, kExitFailure, "interrupted");
    if (out.status() == LineWriter::Status::Failed) return fail(kMe, kExitFailure, "output: " + out.error());
    return exit_code;
}

}  // namespace tcpscope
