#include "stuck_families.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "names.h"
#include "socket_census.h"

namespace tcpscope {

std::vector<prometheus::MetricFamily> stuck_families(const std::vector<StuckReport>& stuck,
                                                     uint64_t threshold_ns) {
    using prometheus::ClientMetric;
    using prometheus::MetricType;
    struct Group {
        uint64_t sockets = 0;
        double oldest_seconds = 0;
    };
    // By (state, owner): an owner's comm is the label, as on the CLOSE_WAIT
    // gauges; the set is bounded by the processes that hold stuck sockets.
    std::map<std::pair<std::string, std::string>, Group> groups;
    for (const auto& r : stuck) {
        std::string state = tcp_state_name(r.socket.state);
        // ESTABLISHED is watched only while it retransmits: say so.
        if (state == "ESTABLISHED") state = "ESTABLISHED_RETRANSMITTING";
        std::string comm = r.socket.pid ? comm_label(r.socket.comm.c_str(), r.socket.comm.size()) : "?";
        Group& g = groups[{state, comm}];
        g.sockets += 1;
        g.oldest_seconds = std::max(g.oldest_seconds, static_cast<double>(r.age_ns) / 1e9);
    }
    std::vector<prometheus::MetricFamily> out(3);
    out[0].name = "tcpscope_stuck_sockets";
    out[0].help = "Sockets longer than --stuck in CLOSE_WAIT, FIN_WAIT2, SYN_SENT, SYN_RECV, LAST_ACK, "
                  "or ESTABLISHED with retransmissions unanswered, by state and owner";
    out[0].type = MetricType::Gauge;
    out[1].name = "tcpscope_stuck_oldest_seconds";
    out[1].help = "Age in its state of the oldest stuck socket, by state and owner (a lower bound for "
                  "sockets older than tcpscope)";
    out[1].type = MetricType::Gauge;
    for (const auto& [key, g] : groups) {
        ClientMetric count;
        count.label = {{"state", key.first}, {"comm", key.second}};
        count.gauge.value = static_cast<double>(g.sockets);
        out[0].metric.push_back(count);
        ClientMetric oldest;
        oldest.label = count.label;
        oldest.gauge.value = g.oldest_seconds;
        out[1].metric.push_back(oldest);
    }
    out[2].name = "tcpscope_stuck_threshold_seconds";
    out[2].help = "The --stuck threshold: how long a socket stays in its state before it counts as stuck";
    out[2].type = MetricType::Gauge;
    ClientMetric threshold;
    threshold.gauge.value = static_cast<double>(threshold_ns) / 1e9;
    out[2].metric.push_back(threshold);
    return out;
}

}  // namespace tcpscope
