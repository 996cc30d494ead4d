// The "step" lines of `tcpscope run --json` (schema v1, README.md). The
// other lines of `run --json` are written by output/run_json.h.
#pragma once

#include <string>

#include "json_encoding.h"
#include "step.h"

namespace tcpscope {

Json step_to_json(const Step& step, const std::string& scenario);

}  // namespace tcpscope
