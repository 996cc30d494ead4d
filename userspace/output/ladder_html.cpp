#include "ladder_html.h"

#include <cstdio>

#include "ladder.h"
#include "run_verdict.h"

namespace tcpscope {

namespace {

// Colours carry meaning: red is an error, a RST or a signal; grey is the
// wire and the time. Monospace, so that label widths are what the layout
// assumed.
constexpr const char* kStyle = R"CSS(
body { font-family: sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px 0; font-family: monospace; }
h2 { font-size: 16px; margin: 20px 0 6px 0; }
p.summary { margin: 0 0 4px 0; }
p.footer, p.legend { color: #555; font-size: 13px; max-width: 1100px; }
svg.ladder { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; display: block; }
svg .lane-name { font-weight: bold; fill: #222; }
svg .lifeline { stroke: #999; stroke-width: 1.5; }
svg .time { fill: #888; }
svg .time.reordered { fill: #b35900; }
svg .gap line { stroke: #bbb; stroke-dasharray: 4 4; }
svg .gap-label { fill: #777; font-style: italic; paint-order: stroke; stroke: #fff; stroke-width: 6px; }
svg rect.step { fill: #dbe8f7; stroke: #2f5f9e; }
svg g.step .label, svg g.return .label { fill: #1d3f6e; }
svg g.step.error rect.step { fill: #f9d6d5; stroke: #c0201a; }
svg g.error .label { fill: #c0201a; }
svg g.state .label { fill: #2e6b2e; }
svg g.reset .label, svg g.signal .label { font-weight: bold; }
svg .mark { fill: #c0201a; }
svg line.segment { stroke: #555; stroke-width: 1.3; }
svg g.rst line.segment { stroke: #c0201a; stroke-width: 2.5; }
svg .head { fill: #555; }
svg .head-rst { fill: #c0201a; }
svg g.arrow .label { fill: #333; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
svg g.arrow.rst .label { fill: #c0201a; font-weight: bold; }
svg g:hover .label { text-decoration: underline; }
table { border-collapse: collapse; font-size: 14px; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
td.verdict { font-weight: bold; white-space: nowrap; }
tr.holds td.verdict { color: #2e6b2e; }
tr.fails td.verdict { color: #c0201a; }
tr.unjudged td.verdict { color: #a05a00; }
tr.not_observable td.verdict { color: #777; }
td.seen { color: #555; font-family: monospace; font-size: 12px; }
p.why { max-width: 1000px; line-height: 1.4; }
)CSS";

std::string head(const std::string& title, const std::string& extra_body_attrs) {
    return std::string("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n") +
           "<meta http-equiv=\"Content-Security-Policy\" content=\"" + kPageContentSecurityPolicy +
           "\">\n<title>" + html_escape(title) + "</title>\n<style>" + kStyle +
           "</style>\n</head>\n<body" + extra_body_attrs + ">\n";
}

std::string verdict_word(const Verdict& v) {
    return v.ok ? "holds" : v.untraced ? "NOT JUDGED" : v.observable ? "DOES NOT HOLD" : "not observable";
}

}  // namespace

std::string render_ladder_html(const LadderModel& model, const LadderPage& page) {
    LadderLayout layout = layout_ladder(model);
    char size[96];
    std::snprintf(size, sizeof(size), " data-diagram-width=\"%.0f\" data-diagram-height=\"%.0f\"",
                  layout.width, layout.height);
    std::string out = head("tcpscope: " + page.title, size);
    out += "<h1>" + html_escape(page.title) + "</h1>\n";
    if (!page.summary.empty()) out += "<p class=\"summary\">" + html_escape(page.summary) + "</p>\n";
    if (!page.footer.empty()) out += "<p class=\"footer\">" + html_escape(page.footer) + "</p>\n";
    out += "<div class=\"diagram\">\n" + render_ladder_svg(model, layout) + "</div>\n";
    out += "<p class=\"legend\">" + html_escape(ladder_legend()) +
           " Red: a failed call, a RST, a socket error, a signal. Hover over anything to see "
           "its raw event (the JSON line of <code>tcpscope run --json</code>).</p>\n";
    if (!page.verdicts.empty()) {
        out += "<h2>Facts</h2>\n<table class=\"facts\">\n<tr><th>verdict</th><th>fact</th><th>seen</th></tr>\n";
        for (const auto& v : page.verdicts) {
            out += std::string("<tr class=\"verdict ") + v.status() + "\"><td class=\"verdict\">" +
                   verdict_word(v) + "</td><td class=\"fact\">" + html_escape(v.fact) +
                   "</td><td class=\"seen\">" + html_escape(v.detail) + "</td></tr>\n";
        }
        out += "</table>\n";
    }
    if (!page.explanation.empty()) {
        out += "<h2>Why</h2>\n<p class=\"why\">" + html_escape(page.explanation) + "</p>\n";
    }
    out += "</body>\n</html>\n";
    return out;
}

std::string render_index_html(const std::vector<IndexEntry>& entries) {
    std::string out = head("tcpscope: scenarios", "");
    out += "<h1>tcpscope run --all</h1>\n<table class=\"index\">\n"
           "<tr><th>scenario</th><th>verdict</th><th>facts held</th><th>not observable</th>"
           "<th>what it shows</th></tr>\n";
    for (const auto& e : entries) {
        const RunVerdict v = run_verdict(e.note.empty(), e.ok, e.lost, e.untraced);
        std::string verdict = run_verdict_text(v, e.lost, e.untraced);
        if (!e.note.empty()) verdict += " (" + e.note + ")";
        std::string name = e.file.empty() ? html_escape(e.name)
                                          : "<a href=\"" + html_escape(e.file) + "\">" +
                                                html_escape(e.name) + "</a>";
        const char* row = v == RunVerdict::Pass ? "holds" : v == RunVerdict::Fail ? "fails" : "unjudged";
        out += std::string("<tr class=\"") + row + "\"><td>" + name +
               "</td><td class=\"verdict\">" +
               html_escape(verdict) + "</td><td>" + std::to_string(e.held) + "/" +
               std::to_string(e.facts) + "</td><td>" + std::to_string(e.not_observable) +
               "</td><td>" + html_escape(e.summary) + "</td></tr>\n";
    }
    out += "</table>\n</body>\n</html>\n";
    return out;
}

}  // namespace tcpscope
