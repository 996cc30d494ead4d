// A run as one self-contained HTML page: the SVG ladder (ladder_svg.h),
// then the facts with their verdicts and the "why" text; and an index page
// for `run --all --html DIR`. Everything is inline (CSS, SVG, no script);
// a Content-Security-Policy refuses any request the page might still make,
// so it opens the same from a mail attachment as from a web server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facts.h"
#include "ladder_model.h"
#include "ladder_svg.h"

namespace tcpscope {

// The policy in every page's <meta>: nothing may be fetched; inline CSS only.
constexpr const char* kPageContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";

struct LadderPage {
    std::string title;        // the scenario's name
    std::string summary;      // one line under the title
    std::string explanation;  // the "why" text
    std::vector<Verdict> verdicts;
    std::string footer;       // "5/5 facts hold; 36 kernel events, 0 lost"
};

std::string render_ladder_html(const LadderModel& model, const LadderPage& page);

struct IndexEntry {
    std::string name;
    std::string summary;
    std::string file;         // the page's file name, relative to the index
    size_t facts = 0;
    size_t held = 0;
    size_t not_observable = 0;
    bool ok = false;          // no fact failed
    std::string note;         // why it did not run to the end
    // Events lost: the run is "NOT JUDGED" (run_verdict.h) unless it
    // failed for a reason of its own (a note).
    uint64_t lost = 0;
    uint64_t untraced = 0;  // counted by the kernel, never traced: not judged
};

std::string render_index_html(const std::vector<IndexEntry>& entries);

}  // namespace tcpscope
