// The accept-queue watch on the live path: every second, a sock_diag look
// at the LISTEN sockets of one network namespace, and a `drop` event
// (seen_by "listener") for each listener whose drop counter rose since the
// last look (accept_queue.h says why the kernel's drop tracepoint cannot
// be the source). TraceLoop looks after each poll round and once more at
// the end. Bounded: one dump of the listeners a second, at most
// AcceptQueueWatch::kMaxListeners remembered.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "accept_queue.h"
#include "event.h"
#include "sock_diag.h"
#include "tcpscope.h"

namespace tcpscope {

struct ListenerWatchOptions {
    std::string netns_path;          // empty: our own namespace
    int storage_map_fd = -1;         // socks map, for owners (-1: none, owners unknown)
    int older_owners_fd = -1;        // Tracer::older_owners_fd()
    const ts_filter* filter = nullptr;  // --port/--addr/--pid...: which listeners count (null: all)
    uint64_t interval_ns = 1000000000ull;
    // The namespace is younger than the watch's caller knows (a scenario's
    // own): every drop since listen() counts, the first look's included.
    bool report_first_look = false;
};

class ListenerWatch {
public:
    // Opens sock_diag in the namespace and takes the first look (the
    // baseline, unless report_first_look). Null, with *error, on failure.
    static std::unique_ptr<ListenerWatch> open(const ListenerWatchOptions& options, std::string* error);

    // The drop events of a look, when one is due at now_ns (or `force`).
    // A failed look is retried at the next interval; its error is kept.
    std::vector<Event> look(uint64_t now_ns, bool force);

    const AcceptQueueWatch& watch() const { return watch_; }
    const std::string& last_error() const { return error_; }
    uint32_t netns() const { return netns_; }

private:
    ListenerWatch() = default;
    bool read(SocketSnapshot* snapshot, std::string* error);

    std::unique_ptr<SockDiag> diag_;
    AcceptQueueWatch watch_;
    ListenerWatchOptions options_;
    ts_filter filter_{};
    bool has_filter_ = false;
    uint64_t next_ns_ = 0;
    uint32_t netns_ = 0;
    std::string error_;
    std::vector<ListenerDrops> pending_first_;  // the first look's, when it reports
};

}  // namespace tcpscope
