// `tcpscope metrics`, the pure parts: the kernel's bucket of a duration,
// the bounds we publish for it, the families built from counts, the text
// format, and --listen.
#include <gtest/gtest.h>

#include <cmath>

#include "exposition.h"
#include "listen_address.h"
#include "metric_families.h"
#include "series_expiry.h"
#include "socket_census.h"

namespace tcpscope {
namespace {

TEST(MetricsBuckets, KernelBucketHoldsDurationsUpToItsBound) {
    // Bucket k holds ns <= 2^(13+k): the bound itself is in, one more is not.
    EXPECT_EQ(ts_duration_bucket(0), 0u);
    EXPECT_EQ(ts_duration_bucket(1), 0u);
    EXPECT_EQ(ts_duration_bucket(8192), 0u);
    EXPECT_EQ(ts_duration_bucket(8193), 1u);
    EXPECT_EQ(ts_duration_bucket(16384), 1u);
    for (int k = 0; k < TS_BUCKETS - 1; ++k) {
        uint64_t bound = 1ull << (TS_BUCKET_MIN_SHIFT + k);
        EXPECT_EQ(ts_duration_bucket(bound), static_cast<uint32_t>(k)) << k;
        EXPECT_EQ(ts_duration_bucket(bound + 1), static_cast<uint32_t>(k + 1)) << k;
        // The published bound is the same number, in seconds.
        EXPECT_DOUBLE_EQ(bucket_upper_bound_seconds(k) * 1e9, static_cast<double>(bound));
    }
    EXPECT_EQ(ts_duration_bucket(UINT64_MAX), static_cast<uint32_t>(TS_BUCKETS - 1));
    EXPECT_EQ(ts_fls64(0), 0u);
    EXPECT_EQ(ts_fls64(1), 1u);
    EXPECT_EQ(ts_fls64(UINT64_MAX), 64u);
}

TEST(MetricsBuckets, RangeIsTenMicrosecondsToAnHour) {
    EXPECT_LT(bucket_upper_bound_seconds(0), 10e-6);
    EXPECT_GT(bucket_upper_bound_seconds(TS_BUCKETS - 2), 3600);
}

const prometheus::MetricFamily* find(const std::vector<prometheus::MetricFamily>& fs,
                                     const std::string& name) {
    for (const auto& f : fs) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

TEST(MetricFamilies, CountsBecomeLabelledSeries) {
    KernelCounts c;
    c.transitions[7 * TS_STATE_SLOTS + 2] = 3;  // CLOSE -> SYN_SENT
    c.resets_sent[1 * TS_STATE_SLOTS + 7] = 2;  // NO_SOCKET in CLOSE
    c.resets_sent[TS_REASON_NOT_REPORTED * TS_STATE_SLOTS + 1] = 4;
    c.socket_errors[104] = 5;
    c.sigpipe[1] = 1;
    c.hist_buckets[TS_HIST_CONNECT * TS_BUCKET_SLOTS + 3] = 2;
    c.hist_buckets[TS_HIST_CONNECT * TS_BUCKET_SLOTS + TS_BUCKETS - 1] = 1;
    c.hist_sum_ns[TS_HIST_CONNECT].add(2500000000ull, 0);
    ResetReasons reasons({{1, "NO_SOCKET"}});
    auto fs = kernel_families(c, reasons);

    const auto* t = find(fs, "tcpscope_state_transitions_total");
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->metric.size(), 1u);  // only what was counted
    EXPECT_EQ(t->metric[0].label[0].value, "CLOSE");
    EXPECT_EQ(t->metric[0].label[1].value, "SYN_SENT");
    EXPECT_EQ(t->metric[0].counter.value, 3);

    std::string text = render_text_format(fs);
    EXPECT_NE(text.find("tcpscope_resets_sent_total{reason=\"NO_SOCKET\",state=\"CLOSE\"} 2"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_resets_sent_total{reason=\"not_reported\",state=\"ESTABLISHED\"} 4"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_socket_errors_total{errno=\"ECONNRESET\"} 5"), std::string::npos);
    EXPECT_NE(text.find("# TYPE tcpscope_connect_duration_seconds histogram"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_connect_duration_seconds_count 3"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_connect_duration_seconds_sum 2.5"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_connect_duration_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos);

    // Buckets are cumulative.
    const auto* h = find(fs, "tcpscope_connect_duration_seconds");
    ASSERT_NE(h, nullptr);
    const auto& b = h->metric[0].histogram.bucket;
    ASSERT_EQ(b.size(), static_cast<size_t>(TS_BUCKETS));
    EXPECT_EQ(b[2].cumulative_count, 0u);
    EXPECT_EQ(b[3].cumulative_count, 2u);
    EXPECT_EQ(b[TS_BUCKETS - 2].cumulative_count, 2u);
    EXPECT_TRUE(std::isinf(b[TS_BUCKETS - 1].upper_bound));

    // Every closing state has its histogram, empty or not.
    const auto* s = find(fs, "tcpscope_state_duration_seconds");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->metric.size(), 4u);
}

TEST(MetricFamilies, LabelledSeriesCarryTheChosenLabels) {
    KernelCounts c;
    c.label_mask = TS_LABEL_COMM | TS_LABEL_PORT;
    c.series.push_back({TS_FAM_TRANSITIONS, 7 * TS_STATE_SLOTS + 2, 0, 5432, "psql", 4});
    c.series.push_back({TS_FAM_SOCKET_ERRORS, 104, 0, 0, std::string("a\x01") + "b", 1});
    c.series.push_back({TS_FAM_SOCKET_ERRORS, 9999, 0, 0, "bad slot", 1});  // ignored
    c.series_dropped = 7;
    c.transitions[0] = 99;  // the arrays are not used with labels
    std::string text = render_text_format(kernel_families(c, ResetReasons()));
    EXPECT_NE(text.find("tcpscope_state_transitions_total{from=\"CLOSE\",to=\"SYN_SENT\",comm=\"psql\",port=\"5432\"} 4"),
              std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_socket_errors_total{errno=\"ECONNRESET\",comm=\"a?b\",port=\"\"} 1"),
              std::string::npos);
    EXPECT_EQ(text.find("bad slot"), std::string::npos);
    EXPECT_EQ(text.find(" 99"), std::string::npos);
    EXPECT_EQ(text.find("netns="), std::string::npos);
    EXPECT_NE(text.find("tcpscope_series_dropped_total 7"), std::string::npos);
}

// The histograms' sums: the connection-lifetime sum grows by the number of
// open connections every second (Little's law). At 100,000 of them a u64
// of ns wrapped after 2.1 days; the kernel's 128-bit per-CPU sum and its
// total over CPUs hold a year of it (and far more) exactly.
TEST(MetricFamilies, HistogramSumDoesNotWrapAtOneHundredThousandConnectionsForAYear) {
    constexpr uint64_t kPerSecondNs = 100000ull * 1000000000ull;  // 10^14 ns a second
    constexpr uint64_t kSecondsPerYear = 365ull * 86400;
    // Two CPUs, each adding half of it, one close a second each.
    ts_sum128 cpu[2] = {};
    for (uint64_t s = 0; s < kSecondsPerYear; ++s) {
        ts_sum128_add(&cpu[0], kPerSecondNs / 2);
        ts_sum128_add(&cpu[1], kPerSecondNs / 2);
    }
    EXPECT_GT(cpu[0].hi, 0u) << "past 2^64 ns on one CPU";
    KernelCounts c;
    for (const auto& v : cpu) c.hist_sum_ns[TS_HIST_CONNECTION].add(v.lo, v.hi);
    const double expected_s = 1e5 * static_cast<double>(kSecondsPerYear);  // 3.15e12 s
    EXPECT_NEAR(c.hist_sum_ns[TS_HIST_CONNECTION].seconds(), expected_s, expected_s * 1e-12);
    const auto fs = kernel_families(c, ResetReasons());
    const auto* h = find(fs, "tcpscope_connection_duration_seconds");
    ASSERT_NE(h, nullptr);
    EXPECT_NEAR(h->metric[0].histogram.sample_sum, expected_s, expected_s * 1e-12);

    // The carry itself, at the edge of the low word, on a CPU and over CPUs.
    ts_sum128 edge = {UINT64_MAX - 5, 0};
    ts_sum128_add(&edge, 10);
    EXPECT_EQ(edge.lo, 4u);
    EXPECT_EQ(edge.hi, 1u);
    NsSum total;
    total.add(UINT64_MAX, 0);
    total.add(2, 1);
    EXPECT_EQ(total.lo, 1u);
    EXPECT_EQ(total.hi, 2u);
    EXPECT_DOUBLE_EQ(total.seconds(), (2.0 * 18446744073709551616.0 + 1) / 1e9);
}

// A series is idle once its value has not moved for the idle time, counted
// from the first reading that saw it as it is; a series gone from a reading
// is forgotten, and an expired one too (if it comes back, it is new).
TEST(SeriesExpiry, SeriesUnchangedForTheIdleTimeExpire) {
    const uint64_t s = 1000000000ull;
    SeriesExpiry expiry(10 * s);
    auto series = [](uint32_t port, uint64_t value) {
        SeriesCount c;
        c.family = TS_FAM_TRANSITIONS;
        c.port = port;
        c.key.port = port;
        c.value = value;
        return c;
    };
    EXPECT_TRUE(expiry.idle({series(1, 1), series(2, 5)}, 100 * s).empty());
    EXPECT_TRUE(expiry.idle({series(1, 1), series(2, 6)}, 105 * s).empty());
    auto idle = expiry.idle({series(1, 1), series(2, 6)}, 110 * s);
    ASSERT_EQ(idle.size(), 1u);
    EXPECT_EQ(idle[0].port, 1u);
    EXPECT_EQ(idle[0].value, 1u);
    EXPECT_EQ(expiry.tracked(), 1u) << "the expired one is forgotten";
    EXPECT_TRUE(expiry.idle({series(1, 1), series(2, 6)}, 114 * s).empty()) << "port 1 is new again";
    idle = expiry.idle({series(1, 1), series(2, 6)}, 115 * s);
    ASSERT_EQ(idle.size(), 1u);
    EXPECT_EQ(idle[0].port, 2u) << "unchanged since 105 s";
    // Gone from a reading: forgotten, so a return is a new sighting.
    EXPECT_TRUE(expiry.idle({}, 116 * s).empty());
    EXPECT_EQ(expiry.tracked(), 0u);
    EXPECT_TRUE(expiry.idle({series(1, 1)}, 130 * s).empty());
}

// tcpscope_rtt_seconds without labels: the kernel's RTT histogram, its
// srtt in us bucketed as ns (41.2 ms -> bucket of 2^26 ns = 67 ms), bounds
// from 8.192 us to 17.2 s, then +Inf holding what lies above.
TEST(MetricFamilies, RttHistogramFromTheKernelsBuckets) {
    KernelCounts c;
    auto observe = [&](uint64_t srtt_us) {
        uint64_t ns = srtt_us * 1000;
        c.hist_buckets[TS_HIST_RTT * TS_BUCKET_SLOTS + ts_duration_bucket(ns)] += 1;
        c.hist_sum_ns[TS_HIST_RTT].add(ns, 0);
    };
    observe(12);       // loopback
    observe(41234);    // netem 2 x 20 ms
    observe(41234);
    observe(3600000000ull);  // an hour: past the last bound
    EXPECT_EQ(ts_duration_bucket(41234000), 13u);  // <= 2^26 ns
    const auto fs = kernel_families(c, ResetReasons());
    const auto* f = find(fs, "tcpscope_rtt_seconds");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->type, prometheus::MetricType::Histogram);
    ASSERT_EQ(f->metric.size(), 1u);
    const auto& h = f->metric[0].histogram;
    EXPECT_EQ(h.sample_count, 4u);
    EXPECT_NEAR(h.sample_sum, 12e-6 + 2 * 41.234e-3 + 3600, 1e-9);
    ASSERT_EQ(h.bucket.size(), static_cast<size_t>(kRttLastBoundedBucket + 2));
    EXPECT_NEAR(h.bucket.front().upper_bound, 8.192e-6, 1e-12);
    EXPECT_EQ(h.bucket.front().cumulative_count, 0u) << "12 us is above 8.192 us";
    EXPECT_EQ(h.bucket[1].cumulative_count, 1u) << "<= 16.384 us";
    EXPECT_NEAR(h.bucket[kRttLastBoundedBucket].upper_bound, 17.179869184, 1e-9);
    EXPECT_EQ(h.bucket[kRttLastBoundedBucket].cumulative_count, 3u);
    EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
    EXPECT_EQ(h.bucket.back().cumulative_count, 4u);
    EXPECT_EQ(h.bucket[13].cumulative_count, 3u);
    EXPECT_EQ(h.bucket[12].cumulative_count, 1u);
    // Cumulative counts never fall.
    for (size_t k = 1; k < h.bucket.size(); ++k) {
        EXPECT_GE(h.bucket[k].cumulative_count, h.bucket[k - 1].cumulative_count) << k;
    }
    // No connection ended: the family is still there, empty.
    const auto* empty = find(kernel_families(KernelCounts(), ResetReasons()), "tcpscope_rtt_seconds");
    ASSERT_NE(empty, nullptr);
    ASSERT_EQ(empty->metric.size(), 1u);
    EXPECT_EQ(empty->metric[0].histogram.sample_count, 0u);
}

SeriesCount rtt_series(uint32_t port, uint32_t slot, uint64_t value) {
    SeriesCount sc;
    sc.family = TS_FAM_RTT;
    sc.slot = slot;
    sc.port = port;
    sc.key.family = TS_FAM_RTT;
    sc.key.slot = slot;
    sc.key.port = port;
    sc.value = value;
    return sc;
}

// With --labels port: one histogram per port from the bucket and sum series
// the kernel made (series of other families are not taken for it).
TEST(MetricFamilies, RttHistogramByPortFromTheSeries) {
    KernelCounts c;
    c.label_mask = TS_LABEL_PORT;
    c.series = {rtt_series(443, 13, 2), rtt_series(443, TS_RTT_SUM_SLOT, 82468),
                rtt_series(443, 1, 1), rtt_series(6379, 2, 5),
                rtt_series(6379, TS_RTT_SUM_SLOT, 100)};
    SeriesCount other;
    other.family = TS_FAM_RETRANSMITS;
    other.slot = 1;
    other.port = 443;
    other.value = 9;
    c.series.push_back(other);
    std::string text = render_text_format(kernel_families(c, ResetReasons()));
    EXPECT_NE(text.find("tcpscope_rtt_seconds_count{port=\"443\"} 3"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_rtt_seconds_sum{port=\"443\"} 0.082468"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_rtt_seconds_count{port=\"6379\"} 5"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_rtt_seconds_bucket{port=\"443\",le=\"1.6384e-05\"} 1"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("tcpscope_rtt_seconds_bucket{port=\"443\",le=\"+Inf\"} 3"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("tcpscope_rtt_seconds_count 0"), std::string::npos)
        << "no unlabelled histogram beside the labelled ones";
}

// The series of one RTT histogram expire together, when its count stops:
// a bucket alone never (its cumulative counts above would fall).
TEST(SeriesExpiry, AnRttHistogramExpiresWhole) {
    const uint64_t s = 1000000000ull;
    SeriesExpiry expiry(10 * s);
    // Bucket 1 stays at 1 while bucket 13 and the sum move.
    EXPECT_TRUE(expiry.idle({rtt_series(443, 1, 1), rtt_series(443, 13, 1),
                             rtt_series(443, TS_RTT_SUM_SLOT, 50)},
                            100 * s)
                    .empty());
    EXPECT_TRUE(expiry.idle({rtt_series(443, 1, 1), rtt_series(443, 13, 2),
                             rtt_series(443, TS_RTT_SUM_SLOT, 90)},
                            108 * s)
                    .empty());
    EXPECT_TRUE(expiry.idle({rtt_series(443, 1, 1), rtt_series(443, 13, 2),
                             rtt_series(443, TS_RTT_SUM_SLOT, 90)},
                            112 * s)
                    .empty())
        << "bucket 1 unchanged for 12 s, but its histogram moved at 108 s";
    auto idle = expiry.idle({rtt_series(443, 1, 1), rtt_series(443, 13, 2),
                             rtt_series(443, TS_RTT_SUM_SLOT, 90)},
                            118 * s);
    EXPECT_EQ(idle.size(), 3u) << "the whole histogram, idle since 108 s";
}

TEST(MetricFamilies, LabelledSeriesSayHowManyExpired) {
    KernelCounts c;
    c.label_mask = TS_LABEL_PORT;
    c.series_expired = 12;
    std::string text = render_text_format(kernel_families(c, ResetReasons()));
    EXPECT_NE(text.find("tcpscope_series_expired_total 12"), std::string::npos) << text;
    c.label_mask = 0;
    text = render_text_format(kernel_families(c, ResetReasons()));
    EXPECT_EQ(text.find("tcpscope_series_expired_total"), std::string::npos);
}

TEST(MetricFamilies, LabelNames) {
    uint32_t mask = 0;
    std::string error;
    ASSERT_TRUE(parse_label_names("comm,port", &mask, &error));
    EXPECT_EQ(mask, TS_LABEL_COMM | TS_LABEL_PORT);
    ASSERT_TRUE(parse_label_names("netns", &mask, &error));
    EXPECT_EQ(mask, TS_LABEL_NETNS);
    for (const char* bad : {"", "pid", "comm,", ",comm", "comm,,port", "addr"}) {
        EXPECT_FALSE(parse_label_names(bad, &mask, &error)) << bad;
    }
}

TEST(MetricFamilies, SelfMetrics) {
    SelfInfo self;
    self.version = "0.1.0";
    self.kernel = "6.18.0";
    self.programs = {{"handle_set_state", 2000000000, 10, 3}, {"handle_signal", 0, 0, 1}};
    std::string text = render_text_format(self_families(self));
    EXPECT_NE(text.find("tcpscope_build_info{version=\"0.1.0\",kernel=\"6.18.0\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_events_lost_total{reason=\"program_skipped\"} 4"), std::string::npos);
    // No run time unless the kernel counts it.
    EXPECT_EQ(text.find("tcpscope_bpf_program_run_seconds_total"), std::string::npos);
    self.bpf_stats_enabled = true;
    text = render_text_format(self_families(self));
    EXPECT_NE(text.find("tcpscope_bpf_program_run_seconds_total{program=\"handle_set_state\"} 2"), std::string::npos);
}

TEST(SocketCensus, CloseWaitByOwnerKeepsTheOldestKnownAge) {
    SocketCensus census;
    census.by_state[1] = 3;   // ESTABLISHED
    census.by_state[8] = 3;   // CLOSE_WAIT
    census.add_close_wait("app", true, 5);
    census.add_close_wait("app", false, 0);
    census.add_close_wait("app", true, 700);
    census.add_close_wait("?", false, 0);
    std::string text = render_text_format(census_families(census));
    EXPECT_NE(text.find("tcpscope_sockets{state=\"ESTABLISHED\"} 3"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_close_wait_sockets{comm=\"app\"} 3"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_close_wait_sockets{comm=\"?\"} 1"), std::string::npos);
    EXPECT_NE(text.find("tcpscope_close_wait_oldest_seconds{comm=\"app\"} 700"), std::string::npos);
    // No age is made up for sockets whose entry into CLOSE_WAIT was not seen.
    EXPECT_EQ(text.find("tcpscope_close_wait_oldest_seconds{comm=\"?\"}"), std::string::npos);
    EXPECT_EQ(text.find("state=\"SYN_SENT\""), std::string::npos);
}

// --labels container: the CLOSE_WAIT gauges by owner and container, so that
// a leak in one replica of a service is told from the others; the host's
// processes under "", nobody's socket under "?".
TEST(SocketCensus, CloseWaitByContainerWhenGivenTheContainers) {
    SocketSnapshot snapshot;
    auto close_wait = [](uint32_t pid, const char* comm, uint64_t cgroup_id, uint64_t entered) {
        SocketRecord r;
        r.state = 8;  // CLOSE_WAIT
        r.pid = pid;
        r.comm = comm;
        r.cgroup_id = cgroup_id;
        r.state_ts = entered;
        return r;
    };
    snapshot.sockets = {close_wait(10, "api", 101, 5), close_wait(10, "api", 101, 7), close_wait(11, "api", 102, 9),
                        close_wait(12, "api", 1, 9), close_wait(0, "", 0, 0)};
    snapshot.taken_ns = 10;
    auto container_of = [](uint64_t cgroup_id) -> std::string {
        return cgroup_id == 101 ? "aaaa" : cgroup_id == 102 ? "bbbb" : "";
    };
    SocketCensus census = census_of(snapshot, nullptr, container_of);
    EXPECT_EQ(census.close_wait.size(), 4u);
    EXPECT_EQ((census.close_wait[{"api", "aaaa"}].sockets), 2u);
    EXPECT_EQ((census.close_wait[{"api", "bbbb"}].sockets), 1u);
    EXPECT_EQ((census.close_wait[{"api", ""}].sockets), 1u);
    EXPECT_EQ((census.close_wait[{"?", "?"}].sockets), 1u);
    std::string text = render_text_format(census_families(census));
    EXPECT_NE(text.find("tcpscope_close_wait_sockets{comm=\"api\",container_id=\"aaaa\"} 2"), std::string::npos)
        << text;
    EXPECT_NE(text.find("tcpscope_close_wait_oldest_seconds{comm=\"api\",container_id=\"aaaa\"} "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("tcpscope_close_wait_sockets{comm=\"api\",container_id=\"\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_close_wait_sockets{comm=\"?\",container_id=\"?\"} 1"), std::string::npos) << text;
    // Without the containers (no --labels container): by owner alone, no such label.
    SocketCensus plain = census_of(snapshot);
    EXPECT_EQ((plain.close_wait["api"].sockets), 4u);
    EXPECT_EQ(render_text_format(census_families(plain)).find("container_id"), std::string::npos);
}

// Listeners by port: two SO_REUSEPORT listeners of one port add up; the
// ports past the bound add up under "other".
TEST(SocketCensus, ListenersByPortWithTheirQueueBacklogAndDrops) {
    SocketSnapshot snapshot;
    auto listener = [](uint16_t port, uint32_t queue, uint32_t backlog, uint64_t drops) {
        SocketRecord r;
        r.state = 10;  // LISTEN
        r.local = {"127.0.0.1", port};
        r.recv_q = queue;
        r.send_q = backlog;
        r.drops = drops;
        return r;
    };
    snapshot.sockets = {listener(8080, 2, 1, 6), listener(8080, 0, 128, 0), listener(5432, 0, 244, 0)};
    std::string text = render_text_format(census_families(census_of(snapshot)));
    EXPECT_NE(text.find("tcpscope_listen_queue{port=\"8080\"} 2"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_listen_backlog{port=\"8080\"} 129"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_listen_drops_total{port=\"8080\"} 6"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_listen_drops_total{port=\"5432\"} 0"), std::string::npos) << text;
    EXPECT_NE(text.find("tcpscope_sockets{state=\"LISTEN\"} 3"), std::string::npos) << text;
    snapshot.sockets.clear();
    for (uint32_t p = 1; p <= SocketCensus::kMaxListenPorts + 10; ++p) {
        snapshot.sockets.push_back(listener(static_cast<uint16_t>(p), 0, 1, 1));
    }
    SocketCensus many = census_of(snapshot);
    EXPECT_EQ(many.listen.size(), SocketCensus::kMaxListenPorts + 1);
    EXPECT_EQ(many.listen[0].drops, 10u) << "the ports past the bound, under other";
}

// A CLOSE_WAIT socket older than tcpscope (no entry seen: state_ts 0) has
// an age all the same: at least since a census first found it there. On
// main it had none, and the leak alert, which needs an age, never fired.
TEST(SocketCensus, CloseWaitOlderThanTcpscopeAgesFromItsFirstSighting) {
    const uint64_t s = 1000000000ull;
    SocketSnapshot snapshot;
    SocketRecord leak;
    leak.cookie = 7;
    leak.state = 8;  // CLOSE_WAIT, entered before tcpscope started
    leak.pid = 42;
    leak.comm = "app";
    snapshot.sockets = {leak};
    snapshot.taken_ns = 100 * s;
    CloseWaitAges ages;
    ages.update(snapshot);
    auto census = census_of(snapshot, &ages);
    ASSERT_TRUE(census.close_wait["app"].age_known);
    EXPECT_EQ(census.close_wait["app"].oldest_seconds, 0);
    snapshot.taken_ns = 760 * s;
    ages.update(snapshot);
    census = census_of(snapshot, &ages);
    EXPECT_DOUBLE_EQ(census.close_wait["app"].oldest_seconds, 660);
    std::string text = render_text_format(census_families(census));
    EXPECT_NE(text.find("tcpscope_close_wait_oldest_seconds{comm=\"app\"} 660"), std::string::npos) << text;
    // Without the sightings (main's census) it has no age.
    EXPECT_FALSE(census_of(snapshot).close_wait["app"].age_known);
    // It leaves CLOSE_WAIT: forgotten.
    snapshot.sockets[0].state = 9;
    ages.update(snapshot);
    EXPECT_EQ(ages.tracked(), 0u);
}

TEST(SocketCensus, CommLabelIsPrintable) {
    const char comm[16] = {'a', '\n', 'b', '\xff', 0};
    EXPECT_EQ(comm_label(comm, 16), "a?b?");
    const char full[16] = {'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
    EXPECT_EQ(comm_label(full, 16).size(), 16u);  // no terminator: stops at 16
    EXPECT_EQ(comm_label("", 16), "?");
}

TEST(ListenAddress, Forms) {
    ListenAddress a;
    std::string error;
    ASSERT_TRUE(parse_listen_address("127.0.0.1:19979", &a, &error));
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 19979);
    EXPECT_TRUE(a.loopback);
    ASSERT_TRUE(parse_listen_address("[::1]:80", &a, &error));
    EXPECT_EQ(a.host, "::1");
    EXPECT_TRUE(a.loopback);
    EXPECT_EQ(listen_address_text(a), "[::1]:80");
    ASSERT_TRUE(parse_listen_address("0.0.0.0:19979", &a, &error));
    EXPECT_FALSE(a.loopback);
    ASSERT_TRUE(parse_listen_address(":19979", &a, &error));
    EXPECT_EQ(a.host, "127.0.0.1");
    for (const char* bad : {"", "19979", "localhost:19979", "127.0.0.1:", "127.0.0.1:0",
                            "127.0.0.1:65536", "::1:80", "[127.0.0.1]:80", "1.2.3.4:8x"}) {
        EXPECT_FALSE(parse_listen_address(bad, &a, &error)) << bad;
        EXPECT_NE(error.find("ADDRESS:PORT"), std::string::npos);
    }
}

}  // namespace
}  // namespace tcpscope
