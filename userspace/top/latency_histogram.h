// Latencies in microseconds, kept as counts in buckets of about 3% width
// (exact below 64 us), so that p50 and p99 over any number of connections
// take bounded memory. Only the buckets in use are stored: a row per peer
// costs a few hundred bytes. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace tcpscope {

class LatencyHistogram {
public:
    void add(uint64_t us);
    uint64_t count() const { return count_; }
    // The nearest-rank percentile (fraction in (0, 1]): the value of the
    // bucket holding the ceil(fraction * count)-th smallest sample, given as
    // that bucket's midpoint (exact below 64 us). Nothing when empty.
    std::optional<uint64_t> percentile(double fraction) const;

    // The bucket a value falls in, and the value that bucket reports.
    static uint32_t bucket_of(uint64_t us);
    static uint64_t value_of(uint32_t bucket);

private:
    std::map<uint32_t, uint64_t> buckets_;
    uint64_t count_ = 0;
};

}  // namespace tcpscope
