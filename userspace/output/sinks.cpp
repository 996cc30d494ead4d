#include "sinks.h"

#include "json_writer.h"
#include "text_format.h"

namespace tcpscope {

void JsonSink::event(const Event& event) {
    const WallClock* clock = clock_ ? &*clock_ : nullptr;
    out_.write_line_in_place(
        [&](std::string& buffer) { append_event_json(buffer, event, reasons_, clock); }, true);
}

void JsonSink::lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) {
    out_.write_line(lost_to_json(ts_ns, count, total, loss_reason_name(reason), clock_ ? &*clock_ : nullptr).dump());
}

void JsonSink::summary(const TraceSummary& summary) {
    out_.write_line(summary_to_json(summary).dump());
}

TextSink::TextSink(LineWriter& out, LineWriter& summary_out, const ResetReasons& reasons,
                   uint64_t start_ns, std::optional<WallClock> wall)
    : lines_(out, summary_out, start_ns, wall), reasons_(reasons) {}

void TextSink::write_header() {
    lines_.header([](const WallClock* wall) { return text_header(wall); });
}

void TextSink::event(const Event& event) {
    write_header();
    lines_.out.write_line(text_line(event, lines_.start_ns, reasons_, lines_.wall()), true);
}

void TextSink::lost(uint64_t, uint64_t count, uint64_t total, LossReason reason) {
    lines_.out.write_line(text_lost_line(count, total, reason));
}

void TextSink::summary(const TraceSummary& summary) {
    lines_.summary_out.write_line(text_summary(summary));
    lines_.summary_out.flush();
}

}  // namespace tcpscope
