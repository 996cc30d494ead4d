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
// The verdicts, then the explanation ("Why:") wrapped to the terminal.
std::string render_verdicts(const std::string& scenario, const std::string& explanation,
                            const std::vector<Verdict>& verdicts);

}  // namespace tcpscope
