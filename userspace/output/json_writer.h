// The per-event JSON hot path: appends one event's JSON line (the same
// bytes as event_to_json(...).dump()) to a caller's buffer without building
// a JSON tree, so that a busy host's event rate costs little per event.
// Both walk the one list of the event's keys (event_fields in
// events/event_fields.h); event_to_json stays the reference, and a unit
// test holds the two equal.
#pragma once

#include <string>

#include "event.h"
#include "json_fields.h"
#include "names.h"
#include "wall_clock.h"

namespace tcpscope {

// With a wall clock, "time" (RFC 3339, UTC) follows "ts_ns", as in
// event_to_json.
void append_event_json(std::string& out, const Event& event, const ResetReasons& reasons,
                       const WallClock* clock = nullptr);

}  // namespace tcpscope
