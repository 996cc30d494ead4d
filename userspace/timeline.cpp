#include "timeline.h"

#include <sys/socket.h>

#include <algorithm>
#include <tuple>

namespace tcpscope {

namespace {

// How far apart the two ends of one RST may be seen and still be paired.
constexpr uint64_t kRstPairWindowNs = 50'000'000;

bool same_flow_reversed(const Event& a, const Event& b) {
    return a.netns == b.netns && a.local == b.remote && a.remote == b.local;
}

bool same_flow(const Event& a, const Event& b) {
    return a.netns == b.netns && a.local == b.local && a.remote == b.remote;
}

}  // namespace

std::string endpoint_key(const Endpoint& endpoint, int family) {
    if (family == AF_INET6) return "[" + endpoint.addr + "]:" + std::to_string(endpoint.port);
    return endpoint.addr + ":" + std::to_string(endpoint.port);
}

Timeline::Timeline(std::vector<Step> steps, std::vector<Event> events)
    : steps_(std::move(steps)), events_(std::move(events)) {
    index_sides();
    order();
}

void Timeline::index_sides() {
    for (const auto& s : steps_) {
        if (s.side.empty()) continue;
        if (s.cookie) cookie_side_.emplace(s.cookie, s.side);
        if (!s.local.empty() && s.local.find(":0") == std::string::npos) {
            endpoint_side_.emplace(s.local, s.side);
        }
        if (s.pid) pid_side_.emplace(s.pid, s.side);
        // accept() reports the new connection in info.accepted.
        if (s.info.contains("accepted") && s.info["accepted"].is_object()) {
            const auto& acc = s.info["accepted"];
            if (acc.contains("cookie") && acc["cookie"].is_number_unsigned()) {
                cookie_side_.emplace(acc["cookie"].get<uint64_t>(), s.side);
            }
            if (acc.contains("local") && acc["local"].is_string()) {
                endpoint_side_.emplace(acc["local"].get<std::string>(), s.side);
            }
        }
    }
}

std::string Timeline::side_of_endpoint(const std::string& endpoint) const {
    auto it = endpoint_side_.find(endpoint);
    return it == endpoint_side_.end() ? std::string() : it->second;
}

std::string Timeline::side_of(const Event& e) const {
    if (e.kind == EventKind::Signal) {
        auto it = pid_side_.find(e.target_pid);
        return it == pid_side_.end() ? std::string() : it->second;
    }
    if (e.cookie && !e.minisock && !e.no_socket) {
        auto it = cookie_side_.find(e.cookie);
        if (it != cookie_side_.end()) return it->second;
    }
    // A socket that lost its port (CLOSE) still has the cookie above; the
    // rest is tied by the local endpoint, which for a packet is its source.
    std::string side = side_of_endpoint(endpoint_key(e.local, e.family));
    if (!side.empty()) return side;
    if (e.kind == EventKind::Packet || e.no_socket) {
        // The answering side of a packet to nowhere: the other end's peer.
        std::string peer = side_of_endpoint(endpoint_key(e.remote, e.family));
        if (peer == "client") return "server";
        if (peer == "server") return "client";
    }
    if (e.cookie) {
        auto it = cookie_side_.find(e.cookie);
        if (it != cookie_side_.end()) return it->second;
    }
    return {};
}

// Causal order. Entries are sorted by raw time, with two corrections:
//  - a step sorts at its start, and events that fired during its call come
//    after it and belong to it;
//  - on loopback the receiver handles a packet inside the sender's call, so
//    tcp_receive_reset (and what follows from it) can fire before
//    tcp_send_reset of the same RST: a reset_sent is moved to just before
//    the first sign of its RST (the RST leaving the device, or the peer's
//    reset_received), whichever is earlier.
void Timeline::order() {
    struct Key {
        uint64_t order_ts;
        int rank;  // within the same order_ts: steps, moved reset_sent, rest
        uint64_t ts;
        size_t seq;
    };
    std::vector<std::pair<Key, TimelineEntry>> keyed;
    size_t seq = 0;
    for (size_t i = 0; i < steps_.size(); ++i) {
        TimelineEntry t;
        t.is_step = true;
        t.index = i;
        t.ts_ns = steps_[i].start_ns;
        t.side = steps_[i].side;
        keyed.push_back({{t.ts_ns, 0, t.ts_ns, seq++}, t});
    }
    for (size_t i = 0; i < events_.size(); ++i) {
        const Event& e = events_[i];
        TimelineEntry t;
        t.index = i;
        t.ts_ns = e.ts_ns;
        t.side = side_of(e);
        Key key{e.ts_ns, 2, e.ts_ns, seq++};
        if (e.kind == EventKind::ResetSent) {
            uint64_t anchor = e.ts_ns;
            for (const auto& o : events_) {
                if (o.ts_ns >= anchor || e.ts_ns - o.ts_ns > kRstPairWindowNs) continue;
                bool rst_packet = o.kind == EventKind::Packet && (o.tcp_flags & TS_TCP_RST) &&
                                  o.dir == TS_DIR_TX && same_flow(o, e);
                bool received = o.kind == EventKind::ResetReceived && same_flow_reversed(o, e);
                if (rst_packet || received) anchor = o.ts_ns;
            }
            if (anchor != e.ts_ns) key = {anchor, 1, e.ts_ns, seq - 1};
        }
        keyed.push_back({key, t});
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
        return std::tie(a.first.order_ts, a.first.rank, a.first.ts, a.first.seq) <
               std::tie(b.first.order_ts, b.first.rank, b.first.ts, b.first.seq);
    });
    entries_.clear();
    for (auto& [key, entry] : keyed) {
        if (!entry.is_step) {
            // The innermost step whose call was running when the event fired.
            // Steps of one side do not overlap; between sides prefer the
            // event's own side.
            const Event& e = events_[entry.index];
            for (size_t i = 0; i < steps_.size(); ++i) {
                const Step& s = steps_[i];
                if (e.ts_ns < s.start_ns || e.ts_ns > s.ts_ns) continue;
                if (entry.step < 0 || s.side == entry.side) entry.step = static_cast<int>(i);
            }
        }
        entries_.push_back(entry);
    }
}

const Step* Timeline::find_step(const std::string& side, const std::string& prefix,
                                int nth) const {
    for (const auto& s : steps_) {
        if ((side.empty() || s.side == side) && s.is(prefix) && nth-- == 0) return &s;
    }
    return nullptr;
}

const Step* Timeline::next_step(const Step* after, const std::string& side,
                                const std::string& prefix) const {
    int start = after ? index_of(after) + 1 : 0;
    for (size_t i = static_cast<size_t>(std::max(start, 0)); i < steps_.size(); ++i) {
        if ((side.empty() || steps_[i].side == side) && steps_[i].is(prefix)) return &steps_[i];
    }
    return nullptr;
}

int Timeline::index_of(const Step* step) const {
    if (step == nullptr || steps_.empty()) return -1;
    if (step < &steps_.front() || step > &steps_.back()) return -1;
    return static_cast<int>(step - &steps_.front());
}

std::vector<const Event*> Timeline::during(const Step& step) const {
    return between(step.start_ns, step.ts_ns);
}

std::vector<const Event*> Timeline::between(uint64_t from, uint64_t to) const {
    std::vector<const Event*> out;
    for (const auto& entry : entries_) {
        if (entry.is_step) continue;
        const Event& e = events_[entry.index];
        if (e.ts_ns >= from && e.ts_ns <= to) out.push_back(&e);
    }
    return out;
}

std::vector<const Event*> Timeline::of_kind(EventKind kind) const {
    std::vector<const Event*> out;
    for (const auto& entry : entries_) {
        if (!entry.is_step && events_[entry.index].kind == kind) out.push_back(&events_[entry.index]);
    }
    return out;
}

std::vector<const Event*> Timeline::of_cookie(uint64_t cookie) const {
    std::vector<const Event*> out;
    for (const auto& entry : entries_) {
        if (!entry.is_step && events_[entry.index].cookie == cookie) out.push_back(&events_[entry.index]);
    }
    return out;
}

uint64_t Timeline::cookie_of(const std::string& side) const {
    // The connected socket: for a server the accepted one, for a client
    // the one it connected.
    uint64_t cookie = 0;
    for (const auto& s : steps_) {
        if (s.side != side) continue;
        if (s.info.contains("accepted") && s.info["accepted"].is_object() &&
            s.info["accepted"].contains("cookie")) {
            cookie = s.info["accepted"]["cookie"].get<uint64_t>();
        } else if (s.is("connect(") && s.cookie) {
            cookie = s.cookie;
        }
    }
    return cookie;
}

}  // namespace tcpscope
