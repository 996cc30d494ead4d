// The metrics of `tcpscope metrics`, built at scrape time from what the
// kernel counted (KernelCounts) and what tcpscope knows of itself. Pure:
// the unit tests feed it counts and read the families back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "endpoint_counts.h"
#include "kernel_counts.h"
#include "names.h"

namespace tcpscope {

// The upper bound, in seconds, of histogram bucket k (0 .. TS_BUCKETS-2):
// 2^(13+k) ns, from 8.192 us to 2^42 ns (73 min). The last is +Inf.
double bucket_upper_bound_seconds(int k);

// --labels "comm,netns,port,container" into TS_LABEL_* bits; false with *error.
bool parse_label_names(const std::string& text, uint32_t* mask, std::string* error);

// A process name as a label value: printable ASCII, others as '?'.
std::string comm_text(const std::string& comm);

// The families counted in the kernel: transitions, resets, retransmits,
// socket errors, SIGPIPE, and the duration histograms. A labelled counter
// has a series for each label value the kernel has counted (a value never
// seen has no series); every histogram is always there. With --labels the
// counters come from counts.series, each with the chosen labels too (port
// "" when not known; container as SeriesCount::container says, series with
// the same labels added up), and tcpscope_series_dropped_total says what found the
// series limit reached.
// Drop reasons are named from drop_reasons (this kernel's enum
// skb_drop_reason), "REASON_<n>" where it has no name.
std::vector<prometheus::MetricFamily> kernel_families(const KernelCounts& counts,
                                                      const ResetReasons& reasons,
                                                      const DropReasons& drop_reasons = {});

// tcpscope_rtt_seconds: the smoothed RTT of each connection at its end, one
// histogram, or with --labels one per label set (from the TS_FAM_RTT
// series). Its buckets are the durations' powers of two from 8.192 us (a
// loopback RTT is tens of us) up to kRttLastBoundedBucket's 2^34 ns
// (17.2 s), then +Inf.
constexpr int kRttLastBoundedBucket = 21;
prometheus::MetricFamily rtt_family(const KernelCounts& counts);

// What tcpscope says about itself.
struct SelfInfo {
    std::string version;
    std::string kernel;           // uname -r
    std::vector<ProgramStats> programs;
    bool bpf_stats_enabled = false;  // kernel.bpf_stats_enabled: run time is counted
    double last_scrape_seconds = 0;  // how long the previous scrape took
    uint64_t text_scrapes = 0;          // scrapes answered so far, this one included,
    uint64_t open_metrics_scrapes = 0;  // by the format the scraper asked for
    EndpointCounts endpoint;
};
std::vector<prometheus::MetricFamily> self_families(const SelfInfo& self);

}  // namespace tcpscope
