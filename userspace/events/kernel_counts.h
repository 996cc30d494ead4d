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
    uint64_t cgroup_id = 0;  // the owner's cgroup v2 id; 0: not known
    // --labels container: the container the cgroup is in, filled by
    // userspace (metrics/container_labels.h), not read from the kernel.
    // The 64-hex ID, "" for no container, "?" when not known.
    std::string container;
    ts_series_key key{};  // the kernel's key, as read: what removing it takes
};

// A histogram's sum of observations in ns over every CPU, 128 bits wide as
// the kernel keeps it per CPU (struct ts_sum128): a u64 of ns would wrap in
// two days at 100,000 concurrent connections.
struct NsSum {
    uint64_t lo = 0;
    uint64_t hi = 0;

    // Adds one CPU's sum (or any 128-bit amount).
    void add(uint64_t add_lo, uint64_t add_hi) {
        lo += add_lo;
        hi += add_hi + (lo < add_lo ? 1 : 0);
    }
    double seconds() const { return (static_cast<double>(hi) * 18446744073709551616.0 + static_cast<double>(lo)) / 1e9; }
    bool operator==(const NsSum& o) const { return lo == o.lo && hi == o.hi; }
};

struct KernelCounts {
    // --labels (TS_LABEL_*): the counters are in `series`, not the arrays.
    uint32_t label_mask = 0;
    std::vector<SeriesCount> series;
    uint64_t series_dropped = 0;  // counts that found --max-series reached
    // Series removed so far for having gone idle (--series-idle): filled by
    // whoever removes them, not read from the kernel.
    uint64_t series_expired = 0;

    // [old * TS_STATE_SLOTS + new]
    std::array<uint64_t, TS_STATE_SLOTS * TS_STATE_SLOTS> transitions{};
    // [reason slot * TS_STATE_SLOTS + state]; reason slot TS_REASON_NOT_REPORTED
    // when the kernel gives no reason (before 6.10)
    std::array<uint64_t, TS_REASON_SLOTS * TS_STATE_SLOTS> resets_sent{};
    std::array<uint64_t, TS_STATE_SLOTS> resets_received{};
    std::array<uint64_t, TS_STATE_SLOTS> retransmits{};
    std::array<uint64_t, TS_ERRNO_SLOTS> socket_errors{};
    std::array<uint64_t, TS_SIGNAL_RESULT_SLOTS> sigpipe{};
    // [enum skb_drop_reason], the last slot for larger values
    std::array<uint64_t, TS_DROP_REASON_SLOTS> drops{};
    // [histogram * TS_BUCKET_SLOTS + bucket], not cumulative
    std::array<uint64_t, TS_HIST_COUNT * TS_BUCKET_SLOTS> hist_buckets{};
    std::array<NsSum, TS_HIST_COUNT> hist_sum_ns{};
};

// The kernel's own accounting of one of our programs (bpf_prog_info).
struct ProgramStats {
    std::string name;            // e.g. "handle_set_state"
    uint64_t run_time_ns = 0;    // only while kernel.bpf_stats_enabled is 1
    uint64_t run_count = 0;      // likewise
    uint64_t recursion_misses = 0;  // runs skipped: already running on that CPU
};

}  // namespace tcpscope
