// The age of CLOSE_WAIT sockets whose entry into CLOSE_WAIT tcpscope did not
// see (older than tcpscope, or outside its filters): at least the time since
// a census first found each of them there. Without it a leak older than
// tcpscope had no age at all, and an alert on the age could never fire for
// it. Pure: fed the snapshots of successive scrapes.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "socket_snapshot.h"

namespace tcpscope {

class CloseWaitAges {
public:
    // Remembers when each CLOSE_WAIT socket of the snapshot (by cookie) was
    // first found there; forgets the sockets that left CLOSE_WAIT or went.
    void update(const SocketSnapshot& snapshot);
    // When the socket was first found in CLOSE_WAIT; 0 = not found there.
    uint64_t first_seen_ns(uint64_t cookie) const;
    size_t tracked() const { return first_seen_.size(); }

private:
    std::unordered_map<uint64_t, uint64_t> first_seen_;  // cookie -> CLOCK_MONOTONIC ns
};

}  // namespace tcpscope
