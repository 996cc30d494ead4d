// Kernel tier: metrics mode (`tcpscope metrics`). The programs count into
// per-CPU arrays; what they counted for a namespace of the test's own must
// equal that namespace's SNMP counters (nstat), and the histograms must hold
// one observation per connection. Runs on every kernel of the matrix, so
// the counting path is verified on 6.1 and 6.12 too.
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "kernel_test_support.h"

namespace ktest {
namespace {

constexpr int kClosed = 10;   // connections closed with FIN by both sides
constexpr int kAborts = 5;    // closed by the client with SO_LINGER 0 (RST)
constexpr int kRefused = 5;   // connects to a closed port

void workload_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-metrics");
    json m = io.expect("go");
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
    ASSERT_TRUE(tcpscope::build_filter(options, &config.filter, &error)) << error;
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
    EXPECT_TRUE(tcpscope::build_filter(options, &config.filter, &error)) << error;
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
    for (const auto& s : l.series) {
        labelled_sum += s.value;
        // RSTs sent with no socket belong to nobody.
        if (!(s.family == TS_FAM_RESETS_SENT && s.comm.empty())) {
            EXPECT_EQ(s.comm, "tst-metrics") << "family " << s.family << " slot " << s.slot;
        }
        EXPECT_EQ(s.netns, helper->netns());
        EXPECT_TRUE(s.port == port || s.port == port + 1)
            << "port " << s.port << " (service ports: " << port << ", " << port + 1 << ")";
    }
    EXPECT_EQ(l.series_dropped, 0u);
    EXPECT_EQ(labelled_sum, unlabelled_total(p));

    uint64_t limited_sum = 0;
    for (const auto& s : m.series) limited_sum += s.value;
    EXPECT_EQ(m.series.size(), 3u);
    EXPECT_GT(m.series_dropped, 0u);
    EXPECT_EQ(limited_sum + m.series_dropped, unlabelled_total(p));
    helper->send({{"type", "exit"}});
    helper->join();
}

}  // namespace
}  // namespace ktest
