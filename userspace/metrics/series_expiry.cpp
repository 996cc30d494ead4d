#include "series_expiry.h"

namespace tcpscope {

namespace {

// The key of a series' RTT histogram: its labels, without the slot.
std::string histogram_key(const SeriesCount& sc) {
    ts_series_key k = sc.key;
    k.slot = 0;
    return std::string(reinterpret_cast<const char*>(&k), sizeof(k));
}

}  // namespace

std::vector<SeriesCount> SeriesExpiry::idle(const std::vector<SeriesCount>& series, uint64_t now_ns) {
    // The series of one RTT histogram (its buckets and its sum) go idle
    // together, when its count stops moving: a bucket removed alone would
    // make the cumulative counts above it fall while the others stay.
    std::unordered_map<std::string, uint64_t> histogram_count;
    for (const SeriesCount& sc : series) {
        if (sc.key.family == TS_FAM_RTT && sc.key.slot < TS_RTT_SUM_SLOT) {
            histogram_count[histogram_key(sc)] += sc.value;
        }
    }
    std::unordered_map<std::string, Seen> next;
    next.reserve(series.size());
    std::vector<SeriesCount> out;
    for (const SeriesCount& sc : series) {
        std::string key(reinterpret_cast<const char*>(&sc.key), sizeof(sc.key));
        uint64_t activity = sc.value;
        if (sc.key.family == TS_FAM_RTT) activity = histogram_count[histogram_key(sc)];
        Seen seen{activity, now_ns};
        auto it = seen_.find(key);
        if (it != seen_.end() && it->second.value == activity) seen.since_ns = it->second.since_ns;
        if (now_ns - seen.since_ns >= idle_ns_) {
            out.push_back(sc);  // expired: forgotten here too
        } else {
            next.emplace(std::move(key), seen);
        }
    }
    seen_ = std::move(next);
    return out;
}

}  // namespace tcpscope
