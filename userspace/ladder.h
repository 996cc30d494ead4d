// The timeline as a ladder diagram: client column, wire column, server
// column, one row per step or kernel event, events indented under the step
// whose call caused them.
#pragma once

#include <string>
#include <vector>

#include "facts.h"
#include "names.h"
#include "timeline.h"

namespace tcpscope {

std::string render_ladder(const Timeline& timeline, const ResetReasons& reasons);
std::string render_verdicts(const ScenarioSpec& spec, const std::vector<Verdict>& verdicts);

}  // namespace tcpscope
