#include "socket_census.h"

#include <algorithm>

#include "names.h"

namespace tcpscope {

void SocketCensus::add_close_wait(const Owner& owner, bool age_known, double age_seconds) {
    CloseWait& cw = close_wait[owner];
    cw.sockets += 1;
    if (age_known) {
        cw.oldest_seconds = cw.age_known ? std::max(cw.oldest_seconds, age_seconds) : age_seconds;
        cw.age_known = true;
    }
}

SocketCensus census_of(const SocketSnapshot& snapshot, const CloseWaitAges* ages,
                       const ContainerOf& container_of) {
    constexpr int kCloseWait = 8;
    SocketCensus census;
    census.container_label = static_cast<bool>(container_of);
    constexpr int kListen = 10;
    for (const auto& s : snapshot.sockets) {
        census.by_state[static_cast<size_t>(s.state)] += 1;
        if (s.state == kListen) {
            uint16_t port = s.local.port;
            if (!census.listen.count(port) && census.listen.size() >= SocketCensus::kMaxListenPorts) port = 0;
            SocketCensus::Listen& l = census.listen[port];
            l.queue += s.recv_q;
            l.backlog += s.send_q;
            l.drops += s.drops;
            continue;
        }
        if (s.state != kCloseWait) continue;
        std::string comm = s.pid ? comm_label(s.comm.c_str(), s.comm.size()) : "?";
        uint64_t since = s.state_ts && s.state_ts <= snapshot.taken_ns ? s.state_ts : 0;
        if (!since && ages) since = ages->first_seen_ns(s.cookie);
        bool age_known = since != 0 && since <= snapshot.taken_ns;
        // Nobody's socket has no container either: "?", as the counters say.
        std::string container = !container_of ? "" : s.pid ? container_of(s.cgroup_id) : "?";
        census.add_close_wait({comm, container}, age_known,
                              age_known ? static_cast<double>(snapshot.taken_ns - since) / 1e9 : 0);
    }
    return census;
}

std::string comm_label(const char* comm, size_t max_len) {
    std::string out;
    for (size_t i = 0; i < max_len && comm[i]; ++i) {
        unsigned char c = static_cast<unsigned char>(comm[i]);
        out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
    }
    return out.empty() ? "?" : out;
}

std::vector<prometheus::MetricFamily> census_families(const SocketCensus& census) {
    using prometheus::ClientMetric;
    std::vector<prometheus::MetricFamily> out(6);
    auto& sockets = out[0];
    sockets.name = "tcpscope_sockets";
    sockets.help = "TCP sockets by state at scrape time, as sock_diag (ss) reports them, "
                   "request and timewait mini-sockets included";
    sockets.type = prometheus::MetricType::Gauge;
    for (int state = 1; state < TS_STATE_SLOTS; ++state) {
        uint64_t n = census.by_state[static_cast<size_t>(state)];
        if (!n) continue;
        ClientMetric m;
        m.label = {{"state", tcp_state_name(state)}};
        m.gauge.value = static_cast<double>(n);
        sockets.metric.push_back(std::move(m));
    }
    auto& cw = out[1];
    cw.name = "tcpscope_close_wait_sockets";
    cw.help = "Sockets in CLOSE_WAIT (the peer closed, the process has not) by owner";
    cw.type = prometheus::MetricType::Gauge;
    auto& oldest = out[2];
    oldest.name = "tcpscope_close_wait_oldest_seconds";
    oldest.help = "Age of the oldest CLOSE_WAIT socket of each owner: since its entry into "
                  "CLOSE_WAIT when tcpscope saw it, else since tcpscope first found it there (a "
                  "lower bound for sockets older than tcpscope)";
    oldest.type = prometheus::MetricType::Gauge;
    for (const auto& [owner, c] : census.close_wait) {
        ClientMetric m;
        m.label = {{"comm", owner.comm}};
        if (census.container_label) m.label.push_back({"container_id", owner.container});
        m.gauge.value = static_cast<double>(c.sockets);
        cw.metric.push_back(m);
        if (c.age_known) {
            m.gauge.value = c.oldest_seconds;
            oldest.metric.push_back(m);
        }
    }
    auto& queue = out[3];
    queue.name = "tcpscope_listen_queue";
    queue.help = "Connections waiting in the accept queues of the listeners of each port (Recv-Q "
                 "of a LISTEN socket); more than the backlog means full: SYNs are dropped";
    queue.type = prometheus::MetricType::Gauge;
    auto& backlog = out[4];
    backlog.name = "tcpscope_listen_backlog";
    backlog.help = "The accept queue's size given to listen() by the listeners of each port (Send-Q "
                   "of a LISTEN socket)";
    backlog.type = prometheus::MetricType::Gauge;
    auto& drops = out[5];
    drops.name = "tcpscope_listen_drops_total";
    drops.help = "Segments the listeners of each port dropped, by their own counter (sk_drops): "
                 "SYNs refused by a full accept or SYN queue, which the kernel's drop tracepoint "
                 "never sees (a refused handshake ACK counts twice); a listener that closes takes "
                 "its count with it";
    drops.type = prometheus::MetricType::Counter;
    for (const auto& [port, l] : census.listen) {
        ClientMetric m;
        m.label = {{"port", port ? std::to_string(port) : "other"}};
        m.gauge.value = static_cast<double>(l.queue);
        queue.metric.push_back(m);
        m.gauge.value = static_cast<double>(l.backlog);
        backlog.metric.push_back(m);
        ClientMetric c;
        c.label = m.label;
        c.counter.value = static_cast<double>(l.drops);
        drops.metric.push_back(std::move(c));
    }
    return out;
}

}  // namespace tcpscope
