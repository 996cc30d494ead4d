#include "accept_queue.h"

#include <netinet/tcp.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace tcpscope {
namespace {
constexpr int kListen = 10;  // TCP_LISTEN
}  // namespace

std::optional<ListenCounters> parse_listen_counters(const std::string& text) {
    std::istringstream in(text);
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("TcpExt:", 0) != 0) continue;
        std::istringstream n(names), v(values);
        std::string name, value;
        std::optional<uint64_t> overflows, drops;
        while (n >> name && v >> value) {
            if (name == "ListenOverflows") overflows = std::strtoull(value.c_str(), nullptr, 10);
            if (name == "ListenDrops") drops = std::strtoull(value.c_str(), nullptr, 10);
        }
        if (overflows && drops) return ListenCounters{*overflows, *drops};
    }
    return std::nullopt;
}

// sk_drops counts an ACK the full queue refused twice (in tcp_listendrop()
// and again as the segment is discarded), the namespace's ListenDrops once:
// the listeners' rise beyond the namespace's is those second counts, and
// is taken off (from the listeners that rose most). One look reads
// sock_diag before /proc/net/netstat, so a drop between the two reads is in
// this look's namespace count and in the next look's listener count: what
// the namespace counted beyond the listeners at the last look (the credit)
// pays for that first. The credit lasts one look only, so that drops of
// listeners never watched (gone, or filtered out) cannot hide double
// counts for ever.
void AcceptQueueWatch::trim_double_counts(std::vector<ListenerDrops>* out, uint64_t ns_drops) {
    uint64_t raw = 0;
    for (const auto& d : *out) raw += d.dropped;
    const uint64_t credit = credit_;
    credit_ = ns_drops > raw ? ns_drops - raw : 0;
    if (raw <= ns_drops) return;
    const uint64_t excess = raw - ns_drops;
    uint64_t trim = excess > credit ? excess - credit : 0;
    while (trim > 0) {
        auto most = std::max_element(out->begin(), out->end(), [](const auto& a, const auto& b) {
            return a.dropped < b.dropped;
        });
        const uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(trim, most->dropped));
        most->dropped -= take;
        dropped_total_ -= take;
        trim -= take;
    }
    out->erase(std::remove_if(out->begin(), out->end(), [](const auto& d) { return d.dropped == 0; }),
               out->end());
}

std::vector<ListenerDrops> AcceptQueueWatch::update(const SocketSnapshot& snap,
                                                    std::optional<ListenCounters> counters) {
    std::vector<ListenerDrops> out;
    std::unordered_map<uint64_t, Known> now;
    std::vector<ListenerLook> looks;
    for (const auto& s : snap.sockets) {
        if (s.state != kListen || !s.has_meminfo) continue;
        ListenerLook l;
        l.cookie = s.cookie;
        l.family = s.family;
        l.local = s.local;
        l.queue = s.recv_q;
        l.backlog = s.send_q;
        l.drops = static_cast<uint32_t>(s.drops);
        l.pid = s.pid;
        l.comm = s.comm;
        const bool full = accept_queue_full(l.queue, l.backlog);
        auto it = known_.find(s.cookie);
        // The counter is the kernel's 32-bit one: the difference modulo
        // 2^32 survives its wrap.
        uint32_t dropped = 0;
        bool was_full = false;
        if (it != known_.end()) {
            dropped = l.drops - it->second.drops;
            was_full = it->second.full;
        } else if (!first_) {
            dropped = l.drops;
        }
        if (dropped) {
            ListenerDrops d;
            d.listener = l;
            d.dropped = dropped;
            d.queue_full = full || was_full;
            d.ts_ns = snap.taken_ns;
            d.netns = snap.netns;
            d.netns_cookie = snap.netns_cookie;
            dropped_total_ += dropped;
            out.push_back(std::move(d));
        }
        if (now.size() < kMaxListeners) now[s.cookie] = Known{l.drops, full};
        looks.push_back(std::move(l));
    }
    // The namespace says how many, and whether they were all overflows.
    if (counters && counters_) {
        const uint64_t ns_drops = counters->drops - counters_->drops;
        trim_double_counts(&out, ns_drops);
        uint64_t dropped = 0;
        for (const auto& d : out) dropped += d.dropped;
        if (!out.empty() && counters->overflows - counters_->overflows >= dropped) {
            for (auto& d : out) d.queue_full = true;
        }
    }
    if (counters) counters_ = counters;
    known_ = std::move(now);
    last_ = std::move(looks);
    first_ = false;
    return out;
}

Event listener_drop_event(const ListenerDrops& d) {
    Event e;
    e.kind = EventKind::Drop;
    e.ts_ns = d.ts_ns;
    e.cookie = d.listener.cookie;
    e.netns = d.netns;
    e.netns_cookie = d.netns_cookie;
    e.pid = d.listener.pid;
    e.tid = d.listener.pid;
    if (d.listener.pid) {
        e.comm = sanitize_comm(d.listener.comm.c_str(), d.listener.comm.size());
        e.attribution = "owner";
    } else {
        e.attribution = "unknown";
    }
    e.family = d.listener.family;
    e.local = d.listener.local;
    e.remote = Endpoint{};
    e.dir = TS_DIR_RX;
    e.tcp_flags = TH_SYN;
    e.drop_reason = d.queue_full ? "ACCEPT_QUEUE_FULL" : "LISTEN_DROP";
    e.drop_reason_code = -1;  // ours, not the kernel's enum
    e.drop_seen_by = "listener";
    e.drop_count = d.dropped;
    e.accept_queue = d.listener.queue;
    e.accept_backlog = d.listener.backlog;
    return e;
}

}  // namespace tcpscope
