#include "series_expiry.h"

namespace tcpscope {

std::vector<SeriesCount> SeriesExpiry::idle(const std::vector<SeriesCount>& series, uint64_t now_ns) {
    std::unordered_map<std::string, Seen> next;
    next.reserve(series.size());
    std::vector<SeriesCount> out;
    for (const SeriesCount& sc : series) {
        std::string key(reinterpret_cast<const char*>(&sc.key), sizeof(sc.key));
        Seen seen{sc.value, now_ns};
        auto it = seen_.find(key);
        if (it != seen_.end() && it->second.value == sc.value) seen.since_ns = it->second.since_ns;
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
