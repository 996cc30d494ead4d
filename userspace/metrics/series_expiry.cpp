#include "series_expiry.h"

namespace tcpscope {

namespace {

// The series as Prometheus sees it: the kernel's key without what the
// exposition merges. A histogram's buckets and sum are one histogram, and
// the cgroups of one container (or of the host) one container label.
std::string exposed_key(const SeriesCount& sc) {
    ts_series_key k = sc.key;
    if (k.family == TS_FAM_RTT) k.slot = 0;
    k.cgroup_id = 0;
    return std::string(reinterpret_cast<const char*>(&k), sizeof(k)) + sc.container;
}

}  // namespace

std::vector<SeriesCount> SeriesExpiry::idle(const std::vector<SeriesCount>& series, uint64_t now_ns) {
    // The kernel series of one exposed series go idle together, when their
    // total stops moving: a histogram's bucket removed alone would make the
    // cumulative counts above it fall while the others stay, and one
    // cgroup's series removed alone would make its container's counter fall.
    // A histogram's activity is its count (its buckets, not its sum).
    std::unordered_map<std::string, uint64_t> exposed_activity;
    for (const SeriesCount& sc : series) {
        if (sc.key.family == TS_FAM_RTT && sc.key.slot >= TS_RTT_SUM_SLOT) continue;
        exposed_activity[exposed_key(sc)] += sc.value;
    }
    std::unordered_map<std::string, Seen> next;
    next.reserve(series.size());
    std::vector<SeriesCount> out;
    for (const SeriesCount& sc : series) {
        std::string key(reinterpret_cast<const char*>(&sc.key), sizeof(sc.key));
        const uint64_t activity = exposed_activity[exposed_key(sc)];
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
