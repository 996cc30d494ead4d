// One timeline from a scenario's steps and the kernel's events, joined by
// socket cookie (and by address for what has no cookie: RSTs sent with no
// socket or by a timewait mini-socket, packets), in causal order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "event.h"
#include "step.h"

namespace tcpscope {

struct TimelineEntry {
    bool is_step = false;
    size_t index = 0;        // into Timeline::steps() or Timeline::events()
    uint64_t ts_ns = 0;      // raw: a step's start, an event's timestamp
    std::string side;        // "client", "server", or "" when unknown
    int step = -1;           // for events: the step during whose call it fired
};

class Timeline {
public:
    Timeline() = default;
    Timeline(std::vector<Step> steps, std::vector<Event> events);

    const std::vector<Step>& steps() const { return steps_; }
    const std::vector<Event>& events() const { return events_; }
    // Steps and events in causal order (see timeline.cpp for the rules).
    const std::vector<TimelineEntry>& entries() const { return entries_; }

    // "client"/"server" for an event, "" when nothing ties it to a side.
    std::string side_of(const Event& event) const;
    // The side that owns an endpoint "addr:port", "" when unknown.
    std::string side_of_endpoint(const std::string& endpoint) const;

    // The nth (0-based) step of `side` ("" for any) that `match` matches.
    const Step* find_step(const std::string& side, const StepMatch& match, int nth = 0) const;
    // The first step after `after` (exclusive) of `side` that `match`
    // matches; without `match`, whatever it is.
    const Step* next_step(const Step* after, const std::string& side,
                          const std::optional<StepMatch>& match = std::nullopt) const;
    int index_of(const Step* step) const;

    // Events that fired while the step's call ran.
    std::vector<const Event*> during(const Step& step) const;
    // Events with raw timestamps in [from, to].
    std::vector<const Event*> between(uint64_t from, uint64_t to) const;
    std::vector<const Event*> of_kind(EventKind kind) const;
    std::vector<const Event*> of_cookie(uint64_t cookie) const;
    // Cookie of a side's connection: the socket it connected, or for a
    // server the one it accepted (the last of them); 0 when none.
    uint64_t cookie_of(const std::string& side) const;

private:
    void index_sides();
    void order();

    std::vector<Step> steps_;
    std::vector<Event> events_;
    std::vector<TimelineEntry> entries_;
    std::map<uint64_t, std::string> cookie_side_;
    std::map<std::string, std::string> endpoint_side_;
    std::map<uint32_t, std::string> pid_side_;
};

// "127.0.0.1:5000" / "[::1]:5000" for an event endpoint.
std::string endpoint_key(const Endpoint& endpoint, int family);

}  // namespace tcpscope
