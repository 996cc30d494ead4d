#include "latency_histogram.h"

#include <cmath>

namespace tcpscope {
namespace {
// 32 buckets per power of two above 64: a bucket is at most 1/32 (3%) of
// its value wide.
constexpr int kSubBits = 5;
constexpr uint64_t kExact = 64;
}  // namespace

uint32_t LatencyHistogram::bucket_of(uint64_t us) {
    if (us < kExact) return static_cast<uint32_t>(us);
    const int top = 63 - __builtin_clzll(us);  // >= 6
    const uint64_t sub = (us >> (top - kSubBits)) & ((1u << kSubBits) - 1);
    return static_cast<uint32_t>(kExact + static_cast<uint64_t>(top - 6) * (1u << kSubBits) + sub);
}

uint64_t LatencyHistogram::value_of(uint32_t bucket) {
    if (bucket < kExact) return bucket;
    const uint32_t i = bucket - static_cast<uint32_t>(kExact);
    const int top = 6 + static_cast<int>(i >> kSubBits);
    const uint64_t sub = i & ((1u << kSubBits) - 1);
    const uint64_t low = ((1ull << kSubBits) + sub) << (top - kSubBits);
    const uint64_t width = 1ull << (top - kSubBits);
    return low + width / 2;
}

void LatencyHistogram::add(uint64_t us) {
    ++buckets_[bucket_of(us)];
    ++count_;
}

std::optional<uint64_t> LatencyHistogram::percentile(double fraction) const {
    if (count_ == 0) return std::nullopt;
    uint64_t rank = static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    if (rank > count_) rank = count_;
    uint64_t seen = 0;
    for (const auto& [bucket, n] : buckets_) {
        seen += n;
        if (seen >= rank) return value_of(bucket);
    }
    return value_of(buckets_.rbegin()->first);
}

}  // namespace tcpscope
