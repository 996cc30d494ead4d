// What `run` and `exec` say about a program they ran under tracing. One
// ladder model of its timeline, drawn as the text ladder, as the JSON lines
// and as the HTML page, so that the three cannot disagree; the two commands
// differ only in what they put around it (a scenario's facts, a command's
// "why").
#pragma once

#include <string>
#include <vector>

#include "facts.h"
#include "kernel_support.h"
#include "ladder_html.h"
#include "ladder_model.h"
#include "line_writer.h"
#include "names.h"
#include "run_json.h"
#include "timeline.h"
#include "wall_clock.h"

namespace tcpscope {

struct RunReport {
    std::string name;      // the scenario, or the command's base name: each JSON line's
    std::string heading;   // the text's first line ("Scenario x: ...", "Command: x")
    const Timeline* timeline = nullptr;
    const ResetReasons* reasons = nullptr;
    const WallClock* clock = nullptr;  // each event line's "time"
    KernelSupport kernel;  // the first JSON line: what this kernel can show
    std::vector<Verdict> verdicts;  // a scenario's facts (exec has none)
    std::string below_ladder;       // text under the ladder ("" for none)
    std::string tail;               // the text's last line(s)
    RunSummary summary;             // the last JSON line
};

// The one model of the report's timeline (the text ladder and the page).
LadderModel report_model(const RunReport& report);

// The report on `out`, as JSON lines or as text, then flushed.
void write_run_report(LineWriter& out, bool json, const RunReport& report, const LadderModel& model);

// The page at path; says "page written: <path>" when `announce`, or
// "--html: <why>" when it cannot be written (then false).
bool write_run_page(const std::string& me, const std::string& path, const LadderModel& model,
                    const LadderPage& page, bool announce);

}  // namespace tcpscope
