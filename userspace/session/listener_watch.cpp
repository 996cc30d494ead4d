#include "listener_watch.h"

#include "trace_loop.h"

namespace tcpscope {

std::unique_ptr<ListenerWatch> ListenerWatch::open(const ListenerWatchOptions& options,
                                                   std::string* error) {
    std::unique_ptr<ListenerWatch> w(new ListenerWatch());
    w->options_ = options;
    if (options.filter) {
        w->filter_ = *options.filter;
        w->has_filter_ = true;
    }
    w->diag_ = SockDiag::open(options.netns_path, options.storage_map_fd, error, options.older_owners_fd);
    if (!w->diag_) return nullptr;
    SocketSnapshot first;
    if (!w->read(&first, error)) return nullptr;
    w->netns_ = first.netns;
    if (options.report_first_look) {
        // An empty look first: every drop of the listeners there counts.
        // Its counters start at 0 with it.
        SocketSnapshot empty;
        w->watch_.update(empty, ListenCounters{});
    }
    w->pending_first_ = w->watch_.update(first, parse_listen_counters(w->diag_->netstat()));
    w->next_ns_ = monotonic_ns() + options.interval_ns;
    return w;
}

std::vector<Event> ListenerWatch::look(uint64_t now_ns, bool force) {
    std::vector<Event> out;
    for (const auto& d : pending_first_) out.push_back(listener_drop_event(d));
    pending_first_.clear();
    if (!force && now_ns < next_ns_) return out;
    next_ns_ = now_ns + options_.interval_ns;
    SocketSnapshot snap;
    std::string why;
    if (!read(&snap, &why)) {
        error_ = why;
        return out;
    }
    for (const auto& d : watch_.update(snap, parse_listen_counters(diag_->netstat()))) {
        out.push_back(listener_drop_event(d));
    }
    return out;
}

bool ListenerWatch::read(SocketSnapshot* snap, std::string* error) {
    if (!diag_->read_listeners(snap, error)) return false;
    // The filters as trace's kernel side applies them: a listener that
    // does not pass is not looked at at all.
    if (has_filter_) {
        std::vector<SocketRecord> kept;
        for (auto& s : snap->sockets) {
            if (socket_passes(s, filter_)) kept.push_back(std::move(s));
        }
        snap->sockets = std::move(kept);
    }
    return true;
}

}  // namespace tcpscope
