#include "story_sink.h"

#include "json_fields.h"
#include "story_format.h"
#include "text_format.h"

namespace tcpscope {

void TextStoryOutput::story(const ConnectionStory& story) {
    lines_.header([](const WallClock* wall) { return story_text_header(wall); });
    lines_.out.write_line(story_text_line(story, lines_.start_ns, reasons_, lines_.wall()), true);
}

void TextStoryOutput::lost(uint64_t, uint64_t count, uint64_t total, LossReason reason) {
    lines_.out.write_line(text_lost_line(count, total, reason));
}

void TextStoryOutput::summary(const TraceSummary& summary, const StoryCounts& counts) {
    // The bound's work, only when it did any: a story evicted or cut
    // short is the reader's to know about.
    std::string line = text_summary(summary) + " connections=" + std::to_string(counts.written);
    if (counts.evicted) line += " evicted=" + std::to_string(counts.evicted);
    if (counts.cut_short) line += " cut_short=" + std::to_string(counts.cut_short);
    lines_.summary_out.write_line(line);
}

void JsonStoryOutput::story(const ConnectionStory& story) {
    line_.clear();
    append_story_json(line_, story, reasons_, clock_ ? &*clock_ : nullptr);
    out_.write_line(line_, true);
}

void JsonStoryOutput::lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) {
    out_.write_line(lost_to_json(ts_ns, count, total, loss_reason_name(reason), clock_ ? &*clock_ : nullptr)
                        .dump(-1, ' ', false, Json::error_handler_t::replace));
}

void JsonStoryOutput::summary(const TraceSummary& summary, const StoryCounts& counts) {
    // The counts stay the events read; the stories written are a key of
    // their own.
    Json j = summary_to_json(summary);
    j["connections"] = counts.written;
    j["connections_open"] = counts.open;
    j["connections_evicted"] = counts.evicted;
    j["connections_cut_short"] = counts.cut_short;
    out_.write_line(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

StorySink::StorySink(std::unique_ptr<StoryOutput> output, const ResetReasons& reasons,
                     StoryOptions options)
    : output_(std::move(output)), builder_(reasons, options) {}

void StorySink::write(const ConnectionStory& story) {
    output_->story(story);
    ++written_;
}

void StorySink::tick(uint64_t now_ns) {
    for (const auto& story : builder_.take_complete(now_ns)) write(story);
}

void StorySink::summary(const TraceSummary& summary) {
    for (const auto& story : builder_.take_closed()) write(story);
    output_->summary(summary, StoryCounts{written_, builder_.open_connections(), builder_.evicted(),
                                          builder_.cut_short()});
}

}  // namespace tcpscope
