// The human-readable form of events: one aligned line each, like tcpstates.
#pragma once

#include <cstdint>
#include <string>

#include "event.h"
#include "event_text.h"
#include "json_encoding.h"
#include "names.h"

namespace tcpscope {

std::string text_header();
std::string text_line(const Event& event, uint64_t start_ns, const ResetReasons& reasons);
std::string text_lost_line(uint64_t count, uint64_t total, LossReason reason);
std::string text_summary(const TraceSummary& summary);

}  // namespace tcpscope
