#include "stuck_sink.h"

#include "stuck_format.h"

namespace tcpscope {

void TextStuckSink::report(const StuckReport& report, const ContainerIdentity*) {
    if (events_) events_->write_header();
    out_.write_line(stuck_text_line(report, start_ns_, wall_ ? &*wall_ : nullptr), true);
}

void JsonStuckSink::report(const StuckReport& report, const ContainerIdentity* container) {
    line_.clear();
    append_stuck_json(line_, report, clock_ ? &*clock_ : nullptr, container);
    out_.write_line(line_, true);
}

}  // namespace tcpscope
