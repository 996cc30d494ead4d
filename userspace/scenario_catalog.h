// The bundled scenarios (../shared/SCENARIOS.md): names, one-line
// summaries, facts and explanations. Each scenario's facts live in
// facts/<name>.cpp; its program in scenarios/<name>.cpp.
#pragma once

#include <string>
#include <vector>

#include "facts.h"

namespace tcpscope {

const std::vector<ScenarioSpec>& scenario_catalog();
const ScenarioSpec* find_scenario(const std::string& name);

// One factory per scenario, defined in facts/<name>.cpp.
ScenarioSpec zero_byte_send_scenario();

}  // namespace tcpscope
