// What `tcpscope metrics` reads from the kernel at each scrape: the per-CPU
// counter arrays of metrics mode (bpf/tcpscope.h), already summed over
// CPUs. A plain value, so that turning it into metrics is tested without
// root or libbpf.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <linux/types.h>

#include "tcpscope.h"

namespace tcpscope {

// One labelled series (--labels): a slot of a counter family's array, for
// one combination of the chosen labels.
struct SeriesCount {
    uint32_t family = 0;  // enum ts_counter_family
    uint32_t slot = 0;
    uint64_t netns = 0;
    uint32_t port = 0;    // 0: not known
    std::string comm;     // raw, up to TS_COMM_LEN bytes
    uint64_t value = 0;
};

struct KernelCounts {
    // --labels (TS_LABEL_*): the counters are in `series`, not the arrays.
    uint32_t label_mask = 0;
    std::vector<SeriesCount> series;
    uint64_t series_dropped = 0;  // counts that found --max-series reached

    // [old * TS_STATE_SLOTS + new]
    std::array<uint64_t, TS_STATE_SLOTS * TS_STATE_SLOTS> transitions{};
    // [reason slot * TS_STATE_SLOTS + state]; reason slot TS_REASON_NOT_REPORTED
    // when the kernel gives no reason (before 6.10)
    std::array<uint64_t, TS_REASON_SLOTS * TS_STATE_SLOTS> resets_sent{};
    std::array<uint64_t, TS_STATE_SLOTS> resets_received{};
    std::array<uint64_t, TS_STATE_SLOTS> retransmits{};
    std::array<uint64_t, TS_ERRNO_SLOTS> socket_errors{};
    std::array<uint64_t, TS_SIGNAL_RESULT_SLOTS> sigpipe{};
    // [histogram * TS_BUCKET_SLOTS + bucket], not cumulative
    std::array<uint64_t, TS_HIST_COUNT * TS_BUCKET_SLOTS> hist_buckets{};
    std::array<uint64_t, TS_HIST_COUNT> hist_sum_ns{};
};

// The kernel's own accounting of one of our programs (bpf_prog_info).
struct ProgramStats {
    std::string name;            // e.g. "handle_set_state"
    uint64_t run_time_ns = 0;    // only while kernel.bpf_stats_enabled is 1
    uint64_t run_count = 0;      // likewise
    uint64_t recursion_misses = 0;  // runs skipped: already running on that CPU
};

}  // namespace tcpscope
