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

namespace {

// An endpoint that names one socket: not a wildcard address, not port 0.
bool specific_endpoint(const std::string& endpoint) {
    if (endpoint.empty()) return false;
    auto colon = endpoint.rfind(':');
    if (colon == std::string::npos || endpoint.substr(colon + 1) == "0") return false;
    std::string addr = endpoint.substr(0, colon);
    return addr != "0.0.0.0" && addr != "[::]";
}

}  // namespace

void Timeline::index_sides() {
    for (const auto& s : steps_) {
        if (s.side.empty()) continue;
        if (s.cookie) cookie_side_.emplace(s.cookie, s.side);
        if (specific_endpoint(s.local)) endpoint_side_.emplace(s.local, s.side);
        if (s.pid) pid_side_.emplace(s.pid, s.side);
        // accept() reports the new connection in info.accepted.
        if (s.info.contains("accepted") && s.info["accepted"].is_object()) {
            const auto& acc = s.info["accepted"];
            if (acc.contains("cookie") && acc["cookie"].is_number_unsigned()) {
                cookie_side_.emplace(acc["cookie"].get<uint64_t>(), s.side);
            }
            if (acc.contains("local") && acc["local"].is_string() &&
                specific_endpoint(acc["local"].get<std::string>())) {
                endpoint_side_.emplace(acc["local"].get<std::string>(), s.side);
            }
        }
    }
    // A step may not know its socket's address (a connect() refused before
    // getsockname() could read it); the kernel's events of that socket do.
    for (const auto& e : events_) {
        if (!e.cookie || e.minisock || e.no_socket || e.kind == EventKind::Packet) continue;
        auto it = cookie_side_.find(e.cookie);
        std::string local = endpoint_key(e.local, e.family);
        if (it != cookie_side_.end() && specific_endpoint(local)) {
            endpoint_side_.emplace(local, it->second);
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
        // A call on a socket is shown where it began, what it caused below
        // it. A step on a process or a namespace (wait(), kill(), ip ...)
        // may span the whole run: it is shown where it returned.
        const Step& s = steps_[i];
        TimelineEntry t;
        t.is_step = true;
        t.index = i;
        t.ts_ns = s.cookie ? s.start_ns : s.ts_ns;
        t.side = s.side;
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
            // The step whose socket call was running when the event fired:
            // the innermost (latest started) one, of the event's own side
            // when both sides were in a call. Steps without a socket
            // (wait(), kill()) cause nothing on the wire themselves.
            const Event& e = events_[entry.index];
            for (size_t i = 0; i < steps_.size(); ++i) {
                const Step& s = steps_[i];
                if (!s.cookie || e.ts_ns < s.start_ns || e.ts_ns > s.ts_ns) continue;
                bool better = entry.step < 0 ||
                              (s.side == entry.side &&
                               (steps_[entry.step].side != entry.side ||
                                s.start_ns > steps_[entry.step].start_ns));
                if (better) entry.step = static_cast<int>(i);
            }
        }
        entries_.push_back(entry);
    }
}

const Step* Timeline::find_step(const std::string& side, const StepMatch& match, int nth) const {
    for (const auto& s : steps_) {
        if ((side.empty() || s.side == side) && match.matches(s) && nth-- == 0) return &s;
    }
    return nullptr;
}

const Step* Timeline::next_step(const Step* after, const std::string& side,
                                const std::optional<StepMatch>& match) const {
    int start = after ? index_of(after) + 1 : 0;
    for (size_t i = static_cast<size_t>(std::max(start, 0)); i < steps_.size(); ++i) {
        const Step& s = steps_[i];
        if ((side.empty() || s.side == side) && (!match || match->matches(s))) return &s;
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
            s.info["accepted"].contains("cookie") &&
            s.info["accepted"]["cookie"].is_number_unsigned()) {
            cookie = s.info["accepted"]["cookie"].get<uint64_t>();
        } else if (s.op == StepOp::Connect && s.cookie) {
            cookie = s.cookie;
        }
    }
    return cookie;
}

}  // namespace tcpscope
