// Kernel tier: SYNs dropped because a listener's accept queue is full,
// which the kernel's drop tracepoint never sees, counted from the
// listener's own drop counter (sock_diag) and checked against the
// namespace's TcpExtListenOverflows and ListenDrops (nstat inside the
// test's own namespace), which we did not write.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>

#include "kernel_test_support.h"
#include "listener_watch.h"

namespace ktest {
namespace {

using tcpscope::FilterOptions;

// A listener with backlog 1 that never accepts, and `clients`
// non-blocking connects to it: two fill the queue, the others' SYNs are
// dropped and retransmitted (after 1 s, then 3 s). After `wait_ms` every
// client is closed (a SYN_SENT socket closes without a packet), so the
// counters stop moving before the test reads them.
void backlog_one_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-acceptq");
    json m = io.expect("go");
    const int clients = m.at("clients");
    const int wait_ms = m.at("wait_ms");
    const uint16_t port = m.at("port");
    int lfd = tcp_listen("127.0.0.1", port, 1);
    io.report({{"type", "listening"}});
    io.expect("connect");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::vector<int> fds;
    for (int i = 0; i < clients; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) fail("socket");
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0 && errno != EINPROGRESS) {
            fail("connect");
        }
        fds.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    for (int fd : fds) close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    io.report({{"type", "done"}});
    io.expect("exit");
    close(lfd);
}

uint64_t listener_drops(const std::vector<Event>& events, uint16_t port, const char* reason = nullptr) {
    uint64_t n = 0;
    for (const auto& e : events) {
        if (e.kind == EventKind::Drop && e.drop_seen_by == "listener" && e.local.port == port &&
            (reason == nullptr || e.drop_reason == reason)) {
            n += e.drop_count;
        }
    }
    return n;
}

// N clients against backlog 1: the drops tcpscope reports for the listener
// equal the namespace's ListenOverflows (and ListenDrops), every one named
// ACCEPT_QUEUE_FULL with the queue seen full, on every kernel; the
// clients' SYN retransmits are among TcpExtTCPSynRetrans.
TEST(KernelAcceptQueue, ListenerDropsMatchNstatListenOverflows) {
    KTEST_REQUIRE_ROOT();
    auto ns = Helper::in_new_netns(backlog_one_body);
    Capture cap;
    FilterOptions options;
    options.netns = ns->netns_path();
    std::string error;
    ASSERT_TRUE(cap.start(options, &error)) << error;
    tcpscope::ListenerWatchOptions lw;
    lw.netns_path = ns->netns_path();
    lw.storage_map_fd = cap.tracer().socket_storage_fd();
    auto watch = tcpscope::ListenerWatch::open(lw, &error);
    ASSERT_TRUE(watch) << error;
    cap.watch_listeners(std::move(watch));

    const uint16_t port = unique_port();
    const int kClients = 5;
    ns->send({{"type", "go"}, {"clients", kClients}, {"wait_ms", 3500}, {"port", port}});
    ns->expect("listening");
    auto before = nstat(ns->pid());
    ns->send({{"type", "connect"}});
    ns->expect("done", 20000);
    auto after = nstat(ns->pid());
    const uint64_t overflows = counter_delta(before, after, "TcpExtListenOverflows");
    const uint64_t listen_drops = counter_delta(before, after, "TcpExtListenDrops");
    const uint64_t syn_retrans = counter_delta(before, after, "TcpExtTCPSynRetrans");
    // Three clients beyond the two the queue holds, each SYN dropped at
    // least once, and retransmitted once in 3.5 s.
    ASSERT_GE(overflows, 3u) << "the queue did not overflow: the test proves nothing";

    cap.wait_for([&](const std::vector<Event>& ev) { return listener_drops(ev, port) >= listen_drops; }, 10);
    cap.settle(1500);  // a look more: nothing beyond the kernel's count
    cap.finish();
    const auto& events = cap.events();
    EXPECT_EQ(listener_drops(events, port), overflows) << describe(events);
    EXPECT_EQ(listener_drops(events, port), listen_drops);
    EXPECT_EQ(listener_drops(events, port, "ACCEPT_QUEUE_FULL"), overflows)
        << "the queue was full at every look while SYNs were dropped";
    // The kernel's drop tracepoint saw none of them (the design's reason):
    // no kfree_skb drop of a SYN to the port.
    size_t kernel_syn_drops = 0;
    size_t syn_retransmits = 0;
    bool owner_known = false;
    for (const auto& e : events) {
        if (e.kind == EventKind::Drop && e.drop_seen_by == "kfree_skb" && e.local.port == port &&
            (e.tcp_flags & 0x02)) {
            ++kernel_syn_drops;
        }
        if (e.kind == EventKind::Retransmit && e.remote.port == port &&
            tcpscope::tcp_state_name(e.state) == "SYN_SENT") {
            ++syn_retransmits;
        }
        if (e.kind == EventKind::Drop && e.drop_seen_by == "listener" && e.local.port == port) {
            EXPECT_EQ(e.accept_backlog.value_or(0), 1u);
            EXPECT_EQ(e.accept_queue.value_or(0), 2u);
            EXPECT_EQ(e.netns, ns->netns());
            owner_known |= e.pid == static_cast<uint32_t>(ns->pid());
        }
    }
    // TCPSynRetrans counts the server's SYN-ACK retransmits too.
    EXPECT_LE(syn_retransmits, syn_retrans);
    EXPECT_GE(syn_retransmits, 3u);
    EXPECT_TRUE(owner_known) << "the listener's owner comes with our socket storage";
    RecordProperty("listen_overflows", std::to_string(overflows));
    RecordProperty("kfree_skb_syn_drops", std::to_string(kernel_syn_drops));
    ns->send({{"type", "exit"}});
    ns->join();
}

}  // namespace
}  // namespace ktest
