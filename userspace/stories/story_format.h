// Connection stories as a user reads them: one aligned text line each
// (like tcplife, with an END column and a cause in words), or one JSON
// object of type "connection" (schema v1).
#pragma once

#include <cstdint>
#include <string>

#include "connection_story.h"
#include "json_encoding.h"
#include "wall_clock.h"

namespace tcpscope {

// The smoothed RTT at the end for the RTT column ("41.2 ms"), "-" when
// not known.
std::string rtt_text(const ConnectionStory& story);
std::string story_text_header(const WallClock* wall = nullptr);
// The time column is the story's end: seconds since start_ns, or UTC.
std::string story_text_line(const ConnectionStory& story, uint64_t start_ns,
                            const ResetReasons& reasons, const WallClock* wall = nullptr);
// With a wall clock, "time" follows "ts_ns" and "start_time" "start_ns"
// (as for events: without one, neither is written).
Json story_to_json(const ConnectionStory& story, const ResetReasons& reasons, const WallClock* clock);
// The same bytes as story_to_json(...).dump(), appended without building a
// JSON tree: the hot path of `trace --connections --json` (a story for
// every connection's end). Both walk the story's one list of keys
// (story_fields); story_to_json stays the reference, a unit test holds the
// two equal.
void append_story_json(std::string& out, const ConnectionStory& story, const ResetReasons& reasons,
                       const WallClock* clock);

}  // namespace tcpscope
