// The JSON lines schema (version kJsonSchemaVersion), documented in
// README.md. Pure functions: event in, JSON object out.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "event.h"
#include "names.h"

namespace tcpscope {

constexpr int kJsonSchemaVersion = 1;

using Json = nlohmann::ordered_json;

Json event_to_json(const Event& event, const ResetReasons& reasons);

// {"v":1,"type":"lost","count":N,"total":T,"reason":"ringbuf_full"}
Json lost_to_json(uint64_t ts_ns, uint64_t count, uint64_t total, const std::string& reason);

struct TraceSummary {
    std::map<std::string, uint64_t> counts;  // per JSON type
    uint64_t lost = 0;                       // counted by the kernel side
    uint64_t undecodable = 0;                // records we could not decode
    uint64_t duration_ns = 0;
};

Json summary_to_json(const TraceSummary& summary);

}  // namespace tcpscope
