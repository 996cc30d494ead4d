#include "metric_families.h"

#include <array>
#include <cmath>
#include <map>
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

// One histogram from its kernel buckets (TS_BUCKETS of them, not
// cumulative) and sum in seconds. Buckets past last_bounded are shown only
// in +Inf (the cumulative counts stay exact: leaving a bound out merges two
// buckets).
void add_histogram(MetricFamily* f, std::vector<ClientMetric::Label> labels,
                   const uint64_t* buckets, double sum_seconds,
                   int last_bounded = TS_BUCKETS - 2) {
    ClientMetric m;
    m.label = std::move(labels);
    uint64_t cumulative = 0;
    for (int k = 0; k < TS_BUCKETS; ++k) {
        cumulative += buckets[k];
        if (k > last_bounded && k != TS_BUCKETS - 1) continue;
        ClientMetric::Bucket b;
        b.cumulative_count = cumulative;
        b.upper_bound = k == TS_BUCKETS - 1 ? std::numeric_limits<double>::infinity()
                                            : bucket_upper_bound_seconds(k);
        m.histogram.bucket.push_back(b);
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = sum_seconds;
    f->metric.push_back(std::move(m));
}

void add_histogram(MetricFamily* f, std::vector<ClientMetric::Label> labels,
                   const KernelCounts& counts, int hist) {
    add_histogram(f, std::move(labels),
                  &counts.hist_buckets[static_cast<size_t>(hist * TS_BUCKET_SLOTS)],
                  counts.hist_sum_ns[static_cast<size_t>(hist)].seconds());
}

}  // namespace

// A process name as a label value: printable ASCII, others as '?'.
std::string comm_text(const std::string& comm) {
    std::string out;
    for (unsigned char ch : comm) out += ch >= 0x20 && ch < 0x7f ? static_cast<char>(ch) : '?';
    return out;
}

double bucket_upper_bound_seconds(int k) {
    return std::ldexp(1.0, TS_BUCKET_MIN_SHIFT + k) / kNsPerSecond;
}

namespace {

// The counter families, in the order of enum ts_counter_family.
struct CounterFamily {
    const char* name;
    const char* help;
    size_t slots;
};
constexpr CounterFamily kCounterFamilies[TS_FAM_COUNT] = {
    {"tcpscope_state_transitions_total",
     "TCP state changes, by the state left and the state entered (left = entered: close() after "
     "shutdown(), the kernel setting the state again)",
     TS_STATE_SLOTS * TS_STATE_SLOTS},
    {"tcpscope_resets_sent_total",
     "RSTs this host sent, by the kernel's reason (not_reported before Linux 6.10) and the "
     "sending socket's state",
     TS_REASON_SLOTS * TS_STATE_SLOTS},
    {"tcpscope_resets_received_total", "RSTs received, by the receiving socket's state",
     TS_STATE_SLOTS},
    {"tcpscope_retransmits_total",
     "Segments retransmitted (those that left), by the socket's state", TS_STATE_SLOTS},
    {"tcpscope_socket_errors_total",
     "Errors the kernel set on TCP sockets (what the application's next call returns), by errno",
     TS_ERRNO_SLOTS},
    {"tcpscope_sigpipe_total", "SIGPIPE generated, by what became of it (delivered, ignored, ...)",
     TS_SIGNAL_RESULT_SLOTS},
    {"tcpscope_drops_total",
     "TCP segments the kernel dropped, by its reason (enum skb_drop_reason as this kernel names "
     "it; NOT_SPECIFIED, QUEUE_PURGE and SOCKET_CLOSE only with --all-drops)",
     TS_DROP_REASON_SLOTS},
};

// The labels a slot of a family's array stands for.
std::vector<ClientMetric::Label> slot_labels(uint32_t family, uint32_t slot,
                                             const ResetReasons& reasons,
                                             const DropReasons& drop_reasons) {
    const int s = static_cast<int>(slot);
    switch (family) {
        case TS_FAM_TRANSITIONS:
            return {{"from", tcp_state_name(s / TS_STATE_SLOTS)},
                    {"to", tcp_state_name(s % TS_STATE_SLOTS)}};
        case TS_FAM_RESETS_SENT: {
            int reason = s / TS_STATE_SLOTS;
            return {{"reason", reason == TS_REASON_NOT_REPORTED ? "not_reported" : reasons.name(reason)},
                    {"state", tcp_state_name(s % TS_STATE_SLOTS)}};
        }
        case TS_FAM_RESETS_RECEIVED:
        case TS_FAM_RETRANSMITS:
            return {{"state", tcp_state_name(s)}};
        case TS_FAM_SOCKET_ERRORS:
            return {{"errno", errno_name(s)}};
        case TS_FAM_DROPS:
            return {{"reason", s == TS_DROP_REASON_SLOTS - 1 ? "other" : drop_reasons.name(s)}};
        default:
            return {{"result", signal_result_name(s)}};
    }
}

const uint64_t* family_array(const KernelCounts& c, uint32_t family) {
    switch (family) {
        case TS_FAM_TRANSITIONS: return c.transitions.data();
        case TS_FAM_RESETS_SENT: return c.resets_sent.data();
        case TS_FAM_RESETS_RECEIVED: return c.resets_received.data();
        case TS_FAM_RETRANSMITS: return c.retransmits.data();
        case TS_FAM_SOCKET_ERRORS: return c.socket_errors.data();
        case TS_FAM_DROPS: return c.drops.data();
        default: return c.sigpipe.data();
    }
}

}  // namespace

static std::string port_label(uint32_t port) { return port ? std::to_string(port) : ""; }

namespace {

// The labels --labels asked for, of one series.
std::vector<ClientMetric::Label> chosen_labels(const SeriesCount& sc, uint32_t label_mask) {
    std::vector<ClientMetric::Label> labels;
    if (label_mask & TS_LABEL_COMM) labels.push_back({"comm", sc.comm.empty() ? "?" : comm_text(sc.comm)});
    if (label_mask & TS_LABEL_NETNS) labels.push_back({"netns", std::to_string(sc.netns)});
    if (label_mask & TS_LABEL_PORT) labels.push_back({"port", port_label(sc.port)});
    if (label_mask & TS_LABEL_CONTAINER) labels.push_back({"container_id", sc.container});
    return labels;
}

}  // namespace

MetricFamily rtt_family(const KernelCounts& c) {
    auto rtt = family("tcpscope_rtt_seconds",
                      "The kernel's smoothed RTT of each connection at its end (ESTABLISHED ... "
                      "-> CLOSE, the connections of tcpscope_connection_duration_seconds)",
                      MetricType::Histogram);
    if (c.label_mask == 0) {
        add_histogram(&rtt, {}, &c.hist_buckets[static_cast<size_t>(TS_HIST_RTT * TS_BUCKET_SLOTS)],
                      c.hist_sum_ns[TS_HIST_RTT].seconds(), kRttLastBoundedBucket);
        return rtt;
    }
    // One histogram per label set, from its bucket and sum series (the
    // kernel makes a bucket's series at its first observation).
    struct Histogram {
        std::vector<ClientMetric::Label> labels;
        std::array<uint64_t, TS_BUCKETS> buckets{};
        uint64_t sum_us = 0;
    };
    std::map<std::string, Histogram> by_labels;
    for (const SeriesCount& sc : c.series) {
        if (sc.family != TS_FAM_RTT || sc.slot > TS_RTT_SUM_SLOT) continue;
        auto labels = chosen_labels(sc, c.label_mask);
        std::string id;
        for (const auto& l : labels) id += l.name + '\0' + l.value + '\0';
        Histogram& h = by_labels[id];
        h.labels = std::move(labels);
        if (sc.slot == TS_RTT_SUM_SLOT) {
            h.sum_us += sc.value;
        } else {
            h.buckets[sc.slot] += sc.value;
        }
    }
    for (auto& [id, h] : by_labels) {
        add_histogram(&rtt, std::move(h.labels), h.buckets.data(), static_cast<double>(h.sum_us) / 1e6,
                      kRttLastBoundedBucket);
    }
    return rtt;
}

std::vector<MetricFamily> kernel_families(const KernelCounts& c, const ResetReasons& reasons,
                                          const DropReasons& drop_reasons) {
    std::vector<MetricFamily> out;
    for (uint32_t f = 0; f < TS_FAM_COUNT; ++f) {
        out.push_back(family(kCounterFamilies[f].name, kCounterFamilies[f].help, MetricType::Counter));
    }
    if (c.label_mask == 0) {
        for (uint32_t f = 0; f < TS_FAM_COUNT; ++f) {
            const uint64_t* values = family_array(c, f);
            for (uint32_t slot = 0; slot < kCounterFamilies[f].slots; ++slot) {
                if (values[slot]) add_counter(&out[f], slot_labels(f, slot, reasons, drop_reasons), values[slot]);
            }
        }
    } else {
        // Series whose labels are the same are one: the kernel keys by
        // cgroup, and the cgroups of one container (or of the host) share
        // their container label.
        std::map<std::string, size_t> index;  // label set -> position in its family
        for (const SeriesCount& sc : c.series) {
            if (sc.family >= TS_FAM_COUNT || sc.slot >= kCounterFamilies[sc.family].slots) continue;
            auto labels = slot_labels(sc.family, sc.slot, reasons, drop_reasons);
            for (auto& l : chosen_labels(sc, c.label_mask)) labels.push_back(std::move(l));
            std::string id = std::to_string(sc.family) + '\0';
            for (const auto& l : labels) id += l.name + '\0' + l.value + '\0';
            MetricFamily& f = out[sc.family];
            auto [it, added] = index.emplace(std::move(id), f.metric.size());
            if (added) {
                add_counter(&f, std::move(labels), sc.value);
            } else {
                f.metric[it->second].counter.value += static_cast<double>(sc.value);
            }
        }
    }
    auto dropped = family("tcpscope_series_dropped_total",
                          "Counts not made because --max-series series existed already",
                          MetricType::Counter);
    add_counter(&dropped, {}, c.series_dropped);
    out.push_back(std::move(dropped));
    if (c.label_mask != 0) {
        auto expired = family("tcpscope_series_expired_total",
                              "Labelled series removed for having stayed unchanged for "
                              "--series-idle (one that comes back starts again from 0)",
                              MetricType::Counter);
        add_counter(&expired, {}, c.series_expired);
        out.push_back(std::move(expired));
    }

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
    out.push_back(rtt_family(c));
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

    auto scrapes = family("tcpscope_scrapes_total",
                          "Scrapes answered, by the format the scraper asked for (Accept header)",
                          MetricType::Counter);
    add_counter(&scrapes, {{"format", "openmetrics"}}, self.open_metrics_scrapes);
    add_counter(&scrapes, {{"format", "text"}}, self.text_scrapes);
    out.push_back(std::move(scrapes));

    // Always there, 0 included: an alert on a rise needs the series before it.
    auto refused = family("tcpscope_http_connections_refused_total",
                          "Connections to the endpoint closed at once: all connections taken "
                          "(connections_limit) or all of one address's (peer_limit)",
                          MetricType::Counter);
    add_counter(&refused, {{"reason", "connections_limit"}}, self.endpoint.refused_connections_limit);
    add_counter(&refused, {{"reason", "peer_limit"}}, self.endpoint.refused_connections_peer);
    out.push_back(std::move(refused));
    auto cut = family("tcpscope_http_requests_cut_total",
                      "Requests the endpoint cut off, with their connection: past their deadline "
                      "(TLS handshake included), past the request size limit, unparseable "
                      "(answered 400), or a failed TLS handshake",
                      MetricType::Counter);
    add_counter(&cut, {{"reason", "deadline"}}, self.endpoint.cut_deadline);
    add_counter(&cut, {{"reason", "too_large"}}, self.endpoint.cut_too_large);
    add_counter(&cut, {{"reason", "malformed"}}, self.endpoint.cut_malformed);
    add_counter(&cut, {{"reason", "tls_handshake"}}, self.endpoint.cut_tls);
    out.push_back(std::move(cut));

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

namespace tcpscope {

bool parse_label_names(const std::string& text, uint32_t* mask, std::string* error) {
    *mask = 0;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (name == "comm") {
            *mask |= TS_LABEL_COMM;
        } else if (name == "netns") {
            *mask |= TS_LABEL_NETNS;
        } else if (name == "port") {
            *mask |= TS_LABEL_PORT;
        } else if (name == "container") {
            *mask |= TS_LABEL_CONTAINER;
        } else {
            *error = "must be a list of comm, netns, port and container, e.g. comm,port";
            return false;
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return true;
}

}  // namespace tcpscope
