// JSON lines of `tcpscope run`: the trace schema plus "step", "verdict"
// and a per-scenario "summary" (schema v1, README.md).
#pragma once

#include <string>
#include <vector>

#include "facts.h"
#include "json_encoding.h"
#include "scenario_runner.h"
#include "step.h"

namespace tcpscope {

Json step_to_json(const Step& step, const std::string& scenario);
Json verdict_to_json(const Verdict& verdict, const std::string& scenario);
Json run_summary_to_json(const std::string& scenario, const ScenarioOutcome& outcome,
                         const std::vector<Verdict>& verdicts);

}  // namespace tcpscope
