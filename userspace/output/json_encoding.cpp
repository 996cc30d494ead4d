#include "json_encoding.h"

namespace tcpscope {

Json event_to_json(const Event& e, const ResetReasons& reasons, const WallClock* clock) {
    return record_to_json(e, [](auto& f, const Event& event) { event_fields(f, event); }, reasons, clock);
}

const char* loss_reason_name(LossReason reason) {
    switch (reason) {
    case LossReason::RingbufFull: return "ringbuf_full";
    case LossReason::ProgramSkipped: return "program_skipped";
    case LossReason::WriteFailed: return "write_failed";
    }
    return "unknown";
}

Json lost_to_json(uint64_t ts_ns, uint64_t count, uint64_t total, const std::string& reason,
                  const WallClock* clock) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "lost";
    j["ts_ns"] = ts_ns;
    if (clock) j["time"] = rfc3339_utc(clock->realtime_ns(ts_ns));
    j["count"] = count;
    j["total"] = total;
    j["reason"] = reason;
    return j;
}

Json summary_to_json(const TraceSummary& s) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "summary";
    Json counts = Json::object();
    uint64_t total = 0;
    for (const auto& [type, n] : s.counts) {
        counts[type] = n;
        total += n;
    }
    j["counts"] = counts;
    j["events"] = total;
    j["lost"] = s.lost;
    Json by_reason = Json::object();
    for (size_t r = 0; r < kLossReasons; ++r) {
        by_reason[loss_reason_name(static_cast<LossReason>(r))] = s.lost_by_reason[r];
    }
    j["lost_by_reason"] = by_reason;
    j["undecodable"] = s.undecodable;
    j["duration_ns"] = s.duration_ns;
    return j;
}

}  // namespace tcpscope
