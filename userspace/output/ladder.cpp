#include "ladder.h"

#include <algorithm>
#include <cstdio>

#include "text_format.h"

namespace tcpscope {

namespace {

constexpr size_t kTimeWidth = 10;
constexpr size_t kSideWidth = 44;
constexpr size_t kWireWidth = 24;

std::string fit(const std::string& text, size_t width) {
    if (text.size() <= width) return text + std::string(width - text.size(), ' ');
    return text.substr(0, width - 1) + "~";
}

std::string wire_arrow(const std::string& label, bool from_client) {
    std::string body = from_client ? "-" + label + "->" : "<-" + label + "-";
    size_t pad = body.size() < kWireWidth ? kWireWidth - body.size() : 0;
    // Arrows lean towards their destination.
    return from_client ? std::string(pad / 2, '-') + body + std::string(pad - pad / 2, ' ')
                       : std::string(pad / 2, ' ') + body + std::string(pad - pad / 2, '-');
}

// Words wrapped at ~90 columns, each line indented by `indent`.
std::string wrap(const std::string& text, size_t indent) {
    std::string out;
    std::string line(indent, ' ');
    for (size_t i = 0; i < text.size();) {
        size_t sp = text.find(' ', i);
        std::string word = text.substr(i, sp == std::string::npos ? std::string::npos : sp - i);
        if (line.size() + word.size() > 92 && line.size() > indent) {
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out += line + "\n";
            line = std::string(indent, ' ');
        }
        line += word + " ";
        if (sp == std::string::npos) break;
        i = sp + 1;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return out + line;
}

// One row; a client text too long for its column continues on the rows
// below (server text has the rest of the line to itself).
std::string row(const std::string& time, const std::string& client, const std::string& wire,
                const std::string& server) {
    std::string out;
    std::string rest = client;
    std::string when = time;
    do {
        size_t take = std::min(rest.size(), kSideWidth - 1);
        // Break at a space when the text goes on, so words stay whole.
        if (take < rest.size()) {
            size_t space = rest.rfind(' ', take);
            if (space != std::string::npos && space > 4) take = space;
        }
        std::string part = rest.substr(0, take);
        rest.erase(0, take);
        while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
        std::string line = fit(when, kTimeWidth) + fit(part, kSideWidth) + fit(wire, kWireWidth) +
                           " " + (out.empty() ? server : "");
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += (out.empty() ? "" : "\n") + line;
        when.clear();
        if (!rest.empty()) rest = "    " + rest;
    } while (!rest.empty());
    return out;
}

std::string time_column(uint64_t ns, uint64_t t0, bool reordered) {
    char when[32];
    std::snprintf(when, sizeof(when), "%8.3f%s", ns >= t0 ? (ns - t0) / 1e6 : -((t0 - ns) / 1e6),
                  reordered ? "^" : "");
    return when;
}

}  // namespace

const char* ladder_legend() {
    return "Legend: * fired during a call: the latest call above it that had not returned (its "
           "own side's when both sides were in one); ^ shown before rows with "
           "earlier timestamps (causal order: on loopback the receiver handles a segment inside "
           "the sender's call); (12.0 ms) after a state change: the time spent in the old state; "
           "a call that blocked while other things happened has a row where it began (...) "
           "and one where it returned (<- ...).";
}

std::string render_ladder(const LadderModel& model) {
    std::string out;
    out += row("TIME(ms)", "CLIENT", "WIRE", "SERVER") + "\n";
    for (const auto& r : model.rows) {
        std::string when = time_column(r.ts_ns, model.t0_ns, r.reordered);
        std::string text;
        switch (r.kind) {
        case LadderRowKind::Call:
            text = r.return_row >= 0 ? r.call + " ..." : r.text;
            break;
        case LadderRowKind::CallReturn:
            text = "<- " + r.text + " (" + r.detail + ")";
            break;
        case LadderRowKind::Segment:
            out += row(when, "", wire_arrow(r.text, r.lane == "client"), "") + "\n";
            continue;
        default:
            text = (r.inside_call ? "  * " : "  ") + r.text;
            if (r.lane.empty()) {
                out += row(when, "", r.text, "") + "\n";
                continue;
            }
        }
        out += (r.lane == "server" ? row(when, "", "", text) : row(when, text, "", "")) + "\n";
    }
    out += wrap(ladder_legend(), 0) + "\n";
    return out;
}

std::string render_ladder(const Timeline& timeline, const ResetReasons& reasons) {
    return render_ladder(build_ladder_model(timeline, reasons, ""));
}

std::string render_verdicts(const std::string& scenario, const std::string& explanation,
                            const std::vector<Verdict>& verdicts) {
    std::string out = "\nFacts (" + scenario + "):\n";
    for (const auto& v : verdicts) {
        out += std::string(v.ok           ? "  [holds]          "
                           : v.untraced   ? "  [NOT JUDGED]     "
                           : v.observable ? "  [DOES NOT HOLD]  "
                                          : "  [not observable] ") +
               v.fact + "\n";
        out += "                   seen: " + v.detail + "\n";
    }
    out += "\nWhy:\n" + wrap(explanation, 2) + "\n";
    return out;
}

}  // namespace tcpscope
