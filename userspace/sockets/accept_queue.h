// The accept queue, watched from outside: a SYN the kernel throws away
// because a listener's accept queue is full never reaches skb:kfree_skb
// (tcp_conn_request() drops it and its caller consume_skb()s it), on any
// kernel we support. What does show it, on 6.1 as on 6.18, is the
// listener's own drop counter (sk_drops, which tcp_listendrop() raises
// beside the namespace's ListenDrops) and its accept queue against its
// backlog, both in sock_diag's answer for a LISTEN socket. This watch
// diffs them between two looks (snapshots of the LISTEN sockets) and says
// which listeners dropped how many since the last look.
//
//   AcceptQueueWatch watch;
//   for each snapshot of listeners: for (auto& d : watch.update(snap)) emit(drop_event_of(d));
//
// Pure: kernel/sock_diag.h fills the snapshots. The last look is kept as
// plain structs (listeners()) for whoever wants the numbers (metrics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "event.h"
#include "socket_snapshot.h"

namespace tcpscope {

// A listener as one look saw it.
struct ListenerLook {
    uint64_t cookie = 0;
    int family = 0;
    Endpoint local;
    uint32_t queue = 0;    // connections waiting for accept() (idiag_rqueue)
    uint32_t backlog = 0;  // listen()'s backlog as the kernel capped it (idiag_wqueue)
    uint32_t drops = 0;    // sk_drops: what tcp_listendrop() counted, since listen()
    uint32_t pid = 0;      // owner, 0 when not known
    std::string comm;      // raw bytes (sanitize to print)
};

// The kernel's own test (sk_acceptq_is_full): full once the queue holds
// more than the backlog, so listen(fd, 1) holds two.
inline bool accept_queue_full(uint32_t queue, uint32_t backlog) { return queue > backlog; }

// What a listener dropped between two looks.
struct ListenerDrops {
    ListenerLook listener;   // as this look saw it
    uint32_t dropped = 0;    // since the last look (or since listen(), for a new one)
    // Its accept queue was full at this look or the last: the drops are
    // the queue's (ACCEPT_QUEUE_FULL). Else the counter rose while the
    // queue was never seen full (LISTEN_DROP: the SYN queue, memory, a
    // queue that filled and emptied between two looks).
    bool queue_full = false;
    uint64_t ts_ns = 0;      // CLOCK_MONOTONIC of this look
    uint32_t netns = 0;
    uint64_t netns_cookie = 0;
};

// The namespace's TcpExt counters of listener drops (/proc/net/netstat).
// ListenOverflows counts only accept-queue overflows; ListenDrops every
// drop tcp_listendrop() made (the sum of the listeners' sk_drops).
struct ListenCounters {
    uint64_t overflows = 0;
    uint64_t drops = 0;
};
// From the text of /proc/net/netstat; nothing when the TcpExt lines or
// either counter are missing.
std::optional<ListenCounters> parse_listen_counters(const std::string& netstat);

class AcceptQueueWatch {
public:
    // At most this many listeners are remembered between looks (the rest
    // are looked at afresh each time, and their drops never reported).
    static constexpr size_t kMaxListeners = 65536;

    // The LISTEN sockets of `snapshot` (others are ignored), against the
    // last look. The first look sets the baseline: drops counted before
    // it are not reported. A listener that appears later reports every
    // drop since its listen(), since all of them happened while watched.
    //
    // `counters`, the namespace's at this look when known: when its
    // ListenOverflows rose by at least the listeners' drops since the last
    // look, every one of them was an accept-queue overflow, whatever the
    // queue looked like at the looks (it may fill and empty in between).
    // Its ListenDrops takes off what the listeners counted twice (a
    // refused handshake ACK).
    std::vector<ListenerDrops> update(const SocketSnapshot& snapshot,
                                      std::optional<ListenCounters> counters = std::nullopt);

    // The listeners of the last look.
    const std::vector<ListenerLook>& listeners() const { return last_; }
    // Drops reported so far, all listeners (for a summary or a metric).
    uint64_t dropped_total() const { return dropped_total_; }
    // The namespace's counters at the last look that had them.
    std::optional<ListenCounters> counters() const { return counters_; }

private:
    void trim_double_counts(std::vector<ListenerDrops>* out, uint64_t ns_drops);

    struct Known {
        uint32_t drops = 0;
        bool full = false;
    };
    std::unordered_map<uint64_t, Known> known_;  // by cookie
    std::vector<ListenerLook> last_;
    uint64_t dropped_total_ = 0;
    std::optional<ListenCounters> counters_;
    uint64_t credit_ = 0;  // what the namespace counted beyond the listeners, last look
    bool first_ = true;
};

// The drop event a listener's drops make (kind Drop, drop_seen_by
// "listener", reason ACCEPT_QUEUE_FULL or LISTEN_DROP, the listener's
// address as the local end, the remote end unknown: empty, port 0).
Event listener_drop_event(const ListenerDrops& drops);

}  // namespace tcpscope
