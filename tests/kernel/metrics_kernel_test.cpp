// Kernel tier: metrics mode (`tcpscope metrics`). The programs count into
// per-CPU arrays; what they counted for a namespace of the test's own must
// equal that namespace's SNMP counters (nstat), and the histograms must hold
// one observation per connection. Runs on every kernel of the matrix, so
// the counting path is verified on 6.1 and 6.12 too.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "command_cgroup.h"
#include "kernel_test_support.h"
#include "series_expiry.h"

namespace ktest {
namespace {

constexpr int kClosed = 10;   // connections closed with FIN by both sides
constexpr int kAborts = 5;    // closed by the client with SO_LINGER 0 (RST)
constexpr int kRefused = 5;   // connects to a closed port

void workload_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-metrics");
    // The test starts up to three tracers first: under qemu TCG on a busy
    // host that took more than the default 20 s (6.12, the labelled test).
    json m = io.expect("go", 120000);
    uint16_t port = m.at("port");
    int lfd = tcp_listen("127.0.0.1", port);
    for (int i = 0; i < kClosed + kAborts; ++i) {
        int cfd = tcp_connect("127.0.0.1", port);
        if (cfd < 0) {
            errno = -cfd;
            fail("connect");
        }
        int afd = accept_timeout(lfd, 5000);
        char c = 'x';
        if (send(cfd, &c, 1, 0) != 1 || recv(afd, &c, 1, 0) != 1) fail("exchange");
        if (i >= kClosed) set_linger_zero(cfd);
        close(cfd);
        recv(afd, &c, 1, 0);  // EOF, or ECONNRESET after an abort
        close(afd);
    }
    close(lfd);
    for (int i = 0; i < kRefused; ++i) {
        int r = tcp_connect("127.0.0.1", static_cast<uint16_t>(port + 1));
        if (r >= 0) close(r);
    }
    io.report({{"type", "done"}});
    io.expect("exit");
}

uint64_t transition(const tcpscope::KernelCounts& c, int from, int to) {
    return c.transitions[static_cast<size_t>(from * TS_STATE_SLOTS + to)];
}

uint64_t hist_count(const tcpscope::KernelCounts& c, int hist) {
    uint64_t n = 0;
    for (int k = 0; k < TS_BUCKETS; ++k) n += c.hist_buckets[static_cast<size_t>(hist * TS_BUCKET_SLOTS + k)];
    return n;
}

TEST(KernelMetrics, CountsInTheKernelMatchNstatAndHistogramsCountConnections) {
    KTEST_REQUIRE_ROOT();
    auto helper = Helper::in_new_netns(workload_body);
    tcpscope::FilterOptions options;
    options.netns = helper->netns_path();
    tcpscope::TracerConfig config;
    std::string error;
    ASSERT_TRUE(tcpscope::build_host_filter(options, &config.filter, &error)) << error;
    config.metrics_mode = true;
    tcpscope::TracerError terr;
    auto tracer = tcpscope::Tracer::start(config, [](const void*, size_t) { ADD_FAILURE() << "a record in metrics mode"; }, &terr);
    ASSERT_TRUE(tracer) << terr.text();

    helper->send({{"type", "go"}, {"port", unique_port()}});
    helper->expect("done", 30000);
    auto counters = nstat(helper->pid());
    // The last closes finish in softirq right after the calls return.
    tcpscope::KernelCounts c;
    const int kConnections = kClosed + kAborts;
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(tracer->read_counts(&c));
        if (hist_count(c, TS_HIST_CONNECTION) >= 2u * kConnections) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const int CLOSE = 7, SYN_SENT = 2, SYN_RECV = 3, ESTABLISHED = 1, CLOSE_WAIT = 8, LISTEN = 10;
    EXPECT_EQ(transition(c, CLOSE, SYN_SENT), counters["TcpActiveOpens"]);
    EXPECT_EQ(transition(c, LISTEN, SYN_RECV), counters["TcpPassiveOpens"]);
    EXPECT_EQ(transition(c, SYN_SENT, CLOSE) + transition(c, SYN_RECV, CLOSE), counters["TcpAttemptFails"]);
    EXPECT_EQ(transition(c, ESTABLISHED, CLOSE) + transition(c, CLOSE_WAIT, CLOSE), counters["TcpEstabResets"]);
    uint64_t rsts = 0;
    for (uint64_t n : c.resets_sent) rsts += n;
    if (kernel_support().shows(tcpscope::KernelFeature::ResetWithoutSocket)) {
        EXPECT_EQ(rsts, counters["TcpOutRsts"]);
    } else {
        // Before 6.10 only the RSTs of full sockets are traced.
        EXPECT_EQ(rsts, counters["TcpExtTCPAbortOnClose"] + counters["TcpExtTCPAbortOnData"] +
                            counters["TcpExtTCPAbortOnLinger"]);
    }
    uint64_t retrans = 0;
    for (uint64_t n : c.retransmits) retrans += n;
    EXPECT_EQ(retrans, counters["TcpRetransSegs"]);
    EXPECT_EQ(counters["TcpActiveOpens"], static_cast<uint64_t>(kConnections + kRefused));
    EXPECT_EQ(hist_count(c, TS_HIST_CONNECT), static_cast<uint64_t>(kConnections));
    EXPECT_EQ(hist_count(c, TS_HIST_ACCEPT), static_cast<uint64_t>(kConnections));
    EXPECT_EQ(hist_count(c, TS_HIST_CONNECTION), 2u * kConnections);
    // The smoothed RTT at the end of the same connections: each side timed
    // its handshake at least (loopback: a few us, never 0 in the kernel).
    EXPECT_EQ(hist_count(c, TS_HIST_RTT), 2u * kConnections);
    EXPECT_GE(c.hist_sum_ns[TS_HIST_RTT].lo, 2u * kConnections * 1000u) << "at least 1 us each";
    EXPECT_EQ(c.hist_sum_ns[TS_HIST_RTT].lo % 1000u, 0u) << "whole microseconds";
    EXPECT_EQ(c.socket_errors[ECONNREFUSED], static_cast<uint64_t>(kRefused));
    EXPECT_EQ(c.socket_errors[ECONNRESET], static_cast<uint64_t>(kAborts));
    helper->send({{"type", "exit"}});
    helper->join();
}

}  // namespace
}  // namespace ktest

namespace ktest {
namespace {

std::unique_ptr<tcpscope::Tracer> start_metrics(const Helper& helper, uint32_t label_mask,
                                                uint32_t max_series) {
    tcpscope::FilterOptions options;
    options.netns = helper.netns_path();
    tcpscope::TracerConfig config;
    std::string error;
    EXPECT_TRUE(tcpscope::build_host_filter(options, &config.filter, &error)) << error;
    config.metrics_mode = true;
    config.label_mask = label_mask;
    config.max_series = max_series;
    tcpscope::TracerError terr;
    auto tracer = tcpscope::Tracer::start(config, [](const void*, size_t) {}, &terr);
    EXPECT_TRUE(tracer) << terr.text();
    return tracer;
}

uint64_t unlabelled_total(const tcpscope::KernelCounts& c) {
    uint64_t n = 0;
    for (auto v : c.transitions) n += v;
    for (auto v : c.resets_sent) n += v;
    for (auto v : c.resets_received) n += v;
    for (auto v : c.retransmits) n += v;
    for (auto v : c.socket_errors) n += v;
    for (auto v : c.sigpipe) n += v;
    for (auto v : c.drops) n += v;
    return n;
}

// --labels comm,netns,port: every series names the workload's process (but
// the RSTs sent with no socket, which belong to nobody), its
// namespace, and a service port (the listener's, or the closed port the
// refused connects were for), never an ephemeral one. A second tracer with
// --max-series 3, at the same time, keeps 3 series and counts the rest as
// dropped: labelled counts plus dropped equal the unlabelled counts.
TEST(KernelMetrics, LabelsNameOwnerNamespaceAndServicePortUnderTheSeriesLimit) {
    KTEST_REQUIRE_ROOT();
    auto helper = Helper::in_new_netns(workload_body);
    auto plain = start_metrics(*helper, 0, 1);
    auto labelled = start_metrics(*helper, TS_LABEL_COMM | TS_LABEL_NETNS | TS_LABEL_PORT, 10000);
    auto limited = start_metrics(*helper, TS_LABEL_PORT, 3);
    ASSERT_TRUE(plain && labelled && limited);
    const uint16_t port = unique_port();
    helper->send({{"type", "go"}, {"port", port}});
    helper->expect("done", 30000);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    tcpscope::KernelCounts p, l, m;
    ASSERT_TRUE(plain->read_counts(&p));
    ASSERT_TRUE(labelled->read_counts(&l));
    ASSERT_TRUE(limited->read_counts(&m));

    uint64_t labelled_sum = 0;
    uint64_t rtt_count = 0, rtt_sum_us = 0;
    for (const auto& s : l.series) {
        if (s.family == TS_FAM_RTT) {
            // The RTT histogram of the service's connections, by its port.
            EXPECT_EQ(s.port, port) << "RTT slot " << s.slot;
            EXPECT_EQ(s.comm, "tst-metrics");
            EXPECT_EQ(s.netns, helper->netns());
            (s.slot == TS_RTT_SUM_SLOT ? rtt_sum_us : rtt_count) += s.value;
            continue;
        }
        labelled_sum += s.value;
        EXPECT_EQ(s.netns, helper->netns());
        // RSTs sent with no socket, and the SYNs they answer (dropped:
        // NO_SOCKET), belong to nobody and have no port: the port is
        // whatever the sender chose.
        if ((s.family == TS_FAM_RESETS_SENT || s.family == TS_FAM_DROPS) && s.comm.empty()) {
            EXPECT_EQ(s.port, 0u) << "a RST or drop with no socket has no port label";
            continue;
        }
        EXPECT_EQ(s.comm, "tst-metrics") << "family " << s.family << " slot " << s.slot;
        EXPECT_TRUE(s.port == port || s.port == port + 1)
            << "port " << s.port << " (service ports: " << port << ", " << port + 1 << ")";
    }
    EXPECT_EQ(l.series_dropped, 0u);
    EXPECT_EQ(labelled_sum, unlabelled_total(p));
    // The same observations as the unlabelled histogram, to the microsecond.
    EXPECT_EQ(rtt_count, hist_count(p, TS_HIST_RTT));
    EXPECT_EQ(rtt_count, 2u * (kClosed + kAborts));
    EXPECT_EQ(rtt_sum_us * 1000, p.hist_sum_ns[TS_HIST_RTT].lo);

    // The 3 series are taken by the first counts (the listen, the first
    // connect), long before a connection ends: each RTT observation then
    // finds no room for its bucket and its sum, 2 dropped counts.
    uint64_t limited_sum = 0;
    for (const auto& s : m.series) {
        EXPECT_NE(s.family, static_cast<uint32_t>(TS_FAM_RTT));
        limited_sum += s.value;
    }
    EXPECT_EQ(m.series.size(), 3u);
    EXPECT_GT(m.series_dropped, 0u);
    EXPECT_EQ(limited_sum + m.series_dropped, unlabelled_total(p) + 2 * hist_count(p, TS_HIST_RTT));
    helper->send({{"type", "exit"}});
    helper->join();
}

}  // namespace
}  // namespace ktest

namespace ktest {
namespace {

// The RFC 1071 sum of a TCP segment and its IPv4 pseudo-header.
uint16_t tcp_checksum(uint32_t saddr, uint32_t daddr, const void* segment, size_t len) {
    uint32_t sum = 0;
    auto add16 = [&](const uint8_t* p, size_t n) {
        for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
        if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
    };
    add16(reinterpret_cast<const uint8_t*>(&saddr), 4);
    add16(reinterpret_cast<const uint8_t*>(&daddr), 4);
    sum += IPPROTO_TCP + static_cast<uint32_t>(len);
    add16(static_cast<const uint8_t*>(segment), len);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return htons(static_cast<uint16_t>(~sum));
}

// A SYN scan, as nmap -sS sends it: a bare SYN from a raw socket to each
// port, no socket of TCP's own on the sending side, so the only TCP events
// are the RSTs the kernel sends with no socket for the closed ports.
void syn_scan(uint16_t first, int count) {
    int raw = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
    if (raw < 0) fail("raw socket");
    const uint32_t lo = htonl(INADDR_LOOPBACK);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = lo;
    for (int i = 0; i < count; ++i) {
        tcphdr th{};
        th.source = htons(45000);
        th.dest = htons(static_cast<uint16_t>(first + i));
        th.seq = htonl(1000u + static_cast<uint32_t>(i));
        th.doff = 5;
        th.syn = 1;
        th.window = htons(1024);
        th.check = tcp_checksum(lo, lo, &th, sizeof(th));
        if (sendto(raw, &th, sizeof(th), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) !=
            static_cast<ssize_t>(sizeof(th))) {
            fail("sendto");
        }
    }
    close(raw);
}

// The real service: connections to a listener, one byte each way, closed
// with FIN by both sides.
void serve_connections(uint16_t port, int count) {
    int lfd = tcp_listen("127.0.0.1", port);
    for (int i = 0; i < count; ++i) {
        int cfd = tcp_connect("127.0.0.1", port);
        if (cfd < 0) {
            errno = -cfd;
            fail("connect");
        }
        int afd = accept_timeout(lfd, 5000);
        char c = 'x';
        if (send(cfd, &c, 1, 0) != 1 || recv(afd, &c, 1, 0) != 1) fail("exchange");
        close(cfd);
        recv(afd, &c, 1, 0);  // EOF
        close(afd);
    }
    close(lfd);
}

void scan_then_serve_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-scan");
    json m = io.expect("scan", 120000);
    syn_scan(m.at("first"), m.at("count"));
    io.report({{"type", "scanned"}});
    m = io.expect("refuse");
    // Connects to closed ports: each tries a port that is a service port
    // for the metrics (the remote port of an outgoing connection).
    for (int i = 0; i < static_cast<int>(m.at("count")); ++i) {
        int r = tcp_connect("127.0.0.1", static_cast<uint16_t>(static_cast<int>(m.at("first")) + i));
        if (r >= 0) close(r);
    }
    io.report({{"type", "refused"}});
    m = io.expect("serve");
    serve_connections(m.at("port"), m.at("count"));
    io.report({{"type", "served"}});
    io.expect("exit");
}

// Reads until the counts settle (the last closes finish in softirq right
// after the calls return): two equal readings in a row.
tcpscope::KernelCounts settled(tcpscope::Tracer& tracer) {
    tcpscope::KernelCounts last;
    EXPECT_TRUE(tracer.read_counts(&last));
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        tcpscope::KernelCounts now;
        EXPECT_TRUE(tracer.read_counts(&now));
        if (unlabelled_total(now) == unlabelled_total(last) && now.series.size() == last.series.size()) {
            uint64_t a = 0, b = 0;
            for (const auto& s : now.series) a += s.value;
            for (const auto& s : last.series) b += s.value;
            if (a == b && now.series_dropped == last.series_dropped) return now;
        }
        last = std::move(now);
    }
    return last;
}

uint64_t series_sum(const tcpscope::KernelCounts& c, uint32_t family, uint32_t slot, uint32_t port) {
    uint64_t n = 0;
    for (const auto& s : c.series) {
        if (s.family == family && s.slot == slot && s.port == port) n += s.value;
    }
    return n;
}

constexpr uint16_t kScanFirst = 10000;
constexpr int kScanPorts = 2000;
constexpr uint16_t kServicePort = 12345;  // in the helper's own namespace: free
constexpr int kServiceConnections = 20;
constexpr uint32_t kMaxSeries = 64;

// A SYN scan of 2,000 closed ports, with --labels port --max-series 64: the
// RSTs sent with no socket are counted (as many as nstat's TcpOutRsts) but
// with no port label, so the scan makes one series, not one per port, and
// a real service started after it is counted whole: its port appears, with
// as many transitions as a tracer without labels counts, and nothing is
// dropped. (On main every scanned port became a series: the 64 filled at
// once and the service's counts went to tcpscope_series_dropped_total.)
TEST(KernelMetrics, PortScanMakesNoSeriesPerPortAndTheServiceIsCountedWhole) {
    KTEST_REQUIRE_ROOT();
    auto helper = Helper::in_new_netns(scan_then_serve_body);
    auto labelled = start_metrics(*helper, TS_LABEL_PORT, kMaxSeries);
    auto plain = start_metrics(*helper, 0, 1);
    ASSERT_TRUE(labelled && plain);
    auto before = nstat(helper->pid());
    helper->send({{"type", "scan"}, {"first", kScanFirst}, {"count", kScanPorts}});
    helper->expect("scanned", 60000);
    auto after_scan = nstat(helper->pid());
    tcpscope::KernelCounts scan = settled(*labelled);
    const uint64_t rsts = counter_delta(before, after_scan, "TcpOutRsts");
    EXPECT_EQ(rsts, static_cast<uint64_t>(kScanPorts)) << "every scanned port was closed";
    uint64_t counted = 0, dropped = 0;
    for (const auto& s : scan.series) {
        // Each probe's SYN, dropped (NO_SOCKET) once the RST answered it,
        // and what comes back to the raw socket, which no TCP socket takes
        // either (the RST: 2 drops a probe on 6.18; 6.1 counts more).
        EXPECT_TRUE(s.family == TS_FAM_RESETS_SENT || s.family == TS_FAM_DROPS) << s.family;
        EXPECT_EQ(s.port, 0u) << "a RST or drop with no socket has no port label";
        (s.family == TS_FAM_RESETS_SENT ? counted : dropped) += s.value;
    }
    EXPECT_GE(dropped, static_cast<uint64_t>(kScanPorts)) << "each probe's SYN dropped, in few series";
    EXPECT_LE(scan.series.size(), 3u);
    EXPECT_EQ(scan.series_dropped, 0u);
    if (kernel_support().shows(tcpscope::KernelFeature::ResetWithoutSocket)) {
        EXPECT_EQ(counted, rsts) << "the scan's RSTs are counted, in one series";
    } else {
        EXPECT_EQ(counted, 0u) << "before 6.10 the kernel does not trace RSTs with no socket";
    }

    helper->send({{"type", "refuse"}, {"first", 0}, {"count", 0}});
    helper->expect("refused", 10000);
    helper->send({{"type", "serve"}, {"port", kServicePort}, {"count", kServiceConnections}});
    helper->expect("served", 60000);
    auto after = nstat(helper->pid());
    tcpscope::KernelCounts l = settled(*labelled);
    tcpscope::KernelCounts p = settled(*plain);
    EXPECT_EQ(l.series_dropped, 0u) << "no count of the real service was dropped";
    // The service's counters, and its RTT histogram's buckets and sum.
    EXPECT_LE(l.series.size(), 30u) << "the series stay few";
    EXPECT_EQ(counter_delta(after_scan, after, "TcpActiveOpens"), static_cast<uint64_t>(kServiceConnections));
    EXPECT_EQ(counter_delta(after_scan, after, "TcpPassiveOpens"), static_cast<uint64_t>(kServiceConnections));
    const uint32_t CLOSE = 7, SYN_SENT = 2, SYN_RECV = 3, LISTEN = 10;
    EXPECT_EQ(series_sum(l, TS_FAM_TRANSITIONS, CLOSE * TS_STATE_SLOTS + SYN_SENT, kServicePort),
              static_cast<uint64_t>(kServiceConnections));
    EXPECT_EQ(series_sum(l, TS_FAM_TRANSITIONS, LISTEN * TS_STATE_SLOTS + SYN_RECV, kServicePort),
              static_cast<uint64_t>(kServiceConnections));
    // Every transition the plain tracer counted is in a series of the
    // service's port (the scan made none).
    for (uint32_t slot = 0; slot < TS_STATE_SLOTS * TS_STATE_SLOTS; ++slot) {
        EXPECT_EQ(series_sum(l, TS_FAM_TRANSITIONS, slot, kServicePort), p.transitions[slot])
            << tcpscope::tcp_state_name(static_cast<int>(slot / TS_STATE_SLOTS)) << " -> "
            << tcpscope::tcp_state_name(static_cast<int>(slot % TS_STATE_SLOTS));
    }
    helper->send({{"type", "exit"}});
    helper->join();
}

// Series that stay idle are removed, and their room serves new ones: 100
// connects to closed ports (each a service port of its own: several
// series per port) fill --max-series 64 and spill into the dropped count;
// once they have been idle for the expiry's time they are removed, and a
// real service after that is counted whole. A series counted between the
// reading that found it idle and its removal stays, with every count.
TEST(KernelMetrics, IdleSeriesExpireAndFreeTheirRoomForTheService) {
    KTEST_REQUIRE_ROOT();
    auto helper = Helper::in_new_netns(scan_then_serve_body);
    auto labelled = start_metrics(*helper, TS_LABEL_PORT, kMaxSeries);
    ASSERT_TRUE(labelled);
    helper->send({{"type", "scan"}, {"first", kScanFirst}, {"count", 0}});
    helper->expect("scanned", 10000);
    helper->send({{"type", "refuse"}, {"first", kScanFirst}, {"count", 100}});
    helper->expect("refused", 60000);
    tcpscope::KernelCounts full = settled(*labelled);
    ASSERT_EQ(full.series.size(), kMaxSeries) << "the refused connects filled the series";
    const uint64_t dropped = full.series_dropped;
    EXPECT_GT(dropped, 0u);

    // A reading that is out of date (the series counted since) expires
    // nothing: the series stays with its count.
    std::vector<tcpscope::SeriesCount> stale = {full.series[0]};
    stale[0].value -= 1;
    EXPECT_EQ(labelled->expire_series(stale), 0u);
    tcpscope::KernelCounts still;
    ASSERT_TRUE(labelled->read_counts(&still));
    ASSERT_EQ(still.series.size(), kMaxSeries);
    EXPECT_EQ(series_sum(still, full.series[0].family, full.series[0].slot, full.series[0].port),
              full.series[0].value);

    const uint64_t idle_ns = 1000000000ull;
    tcpscope::SeriesExpiry expiry(idle_ns);
    EXPECT_TRUE(expiry.idle(still.series, tcpscope::monotonic_ns()).empty()) << "first reading";
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    tcpscope::KernelCounts later;
    ASSERT_TRUE(labelled->read_counts(&later));
    auto idle = expiry.idle(later.series, tcpscope::monotonic_ns());
    EXPECT_EQ(idle.size(), kMaxSeries);
    EXPECT_EQ(labelled->expire_series(idle), kMaxSeries);
    tcpscope::KernelCounts emptied;
    ASSERT_TRUE(labelled->read_counts(&emptied));
    EXPECT_EQ(emptied.series.size(), 0u) << "every idle series was removed";

    auto plain = start_metrics(*helper, 0, 1);
    ASSERT_TRUE(plain);
    auto before = nstat(helper->pid());
    helper->send({{"type", "serve"}, {"port", kServicePort}, {"count", kServiceConnections}});
    helper->expect("served", 60000);
    auto after = nstat(helper->pid());
    tcpscope::KernelCounts l = settled(*labelled);
    tcpscope::KernelCounts p = settled(*plain);
    EXPECT_EQ(l.series_dropped, dropped) << "no count of the real service was dropped";
    EXPECT_EQ(counter_delta(before, after, "TcpActiveOpens"), static_cast<uint64_t>(kServiceConnections));
    const uint32_t CLOSE = 7, SYN_SENT = 2, SYN_RECV = 3, LISTEN = 10;
    EXPECT_EQ(series_sum(l, TS_FAM_TRANSITIONS, CLOSE * TS_STATE_SLOTS + SYN_SENT, kServicePort),
              counter_delta(before, after, "TcpActiveOpens"));
    EXPECT_EQ(series_sum(l, TS_FAM_TRANSITIONS, LISTEN * TS_STATE_SLOTS + SYN_RECV, kServicePort),
              counter_delta(before, after, "TcpPassiveOpens"));
    for (uint32_t slot = 0; slot < TS_STATE_SLOTS * TS_STATE_SLOTS; ++slot) {
        EXPECT_EQ(series_sum(l, TS_FAM_TRANSITIONS, slot, kServicePort), p.transitions[slot])
            << tcpscope::tcp_state_name(static_cast<int>(slot / TS_STATE_SLOTS)) << " -> "
            << tcpscope::tcp_state_name(static_cast<int>(slot % TS_STATE_SLOTS));
    }
    helper->send({{"type", "exit"}});
    helper->join();
}

}  // namespace
}  // namespace ktest

namespace ktest {
namespace {

// The cgroup v2 id of a process's cgroup: its directory's inode.
uint64_t cgroup_id_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) != 0) continue;
        struct stat st {};
        const std::string dir = tcpscope::cgroup2_mount_point() + line.substr(3);
        return stat(dir.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
    }
    return 0;
}

// --labels container: each series is keyed by its owner's cgroup. Two
// workloads share a namespace, one moved into a cgroup of the test's own,
// the other left in the test's: every series of each (told apart by its
// ports) has that process's cgroup id, the RSTs and drops with no socket
// have none (0), and the labelled counts add up to the unlabelled ones.
TEST(KernelMetrics, ContainerLabelKeysEachSeriesByItsOwnersCgroup) {
    KTEST_REQUIRE_ROOT();
    std::string error;
    auto cgroup = tcpscope::CommandCgroup::create("ktest-metrics", &error);
    ASSERT_TRUE(cgroup) << error;
    auto inside = Helper::in_new_netns(workload_body);
    auto outside = Helper::in_netns_of(*inside, workload_body);
    ASSERT_TRUE(cgroup->add(inside->pid(), &error)) << error;
    const uint64_t inside_id = cgroup->id(), outside_id = cgroup_id_of(outside->pid());
    ASSERT_NE(outside_id, 0u);
    ASSERT_NE(inside_id, outside_id);
    auto plain = start_metrics(*inside, 0, 1);
    auto labelled = start_metrics(*inside, TS_LABEL_COMM | TS_LABEL_PORT | TS_LABEL_CONTAINER, 10000);
    ASSERT_TRUE(plain && labelled);
    const uint16_t inside_port = unique_port(), outside_port = unique_port();
    inside->send({{"type", "go"}, {"port", inside_port}});
    inside->expect("done", 30000);
    outside->send({{"type", "go"}, {"port", outside_port}});
    outside->expect("done", 30000);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    tcpscope::KernelCounts p, l;
    ASSERT_TRUE(plain->read_counts(&p));
    ASSERT_TRUE(labelled->read_counts(&l));

    uint64_t labelled_sum = 0, inside_series = 0, outside_series = 0;
    for (const auto& s : l.series) {
        if (s.family != TS_FAM_RTT) labelled_sum += s.value;
        EXPECT_EQ(s.key.cgroup_id, s.cgroup_id);
        if (s.comm.empty()) {
            EXPECT_EQ(s.cgroup_id, 0u) << "no owner, no cgroup: family " << s.family;
            EXPECT_TRUE(s.family == TS_FAM_RESETS_SENT || s.family == TS_FAM_DROPS) << s.family;
            continue;
        }
        if (s.port == inside_port || s.port == inside_port + 1) {
            EXPECT_EQ(s.cgroup_id, inside_id) << "family " << s.family << " slot " << s.slot;
            ++inside_series;
        } else {
            EXPECT_EQ(s.port == outside_port || s.port == outside_port + 1, true) << s.port;
            EXPECT_EQ(s.cgroup_id, outside_id) << "family " << s.family << " slot " << s.slot;
            ++outside_series;
        }
    }
    EXPECT_GT(inside_series, 5u);
    EXPECT_GT(outside_series, 5u);
    EXPECT_EQ(l.series_dropped, 0u);
    EXPECT_EQ(labelled_sum, unlabelled_total(p));
    inside->send({{"type", "exit"}});
    outside->send({{"type", "exit"}});
    inside->join();
    outside->join();
}

}  // namespace
}  // namespace ktest
