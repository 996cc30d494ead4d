#include "connection_drops.h"

namespace tcpscope {

namespace {

// The connection's addresses, from its own events: the last that carries
// both ports (an abortive close wipes the peer's before the last events).
bool connection_tuple(const std::vector<Event>& events, uint64_t cookie, Endpoint* local,
                      Endpoint* remote, int* family) {
    bool found = false;
    for (const auto& e : events) {
        if (e.cookie != cookie || e.kind == EventKind::Drop || e.kind == EventKind::Signal) continue;
        if (e.local.port == 0 || e.remote.port == 0) continue;
        *local = e.local;
        *remote = e.remote;
        *family = e.family;
        found = true;
    }
    return found;
}

}  // namespace

ConnectionDrops connection_drops(const std::vector<Event>& events, uint64_t cookie, uint64_t until) {
    ConnectionDrops out;
    Endpoint local, remote;
    int family = 0;
    const bool have_tuple = connection_tuple(events, cookie, &local, &remote, &family);
    for (const auto& e : events) {
        if (e.kind != EventKind::Drop || (until && e.ts_ns > until)) continue;
        bool ours = cookie && e.cookie == cookie;
        if (!ours && e.cookie == 0 && have_tuple && e.family == family) {
            ours = (e.local == local && e.remote == remote) || (e.local == remote && e.remote == local);
        }
        if (!ours) continue;
        out.drops.push_back(&e);
        if ((e.tcp_flags & TS_TCP_SYN) && !(e.tcp_flags & TS_TCP_ACK)) ++out.syns;
        const std::string& r = e.drop_reason.empty() ? std::string("unknown") : e.drop_reason;
        if (out.reasons != r && out.reasons.find(r) == std::string::npos) {
            out.reasons += (out.reasons.empty() ? "" : ", ") + r;
        }
    }
    return out;
}

std::string drop_reason_words(const std::string& reason) {
    if (reason == "NETFILTER_DROP") return "a firewall rule";
    if (reason == "NO_SOCKET") return "nothing listens there";
    if (reason == "TCP_ZEROWINDOW") return "the receiver's window was closed";
    if (reason == "TCP_INVALID_SEQUENCE" || reason == "TCP_INVALID_END_SEQUENCE")
        return "outside the receive window";
    if (reason == "TCP_OFOMERGE") return "already queued out of order";
    if (reason == "PROTO_MEM") return "TCP's memory limit";
    if (reason == "TCP_OLD_DATA") return "data already received";
    if (reason == "QDISC_DROP") return "a queue discipline";
    return "";
}

std::string drops_text(const ConnectionDrops& d) {
    if (d.drops.empty()) return "";
    const size_t n = d.drops.size();
    std::string what;
    if (d.syns == n) {
        what = std::to_string(n) + " SYN" + (n == 1 ? "" : "s");
    } else {
        what = std::to_string(n) + " segment" + (n == 1 ? "" : "s");
        if (d.syns) what += " (" + std::to_string(d.syns) + " SYN" + (d.syns == 1 ? "" : "s") + ")";
    }
    std::string words = d.reasons.find(',') == std::string::npos ? drop_reason_words(d.reasons) : "";
    return what + " dropped on this host (" + d.reasons + (words.empty() ? "" : ": " + words) + ")";
}

}  // namespace tcpscope
