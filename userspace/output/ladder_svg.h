// The ladder model as an SVG sequence diagram: a lifeline per lane, each
// call a box on its lifeline (spanning to its return when it blocked),
// state changes and errors as labels beside the lifeline, each segment a
// slanted arrow from the sender's lifeline to the receiver's. Time flows
// down in row order; an idle gap is compressed to a band labelled with its
// length. The layout is computed first, as plain geometry that the unit
// tests check (no overlapping labels, arrows between the right lifelines,
// time only down), then written out as SVG.
#pragma once

#include <string>
#include <vector>

#include "ladder_model.h"

namespace tcpscope {

struct LayoutRect {
    double x = 0, y = 0, w = 0, h = 0;
    bool overlaps(const LayoutRect& o) const {
        return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
    }
};

// A piece of text placed on the diagram, with the bounds it will take
// (monospace, so its width is known from its length).
struct LayoutLabel {
    std::string text;        // shortened with "..." when it would not fit
    double x = 0;            // the anchor point
    double baseline = 0;
    const char* anchor = "start";  // SVG text-anchor
    LayoutRect bounds;
};

// One row of the model, placed.
struct LayoutRow {
    size_t row = 0;          // index into LadderModel::rows
    double y = 0;            // the row's centre line
    LayoutLabel label;
    LayoutLabel time;        // the time column
    LayoutRect box;          // a call: its box on the lifeline (to its return when it blocked)
    // A segment: the arrow, from the sender's lifeline to the receiver's.
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

// A compressed idle gap: a band across the diagram, labelled "... 100 ms ...".
struct LayoutGap {
    double y = 0;
    uint64_t ns = 0;
    LayoutLabel label;
};

struct LadderLayout {
    double width = 0, height = 0;
    double top = 0, bottom = 0;          // where the lifelines start and end
    std::vector<std::string> lanes;
    std::vector<double> lane_x;          // each lane's lifeline
    std::vector<LayoutLabel> lane_names;
    std::vector<LayoutRow> rows;         // one per model row, in order
    std::vector<LayoutGap> gaps;

    double x_of(const std::string& lane) const;  // the lifeline; the wire's middle for ""
};

// Gaps of at least this long between two rows get a labelled band.
constexpr uint64_t kLabelledGapNs = 1'000'000;
// The width a character of the diagram's font takes (12px monospace; a bit
// more than DejaVu Sans Mono's 7.22 px, to be safe).
constexpr double kCharWidth = 7.4;

LadderLayout layout_ladder(const LadderModel& model);

// The diagram as one <svg> element. Each element carries a class that says
// what it shows (step, state, reset, sockerr, signal, arrow, gap) and a
// <title> holding the raw JSON line of its step or event, which a browser
// shows on hover.
std::string render_ladder_svg(const LadderModel& model, const LadderLayout& layout);

// Text for HTML and SVG: &, <, >, " escaped.
std::string html_escape(const std::string& text);

}  // namespace tcpscope
