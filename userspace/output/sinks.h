// Where decoded events go. The trace loop only knows this interface; the
// text and JSON forms, and the capture used by tests, implement it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "event.h"
#include "json_encoding.h"
#include "line_writer.h"
#include "names.h"
#include "wall_clock.h"

namespace tcpscope {

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void event(const Event& event) = 0;
    // `count` events were lost for `reason` since the last report,
    // `total` in all (every reason).
    virtual void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) = 0;
    virtual void summary(const TraceSummary& summary) = 0;
};

class JsonSink : public EventSink {
public:
    // Lines carry "time" from `clock` (taken at start); none without one.
    JsonSink(LineWriter& out, const ResetReasons& reasons,
             std::optional<WallClock> clock = WallClock::anchor())
        : out_(out), reasons_(reasons), clock_(clock) {}
    void event(const Event& event) override;
    void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) override;
    void summary(const TraceSummary& summary) override;

private:
    LineWriter& out_;
    const ResetReasons& reasons_;
    std::optional<WallClock> clock_;
};

// What the aligned text outputs share (events, connection stories, stuck
// reports): where the lines go and where the summary goes (stderr, so
// that the stream stays one line per record), the time column (UTC with a
// wall clock, else seconds since start_ns), and a header written once.
class TextLines {
public:
    TextLines(LineWriter& out, LineWriter& summary_out, uint64_t start_ns, std::optional<WallClock> wall)
        : out(out), summary_out(summary_out), start_ns(start_ns), wall_(wall) {}
    const WallClock* wall() const { return wall_ ? &*wall_ : nullptr; }
    // Writes the header that `make_header(wall())` makes, unless written.
    template <class MakeHeader>
    void header(MakeHeader make_header) {
        if (header_written_) return;
        out.write_line(make_header(wall()));
        header_written_ = true;
    }

    LineWriter& out;
    LineWriter& summary_out;
    const uint64_t start_ns;

private:
    std::optional<WallClock> wall_;
    bool header_written_ = false;
};

class TextSink : public EventSink {
public:
    // The summary goes to `summary_out` (stderr), so that the event stream
    // stays one line per event.
    // With `wall`, the time column is the wall-clock time (UTC), else
    // seconds since start_ns.
    TextSink(LineWriter& out, LineWriter& summary_out, const ResetReasons& reasons,
             uint64_t start_ns, std::optional<WallClock> wall = std::nullopt);
    void event(const Event& event) override;
    void lost(uint64_t ts_ns, uint64_t count, uint64_t total, LossReason reason) override;
    void summary(const TraceSummary& summary) override;
    // The column header, once: before the first event, or before the first
    // line of another kind in the same columns (--stuck's), whichever
    // comes first.
    void write_header();

private:
    TextLines lines_;
    const ResetReasons& reasons_;
};

// Keeps everything in memory: for tests and for the scenario runner.
class CaptureSink : public EventSink {
public:
    void event(const Event& event) override { events.push_back(event); }
    void lost(uint64_t, uint64_t count, uint64_t, LossReason reason) override {
        lost_total += count;
        lost_by_reason[static_cast<size_t>(reason)] += count;
    }
    void summary(const TraceSummary& s) override { final_summary = s; }

    // The kernel side's losses by reason, named as in JSON (a write
    // failure is no loss of the capture's: it has no output).
    std::vector<std::pair<std::string, uint64_t>> kernel_losses() const {
        return {{loss_reason_name(LossReason::RingbufFull),
                 lost_by_reason[static_cast<size_t>(LossReason::RingbufFull)]},
                {loss_reason_name(LossReason::ProgramSkipped),
                 lost_by_reason[static_cast<size_t>(LossReason::ProgramSkipped)]}};
    }

    std::vector<Event> events;
    uint64_t lost_total = 0;
    uint64_t lost_by_reason[kLossReasons] = {};
    TraceSummary final_summary;
};

}  // namespace tcpscope
