// Kernel tier: the RTT state a connection's end carries (srtt, min RTT,
// RTO, cwnd), held to `ss -ti` of the same sockets taken just before they
// close, over a veth pair between two namespaces of the test's own with
// real delay on it: netem (20 ms each way) where the kernel has it, else
// tbf shaping, whose queue makes the RTT (6.18 here has no netem).
//
// The client ends with SO_LINGER 0 once all its data is acknowledged: a
// RST, no FIN, so no segment is timed between ss's reading and the CLOSE
// transition, and the values tcpscope reads there are the ones ss saw.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include <cmath>
#include <cstring>
#include <regex>

#include "kernel_test_support.h"

namespace ktest {
namespace {

using tcpscope::FilterOptions;

void rtt_server_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-rttserver");
    // Long waits: the test starts a tracer in between, which under qemu TCG
    // on a busy host can take more than the default 20 s.
    json m = io.expect("listen", 120000);
    int lfd = tcp_listen(m.at("addr"), m.at("port"));
    io.report({{"type", "listening"}});
    int afd = accept_timeout(lfd, 20000);
    io.report({{"type", "accepted"}, {"cookie", socket_cookie(afd)}});
    // Reads everything until the client's RST ends the connection.
    char buf[65536];
    size_t total = 0;
    for (;;) {
        ssize_t k = recv(afd, buf, sizeof(buf), 0);
        if (k <= 0) break;
        total += static_cast<size_t>(k);
    }
    io.report({{"type", "ended"}, {"received", total}});
    io.expect("exit", 120000);
    close(afd);
    close(lfd);
}

void rtt_client_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-rttclient");
    json m = io.expect("connect", 120000);
    int fd = tcp_connect(m.at("addr"), m.at("port"));
    if (fd < 0) {
        errno = -fd;
        fail("connect");
    }
    io.report({{"type", "connected"}, {"cookie", socket_cookie(fd)}, {"port", local_port(fd)}});
    // Enough data for many RTT samples (and, through tbf, a queue).
    const size_t bytes = m.at("bytes");
    std::vector<char> data(bytes, 'x');
    size_t off = 0;
    while (off < bytes) {
        ssize_t k = send(fd, data.data() + off, bytes - off, MSG_NOSIGNAL);
        if (k <= 0) fail("send");
        off += static_cast<size_t>(k);
    }
    // Until every byte is acknowledged: then nothing more is timed.
    for (int i = 0; i < 3000; ++i) {
        int outq = -1;
        if (ioctl(fd, SIOCOUTQ, &outq) != 0) fail("SIOCOUTQ");
        if (outq == 0) break;
        usleep(10000);
    }
    io.report({{"type", "sent"}});
    io.expect("close");
    set_linger_zero(fd);
    close(fd);
    io.report({{"type", "closed"}});
    io.expect("exit", 120000);
}

// Deletes a veth pair (by one end, in a helper's namespace) on every path.
class VethPair {
public:
    VethPair(pid_t ns_pid, std::string dev) : ns_pid_(ns_pid), dev_(std::move(dev)) {}
    ~VethPair() {
        run_command({"nsenter", "-t", std::to_string(ns_pid_), "-n", "--", "ip", "link", "del", dev_});
    }

private:
    pid_t ns_pid_;
    std::string dev_;
};

// What `ss -ti` says of one socket, in microseconds (it prints ms).
struct SsRtt {
    double srtt_us = -1, min_rtt_us = -1, rto_us = -1;
    long cwnd = -1;
    std::string line;
};

double ss_ms_field(const std::string& text, const std::string& name) {
    std::smatch m;
    std::regex re("(?:^|\\s)" + name + ":([0-9.]+)");
    return std::regex_search(text, m, re) ? std::stod(m[1]) : -1;
}

// The one established socket in pid's namespace from local_port to peer_port.
SsRtt ss_of(pid_t pid, uint16_t local_port, uint16_t peer_port) {
    std::string out = run_in_netns(pid, {"ss", "-tinH", "state", "established", "sport", "=",
                                         ":" + std::to_string(local_port), "dport", "=",
                                         ":" + std::to_string(peer_port)});
    SsRtt r;
    r.line = out;
    r.srtt_us = ss_ms_field(out, "rtt") * 1000;  // "rtt:41.2/10.3": the first is srtt
    double min = ss_ms_field(out, "minrtt");
    r.min_rtt_us = min < 0 ? -1 : min * 1000;
    r.rto_us = ss_ms_field(out, "rto") * 1000;
    double cwnd = ss_ms_field(out, "cwnd");
    r.cwnd = cwnd < 0 ? -1 : static_cast<long>(cwnd);
    return r;
}

// The delay the test put on the link, and how.
enum class Delay { Netem, Tbf };

// netem 20 ms on both ends when the kernel has it (the module is loaded if
// it can be), else tbf at 2 Mbit/s on the client's end.
std::optional<Delay> add_delay(pid_t client, const std::string& dev_a, pid_t server,
                               const std::string& dev_b, std::string* why) {
    run_command({"modprobe", "sch_netem"});  // may be built in, a module or absent
    auto netem_a = run_command({"nsenter", "-t", std::to_string(client), "-n", "--", "tc", "qdisc",
                                "add", "dev", dev_a, "root", "netem", "delay", "20ms"});
    if (netem_a.status == 0) {
        run_in_netns(server, {"tc", "qdisc", "add", "dev", dev_b, "root", "netem", "delay", "20ms"});
        return Delay::Netem;
    }
    *why = "netem: " + netem_a.output;
    auto tbf = run_command({"nsenter", "-t", std::to_string(client), "-n", "--", "tc", "qdisc",
                            "add", "dev", dev_a, "root", "tbf", "rate", "2mbit", "burst", "10kb",
                            "latency", "5s"});
    if (tbf.status == 0) return Delay::Tbf;
    *why += "; tbf: " + tbf.output;
    return std::nullopt;
}

// 1. A connection through real delay: at its end both sockets' srtt, min
// RTT, RTO and cwnd are what ss read from them just before; the delay
// shows (netem: ~40 ms, tbf: a queue of many ms).
TEST(KernelRtt, EndOfConnectionRttMatchesSsOverDelayedVeth) {
    KTEST_REQUIRE_ROOT();
    auto server = Helper::in_new_netns(rtt_server_body);
    auto client = Helper::in_new_netns(rtt_client_body);
    const std::string tag = "tsr" + std::to_string(getpid() % 100000);
    const std::string dev_a = tag + "a", dev_b = tag + "b";
    const int subnet = 1 + getpid() % 250;
    const std::string addr_a = "10.202." + std::to_string(subnet) + ".1";
    const std::string addr_b = "10.202." + std::to_string(subnet) + ".2";
    const std::string mac_a = "02:00:0a:ca:00:01", mac_b = "02:00:0a:ca:00:02";
    VethPair pair(client->pid(), dev_a);
    run_in_netns(client->pid(), {"ip", "link", "add", dev_a, "address", mac_a, "type", "veth",
                                 "peer", "name", dev_b, "address", mac_b, "netns",
                                 std::to_string(server->pid())});
    run_in_netns(client->pid(), {"ip", "addr", "add", addr_a + "/24", "dev", dev_a});
    run_in_netns(client->pid(), {"ip", "link", "set", dev_a, "up"});
    run_in_netns(client->pid(), {"ip", "neigh", "replace", addr_b, "lladdr", mac_b, "dev", dev_a,
                                 "nud", "permanent"});
    run_in_netns(server->pid(), {"ip", "addr", "add", addr_b + "/24", "dev", dev_b});
    run_in_netns(server->pid(), {"ip", "link", "set", dev_b, "up"});
    run_in_netns(server->pid(), {"ip", "neigh", "replace", addr_a, "lladdr", mac_a, "dev", dev_b,
                                 "nud", "permanent"});
    std::string why;
    auto delay = add_delay(client->pid(), dev_a, server->pid(), dev_b, &why);
    if (!delay) GTEST_SKIP() << "this kernel has neither netem nor tbf: " << why;
    std::printf("[ delay    ] %s\n", *delay == Delay::Netem
                                          ? "netem: 20 ms each way (expect an RTT of ~40 ms)"
                                          : "tbf: 2 Mbit/s on the client's end, no netem here ("
                                            "expect a queueing RTT of many ms)");

    const uint16_t port = unique_port();
    Capture cap;
    FilterOptions options;
    options.ports = std::to_string(port);
    options.events = "state";
    std::string error;
    ASSERT_TRUE(cap.start(options, &error)) << error;

    server->send({{"type", "listen"}, {"addr", addr_b}, {"port", port}});
    server->expect("listening");
    // netem: 100 kB, many round trips at 40 ms; tbf: 300 kB, which the
    // shaper queues (about 1.2 s of sending at 2 Mbit/s).
    const size_t bytes = *delay == Delay::Netem ? 100000 : 300000;
    client->send({{"type", "connect"}, {"addr", addr_b}, {"port", port}, {"bytes", bytes}});
    json connected = client->expect("connected", 20000);
    const uint64_t client_cookie = connected.at("cookie");
    const uint16_t client_port = connected.at("port");
    const uint64_t server_cookie = server->expect("accepted", 20000).at("cookie");
    client->expect("sent", 60000);

    SsRtt ss_client = ss_of(client->pid(), client_port, port);
    SsRtt ss_server = ss_of(server->pid(), port, client_port);
    client->send({{"type", "close"}});
    client->expect("closed");
    EXPECT_EQ(server->expect("ended", 20000).at("received"), bytes);

    auto closed = [&](const std::vector<Event>& evs, uint64_t cookie) {
        return !select(evs, [&](const Event& e) {
                    return e.cookie == cookie && e.kind == EventKind::State &&
                           e.new_state == 7 /* CLOSE */;
                }).empty();
    };
    ASSERT_TRUE(cap.wait_for(
        [&](const auto& evs) { return closed(evs, client_cookie) && closed(evs, server_cookie); },
        20))
        << describe(cap.events());
    client->send({{"type", "exit"}});
    server->send({{"type", "exit"}});
    cap.finish();

    auto check = [&](uint64_t cookie, const SsRtt& ss, const char* side) {
        SCOPED_TRACE(std::string(side) + ": ss said " + ss.line);
        auto ends = select(cap.events(), [&](const Event& e) {
            return e.cookie == cookie && e.kind == EventKind::State && e.new_state == 7;
        });
        ASSERT_EQ(ends.size(), 1u) << describe(cap.events());
        ASSERT_TRUE(ends[0].close_stats.has_value()) << describe(ends[0]);
        const tcpscope::CloseStats& st = *ends[0].close_stats;
        std::printf("[ %-8s ] tcpscope srtt %u us, min %u us, rto %u us, cwnd %u; ss %s", side,
                    st.srtt_us, st.min_rtt_us, st.rto_us, st.snd_cwnd, ss.line.c_str());
        ASSERT_GT(ss.srtt_us, 0);
        // ss prints ms with 3 decimals; nothing is timed between its reading
        // and the close, so only the rounding (and a little slack) differs.
        EXPECT_NEAR(st.srtt_us, ss.srtt_us, std::max(50.0, ss.srtt_us * 0.02));
        if (ss.min_rtt_us >= 0) {
            EXPECT_NEAR(st.min_rtt_us, ss.min_rtt_us, std::max(50.0, ss.min_rtt_us * 0.02));
        }
        EXPECT_GE(st.srtt_us, st.min_rtt_us);
        // rto: the same jiffies either way (ss: jiffies_to_usecs); 0 would
        // mean the kernel's HZ was not found.
        EXPECT_GT(st.rto_us, 0u) << "CONFIG_HZ not found (/boot/config-*, /proc/config.gz)";
        EXPECT_NEAR(st.rto_us, ss.rto_us, std::max(1000.0, ss.rto_us * 0.02));
        EXPECT_GE(st.rto_us, 200000u);  // TCP_RTO_MIN
        EXPECT_EQ(static_cast<long>(st.snd_cwnd), ss.cwnd);
    };
    check(client_cookie, ss_client, "client");
    check(server_cookie, ss_server, "server");

    // The delay itself, as the client (the side that sent data) saw it.
    auto client_end = select(cap.events(), [&](const Event& e) {
        return e.cookie == client_cookie && e.new_state == 7 && e.close_stats;
    });
    ASSERT_FALSE(client_end.empty());
    const auto& st = *client_end[0].close_stats;
    if (*delay == Delay::Netem) {
        // 20 ms each way: never less than 40 ms; a slow (emulated) host adds.
        EXPECT_GE(st.min_rtt_us, 39000u);
        EXPECT_GE(st.srtt_us, 39000u);
        EXPECT_LE(st.srtt_us, 400000u);
    } else {
        // 2 Mbit/s: a 64 kB window alone waits 260 ms in the shaper.
        EXPECT_GE(st.srtt_us, 20000u);
    }
}

}  // namespace
}  // namespace ktest
