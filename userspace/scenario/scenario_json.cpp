#include "scenario_json.h"

namespace tcpscope {

Json step_to_json(const Step& s, const std::string& scenario) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "step";
    j["scenario"] = scenario;
    tcpscope::step_to_json(s, j);  // the step protocol's own keys (events/step.h)
    return j;
}

Json verdict_to_json(const Verdict& v, const std::string& scenario) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "verdict";
    j["scenario"] = scenario;
    j["fact"] = v.fact;
    j["ok"] = v.ok;
    j["detail"] = v.detail;
    return j;
}

Json run_summary_to_json(const std::string& scenario, const ScenarioOutcome& o,
                         const std::vector<Verdict>& verdicts) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "summary";
    j["scenario"] = scenario;
    size_t held = 0;
    for (const auto& v : verdicts) held += v.ok;
    j["facts"] = verdicts.size();
    j["held"] = held;
    j["ok"] = o.ran_to_end() && held == verdicts.size();
    Json counts = Json::object();
    for (const auto& e : o.events) counts[kind_name(e.kind)] = counts.value(kind_name(e.kind), 0) + 1;
    j["counts"] = counts;
    j["steps"] = o.steps.size();
    j["lost"] = o.lost;
    j["exit_code"] = o.exit_code;
    j["term_signal"] = o.term_signal;
    j["timed_out"] = o.timed_out;
    j["duration_ns"] = o.duration_ns;
    if (!o.error.empty()) j["error"] = o.error;
    return j;
}

}  // namespace tcpscope
