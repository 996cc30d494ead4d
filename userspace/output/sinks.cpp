#include "sinks.h"

#include "json_writer.h"
#include "text_format.h"

namespace tcpscope {

void JsonSink::event(const Event& event) {
    line_.clear();
    append_event_json(line_, event, reasons_, &clock_);
    out_.write_line(line_, true);
}

void JsonSink::lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) {
    out_.write_line(lost_to_json(ts_ns, count, total, loss_reason_name(reason), &clock_).dump());
}

void JsonSink::summary(const TraceSummary& summary) {
    out_.write_line(summary_to_json(summary).dump());
}

TextSink::TextSink(LineWriter& out, LineWriter& summary_out, const ResetReasons& reasons,
                   uint64_t start_ns, std::optional<WallClock> wall)
    : out_(out), summary_out_(summary_out), reasons_(reasons), start_ns_(start_ns), wall_(wall) {}

void TextSink::write_header() {
    if (header_written_) return;
    out_.write_line(text_header(wall_ ? &*wall_ : nullptr));
    header_written_ = true;
}

void TextSink::event(const Event& event) {
    write_header();
    out_.write_line(text_line(event, start_ns_, reasons_, wall_ ? &*wall_ : nullptr), true);
}

void TextSink::lost(uint64_t, uint64_t count, uint64_t total, LossReason reason) {
    out_.write_line(text_lost_line(count, total, reason));
}

void TextSink::summary(const TraceSummary& summary) {
    summary_out_.write_line(text_summary(summary));
    summary_out_.flush();
}

}  // namespace tcpscope
