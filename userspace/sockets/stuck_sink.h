// Where `trace --stuck`'s reports go: text lines in the columns of trace's
// events, or JSON lines of type "stuck", chosen once by the command as an
// EventSink is for events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "container_identity.h"
#include "line_writer.h"
#include "sinks.h"
#include "stuck_detector.h"
#include "wall_clock.h"

namespace tcpscope {

class StuckSink {
public:
    virtual ~StuckSink() = default;
    // container: the owner's, when it runs in one (null: none, or not
    // looked up).
    virtual void report(const StuckReport& report, const ContainerIdentity* container) = 0;
};

// With a wall clock, the time column is UTC, else seconds since start_ns.
// The events' column header comes first when `events` (trace's text sink)
// is given and has not written it yet.
class TextStuckSink : public StuckSink {
public:
    TextStuckSink(LineWriter& out, uint64_t start_ns, std::optional<WallClock> wall = std::nullopt,
                  TextSink* events = nullptr)
        : out_(out), start_ns_(start_ns), wall_(wall), events_(events) {}
    void report(const StuckReport& report, const ContainerIdentity* container) override;

private:
    LineWriter& out_;
    uint64_t start_ns_;
    std::optional<WallClock> wall_;
    TextSink* events_;
};

class JsonStuckSink : public StuckSink {
public:
    JsonStuckSink(LineWriter& out, std::optional<WallClock> clock = WallClock::anchor())
        : out_(out), clock_(clock) {}
    void report(const StuckReport& report, const ContainerIdentity* container) override;

private:
    LineWriter& out_;
    std::optional<WallClock> clock_;
    std::string line_;  // reused
};

}  // namespace tcpscope
