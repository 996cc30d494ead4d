// The ladder as data: one row per call, call return, kernel event or
// segment, in the timeline's causal order, each on a lane (the side whose
// socket or process it concerns). The text ladder (ladder.h) and the
// HTML/SVG page (ladder_svg.h, ladder_html.h) are both drawn from this one
// model, so the terminal and the picture cannot tell different stories.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "names.h"
#include "timeline.h"
#include "wall_clock.h"

namespace tcpscope {

enum class LadderRowKind {
    Call,        // a step: the call a scenario program made (or the runner)
    CallReturn,  // the return of a call that blocked while other rows happened
    State,       // a TCP state change
    Reset,       // a RST sent or received
    SockError,   // an error the kernel set on a socket
    Signal,      // a signal generated (SIGPIPE)
    Segment,     // a TCP segment leaving a device: an arrow between two lanes
    Other,       // retransmits, send/recv results no step reported
};

struct LadderRow {
    LadderRowKind kind = LadderRowKind::Other;
    std::string lane;     // "client", "server", "runner"; "" when no side is known
    std::string to_lane;  // a segment's receiver ("" when unknown)
    uint64_t ts_ns = 0;   // raw timestamp; a call's start
    uint64_t end_ns = 0;  // a call's return; ts_ns otherwise
    std::string text;     // "send(fd, \"x\", 1) = 1", "ESTABLISHED -> CLOSE_WAIT", "SYN 0B"
    std::string call;     // a call without its result: "send(fd, \"x\", 1)"
    // What the picture adds beside the text: a RST segment's reason (from
    // the tcp_send_reset that sent it), how long a call blocked.
    std::string detail;
    bool error = false;   // a failed call, a socket error, a RST: drawn in red
    // An event that fired while a call of its side was running ('*' in the
    // text ladder): the call above it caused or hosted it.
    bool inside_call = false;
    // Shown before a row with an earlier raw timestamp: causal order (on
    // loopback the receiver handles a packet inside the sender's call, so a
    // RST can be received before tcp_send_reset fires for it).
    bool reordered = false;
    // A call that blocked: rows happened between its start and its return,
    // which is its own CallReturn row (return_row); -1 otherwise.
    int return_row = -1;
    int call_row = -1;    // a CallReturn's Call row
    bool is_step = false;
    size_t index = 0;     // into Timeline::steps() or Timeline::events()
    std::string raw_json; // the run's JSON line for this step or event (hover)
};

struct LadderModel {
    std::vector<std::string> lanes;  // "client", "server", then "runner" when it acted
    std::vector<LadderRow> rows;
    uint64_t t0_ns = 0;              // the first row's time: the ladder's zero
    bool has_unknown_lane = false;   // some row belongs to no side (drawn on the wire)
};

// A call is drawn as a span from start to return (and the text ladder gives
// it a second row at its return) when rows happened while it ran and it
// blocked at least this long, or another call began while it ran (accept()
// waiting for the client's connect()).
constexpr uint64_t kBlockingCallNs = 1'000'000;

// Each row's raw_json is the line `tcpscope run --json` prints for it
// (with "time" when a wall clock is given).
LadderModel build_ladder_model(const Timeline& timeline, const ResetReasons& reasons,
                               const std::string& scenario, const WallClock* clock = nullptr);

// The words of one kernel event as the ladder shows it.
std::string ladder_event_text(const Event& event, const ResetReasons& reasons);

}  // namespace tcpscope
