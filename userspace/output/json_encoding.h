// The JSON lines schema (version kJsonSchemaVersion), documented in
// docs/schema.md. Pure functions: event in, JSON object out.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "container_identity.h"
#include "event.h"
#include "event_fields.h"
#include "json_fields.h"
#include "names.h"
#include "record_fields.h"
#include "wall_clock.h"

namespace tcpscope {

// The reference encoder of an event: its keys as event_fields
// (event_fields.h) lists them, built with nlohmann. With a wall clock, the
// line has "time" (RFC 3339, UTC) after "ts_ns".
Json event_to_json(const Event& event, const ResetReasons& reasons,
                   const WallClock* clock = nullptr);

// Why events did not reach the output.
enum class LossReason {
    RingbufFull,     // the kernel side found the ring buffer full
    ProgramSkipped,  // the kernel skipped our program (already running on that CPU)
    WriteFailed,     // read from the ring buffer, but the output write failed
};
constexpr size_t kLossReasons = 3;
// "ringbuf_full", "program_skipped", "write_failed"
const char* loss_reason_name(LossReason reason);

// {"v":1,"type":"lost","count":N,"total":T,"reason":"ringbuf_full"}
// With a wall clock, "time" follows "ts_ns".
Json lost_to_json(uint64_t ts_ns, uint64_t count, uint64_t total, const std::string& reason,
                  const WallClock* clock = nullptr);

struct TraceSummary {
    std::map<std::string, uint64_t> counts;  // per JSON type
    uint64_t lost = 0;                       // every reason
    uint64_t lost_by_reason[kLossReasons] = {};
    uint64_t undecodable = 0;                // records we could not decode
    uint64_t duration_ns = 0;
};

Json summary_to_json(const TraceSummary& summary);

}  // namespace tcpscope
