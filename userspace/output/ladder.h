// The timeline as a text ladder: client column, wire column, server
// column, one row per row of the ladder model (ladder_model.h), events
// indented under the step whose call they fired in.
#pragma once

#include <string>
#include <vector>

#include "facts.h"
#include "ladder_model.h"
#include "names.h"
#include "timeline.h"

namespace tcpscope {

std::string render_ladder(const LadderModel& model);
// The same, building the model (events' raw JSON left out).
std::string render_ladder(const Timeline& timeline, const ResetReasons& reasons);
// What the ladder's marks mean, printed under it.
const char* ladder_legend();
// The verdicts, then the explanation ("Why:") wrapped to the terminal.
std::string render_verdicts(const std::string& scenario, const std::string& explanation,
                            const std::vector<Verdict>& verdicts);

}  // namespace tcpscope
