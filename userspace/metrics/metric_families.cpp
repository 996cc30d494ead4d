#include "metric_families.h"

#include <cmath>
#include <limits>

namespace tcpscope {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr double kNsPerSecond = 1e9;

MetricFamily family(std::string name, std::string help, MetricType type) {
    MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

void add_counter(MetricFamily* f, std::vector<ClientMetric::Label> labels, uint64_t value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.counter.value = static_cast<double>(value);
    f->metric.push_back(std::move(m));
}

void add_gauge(MetricFamily* f, std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    f->metric.push_back(std::move(m));
}

// One histogram from its kernel buckets (not cumulative) and sum in ns.
void add_histogram(MetricFamily* f, std::vector<ClientMetric::Label> labels,
                   const KernelCounts& counts, int hist) {
    ClientMetric m;
    m.label = std::move(labels);
    uint64_t cumulative = 0;
    for (int k = 0; k < TS_BUCKETS; ++k) {
        cumulative += counts.hist_buckets[static_cast<size_t>(hist * TS_BUCKET_SLOTS + k)];
        ClientMetric::Bucket b;
        b.cumulative_count = cumulative;
        b.upper_bound = k == TS_BUCKETS - 1 ? std::numeric_limits<double>::infinity()
                                            : bucket_upper_bound_seconds(k);
        m.histogram.bucket.push_back(b);
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = static_cast<double>(counts.hist_sum_ns[static_cast<size_t>(hist)]) /
                             kNsPerSecond;
    f->metric.push_back(std::move(m));
}

}  // namespace

double bucket_upper_bound_seconds(int k) {
    return std::ldexp(1.0, TS_BUCKET_MIN_SHIFT + k) / kNsPerSecond;
}

std::vector<MetricFamily> kernel_families(const KernelCounts& c, const ResetReasons& reasons) {
    std::vector<MetricFamily> out;

    auto transitions = family("tcpscope_state_transitions_total",
                              "TCP state changes, by the state left and the state entered",
                              MetricType::Counter);
    for (int from = 0; from < TS_STATE_SLOTS; ++from) {
        for (int to = 0; to < TS_STATE_SLOTS; ++to) {
            uint64_t n = c.transitions[static_cast<size_t>(from * TS_STATE_SLOTS + to)];
            if (n) add_counter(&transitions, {{"from", tcp_state_name(from)}, {"to", tcp_state_name(to)}}, n);
        }
    }
    out.push_back(std::move(transitions));

    auto sent = family("tcpscope_resets_sent_total",
                       "RSTs this host sent, by the kernel's reason (not_reported before Linux "
                       "6.10) and the sending socket's state",
                       MetricType::Counter);
    for (int reason = 0; reason < TS_REASON_SLOTS; ++reason) {
        for (int state = 0; state < TS_STATE_SLOTS; ++state) {
            uint64_t n = c.resets_sent[static_cast<size_t>(reason * TS_STATE_SLOTS + state)];
            if (!n) continue;
            std::string name =
                reason == TS_REASON_NOT_REPORTED ? "not_reported" : reasons.name(reason);
            add_counter(&sent, {{"reason", name}, {"state", tcp_state_name(state)}}, n);
        }
    }
    out.push_back(std::move(sent));

    auto by_state = [&](const char* name, const char* help, const auto& values) {
        auto f = family(name, help, MetricType::Counter);
        for (int state = 0; state < TS_STATE_SLOTS; ++state) {
            uint64_t n = values[static_cast<size_t>(state)];
            if (n) add_counter(&f, {{"state", tcp_state_name(state)}}, n);
        }
        out.push_back(std::move(f));
    };
    by_state("tcpscope_resets_received_total", "RSTs received, by the receiving socket's state",
             c.resets_received);
    by_state("tcpscope_retransmits_total",
             "Segments retransmitted (those that left), by the socket's state", c.retransmits);

    auto errors = family("tcpscope_socket_errors_total",
                         "Errors the kernel set on TCP sockets (what the application's next call "
                         "returns), by errno",
                         MetricType::Counter);
    for (int e = 1; e < TS_ERRNO_SLOTS; ++e) {
        uint64_t n = c.socket_errors[static_cast<size_t>(e)];
        if (n) add_counter(&errors, {{"errno", errno_name(e)}}, n);
    }
    out.push_back(std::move(errors));

    auto sigpipe = family("tcpscope_sigpipe_total",
                          "SIGPIPE generated, by what became of it (delivered, ignored, ...)",
                          MetricType::Counter);
    for (int r = 0; r < TS_SIGNAL_RESULT_SLOTS; ++r) {
        uint64_t n = c.sigpipe[static_cast<size_t>(r)];
        if (n) add_counter(&sigpipe, {{"result", signal_result_name(r)}}, n);
    }
    out.push_back(std::move(sigpipe));

    auto connect = family("tcpscope_connect_duration_seconds",
                          "Time from SYN_SENT to ESTABLISHED (the connect's handshake)",
                          MetricType::Histogram);
    add_histogram(&connect, {}, c, TS_HIST_CONNECT);
    out.push_back(std::move(connect));
    auto accept = family("tcpscope_accept_duration_seconds",
                         "Time from SYN_RECV to ESTABLISHED (the handshake of an accepted "
                         "connection)",
                         MetricType::Histogram);
    add_histogram(&accept, {}, c, TS_HIST_ACCEPT);
    out.push_back(std::move(accept));
    auto connection = family("tcpscope_connection_duration_seconds",
                             "Time from ESTABLISHED to CLOSE: how long connections lived",
                             MetricType::Histogram);
    add_histogram(&connection, {}, c, TS_HIST_CONNECTION);
    out.push_back(std::move(connection));
    auto closing = family("tcpscope_state_duration_seconds",
                          "Time spent in each closing state a socket left",
                          MetricType::Histogram);
    const std::pair<int, int> closing_states[] = {{TS_HIST_FIN_WAIT1, 4},
                                                  {TS_HIST_FIN_WAIT2, 5},
                                                  {TS_HIST_CLOSE_WAIT, 8},
                                                  {TS_HIST_LAST_ACK, 9}};
    for (const auto& [hist, state] : closing_states) {
        add_histogram(&closing, {{"state", tcp_state_name(state)}}, c, hist);
    }
    out.push_back(std::move(closing));
    return out;
}

std::vector<MetricFamily> self_families(const SelfInfo& self) {
    std::vector<MetricFamily> out;
    auto info = family("tcpscope_build_info", "tcpscope's version and the kernel it runs on",
                       MetricType::Gauge);
    add_gauge(&info, {{"version", self.version}, {"kernel", self.kernel}}, 1);
    out.push_back(std::move(info));

    // In metrics mode nothing goes through the ring buffer, so the one way
    // to lose an event is a program run the kernel skipped.
    uint64_t skipped = 0;
    for (const auto& p : self.programs) skipped += p.recursion_misses;
    auto lost = family("tcpscope_events_lost_total",
                       "Events never counted, by reason (program_skipped: the kernel skipped a "
                       "tcpscope program already running on that CPU)",
                       MetricType::Counter);
    add_counter(&lost, {{"reason", "program_skipped"}}, skipped);
    out.push_back(std::move(lost));

    auto scrape = family("tcpscope_scrape_duration_seconds",
                         "How long the previous scrape took to read the kernel and build the reply",
                         MetricType::Gauge);
    add_gauge(&scrape, {}, self.last_scrape_seconds);
    out.push_back(std::move(scrape));

    // The kernel counts run time and runs only while kernel.bpf_stats_enabled
    // is 1 (it costs two clock reads per run); otherwise these would be 0s
    // that look like measurements.
    if (self.bpf_stats_enabled) {
        auto run_time = family("tcpscope_bpf_program_run_seconds_total",
                               "Kernel time spent in each tcpscope program "
                               "(kernel.bpf_stats_enabled)",
                               MetricType::Counter);
        auto runs = family("tcpscope_bpf_program_runs_total",
                           "Runs of each tcpscope program (kernel.bpf_stats_enabled)",
                           MetricType::Counter);
        for (const auto& p : self.programs) {
            ClientMetric m;
            m.label = {{"program", p.name}};
            m.counter.value = static_cast<double>(p.run_time_ns) / kNsPerSecond;
            run_time.metric.push_back(m);
            add_counter(&runs, {{"program", p.name}}, p.run_count);
        }
        out.push_back(std::move(run_time));
        out.push_back(std::move(runs));
    }
    return out;
}

}  // namespace tcpscope
