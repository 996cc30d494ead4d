#include "firewall_facts.h"

namespace tcpscope {

namespace {

bool is_segment(const Event& e) { return e.kind == EventKind::Packet || e.kind == EventKind::Drop; }

// The client's own address as the kernel saw it, from its socket's state
// events (a failed connect() no longer knows it: see connect-refused).
std::string client_endpoint(const FactContext& c, uint64_t cookie) {
    for (const Event* e : c.timeline.of_cookie(cookie)) {
        if (e->kind == EventKind::State && e->local.port != 0) return endpoint_key(e->local, e->family);
    }
    return {};
}

bool pure_syn(const Event& e) { return (e.tcp_flags & TS_TCP_SYN) && !(e.tcp_flags & TS_TCP_ACK); }

}  // namespace

std::string segment_source(const Event& e) {
    return endpoint_key(e.dir == TS_DIR_RX ? e.remote : e.local, e.family);
}

std::string segment_destination(const Event& e) {
    return endpoint_key(e.dir == TS_DIR_RX ? e.local : e.remote, e.family);
}

SynExchange syn_exchange(const FactContext& c, const Step& connect) {
    SynExchange x;
    x.from = client_endpoint(c, connect.cookie);
    if (x.from.empty()) return x;
    for (const Event* e : c.timeline.during(connect)) {
        if (!is_segment(*e)) continue;
        bool out = segment_source(*e) == x.from && segment_destination(*e) == connect.remote;
        bool back = segment_source(*e) == connect.remote && segment_destination(*e) == x.from;
        if (e->kind == EventKind::Drop) {
            if (out && pure_syn(*e)) x.drops.push_back(e);
            continue;
        }
        // A packet is seen at the device on its way out (tx) and again on
        // its way in (rx, on loopback): count each segment once, as it left.
        if (e->dir != TS_DIR_TX) continue;
        if (out && pure_syn(*e)) x.syns.push_back(e);
        if (back && (e->tcp_flags & TS_TCP_SYN) && (e->tcp_flags & TS_TCP_ACK)) x.syn_acks.push_back(e);
        if (back && (e->tcp_flags & TS_TCP_RST)) x.rsts.push_back(e);
    }
    return x;
}

std::vector<const Event*> netfilter_drops_to(const FactContext& c, const std::string& destination,
                                             uint64_t until_ns) {
    std::vector<const Event*> out;
    for (const Event* e : c.timeline.of_kind(EventKind::Drop)) {
        if (e->ts_ns <= until_ns && e->drop_reason == "NETFILTER_DROP" &&
            segment_destination(*e) == destination) {
            out.push_back(e);
        }
    }
    return out;
}

FactResult nobody_reset(const FactContext& c) {
    std::vector<const Event*> resets;
    for (const Event& e : c.timeline.events()) {
        bool rst_segment = is_segment(e) && (e.tcp_flags & TS_TCP_RST);
        if (e.kind == EventKind::ResetSent || e.kind == EventKind::ResetReceived || rst_segment) {
            resets.push_back(&e);
        }
    }
    // Before 6.10 a RST sent with no socket fires no tcp_send_reset; the
    // RST segment itself (packet events, on every kernel) would show one.
    return {resets.empty(), "RSTs: " + describe(resets, c.reasons)};
}

}  // namespace tcpscope
