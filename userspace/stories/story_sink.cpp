#include "story_sink.h"

#include "story_format.h"
#include "text_format.h"

namespace tcpscope {

StorySink::StorySink(LineWriter& out, LineWriter& summary_out, const ResetReasons& reasons,
                     bool json, uint64_t start_ns, WallClock clock, bool wall_time,
                     StoryOptions options)
    : out_(out),
      summary_out_(summary_out),
      reasons_(reasons),
      json_(json),
      start_ns_(start_ns),
      clock_(clock),
      wall_time_(wall_time),
      builder_(reasons, options) {}

void StorySink::write(const ConnectionStory& story) {
    if (json_) {
        line_.clear();
        append_story_json(line_, story, reasons_, clock_);
        out_.write_line(line_, true);
    } else {
        if (!header_written_) {
            out_.write_line(story_text_header(wall_time_ ? &clock_ : nullptr));
            header_written_ = true;
        }
        out_.write_line(story_text_line(story, start_ns_, reasons_, wall_time_ ? &clock_ : nullptr),
                        true);
    }
    ++written_;
}

void StorySink::tick(uint64_t now_ns) {
    for (const auto& story : builder_.take_complete(now_ns)) write(story);
}

void StorySink::lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) {
    // A lost event may leave a story short: say so where the stories are.
    if (json_) {
        out_.write_line(lost_to_json(ts_ns, count, total, loss_reason_name(reason), &clock_)
                            .dump(-1, ' ', false, Json::error_handler_t::replace));
    } else {
        out_.write_line(text_lost_line(count, total, reason));
    }
}

void StorySink::summary(const TraceSummary& summary) {
    for (const auto& story : builder_.take_closed()) write(story);
    // The counts stay the events read; the stories written are a key of
    // their own.
    if (json_) {
        Json j = summary_to_json(summary);
        j["connections"] = written_;
        j["connections_open"] = builder_.open_connections();
        j["connections_evicted"] = builder_.evicted();
        j["connections_cut_short"] = builder_.cut_short();
        out_.write_line(j.dump(-1, ' ', false, Json::error_handler_t::replace));
    } else {
        // The bound's work, only when it did any: a story evicted or cut
        // short is the reader's to know about.
        std::string line = text_summary(summary) + " connections=" + std::to_string(written_);
        if (builder_.evicted()) line += " evicted=" + std::to_string(builder_.evicted());
        if (builder_.cut_short()) line += " cut_short=" + std::to_string(builder_.cut_short());
        summary_out_.write_line(line);
    }
}

}  // namespace tcpscope
