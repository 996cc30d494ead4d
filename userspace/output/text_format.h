// The human-readable form of events: one aligned line each, like tcpstates.
#pragma once

#include <cstdint>
#include <string>

#include "event.h"
#include "event_text.h"
#include "json_encoding.h"
#include "names.h"
#include "wall_clock.h"

namespace tcpscope {

// The time column: seconds since start_ns (relative), or, with a wall
// clock, the event's time in UTC (RFC 3339, microseconds).
std::string text_header(const WallClock* wall = nullptr);
std::string text_line(const Event& event, uint64_t start_ns, const ResetReasons& reasons,
                      const WallClock* wall = nullptr);
// The pieces every aligned line shares (events, connection stories, stuck
// sockets): the time column's width and its text padded to it, and a field
// padded to its column, never cut (a long field pushes the rest of the
// line right).
constexpr int kWallTimeWidth = 27;  // 2026-11-28T21:40:00.123456Z
constexpr int kRelativeTimeWidth = 11;
std::string time_column(uint64_t ts_ns, uint64_t start_ns, const WallClock* wall);
std::string pad_column(const std::string& text, size_t width);
std::string text_lost_line(uint64_t count, uint64_t total, LossReason reason);
std::string text_summary(const TraceSummary& summary);

}  // namespace tcpscope
