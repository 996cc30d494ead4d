// Kernel tier: drop events (skb:kfree_skb) against the firewall's own
// counters. nftables rules in a namespace of the test's own drop the SYNs
// to one port on the way in (no socket yet: attributed to nobody) and the
// data segments to another on the way out (the sender's socket: its owner);
// each rule's `counter` is the ground truth for how many drops tcpscope
// must report with the reason NETFILTER_DROP, as the running kernel names
// it. The rules go with the namespace.
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <regex>
#include <thread>

#include "btf_reasons.h"
#include "bpf_witness.h"
#include "kernel_test_support.h"

namespace ktest {
namespace {

constexpr int kSynClients = 3;  // connects whose SYNs the input rule drops

// Runs `nft` in the helper's namespace; returns its output.
std::string nft(const std::string& args) {
    std::string cmd = "nft " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) fail("popen nft");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    int status = pclose(p);
    if (status != 0) fail("nft " + args + " failed: " + out);
    return out;
}

// The packets a chain's counter rule counted (table tst_drops unless named).
uint64_t rule_counter(const std::string& chain, const std::string& table = "tst_drops") {
    std::string out = nft("list chain inet " + table + " " + chain);
    std::smatch m;
    if (!std::regex_search(out, m, std::regex("counter packets ([0-9]+)"))) fail("no counter in " + out);
    return std::stoull(m[1].str());
}

// The input rule drops SYNs to syn_port; the output rule drops segments
// that carry data to data_port (the handshake's are shorter than 100
// bytes). Then: kSynClients connects to syn_port (their SYNs and the first
// retransmit of each are dropped), and one connection to data_port whose
// data is dropped and retransmitted until it is aborted.
void firewall_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-drops");
    json m = io.expect("go", 120000);
    uint16_t syn_port = m.at("syn_port");
    uint16_t data_port = m.at("data_port");
    nft("add table inet tst_drops");
    nft("'add chain inet tst_drops input { type filter hook input priority 0 ; }'");
    nft("'add chain inet tst_drops output { type filter hook output priority 0 ; }'");
    nft("add rule inet tst_drops input tcp dport " + std::to_string(syn_port) +
        " tcp flags syn counter drop");
    nft("add rule inet tst_drops output tcp dport " + std::to_string(data_port) +
        " ip length gt 100 counter drop");
    io.report({{"type", "rules"}});
    io.expect("traffic");

    std::vector<int> syn_fds;
    for (int i = 0; i < kSynClients; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(syn_port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 || errno != EINPROGRESS) {
            fail("connect to the dropped port did not stay in progress");
        }
        syn_fds.push_back(fd);
    }
    int lfd = tcp_listen("127.0.0.1", data_port);
    int cfd = tcp_connect("127.0.0.1", data_port);
    if (cfd < 0) {
        errno = -cfd;
        fail("connect to the data port");
    }
    int afd = accept_timeout(lfd, 5000);
    std::string data(2000, 'd');
    if (send(cfd, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) fail("send");
    // The SYN retransmits after 1 s; the data after each RTO (200 ms, 400 ms, ...).
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    uint64_t cookie = socket_cookie(cfd);
    for (int fd : syn_fds) close(fd);  // in SYN_SENT: sends nothing
    set_linger_zero(cfd);
    close(cfd);  // a RST, 40 bytes: the output rule lets it through
    close(afd);
    close(lfd);
    io.report({{"type", "done"},
               {"syn_drops", rule_counter("input")},
               {"data_drops", rule_counter("output")},
               {"data_cookie", cookie}});
    io.expect("exit");
}

// The same over IPv6 (::1), where the parsing differs: the input rule
// drops SYNs to syn_port (their TCP header carries options: MSS, SACK,
// timestamps, window scale: 40 bytes, no payload); the output rule drops
// the segments longer than 200 bytes to data_port (2,000 bytes of data
// behind a header with the timestamp option).
int tcp6_socket(bool nonblocking) {
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) fail("socket(AF_INET6)");
    return fd;
}

sockaddr_in6 loopback6(uint16_t port) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    return a;
}

void firewall6_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-drops6");
    json m = io.expect("go", 120000);
    uint16_t syn_port = m.at("syn_port");
    uint16_t data_port = m.at("data_port");
    int lfd = tcp6_socket(false);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in6 la = loopback6(data_port);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&la), sizeof(la)) != 0 || listen(lfd, 8) != 0) {
        io.report({{"type", "rules"}, {"ipv6", false}, {"why", std::string("bind [::1]: ") + strerror(errno)}});
        io.expect("exit");
        return;
    }
    nft("add table inet tst_drops6");
    nft("'add chain inet tst_drops6 input { type filter hook input priority 0 ; }'");
    nft("'add chain inet tst_drops6 output { type filter hook output priority 0 ; }'");
    nft("add rule inet tst_drops6 input meta nfproto ipv6 tcp dport " + std::to_string(syn_port) +
        " tcp flags syn counter drop");
    nft("add rule inet tst_drops6 output meta nfproto ipv6 tcp dport " + std::to_string(data_port) +
        " meta length gt 200 counter drop");
    io.report({{"type", "rules"}, {"ipv6", true}});
    io.expect("traffic");

    int sfd = tcp6_socket(true);
    sockaddr_in6 sa = loopback6(syn_port);
    if (connect(sfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 || errno != EINPROGRESS) {
        fail("connect to the dropped port did not stay in progress");
    }
    int cfd = tcp6_socket(false);
    if (connect(cfd, reinterpret_cast<sockaddr*>(&la), sizeof(la)) != 0) fail("connect [::1]");
    int afd = accept_timeout(lfd, 5000);
    std::string data(2000, 'd');
    if (send(cfd, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) fail("send");
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    uint64_t cookie = socket_cookie(cfd);
    close(sfd);
    set_linger_zero(cfd);
    close(cfd);
    close(afd);
    close(lfd);
    io.report({{"type", "done"},
               {"syn_drops", rule_counter("input", "tst_drops6")},
               {"data_drops", rule_counter("output", "tst_drops6")},
               {"data_cookie", cookie}});
    io.expect("exit");
}

// Two raw IPv4 packets to 127.0.0.1:port, which nothing listens on: a SYN
// with a whole 20-byte TCP header, then one whose "TCP header" is 8 bytes
// (its ports, its sequence number). The kernel drops both: the first for
// no socket (or its checksum), the second as too small (PKT_TOO_SMALL).
void short_header_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-short");
    json m = io.expect("go", 120000);
    const uint16_t port = m.at("port");
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // IP_HDRINCL
    if (fd < 0) fail("socket(SOCK_RAW)");
    auto send_packet = [&](size_t tcp_bytes) {
        unsigned char packet[sizeof(iphdr) + sizeof(tcphdr)] = {};
        auto* ip = reinterpret_cast<iphdr*>(packet);
        ip->version = 4;
        ip->ihl = 5;
        ip->ttl = 64;
        ip->protocol = IPPROTO_TCP;
        ip->saddr = htonl(INADDR_LOOPBACK);
        ip->daddr = htonl(INADDR_LOOPBACK);
        ip->tot_len = htons(static_cast<uint16_t>(sizeof(iphdr) + tcp_bytes));  // the kernel fills it anyway
        auto* th = reinterpret_cast<tcphdr*>(packet + sizeof(iphdr));
        th->source = htons(40999);
        th->dest = htons(port);
        th->seq = htonl(1);
        th->doff = 5;
        th->syn = 1;
        th->window = htons(1024);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const size_t len = sizeof(iphdr) + tcp_bytes;
        if (sendto(fd, packet, len, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != static_cast<ssize_t>(len))
            fail("sendto(raw)");
    };
    send_packet(sizeof(tcphdr));
    send_packet(8);
    close(fd);
    io.report({{"type", "done"}});
    io.expect("exit");
}

bool has_nft() { return run_command({"nft", "--version"}).status == 0; }

std::optional<int> netfilter_drop_code() { return tcpscope::kernel_drop_reasons().value("NETFILTER_DROP"); }

// How many of the rules' drops tcpscope must count. Now and then the
// kernel fires no tracepoint at all for a timer's retransmit (nor for its
// copy's drop; seen with perf too, docs/run.md): perf, where it is there,
// counts the kfree_skb tracepoint's NETFILTER_DROP firings on the host, and
// no more than those can be seen. And now and then (3 runs in 350 here)
// perf counts a firing, always a data retransmission's drop in a timer's
// softirq, that no BPF program on the tracepoint ran for: the control
// program (tests/witness/bpf_witness.h), a few lines that count every
// firing of that reason on the host, misses it with tcpscope's, and the
// kernel counts no skipped run (docs/tests.md, issue 22). Both counts are the host's, so
// the firings the control missed bound tcpscope's shortfall from below;
// they need not be this test's.
struct Firings {
    std::optional<uint64_t> perf;  // nullopt: perf is not there
    uint64_t control = 0;          // the control program's count
    uint64_t control_skipped = 0;  // its runs the kernel said it skipped

    // At most: what the rules dropped and perf saw fire.
    uint64_t most(uint64_t dropped) const { return perf && *perf < dropped ? *perf : dropped; }
    // At least: less the firings perf counted and the control did not see.
    uint64_t least(uint64_t dropped) const {
        const uint64_t unrun = perf && *perf > control ? *perf - control : 0;
        return most(dropped) - std::min(most(dropped), unrun);
    }
    std::string describe(uint64_t dropped) const {
        return "the rules dropped " + std::to_string(dropped) +
               "; perf counted on the host: " + (perf ? std::to_string(*perf) : std::string("(not there)")) +
               "; the control program saw " + std::to_string(control) + " (runs skipped: " +
               std::to_string(control_skipped) + ")";
    }
};

// The control program and perf, both counting NETFILTER_DROP firings on the
// host from construction to stop(). The control attaches first and is read
// last: a firing outside the test counts in it at least as often as in perf.
class DropWitnesses {
public:
    DropWitnesses()
        : control_(ktest::BpfWitness::drops(static_cast<uint32_t>(*netfilter_drop_code()))),
          perf_("skb:kfree_skb", "reason == " + std::to_string(*netfilter_drop_code())) {}
    const std::string& error() const { return control_.error(); }
    Firings stop() {
        Firings f;
        f.perf = perf_.stop();
        f.control = control_.fired().value_or(0);
        f.control_skipped = control_.skipped();
        return f;
    }

private:
    ktest::BpfWitness control_;
    ktest::TracepointWitness perf_;
};

// The NETFILTER_DROP events of a run, once as many as the rules counted
// have come: the SYNs to syn_port and the data to data_port, each as many
// as its rule's counter, nothing else dropped, nothing lost; but for the
// firings no program could see (Firings).
struct RuleDrops {
    std::vector<Event> syns, data;
};
RuleDrops rule_drops(Capture& cap, const Firings& fired, uint16_t syn_port, uint16_t data_port,
                     uint64_t syn_drops, uint64_t data_drops) {
    auto netfilter = [](const Event& e) { return e.kind == EventKind::Drop && e.drop_reason == "NETFILTER_DROP"; };
    const uint64_t counted = syn_drops + data_drops;
    const uint64_t most = fired.most(counted);
    const uint64_t least = fired.least(counted);
    if (least < counted) std::printf("note: %s\n", fired.describe(counted).c_str());
    cap.wait_for([&](const std::vector<Event>& ev) { return select(ev, netfilter).size() >= most; }, 10);
    cap.settle(300);
    EXPECT_EQ(cap.tracer().lost_total(), 0u);
    const auto drops = select(cap.events(), netfilter);
    RuleDrops out;
    out.syns = select(drops, [&](const Event& e) { return e.local.port == syn_port; });
    out.data = select(drops, [&](const Event& e) { return e.remote.port == data_port; });
    EXPECT_LE(out.syns.size(), syn_drops) << describe(drops);
    EXPECT_LE(out.data.size(), data_drops) << describe(drops);
    EXPECT_TRUE(drops.size() >= least && drops.size() <= most)
        << drops.size() << " drops, want " << least << " to " << most << "; rules: " << syn_drops << " SYNs, "
        << data_drops << " data; " << fired.describe(counted) << "\n"
        << describe(drops);
    EXPECT_EQ(drops.size(), out.syns.size() + out.data.size()) << describe(drops);
    return out;
}

TEST(KernelDrops, FirewallDropsMatchTheRulesCountersWithReasonDirectionAndOwner) {
    KTEST_REQUIRE_ROOT();
    ASSERT_TRUE(has_nft()) << "nft is missing: run tools/install-deps.sh (Debian's nftables)";
    ASSERT_TRUE(netfilter_drop_code()) << "this kernel's BTF has no SKB_DROP_REASON_NETFILTER_DROP";
    auto helper = Helper::in_new_netns(firewall_body);
    const uint16_t syn_port = unique_port();
    const uint16_t data_port = unique_port();
    helper->send({{"type", "go"}, {"syn_port", syn_port}, {"data_port", data_port}});
    helper->expect("rules", 30000);

    Capture cap;
    tcpscope::FilterOptions options;
    options.netns = helper->netns_path();
    std::string error;
    ASSERT_TRUE(cap.start(options, &error)) << error;
    DropWitnesses witness;
    ASSERT_EQ(witness.error(), "");
    helper->send({{"type", "traffic"}});
    json done = helper->expect("done", 30000);
    const uint64_t syn_drops = done.at("syn_drops");
    const uint64_t data_drops = done.at("data_drops");
    const uint64_t cookie = done.at("data_cookie");
    // Every SYN once and again at its first retransmit; the data at least
    // twice in 1.6 s of RTOs.
    ASSERT_GE(syn_drops, 2u * kSynClients);
    ASSERT_GE(data_drops, 2u);

    const RuleDrops got = rule_drops(cap, witness.stop(), syn_port, data_port, syn_drops, data_drops);
    for (const Event& e : got.syns) {
        // On the way in, before any socket took it: nobody's.
        EXPECT_EQ(e.dir, TS_DIR_RX) << describe(e);
        EXPECT_EQ(e.tcp_flags, TS_TCP_SYN) << describe(e);
        EXPECT_EQ(e.attribution, "unknown") << describe(e);
        EXPECT_EQ(e.drop_reason_code, *netfilter_drop_code());
    }
    for (const Event& e : got.data) {
        // On the way out, from the sender's own socket: its owner's.
        EXPECT_EQ(e.dir, TS_DIR_TX) << describe(e);
        EXPECT_EQ(e.payload_len, 2000) << describe(e);
        EXPECT_EQ(e.pid, static_cast<uint32_t>(helper->pid())) << describe(e);
        // The first send's drop runs in the sender's own call
        // ("current"), the retransmits' on a timer ("owner").
        EXPECT_TRUE(e.attribution == "owner" || e.attribution == "current") << describe(e);
        EXPECT_EQ(e.cookie, cookie) << describe(e);
    }
    helper->send({{"type", "exit"}});
    helper->join();
}

TEST(KernelDrops, MetricsCountTheRulesDropsByReason) {
    KTEST_REQUIRE_ROOT();
    ASSERT_TRUE(has_nft()) << "nft is missing: run tools/install-deps.sh (Debian's nftables)";
    ASSERT_TRUE(netfilter_drop_code()) << "this kernel's BTF has no SKB_DROP_REASON_NETFILTER_DROP";
    auto helper = Helper::in_new_netns(firewall_body);
    helper->send({{"type", "go"}, {"syn_port", unique_port()}, {"data_port", unique_port()}});
    helper->expect("rules", 30000);

    tcpscope::FilterOptions options;
    options.netns = helper->netns_path();
    tcpscope::TracerConfig config;
    std::string error;
    ASSERT_TRUE(tcpscope::build_host_filter(options, &config.filter, &error)) << error;
    config.metrics_mode = true;
    tcpscope::TracerError terr;
    auto tracer = tcpscope::Tracer::start(
        config, [](const void*, size_t) { ADD_FAILURE() << "a record in metrics mode"; }, &terr);
    ASSERT_TRUE(tracer) << terr.text();
    DropWitnesses witness;
    ASSERT_EQ(witness.error(), "");
    helper->send({{"type", "traffic"}});
    json done = helper->expect("done", 30000);
    const uint64_t dropped = done.at("syn_drops").get<uint64_t>() + done.at("data_drops").get<uint64_t>();
    tcpscope::KernelCounts c;
    ASSERT_TRUE(tracer->read_counts(&c));
    const Firings fired = witness.stop();
    const size_t slot = static_cast<size_t>(*netfilter_drop_code());
    const uint64_t counted = c.drops[slot];
    const uint64_t most = fired.most(dropped);
    const uint64_t least = fired.least(dropped);
    if (least < dropped) std::printf("note: %s\n", fired.describe(dropped).c_str());
    if (counted < least || counted > most) {
        // Whether the missing counts were only late, and whether the
        // kernel said it skipped our program: a miss that is neither is
        // silent (issue 22).
        std::this_thread::sleep_for(std::chrono::seconds(1));
        tcpscope::KernelCounts later;
        ASSERT_TRUE(tracer->read_counts(&later));
        ADD_FAILURE() << "counted " << counted << " NETFILTER_DROP, want " << least << " to " << most << "; "
                      << fired.describe(dropped) << "; 1 s later: " << later.drops[slot]
                      << "; program runs skipped: " << tracer->losses().program_skipped_total();
    }
    helper->send({{"type", "exit"}});
    helper->join();
}

TEST(KernelDrops, Ipv6SegmentsWithOptionsAreParsed) {
    KTEST_REQUIRE_ROOT();
    ASSERT_TRUE(has_nft()) << "nft is missing: run tools/install-deps.sh (Debian's nftables)";
    ASSERT_TRUE(netfilter_drop_code()) << "this kernel's BTF has no SKB_DROP_REASON_NETFILTER_DROP";
    auto helper = Helper::in_new_netns(firewall6_body);
    const uint16_t syn_port = unique_port();
    const uint16_t data_port = unique_port();
    helper->send({{"type", "go"}, {"syn_port", syn_port}, {"data_port", data_port}});
    json ready = helper->expect("rules", 30000);
    if (!ready.value("ipv6", false)) {
        helper->send({{"type", "exit"}});
        helper->join();
        GTEST_SKIP() << "no IPv6 loopback in a new namespace: " << ready.value("why", std::string());
    }

    Capture cap;
    tcpscope::FilterOptions options;
    options.netns = helper->netns_path();
    std::string error;
    ASSERT_TRUE(cap.start(options, &error)) << error;
    DropWitnesses witness;
    ASSERT_EQ(witness.error(), "");
    helper->send({{"type", "traffic"}});
    json done = helper->expect("done", 30000);
    const uint64_t syn_drops = done.at("syn_drops");
    const uint64_t data_drops = done.at("data_drops");
    ASSERT_GE(syn_drops, 2u);   // the SYN and its retransmit after 1 s
    ASSERT_GE(data_drops, 2u);  // the data and its first retransmit
    const RuleDrops got = rule_drops(cap, witness.stop(), syn_port, data_port, syn_drops, data_drops);
    for (const auto* list : {&got.syns, &got.data}) {
        for (const Event& e : *list) {
            EXPECT_EQ(e.family, AF_INET6) << describe(e);
            EXPECT_EQ(e.local.addr, "::1") << describe(e);
            EXPECT_EQ(e.remote.addr, "::1") << describe(e);
        }
    }
    for (const Event& e : got.syns) {
        EXPECT_EQ(e.dir, TS_DIR_RX) << describe(e);
        EXPECT_EQ(e.tcp_flags, TS_TCP_SYN) << describe(e);
        EXPECT_EQ(e.payload_len, 0) << describe(e);  // 40 bytes of options are not payload
    }
    for (const Event& e : got.data) {
        EXPECT_EQ(e.dir, TS_DIR_TX) << describe(e);
        EXPECT_EQ(e.payload_len, 2000) << describe(e);
        EXPECT_EQ(e.cookie, done.at("data_cookie").get<uint64_t>()) << describe(e);
    }
    helper->send({{"type", "exit"}});
    helper->join();
}

// A packet too short to hold a TCP header is no segment to describe: its
// flags and length would be read past its end. The whole SYN beside it is
// reported (the test can see drops), the short one is not.
TEST(KernelDrops, APacketTooShortForATcpHeaderIsNotReported) {
    KTEST_REQUIRE_ROOT();
    auto helper = Helper::in_new_netns(short_header_body);
    const uint16_t port = unique_port();
    Capture cap;
    tcpscope::FilterOptions options;
    options.netns = helper->netns_path();
    std::string error;
    ASSERT_TRUE(cap.start(options, &error)) << error;
    helper->send({{"type", "go"}, {"port", port}});
    helper->expect("done", 30000);
    auto to_port = [&](const Event& e) { return e.kind == EventKind::Drop && e.local.port == port; };
    cap.wait_for([&](const std::vector<Event>& ev) { return !select(ev, to_port).empty(); }, 10);
    cap.settle(500);
    EXPECT_EQ(cap.tracer().lost_total(), 0u);
    const auto drops = select(cap.events(), to_port);
    ASSERT_EQ(drops.size(), 1u) << describe(drops);
    EXPECT_EQ(drops[0].remote.port, 40999) << describe(drops[0]);
    EXPECT_EQ(drops[0].tcp_flags, TS_TCP_SYN) << describe(drops[0]);
    EXPECT_EQ(drops[0].payload_len, 0) << describe(drops[0]);
    EXPECT_EQ(drops[0].dir, TS_DIR_RX) << describe(drops[0]);
    helper->send({{"type", "exit"}});
    helper->join();
}

}  // namespace
}  // namespace ktest
