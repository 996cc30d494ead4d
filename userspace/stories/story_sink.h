// `trace --connections`: events go into a StoryBuilder instead of the
// output; each story is written, in text or JSON, once its connection is
// complete (see story_builder.h). The loop calls tick() after each poll.
#pragma once

#include <cstdint>
#include <optional>

#include "line_writer.h"
#include "sinks.h"
#include "story_builder.h"
#include "wall_clock.h"

namespace tcpscope {

class StorySink : public EventSink {
public:
    // json: JSON lines, else text lines (summary to summary_out). wall:
    // text's time column in UTC instead of seconds since start_ns.
    StorySink(LineWriter& out, LineWriter& summary_out, const ResetReasons& reasons, bool json,
              uint64_t start_ns, WallClock clock, bool wall_time, StoryOptions options = {});

    void event(const Event& event) override { builder_.add(event); }
    void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) override;
    // Writes the stories of connections still closing, then the summary,
    // with "connections" (stories written), "connections_open" (followed,
    // not closed) and "connections_evicted" (dropped at the bound).
    void summary(const TraceSummary& summary) override;

    // Writes the stories complete by now_ns (CLOCK_MONOTONIC).
    void tick(uint64_t now_ns);

    uint64_t stories_written() const { return written_; }
    const StoryBuilder& builder() const { return builder_; }

private:
    void write(const ConnectionStory& story);

    LineWriter& out_;
    LineWriter& summary_out_;
    const ResetReasons& reasons_;
    bool json_;
    uint64_t start_ns_;
    WallClock clock_;
    bool wall_time_;
    StoryBuilder builder_;
    bool header_written_ = false;
    std::string line_;  // reused: no allocation per story once grown
    uint64_t written_ = 0;
};

}  // namespace tcpscope
