#include "run_report.h"

#include "command_failure.h"
#include "ladder.h"
#include "page_file.h"

namespace tcpscope {

LadderModel report_model(const RunReport& r) {
    return build_ladder_model(*r.timeline, *r.reasons, r.name, r.clock);
}

void write_run_report(LineWriter& out, bool json, const RunReport& r, const LadderModel& model) {
    if (json) {
        // What the kernel can show comes first, so that a recording of the
        // run is judged as this kernel could see it.
        std::string line = kernel_support_to_json(r.kernel).dump();
        out.write_line(line);
        const Timeline& timeline = *r.timeline;
        for (const auto& entry : timeline.entries()) {
            line.clear();
            if (entry.is_step) {
                append_run_step_json(line, timeline.steps()[entry.index], r.name);
            } else {
                append_run_event_json(line, timeline.events()[entry.index], *r.reasons, r.name, entry.side,
                                      r.clock);
            }
            out.write_line(line);
        }
        for (const auto& v : r.verdicts) {
            line.clear();
            append_verdict_json(line, v, r.name);
            out.write_line(line);
        }
        line.clear();
        append_run_summary_json(line, r.summary);
        out.write_line(line);
    } else {
        out.write_line(r.heading + "\n");
        out.write_line(render_ladder(model));
        if (!r.below_ladder.empty()) out.write_line(r.below_ladder);
        out.write_line(r.tail);
    }
    out.flush();
}

bool write_run_page(const std::string& me, const std::string& path, const LadderModel& model,
                    const LadderPage& page, bool announce) {
    std::string error;
    if (!write_page(path, render_ladder_html(model, page), &error)) {
        say(me, "--html: " + error);
        return false;
    }
    if (announce) say(me, "page written: " + path);
    return true;
}

}  // namespace tcpscope
