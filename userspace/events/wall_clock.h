// Wall-clock time for events. The kernel stamps events with CLOCK_MONOTONIC
// (ts_ns), which says nothing of the day; one reading of the two clocks
// side by side, taken at start, turns any monotonic time into UTC. (The
// anchor is not moved afterwards: a step of the wall clock while tracing,
// by NTP or by hand, is not followed, and times stay in order.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tcpscope {

// How the clock reaches the output, the one way for every record (events,
// stories, stuck reports, lost lines): a formatter takes `const WallClock*`
// (null: no wall time: JSON leaves "time" out, text shows seconds since
// start); a sink keeps `std::optional<WallClock>` (a copy, taken at start)
// and hands its formatter a pointer to it.
struct WallClock {
    // CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns.
    int64_t offset_ns = 0;

    // Reads the clock pair now: the realtime reading between the two
    // monotonic readings closest together of a few tries.
    static WallClock anchor();

    // Nanoseconds since the Unix epoch (UTC) for a CLOCK_MONOTONIC time;
    // never negative (0 stands for anything before 1970).
    uint64_t realtime_ns(uint64_t monotonic_ns) const;
};

// RFC 3339 in UTC with microseconds, "2026-11-28T21:40:00.123456Z", for
// nanoseconds since the epoch. Truncated to the microsecond (never rounded
// up into the next second, minute or day).
void append_rfc3339_utc(std::string& out, uint64_t realtime_ns);
// The same text written at `out` (room for kRfc3339MaxLen bytes); returns
// its end. (Years stay 4 digits: 2^64 ns after 1970 is in 2554.)
constexpr size_t kRfc3339MaxLen = 32;
char* format_rfc3339_utc(char* out, uint64_t realtime_ns);
std::string rfc3339_utc(uint64_t realtime_ns);

}  // namespace tcpscope
