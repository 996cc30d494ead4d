// Reads the JSON lines schema back into events and steps: recorded runs
// (scenarios/<name>/recording.jsonl) replay through the same timeline and facts as
// live ones.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "event.h"
#include "kernel_support.h"
#include "names.h"
#include "step.h"

namespace tcpscope {

// An event from one JSON object of the trace schema; nothing when the
// object is not an event (step, verdict, summary, lost) or is malformed.
// Reset reason names are interned into `reasons`.
std::optional<Event> event_from_json(const nlohmann::json& j, ResetReasons& reasons);

struct Recording {
    std::vector<Step> steps;
    std::vector<Event> events;
    ResetReasons reasons;
    // From the "kernel" line; unknown (everything taken as shown) without one.
    KernelSupport kernel;
    size_t malformed = 0;
};

// Steps and events of one scenario from a `tcpscope run --json` stream.
Recording read_recording(std::istream& in);

}  // namespace tcpscope
