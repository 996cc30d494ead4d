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
