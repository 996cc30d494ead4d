// The per-event JSON hot path: appends one event's JSON line (the same
// bytes as event_to_json(...).dump()) to a caller's buffer without building
// a JSON tree, so that a busy host's event rate costs little per event.
// event_to_json stays the reference; a unit test holds the two equal.
#pragma once

#include <string>

#include "event.h"
#include "names.h"
#include "wall_clock.h"

namespace tcpscope {

// With a wall clock, "time" (RFC 3339, UTC) follows "ts_ns", as in
// event_to_json.
void append_event_json(std::string& out, const Event& event, const ResetReasons& reasons,
                       const WallClock* clock = nullptr);

// The same line without its closing brace, for a caller that adds keys of
// its own after the event's (`run --json` adds "scenario" and "side").
void append_event_json_fields(std::string& out, const Event& event, const ResetReasons& reasons,
                              const WallClock* clock = nullptr);

// Appends `text` as a JSON string (quotes included), escaping as JSON needs.
// Valid UTF-8 is kept; each invalid sequence becomes U+FFFD, as nlohmann's
// replace handler does, so the output is always valid UTF-8.
void append_json_string(std::string& out, const std::string& text);

}  // namespace tcpscope
