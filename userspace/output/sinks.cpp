#include "sinks.h"

#include "json_writer.h"
#include "text_format.h"

namespace tcpscope {

void JsonSink::event(const Event& event) {
    line_.clear();
    append_event_json(line_, event, reasons_);
    out_.write_line(line_, true);
}

void JsonSink::lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) {
    out_.write_line(lost_to_json(ts_ns, count, total, loss_reason_name(reason)).dump());
}

void JsonSink::summary(const TraceSummary& summary) {
    out_.write_line(summary_to_json(summary).dump());
}

TextSink::TextSink(LineWriter& out, LineWriter& summary_out, const ResetReasons& reasons,
                   uint64_t start_ns)
    : out_(out), summary_out_(summary_out), reasons_(reasons), start_ns_(start_ns) {}

void TextSink::event(const Event& event) {
    if (!header_written_) {
        out_.write_line(text_header());
        header_written_ = true;
    }
    out_.write_line(text_line(event, start_ns_, reasons_), true);
}

void TextSink::lost(uint64_t, uint64_t count, uint64_t total, LossReason reason) {
    out_.write_line(text_lost_line(count, total, reason));
}

void TextSink::summary(const TraceSummary& summary) {
    summary_out_.write_line(text_summary(summary));
    summary_out_.flush();
}

}  // namespace tcpscope
