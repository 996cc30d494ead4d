#include "ladder_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "event_text.h"

namespace tcpscope {

namespace {

constexpr double kMargin = 8;
constexpr double kTimeChars = 10;           // "123456.789^"
constexpr double kTimeWidth = kTimeChars * kCharWidth;
constexpr double kLabelChars = 66;          // a lane's labels: sock_diag's findings fit whole
constexpr double kLabelWidth = kLabelChars * kCharWidth;
constexpr double kGutter = 12;              // between a lifeline and its labels
constexpr double kWireWidth = 300;          // between the client's and the server's lifelines
constexpr double kRowHeight = 24;          // room for an arrow's label above it
constexpr double kGapHeight = 24;
constexpr double kHeaderHeight = 44;
constexpr double kTextAscent = 10;          // a 12px line's bounds around its baseline
constexpr double kTextDescent = 3;
constexpr double kBoxHalfWidth = 6;
constexpr double kArrowSlant = 5;           // an arrow drops 2 * this from sender to receiver

std::string shorten(const std::string& text, size_t max_chars) {
    if (text.size() <= max_chars) return text;
    if (max_chars <= 3) return text.substr(0, max_chars);
    return text.substr(0, max_chars - 3) + "...";
}

LayoutLabel place(const std::string& text, double x, double baseline, const char* anchor,
                  size_t max_chars) {
    LayoutLabel l;
    l.text = shorten(text, max_chars);
    l.x = x;
    l.baseline = baseline;
    l.anchor = anchor;
    double w = static_cast<double>(l.text.size()) * kCharWidth;
    double left = x;
    if (std::string(anchor) == "end") left = x - w;
    if (std::string(anchor) == "middle") left = x - w / 2;
    l.bounds = {left, baseline - kTextAscent, w, kTextAscent + kTextDescent};
    return l;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", v);
    return buf;
}

std::string time_text(uint64_t ns, uint64_t t0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f", ns >= t0 ? (ns - t0) / 1e6 : -((t0 - ns) / 1e6));
    return buf;
}

const char* row_class(LadderRowKind kind) {
    switch (kind) {
    case LadderRowKind::Call: return "step";
    case LadderRowKind::CallReturn: return "return";
    case LadderRowKind::State: return "state";
    case LadderRowKind::Reset: return "reset";
    case LadderRowKind::SockError: return "sockerr";
    case LadderRowKind::Signal: return "signal";
    case LadderRowKind::Segment: return "arrow";
    case LadderRowKind::Other: return "other";
    }
    return "other";
}

}  // namespace

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

double LadderLayout::x_of(const std::string& lane) const {
    for (size_t i = 0; i < lanes.size(); ++i) {
        if (lanes[i] == lane) return lane_x[i];
    }
    // No side: the middle of the wire between client and server.
    return lane_x.size() >= 2 ? (lane_x[0] + lane_x[1]) / 2 : kMargin;
}

LadderLayout layout_ladder(const LadderModel& model) {
    LadderLayout layout;
    layout.lanes = model.lanes;
    // Client labels sit left of its lifeline, every other lane's right of
    // its own: the wire between client and server stays for the arrows.
    double x = kMargin + kTimeWidth + kGutter + kLabelWidth + kGutter;
    for (size_t i = 0; i < layout.lanes.size(); ++i) {
        layout.lane_x.push_back(x);
        x += i == 0 ? kWireWidth : kGutter + kLabelWidth + 2 * kGutter;
    }
    layout.width = layout.lane_x.back() + kGutter + kLabelWidth + kMargin;
    for (size_t i = 0; i < layout.lanes.size(); ++i) {
        layout.lane_names.push_back(place(layout.lanes[i], layout.lane_x[i], 24, "middle", 40));
    }
    layout.top = kHeaderHeight - 10;

    const double wire_middle = layout.x_of("");
    const size_t wire_chars = static_cast<size_t>((kWireWidth - 2 * kGutter) / kCharWidth);
    double cursor = kHeaderHeight;
    uint64_t latest = model.t0_ns;  // time shown so far: never goes back up
    for (size_t i = 0; i < model.rows.size(); ++i) {
        const LadderRow& r = model.rows[i];
        if (i > 0 && r.ts_ns > latest && r.ts_ns - latest >= kLabelledGapNs) {
            LayoutGap gap;
            gap.ns = r.ts_ns - latest;
            gap.y = cursor + kGapHeight / 2;
            gap.label = place("... " + duration_text(gap.ns) + " ...", wire_middle, gap.y + 4,
                              "middle", wire_chars);
            layout.gaps.push_back(gap);
            cursor += kGapHeight;
        }
        latest = std::max(latest, r.ts_ns);

        LayoutRow placed;
        placed.row = i;
        placed.y = cursor + kRowHeight / 2;
        cursor += kRowHeight;
        const double y = placed.y;
        placed.time = place(time_text(r.ts_ns, model.t0_ns) + (r.reordered ? "^" : ""),
                            kMargin, y + 4, "start", static_cast<size_t>(kTimeChars));

        std::string text;
        switch (r.kind) {
        case LadderRowKind::Call: text = r.return_row >= 0 ? r.call + " ..." : r.text; break;
        case LadderRowKind::CallReturn: text = "<- " + r.text + " (" + r.detail + ")"; break;
        case LadderRowKind::Segment: text = r.detail.empty() ? r.text : r.text + " (" + r.detail + ")"; break;
        default: text = (r.inside_call ? "* " : "") + r.text;
        }
        if (r.kind == LadderRowKind::Segment) {
            placed.x1 = layout.x_of(r.lane);
            placed.x2 = layout.x_of(r.to_lane);
            placed.y1 = y - kArrowSlant;
            placed.y2 = y + kArrowSlant;
            double span = std::fabs(placed.x2 - placed.x1);
            size_t chars = static_cast<size_t>(std::max(0.0, span - 2 * kGutter) / kCharWidth);
            // Above the arrow's middle, clear of the line (it drops 10 px
            // over the whole wire, so little under the text).
            placed.label = place(text, (placed.x1 + placed.x2) / 2, y - 7, "middle",
                                 std::max<size_t>(chars, 3));
        } else if (r.lane.empty()) {
            placed.label = place(text, wire_middle, y + 4, "middle", wire_chars);
        } else {
            double lx = layout.x_of(r.lane);
            bool left = !layout.lanes.empty() && r.lane == layout.lanes.front();
            placed.label = left ? place(text, lx - kGutter, y + 4, "end", kLabelChars)
                                : place(text, lx + kGutter, y + 4, "start", kLabelChars);
            if (r.kind == LadderRowKind::Call) {
                placed.box = {lx - kBoxHalfWidth, y - 7, 2 * kBoxHalfWidth, 14};
            }
        }
        layout.rows.push_back(placed);
    }
    // A call that blocked: its box reaches down to its return.
    for (auto& placed : layout.rows) {
        const LadderRow& r = model.rows[placed.row];
        if (r.kind != LadderRowKind::Call || r.return_row < 0) continue;
        double end = layout.rows[static_cast<size_t>(r.return_row)].y + 7;
        placed.box.h = end - placed.box.y;
    }
    layout.bottom = cursor + 8;
    layout.height = layout.bottom + kMargin;
    return layout;
}

std::string render_ladder_svg(const LadderModel& model, const LadderLayout& layout) {
    std::string out;
    std::string w = num(layout.width), h = num(layout.height);
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" width=\"" + w +
           "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h + "\">\n";
    out += "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
           "markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\">"
           "<path d=\"M0,0 L10,5 L0,10 z\" class=\"head\"/></marker>"
           "<marker id=\"head-rst\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
           "markerUnits=\"userSpaceOnUse\" markerWidth=\"11\" markerHeight=\"11\" orient=\"auto-start-reverse\">"
           "<path d=\"M0,0 L10,5 L0,10 z\" class=\"head-rst\"/></marker></defs>\n";
    auto text_el = [](const LayoutLabel& l, const std::string& cls) {
        return "<text class=\"" + cls + "\" x=\"" + num(l.x) + "\" y=\"" + num(l.baseline) +
               "\" text-anchor=\"" + l.anchor + "\">" + html_escape(l.text) + "</text>";
    };
    out += text_el(place("time (ms)", kMargin, 24, "start", 20), "lane-name") + "\n";
    for (size_t i = 0; i < layout.lanes.size(); ++i) {
        out += text_el(layout.lane_names[i], "lane-name") + "\n";
        out += "<line class=\"lifeline\" x1=\"" + num(layout.lane_x[i]) + "\" y1=\"" +
               num(layout.top) + "\" x2=\"" + num(layout.lane_x[i]) + "\" y2=\"" +
               num(layout.bottom) + "\"/>\n";
    }
    for (const auto& gap : layout.gaps) {
        out += "<g class=\"gap\"><title>idle for " + html_escape(duration_text(gap.ns)) +
               "</title><line x1=\"" + num(kMargin) + "\" y1=\"" + num(gap.y) + "\" x2=\"" +
               num(layout.width - kMargin) + "\" y2=\"" + num(gap.y) + "\"/>" +
               text_el(gap.label, "gap-label") + "</g>\n";
    }
    for (const auto& placed : layout.rows) {
        const LadderRow& r = model.rows[placed.row];
        std::string cls = row_class(r.kind);
        if (r.error) cls += " error";
        if (r.kind == LadderRowKind::Segment && r.error) cls += " rst";
        if (r.reordered) cls += " reordered";
        if (r.inside_call) cls += " inside";
        out += "<g class=\"" + cls + "\" data-row=\"" + std::to_string(placed.row) + "\"";
        if (!r.lane.empty()) out += " data-lane=\"" + html_escape(r.lane) + "\"";
        if (!r.to_lane.empty()) out += " data-to=\"" + html_escape(r.to_lane) + "\"";
        out += "><title>" + html_escape(r.raw_json.empty() ? r.text : r.raw_json) + "</title>";
        if (r.kind == LadderRowKind::Call) {
            out += "<rect class=\"step\" x=\"" + num(placed.box.x) + "\" y=\"" + num(placed.box.y) +
                   "\" width=\"" + num(placed.box.w) + "\" height=\"" + num(placed.box.h) + "\"/>";
        } else if (r.kind == LadderRowKind::Segment) {
            out += std::string("<line class=\"segment\" x1=\"") + num(placed.x1) + "\" y1=\"" +
                   num(placed.y1) + "\" x2=\"" + num(placed.x2) + "\" y2=\"" + num(placed.y2) +
                   "\" marker-end=\"url(#" + (r.error ? "head-rst" : "head") + ")\"/>";
        } else if ((r.kind == LadderRowKind::Signal || r.kind == LadderRowKind::SockError) &&
                   !r.lane.empty()) {
            // Where it happens, on the lifeline itself.
            out += "<circle class=\"mark\" cx=\"" + num(layout.x_of(r.lane)) + "\" cy=\"" +
                   num(placed.y) + "\" r=\"4\"/>";
        }
        out += text_el(placed.label, "label") + "</g>\n";
        out += text_el(placed.time, r.reordered ? "time reordered" : "time") + "\n";
    }
    out += "</svg>\n";
    return out;
}

}  // namespace tcpscope
