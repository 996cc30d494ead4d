#include "close_wait_ages.h"

namespace tcpscope {

void CloseWaitAges::update(const SocketSnapshot& snapshot) {
    constexpr int kCloseWait = 8;
    std::unordered_map<uint64_t, uint64_t> next;
    for (const auto& s : snapshot.sockets) {
        if (s.state != kCloseWait || s.cookie == 0) continue;
        auto it = first_seen_.find(s.cookie);
        next[s.cookie] = it != first_seen_.end() ? it->second : snapshot.taken_ns;
    }
    first_seen_ = std::move(next);
}

uint64_t CloseWaitAges::first_seen_ns(uint64_t cookie) const {
    auto it = first_seen_.find(cookie);
    return it == first_seen_.end() ? 0 : it->second;
}

}  // namespace tcpscope
