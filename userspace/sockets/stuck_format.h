// Stuck-socket reports as a user reads them: a text line in the columns
// of `trace`'s events (EVENT "stuck" or "stuck_end"), or a JSON object of
// type "stuck" (schema v1).
#pragma once

#include <cstdint>
#include <string>

#include "container_identity.h"
#include "json_encoding.h"
#include "stuck_detector.h"
#include "wall_clock.h"

namespace tcpscope {

std::string stuck_text_line(const StuckReport& report, uint64_t start_ns,
                            const WallClock* wall = nullptr);
// container: the owner's, when it runs in one (null: none, or not looked up).
// With a wall clock, "time" follows "ts_ns".
Json stuck_to_json(const StuckReport& report, const WallClock* clock,
                   const ContainerIdentity* container = nullptr);
// The same bytes as stuck_to_json(...).dump(), without a JSON tree: both
// walk the report's one list of keys (stuck_fields).
void append_stuck_json(std::string& out, const StuckReport& report, const WallClock* clock,
                       const ContainerIdentity* container = nullptr);

}  // namespace tcpscope
