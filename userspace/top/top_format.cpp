#include "top_format.h"

#include <algorithm>
#include <cstdio>

namespace tcpscope {
namespace {

constexpr size_t kGroupWidth = 24;

size_t column_width(Column c) {
    if (c == Column::Group) return kGroupWidth;
    if (c == Column::Reasons) return 0;  // the rest of the line
    return std::max<size_t>(std::string(column_header(c)).size(), 6);
}

std::string right(const std::string& s, size_t width) {
    return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string left(const std::string& s, size_t width) {
    if (s.size() > width) return s.substr(0, width - 1) + "~";
    return s + std::string(width - s.size(), ' ');
}

std::string rate(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : "%.1f", v);
    return buf;
}

std::string reasons_text(const std::map<std::string, uint64_t>& reasons) {
    std::vector<std::pair<std::string, uint64_t>> v(reasons.begin(), reasons.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string out;
    for (const auto& [name, n] : v) {
        if (!out.empty()) out += ' ';
        out += name + ":" + std::to_string(n);
    }
    return out;
}

std::string cell(const TopRow& r, Column c) {
    switch (c) {
    case Column::Group: return r.key;
    case Column::NewPerS: return rate(r.new_per_s);
    case Column::Conns: return std::to_string(r.conns);
    case Column::Active: return std::to_string(r.active);
    case Column::Fin: return std::to_string(r.ended_by(Ending::Fin));
    case Column::Aborted: return std::to_string(r.ended_by(Ending::Aborted));
    case Column::ResetSent: return std::to_string(r.ended_by(Ending::ResetSent));
    case Column::ResetReceived: return std::to_string(r.ended_by(Ending::ResetReceived));
    case Column::Refused: return std::to_string(r.ended_by(Ending::Refused));
    case Column::Timeout: return std::to_string(r.ended_by(Ending::Timeout));
    case Column::RetransPerS: return rate(r.retrans_per_s);
    case Column::Stuck: return std::to_string(r.stuck);
    case Column::StuckOldest: return format_age_ns(r.stuck_oldest_ns);
    case Column::ConnectP50: return format_latency_us(r.connect_p50_us);
    case Column::ConnectP99: return format_latency_us(r.connect_p99_us);
    case Column::RttP50: return format_latency_us(r.rtt_p50_us);
    case Column::RttP99: return format_latency_us(r.rtt_p99_us);
    case Column::Reasons: return reasons_text(r.reset_sent_reasons);
    }
    return "";
}

Json ms_or_null(const std::optional<uint64_t>& us) {
    return us ? Json(static_cast<double>(*us) / 1000.0) : Json(nullptr);
}

Json endings_json(const std::array<uint64_t, kEndingCount>& ended) {
    Json j = Json::object();
    for (size_t e = 0; e < kEndingCount; ++e) j[ending_name(static_cast<Ending>(e))] = ended[e];
    return j;
}

}  // namespace

std::string format_latency_us(const std::optional<uint64_t>& us) {
    if (!us) return "-";
    char buf[32];
    if (*us < 1000) std::snprintf(buf, sizeof buf, "%lluus", static_cast<unsigned long long>(*us));
    else if (*us < 1000000) std::snprintf(buf, sizeof buf, "%.1fms", static_cast<double>(*us) / 1e3);
    else std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(*us) / 1e6);
    return buf;
}

std::string format_age_ns(uint64_t ns) {
    if (ns == 0) return "-";
    const uint64_t s = ns / 1000000000ull;
    char buf[32];
    if (s < 120) std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
    else if (s < 7200) std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                                     static_cast<unsigned long long>(s % 60));
    else std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                       static_cast<unsigned long long>(s / 60 % 60));
    return buf;
}

size_t column_offset(Column column) {
    size_t at = 0;
    for (size_t i = 0; i < static_cast<size_t>(column); ++i) at += column_width(static_cast<Column>(i)) + 1;
    return at;
}

std::vector<std::string> top_header_lines(const TopFrame& f) {
    const TopTotals& t = f.totals;
    std::vector<std::string> lines;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s%stcpscope top  group: %s  sort: %s %s%s%s  interval: %.1fs",
                  f.clock.c_str(), f.clock.empty() ? "" : "  ", grouping_name(f.view.grouping),
                  column_header(f.view.sort),
                  f.view.ascending ? "(ascending)" : "(descending)",
                  f.view.filter.empty() ? "" : "  filter: ", f.view.filter.c_str(),
                  static_cast<double>(f.interval_ns) / 1e9);
    lines.emplace_back(buf);
    std::snprintf(buf, sizeof buf,
                  "host: new/s %s  conns %llu  active %llu  fin %llu  abort %llu  rsttx %llu  "
                  "rstrx %llu  refused %llu  timeout %llu  retr/s %s  stuck %llu",
                  rate(t.new_per_s).c_str(), static_cast<unsigned long long>(t.conns),
                  static_cast<unsigned long long>(t.active),
                  static_cast<unsigned long long>(t.ended[static_cast<size_t>(Ending::Fin)]),
                  static_cast<unsigned long long>(t.ended[static_cast<size_t>(Ending::Aborted)]),
                  static_cast<unsigned long long>(t.ended[static_cast<size_t>(Ending::ResetSent)]),
                  static_cast<unsigned long long>(t.ended[static_cast<size_t>(Ending::ResetReceived)]),
                  static_cast<unsigned long long>(t.ended[static_cast<size_t>(Ending::Refused)]),
                  static_cast<unsigned long long>(t.ended[static_cast<size_t>(Ending::Timeout)]),
                  rate(t.retrans_per_s).c_str(), static_cast<unsigned long long>(t.stuck));
    lines.emplace_back(buf);
    std::string sockets = "sockets:";
    if (t.sockets_by_state.empty()) sockets += " (no snapshot)";
    for (const auto& [state, n] : t.sockets_by_state) sockets += " " + state + " " + std::to_string(n);
    lines.push_back(sockets);
    std::snprintf(buf, sizeof buf, "tcpscope: cpu %.1f%%  lost:", f.self.cpu_percent);
    std::string self = buf;
    for (const auto& [reason, n] : f.self.lost_by_reason) self += " " + reason + " " + std::to_string(n);
    if (f.self.stories_evicted) self += "  stories evicted " + std::to_string(f.self.stories_evicted);
    if (f.self.stories_cut_short) self += "  cut short " + std::to_string(f.self.stories_cut_short);
    lines.push_back(self);
    return lines;
}

std::string top_table_header(const TopFrame& f) {
    std::string line;
    for (size_t i = 0; i < kColumnCount; ++i) {
        const Column c = static_cast<Column>(i);
        std::string title = column_header(c);
        if (c == f.view.sort) title = (f.view.ascending ? "^" : "v") + title;
        if (c == Column::Group) line += left(title, column_width(c)) + " ";
        else if (c == Column::Reasons) line += title;
        else line += right(title, column_width(c)) + " ";
    }
    return line;
}

std::string top_table_line(const TopRow& row) {
    std::string line;
    for (size_t i = 0; i < kColumnCount; ++i) {
        const Column c = static_cast<Column>(i);
        if (c == Column::Group) line += left(cell(row, c), column_width(c)) + " ";
        else if (c == Column::Reasons) line += cell(row, c);
        else line += right(cell(row, c), column_width(c)) + " ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

Json top_frame_to_json(const TopFrame& f, const WallClock& clock) {
    Json j;
    j["type"] = "top";
    j["time"] = rfc3339_utc(clock.realtime_ns(f.ts_ns));
    j["interval_s"] = static_cast<double>(f.interval_ns) / 1e9;
    j["grouping"] = grouping_name(f.view.grouping);
    j["sort"] = column_name(f.view.sort);
    j["ascending"] = f.view.ascending;
    j["filter"] = f.view.filter;
    const TopTotals& t = f.totals;
    Json totals;
    totals["new_per_s"] = t.new_per_s;
    totals["conns"] = t.conns;
    totals["active"] = t.active;
    totals["ended"] = endings_json(t.ended);
    totals["retrans_per_s"] = t.retrans_per_s;
    totals["retransmits"] = t.retransmits;
    totals["stuck"] = t.stuck;
    totals["sockets"] = Json::object();
    for (const auto& [state, n] : t.sockets_by_state) totals["sockets"][state] = n;
    j["totals"] = std::move(totals);
    Json self;
    self["cpu_percent"] = f.self.cpu_percent;
    self["lost"] = Json::object();
    for (const auto& [reason, n] : f.self.lost_by_reason) self["lost"][reason] = n;
    self["stories_evicted"] = f.self.stories_evicted;
    self["stories_cut_short"] = f.self.stories_cut_short;
    j["tcpscope"] = std::move(self);
    j["rows_hidden"] = f.rows_hidden;
    Json rows = Json::array();
    for (const TopRow& r : f.rows) {
        Json row;
        row["group"] = r.key;
        row["new_per_s"] = r.new_per_s;
        row["conns"] = r.conns;
        row["active"] = r.active;
        row["ended"] = endings_json(r.ended);
        row["reset_sent_reasons"] = Json::object();
        for (const auto& [name, n] : r.reset_sent_reasons) row["reset_sent_reasons"][name] = n;
        row["retrans_per_s"] = r.retrans_per_s;
        row["retransmits"] = r.retransmits;
        row["stuck"] = r.stuck;
        row["stuck_oldest_s"] = static_cast<double>(r.stuck_oldest_ns) / 1e9;
        row["stuck_oldest_state"] = r.stuck_oldest_state.empty() ? Json(nullptr) : Json(r.stuck_oldest_state);
        row["connect_p50_ms"] = ms_or_null(r.connect_p50_us);
        row["connect_p99_ms"] = ms_or_null(r.connect_p99_us);
        row["rtt_p50_ms"] = ms_or_null(r.rtt_p50_us);
        row["rtt_p99_ms"] = ms_or_null(r.rtt_p99_us);
        rows.push_back(std::move(row));
    }
    j["rows"] = std::move(rows);
    return j;
}

}  // namespace tcpscope
