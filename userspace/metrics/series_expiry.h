// Which labelled series (--labels) have gone idle: a series whose value has
// not moved for --series-idle is removed from the kernel's map, so that the
// space a burst of series took (a client trying 2,000 closed ports, a
// process name seen once) serves new series again instead of filling
// --max-series for good. The kernel series behind one exposed series (a
// histogram's buckets and sum; with --labels container, the cgroups of one
// container) go idle together. Pure: fed readings, it says which series to
// expire; kernel/tracer.h does the removal.
//
// A series that comes back after its expiry starts again from its first
// new count: Prometheus saw it vanish (a stale marker) and sees a new
// series, which rate() and increase() take as a counter reset, as they
// take a restart of the exporter.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel_counts.h"

namespace tcpscope {

class SeriesExpiry {
public:
    explicit SeriesExpiry(uint64_t idle_ns) : idle_ns_(idle_ns) {}

    // A reading of every series at now_ns (CLOCK_MONOTONIC): remembers when
    // each value last moved, forgets series no longer there, and returns
    // those whose value has not moved for idle_ns or longer, as read now.
    std::vector<SeriesCount> idle(const std::vector<SeriesCount>& series, uint64_t now_ns);

    uint64_t idle_ns() const { return idle_ns_; }
    size_t tracked() const { return seen_.size(); }

private:
    struct Seen {
        uint64_t value = 0;
        uint64_t since_ns = 0;  // when value was first read as it is
    };
    uint64_t idle_ns_;
    // By the kernel key's bytes: a series is its key.
    std::unordered_map<std::string, Seen> seen_;
};

}  // namespace tcpscope
