// A top frame as a user reads it: the header lines and the table's lines
// (the screen draws these very lines; --batch prints them), and one JSON
// object per frame (--json). Pure.
#pragma once

#include <string>
#include <vector>

#include "json_encoding.h"
#include "top_model.h"
#include "wall_clock.h"

namespace tcpscope {

// "123us", "4.5ms", "1.25s"; "-" when unknown.
std::string format_latency_us(const std::optional<uint64_t>& us);
// "45s", "12m03s", "2h05m"; "-" for 0.
std::string format_age_ns(uint64_t ns);

// The header: totals, the namespace's sockets, tcpscope's own cost.
std::vector<std::string> top_header_lines(const TopFrame& frame);
// The column titles, with the sort column marked ('v' descending, '^'
// ascending), and one line per row.
std::string top_table_header(const TopFrame& frame);
std::string top_table_line(const TopRow& row);
// Where each column starts in those lines (the cells are right-aligned
// in their width, the group and the reasons left-aligned).
size_t column_offset(Column column);

// {"type":"top", "time", "interval_s", "grouping", "sort", "filter",
//  "totals", "tcpscope", "rows":[...]} (docs/top.md).
Json top_frame_to_json(const TopFrame& frame, const WallClock& clock);

}  // namespace tcpscope
