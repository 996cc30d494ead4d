// `trace --connections`: events go into a StoryBuilder instead of the
// output; each story is written once its connection is complete (see
// story_builder.h). The loop calls tick() after each poll. Where the
// stories go is a StoryOutput, text or JSON, chosen once by the command,
// as an EventSink is for events.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "connection_story.h"
#include "line_writer.h"
#include "sinks.h"
#include "story_builder.h"
#include "wall_clock.h"

namespace tcpscope {

// What the story side adds to trace's summary.
struct StoryCounts {
    uint64_t written = 0;    // stories written
    uint64_t open = 0;       // connections followed, not closed
    uint64_t evicted = 0;    // dropped at the bound
    uint64_t cut_short = 0;  // written early at the bound
};

class StoryOutput {
public:
    virtual ~StoryOutput() = default;
    virtual void story(const ConnectionStory& story) = 0;
    virtual void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) = 0;
    virtual void summary(const TraceSummary& summary, const StoryCounts& counts) = 0;
};

// Aligned text lines under a header; the summary to `summary_out`
// (stderr). With a wall clock, the time column is UTC, else seconds since
// start_ns.
class TextStoryOutput : public StoryOutput {
public:
    TextStoryOutput(LineWriter& out, LineWriter& summary_out, const ResetReasons& reasons,
                    uint64_t start_ns, std::optional<WallClock> wall = std::nullopt)
        : lines_(out, summary_out, start_ns, wall), reasons_(reasons) {}
    void story(const ConnectionStory& story) override;
    void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) override;
    void summary(const TraceSummary& summary, const StoryCounts& counts) override;

private:
    TextLines lines_;
    const ResetReasons& reasons_;
};

// JSON lines of type "connection"; with a clock, "time" and "start_time".
class JsonStoryOutput : public StoryOutput {
public:
    JsonStoryOutput(LineWriter& out, const ResetReasons& reasons,
                    std::optional<WallClock> clock = WallClock::anchor())
        : out_(out), reasons_(reasons), clock_(clock) {}
    void story(const ConnectionStory& story) override;
    void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) override;
    void summary(const TraceSummary& summary, const StoryCounts& counts) override;

private:
    LineWriter& out_;
    const ResetReasons& reasons_;
    std::optional<WallClock> clock_;
    std::string line_;  // reused: no allocation per story once grown
};

class StorySink : public EventSink {
public:
    StorySink(std::unique_ptr<StoryOutput> output, const ResetReasons& reasons,
              StoryOptions options = {});

    void event(const Event& event) override { builder_.add(event); }
    // A lost event may leave a story short: said where the stories are.
    void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) override {
        output_->lost(ts_ns, count, total, reason);
    }
    // Writes the stories of connections still closing, then the summary,
    // with the StoryCounts.
    void summary(const TraceSummary& summary) override;

    // Writes the stories complete by now_ns (CLOCK_MONOTONIC).
    void tick(uint64_t now_ns);

    uint64_t stories_written() const { return written_; }
    const StoryBuilder& builder() const { return builder_; }

private:
    void write(const ConnectionStory& story);

    std::unique_ptr<StoryOutput> output_;
    StoryBuilder builder_;
    uint64_t written_ = 0;
};

}  // namespace tcpscope
