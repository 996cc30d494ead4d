#include "readiness_facts.h"

#include "names.h"

namespace tcpscope {

std::optional<uint32_t> ready_mask(const Step& step, uint64_t cookie) {
    if (!step.info.contains("ready") || !step.info["ready"].is_array()) return std::nullopt;
    uint32_t mask = 0;
    for (const auto& r : step.info["ready"]) {
        if (!r.is_object() || r.value("cookie", uint64_t{0}) != cookie) continue;
        mask |= r.value("mask", 0u);
    }
    return mask;
}

std::string ready_text(const Step& step) {
    if (!step.info.contains("ready") || !step.info["ready"].is_array()) return "";
    std::string out;
    for (const auto& r : step.info["ready"]) {
        if (!r.is_object()) continue;
        out += (out.empty() ? "" : ", ") + readiness_names(r.value("mask", 0u));
    }
    return out;
}

std::string state_at(const Timeline& timeline, uint64_t cookie, uint64_t ts_ns) {
    std::string state;
    for (const Event* e : timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::State && e->ts_ns < ts_ns) state = tcp_state_name(e->new_state);
    }
    return state;
}

bool timed_out(const Step& step) {
    int64_t timeout_ms = step.info.value("timeout_ms", int64_t{-1});
    if (step.ret != 0 || step.failed() || timeout_ms <= 0 || step.ts_ns < step.start_ns) return false;
    return (step.ts_ns - step.start_ns) >= static_cast<uint64_t>(timeout_ms) * 900'000;
}

}  // namespace tcpscope
