#include "socket_census.h"

#include <algorithm>

#include "names.h"

namespace tcpscope {

void SocketCensus::add_close_wait(const std::string& comm, bool age_known, double age_seconds) {
    CloseWait& cw = close_wait[comm];
    cw.sockets += 1;
    if (age_known) {
        cw.oldest_seconds = cw.age_known ? std::max(cw.oldest_seconds, age_seconds) : age_seconds;
        cw.age_known = true;
    }
}

SocketCensus census_of(const SocketSnapshot& snapshot, const CloseWaitAges* ages) {
    constexpr int kCloseWait = 8;
    SocketCensus census;
    for (const auto& s : snapshot.sockets) {
        census.by_state[static_cast<size_t>(s.state)] += 1;
        if (s.state != kCloseWait) continue;
        std::string comm = s.pid ? comm_label(s.comm.c_str(), s.comm.size()) : "?";
        uint64_t since = s.state_ts && s.state_ts <= snapshot.taken_ns ? s.state_ts : 0;
        if (!since && ages) since = ages->first_seen_ns(s.cookie);
        bool age_known = since != 0 && since <= snapshot.taken_ns;
        census.add_close_wait(comm, age_known,
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
    std::vector<prometheus::MetricFamily> out(3);
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
    for (const auto& [comm, c] : census.close_wait) {
        ClientMetric m;
        m.label = {{"comm", comm}};
        m.gauge.value = static_cast<double>(c.sockets);
        cw.metric.push_back(m);
        if (c.age_known) {
            m.gauge.value = c.oldest_seconds;
            oldest.metric.push_back(m);
        }
    }
    return out;
}

}  // namespace tcpscope
