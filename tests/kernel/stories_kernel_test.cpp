// Kernel tier: `tcpscope trace --connections` and `--stuck`, the binary as
// a user runs it, against real sockets in a network namespace of the
// test's own. What the stories say is held to what the test's sockets saw
// (errno, bytes written and read), to the namespace's own counters
// (nstat) and, for stuck sockets, to `ss`.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "kernel_test_support.h"

#ifndef TCPSCOPE_BINARY
#error "TCPSCOPE_BINARY must name the tcpscope executable"
#endif

namespace ktest {
namespace {

uint64_t now_ns() { return tcpscope::monotonic_ns(); }

void send_all(int fd, size_t n) {
    std::vector<char> buf(n, 'x');
    size_t off = 0;
    while (off < n) {
        ssize_t k = send(fd, buf.data() + off, n - off, MSG_NOSIGNAL);
        if (k <= 0) fail("send");
        off += static_cast<size_t>(k);
    }
}

// Reads until EOF; returns the bytes read.
size_t read_to_eof(int fd) {
    char buf[65536];
    size_t total = 0;
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof(buf), 0);
        if (k < 0) fail("recv");
        if (k == 0) return total;
        total += static_cast<size_t>(k);
    }
}

void read_exactly(int fd, size_t n) {
    std::vector<char> buf(n);
    size_t off = 0;
    while (off < n) {
        ssize_t k = recv(fd, buf.data() + off, n - off, 0);
        if (k <= 0) fail("recv exactly");
        off += static_cast<size_t>(k);
    }
}

// The workload: one way of ending per command, each on its own port, the
// helper's own sockets reporting what they saw.
void endings_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-stories");
    signal(SIGPIPE, SIG_IGN);  // SIGPIPE is still generated ("ignored"), and seen
    for (;;) {
        json m = io.next(60000);
        std::string type = m.value("type", "");
        if (type == "exit") return;
        uint16_t port = m.value("port", 0);
        json r = {{"type", "done"}};
        if (type == "orderly") {
            // The client sends `up`, the server `down`; `closer` closes first.
            size_t up = m.at("up"), down = m.at("down");
            bool client_first = m.at("closer") == "client";
            int lfd = tcp_listen("127.0.0.1", port);
            int cfd = tcp_connect("127.0.0.1", port);
            if (cfd < 0) fail("connect");
            int afd = accept_timeout(lfd, 5000);
            send_all(cfd, up);
            read_exactly(afd, up);
            send_all(afd, down);
            read_exactly(cfd, down);
            int first = client_first ? cfd : afd, second = client_first ? afd : cfd;
            r["client"] = socket_cookie(cfd);
            r["server"] = socket_cookie(afd);
            shutdown(first, SHUT_WR);
            read_to_eof(second);
            close(second);
            read_to_eof(first);
            close(first);
            close(lfd);
        } else if (type == "linger0" || type == "unread") {
            int lfd = tcp_listen("127.0.0.1", port);
            int cfd = tcp_connect("127.0.0.1", port);
            if (cfd < 0) fail("connect");
            int afd = accept_timeout(lfd, 5000);
            r["client"] = socket_cookie(cfd);
            r["server"] = socket_cookie(afd);
            if (type == "linger0") {
                // The client aborts; the server's recv sees the RST.
                set_linger_zero(cfd);
                close(cfd);
                char c;
                ssize_t n = recv(afd, &c, 1, 0);
                r["peer_errno"] = n < 0 ? errno : 0;
                close(afd);
            } else {
                // The server closes with 10 bytes unread: RST, not FIN.
                send_all(cfd, 10);
                uint64_t deadline = now_ns() + 5000000000ull;
                int unread = 0;
                while (now_ns() < deadline) {
                    ioctl(afd, FIONREAD, &unread);
                    if (unread == 10) break;
                    usleep(1000);
                }
                close(afd);
                char c;
                ssize_t n = recv(cfd, &c, 1, 0);
                r["peer_errno"] = n < 0 ? errno : 0;
                close(cfd);
            }
            close(lfd);
        } else if (type == "refused") {
            int fd = -1;
            int ret = tcp_connect("127.0.0.1", port, &fd);
            r["errno"] = ret < 0 ? -ret : 0;
            r["client"] = fd >= 0 ? socket_cookie(fd) : 0;
            if (fd >= 0) close(fd);
        } else if (type == "syn_timeout") {
            // A SYN into a veth whose other end drops it (no address there):
            // two SYNs, then ETIMEDOUT.
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            int syncnt = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt));
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(port);
            inet_pton(AF_INET, "10.199.0.2", &a.sin_addr);
            r["client"] = socket_cookie(fd);
            int ret = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
            r["errno"] = ret < 0 ? errno : 0;
            close(fd);
        } else if (type == "epipe") {
            // The server closes; the client writes once (the peer's timewait
            // socket answers RST: EPIPE), then again (EPIPE and SIGPIPE).
            int lfd = tcp_listen("127.0.0.1", port);
            int cfd = tcp_connect("127.0.0.1", port);
            if (cfd < 0) fail("connect");
            int afd = accept_timeout(lfd, 5000);
            r["client"] = socket_cookie(cfd);
            r["server"] = socket_cookie(afd);
            close(afd);
            char c;
            if (recv(cfd, &c, 1, 0) != 0) fail("expected EOF");
            ssize_t first = send(cfd, "x", 1, 0);
            // The RST comes back within the send on loopback; give it a moment anyway.
            uint64_t deadline = now_ns() + 2000000000ull;
            ssize_t second = 0;
            int second_errno = 0;
            while (now_ns() < deadline) {
                second = send(cfd, "x", 1, 0);
                second_errno = second < 0 ? errno : 0;
                if (second < 0) break;
                usleep(1000);
            }
            r["first"] = first;
            r["errno"] = second_errno;
            close(cfd);
            close(lfd);
        } else {
            errno = 0;
            fail("unknown command " + m.dump());
        }
        io.report(r);
    }
}

// Reads what the tool writes for up to ms (wait_line's predicate sees
// every line from the first: this one holds only for lines not read yet).
void read_more(Background& tool, int ms) {
    const size_t known = tool.lines().size();
    tool.wait_line([&](const std::string&) { return tool.lines().size() > known; }, ms);
}

std::string temp_path(const char* what) {
    return "/tmp/tcpscope-test-" + std::to_string(getpid()) + "-" + what;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The JSON objects among the tool's lines (all must be JSON).
std::vector<json> parsed(const Background& tool) {
    std::vector<json> out;
    for (const auto& line : tool.lines()) {
        json j = json::parse(line, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << line;
        if (!j.is_discarded()) out.push_back(j);
    }
    return out;
}

const json* story_of(const std::vector<json>& lines, uint64_t cookie) {
    for (const auto& j : lines) {
        if (j.value("type", "") == "connection" && j.value("cookie", uint64_t{0}) == cookie) return &j;
    }
    return nullptr;
}

// Orderly closes from either side with known bytes, an abort with
// SO_LINGER 0, a close with unread data, a refused connect, a SYN that
// times out, and a write after the peer closed: each story says what the
// test's own sockets saw, and the stories add up to the namespace's
// counters.
TEST(KernelStories, EachWayOfEndingAsTheSocketsAndNstatSawIt) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(endings_body);
    // A veth whose far end drops what it gets: SYNs to 10.199.0.2 vanish.
    run_in_netns(h->pid(), {"ip", "link", "add", "tsv0", "type", "veth", "peer", "name", "tsv1"});
    run_in_netns(h->pid(), {"ip", "addr", "add", "10.199.0.1/24", "dev", "tsv0"});
    run_in_netns(h->pid(), {"ip", "link", "set", "tsv0", "up"});
    run_in_netns(h->pid(), {"ip", "link", "set", "tsv1", "up"});
    run_in_netns(h->pid(), {"ip", "neigh", "add", "10.199.0.2", "lladdr", "02:00:00:00:00:02",
                            "dev", "tsv0", "nud", "permanent"});
    const std::string err_path = temp_path("stories-stderr");
    Background tool({TCPSCOPE_BINARY, "trace", "--connections", "--json", "--netns", h->netns_path()},
                    err_path);
    // Attached once a warm-up connection's story comes out.
    uint16_t port = unique_port();
    bool ready = false;
    for (int i = 0; i < 20 && !ready; ++i) {
        h->send({{"type", "orderly"}, {"port", port++}, {"up", 1}, {"down", 1}, {"closer", "client"}});
        h->expect("done");
        ready = tool.wait_line([](const std::string& l) { return l.find("\"connection\"") != std::string::npos; },
                               1500);
    }
    ASSERT_TRUE(ready) << "no story came out; stderr:\n" << slurp(err_path);
    // Stories of the warm-up still to come are not in the counts: let them out.
    tool.wait_line([](const std::string&) { return false; }, 1500);
    const size_t warmup_lines = tool.lines().size();
    auto before = nstat(h->pid());

    auto run = [&](json cmd) {
        cmd["port"] = port++;
        h->send(cmd);
        return h->expect("done", 30000);
    };
    json client_first = run({{"type", "orderly"}, {"up", 100000}, {"down", 2345}, {"closer", "client"}});
    json server_first = run({{"type", "orderly"}, {"up", 777}, {"down", 300000}, {"closer", "server"}});
    json linger0 = run({{"type", "linger0"}});
    json unread = run({{"type", "unread"}});
    json refused = run({{"type", "refused"}});
    json syn_timeout = run({{"type", "syn_timeout"}});
    json epipe = run({{"type", "epipe"}});
    auto after = nstat(h->pid());

    // Every story of ours, then stop.
    std::vector<uint64_t> cookies;
    for (const json* r : {&client_first, &server_first, &linger0, &unread, &epipe}) {
        cookies.push_back(r->at("client"));
        cookies.push_back(r->at("server"));
    }
    cookies.push_back(refused.at("client"));
    cookies.push_back(syn_timeout.at("client"));
    auto all_there = [&]() {
        auto lines = parsed(tool);
        for (uint64_t c : cookies) {
            if (!story_of(lines, c)) return false;
        }
        return true;
    };
    uint64_t deadline = now_ns() + 10000000000ull;
    while (!all_there() && now_ns() < deadline) read_more(tool, 200);
    int status = tool.stop();
    std::string err = slurp(err_path);
    unlink(err_path.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << err;
    auto lines = parsed(tool);
    ASSERT_TRUE(all_there()) << "stories missing; stderr:\n" << err;

    auto story = [&](uint64_t cookie) { return *story_of(lines, cookie); };
    // Orderly closes: FIN both ways, the right side first, bytes as written.
    json c = story(client_first.at("client")), s = story(client_first.at("server"));
    EXPECT_EQ(c.at("end"), "fin") << c;
    EXPECT_EQ(c.at("role"), "client");
    EXPECT_EQ(c.at("closed_first"), "local");
    EXPECT_EQ(c.at("bytes_sent"), 100000u) << c;
    EXPECT_EQ(c.at("bytes_received"), 2345u) << c;
    EXPECT_EQ(c.at("comm"), "tst-stories");
    EXPECT_EQ(c.at("pid"), h->pid());
    EXPECT_EQ(s.at("role"), "server");
    EXPECT_EQ(s.at("end"), "fin") << s;
    EXPECT_EQ(s.at("closed_first"), "peer");
    EXPECT_EQ(s.at("bytes_sent"), 2345u) << s;
    EXPECT_EQ(s.at("bytes_received"), 100000u) << s;
    EXPECT_EQ(s.at("pid"), h->pid());
    c = story(server_first.at("client"));
    s = story(server_first.at("server"));
    EXPECT_EQ(c.at("closed_first"), "peer") << c;
    EXPECT_EQ(s.at("closed_first"), "local") << s;
    EXPECT_EQ(c.at("bytes_received"), 300000u) << c;
    EXPECT_EQ(s.at("bytes_sent"), 300000u) << s;
    EXPECT_EQ(s.at("bytes_received"), 777u) << s;
    EXPECT_TRUE(c.at("duration_known").get<bool>());
    uint64_t states_sum = 0;
    for (const auto& st : c.at("states")) states_sum += st.at("ns").get<uint64_t>();
    EXPECT_EQ(states_sum, c.at("duration_ns").get<uint64_t>()) << c;

    // SO_LINGER 0: the client aborted; the server's recv got ECONNRESET.
    ASSERT_EQ(linger0.at("peer_errno"), ECONNRESET);
    c = story(linger0.at("client"));
    s = story(linger0.at("server"));
    EXPECT_EQ(c.at("end"), "aborted") << c;
    EXPECT_EQ(s.at("end"), "reset_received") << s;
    EXPECT_EQ(s.at("errors"), json::array({"ECONNRESET"})) << s;
    // Unread data: the server aborted on close; the client got ECONNRESET.
    ASSERT_EQ(unread.at("peer_errno"), ECONNRESET);
    s = story(unread.at("server"));
    c = story(unread.at("client"));
    EXPECT_EQ(s.at("end"), "aborted") << s;
    EXPECT_EQ(s.at("bytes_received"), 10u) << s;
    EXPECT_EQ(c.at("end"), "reset_received") << c;
    EXPECT_EQ(c.at("errors"), json::array({"ECONNRESET"})) << c;
    if (kernel_support().shows(tcpscope::KernelFeature::ResetReason)) {
        EXPECT_EQ(s.at("reset_reason"), "TCP_ABORT_ON_CLOSE") << s;
    }
    // Refused, and a SYN that went unanswered.
    ASSERT_EQ(refused.at("errno"), ECONNREFUSED);
    c = story(refused.at("client"));
    EXPECT_EQ(c.at("end"), "refused") << c;
    EXPECT_EQ(c.at("established"), false);
    ASSERT_EQ(syn_timeout.at("errno"), ETIMEDOUT);
    c = story(syn_timeout.at("client"));
    EXPECT_EQ(c.at("end"), "timeout") << c;
    EXPECT_GE(c.at("total_retrans").get<uint64_t>(), 1u) << "its SYN was retransmitted: " << c;
    // A write after the peer closed: EPIPE, and the SIGPIPE it raised.
    ASSERT_EQ(epipe.at("errno"), EPIPE);
    c = story(epipe.at("client"));
    EXPECT_EQ(c.at("end"), "reset_received") << c;
    EXPECT_EQ(c.at("closed_first"), "peer");
    EXPECT_EQ(c.at("reset_state"), "CLOSE_WAIT");
    EXPECT_EQ(c.at("errors"), json::array({"EPIPE"})) << c;
    EXPECT_GE(c.at("sigpipe").get<int>(), 1) << c;
    EXPECT_EQ(c.at("cause"),
              "peer closed, then our write drew a RST from its timewait socket: EPIPE, SIGPIPE" +
                  std::string(c.at("sigpipe").get<int>() > 1 ? " x" + std::to_string(c.at("sigpipe").get<int>()) : ""));

    // The counts against the namespace's own counters, over the stories
    // of the measured part only.
    size_t clients = 0, servers = 0, never_established = 0, estab_resets = 0;
    uint64_t retransmitted = 0;
    for (size_t i = warmup_lines; i < lines.size(); ++i) {
        const json& j = lines[i];
        if (j.value("type", "") != "connection") continue;
        if (std::find(cookies.begin(), cookies.end(), j.at("cookie").get<uint64_t>()) == cookies.end()) {
            continue;
        }
        clients += j.at("role") == "client";
        servers += j.at("role") == "server";
        never_established += !j.at("established").get<bool>();
        const auto& states = j.at("states");
        std::string last = states.empty() ? "" : states.back().at("state").get<std::string>();
        estab_resets += last == "ESTABLISHED" || last == "CLOSE_WAIT";
        retransmitted += j.at("total_retrans").get<uint64_t>();
    }
    EXPECT_EQ(clients, counter_delta(before, after, "TcpActiveOpens"));
    EXPECT_EQ(servers, counter_delta(before, after, "TcpPassiveOpens"));
    EXPECT_EQ(never_established, counter_delta(before, after, "TcpAttemptFails"));
    EXPECT_EQ(estab_resets, counter_delta(before, after, "TcpEstabResets"));
    // Only the SYNs into the veth were retransmitted (loopback loses nothing).
    EXPECT_EQ(retransmitted, counter_delta(before, after, "TcpRetransSegs"));
    const json& summary = lines.back();
    EXPECT_EQ(summary.at("type"), "summary");
    EXPECT_EQ(summary.at("lost"), 0u);
    EXPECT_EQ(summary.at("connections_open"), 0u) << "every connection closed and was forgotten";
    h->send({{"type", "exit"}});
    h->join();
}

// Churn: many short connections, each closed at once. The stories go out
// and their state with them: the tool's memory stays flat from one batch
// to the next, and at the end nothing is left open.
void churn_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-churn");
    for (;;) {
        json m = io.next(60000);
        if (m.value("type", "") == "exit") return;
        uint16_t port = m.at("port");
        int n = m.at("count");
        int lfd = tcp_listen("127.0.0.1", port, 1024);
        for (int i = 0; i < n; ++i) {
            int cfd = tcp_connect("127.0.0.1", port);
            if (cfd < 0) fail("connect");
            int afd = accept_timeout(lfd, 5000);
            close(cfd);
            close(afd);
        }
        close(lfd);
        io.report({{"type", "done"}});
    }
}

uint64_t rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return 0;
}

// One run of the churn test: the tool's summary line and its RSS after
// the warm-up batches and at the end.
struct ChurnRun {
    json summary;
    uint64_t rss_warm = 0;
    uint64_t rss_end = 0;
};

ChurnRun churn_under_trace(Helper& h, uint16_t& port) {
    ChurnRun run;
    const std::string err_path = temp_path("churn-stderr");
    const std::string out_path = temp_path("churn-out");
    Background tool({TCPSCOPE_BINARY, "trace", "--connections", "--json", "--netns", h.netns_path(),
                     "--output", out_path},
                    err_path);
    // Ready once a warm-up connection's story is in the file.
    uint64_t deadline = now_ns() + 20000000000ull;
    bool ready = false;
    while (!ready && now_ns() < deadline) {
        h.send({{"type", "churn"}, {"port", port++}, {"count", 1}});
        h.expect("done");
        for (int i = 0; i < 15 && !ready; ++i) {
            usleep(100000);
            ready = slurp(out_path).find("\"connection\"") != std::string::npos;
        }
    }
    EXPECT_TRUE(ready) << slurp(err_path);
    if (!ready) return run;
    usleep(1500000);  // the warm-up's other end
    auto batch = [&](int count) {
        h.send({{"type", "churn"}, {"port", port++}, {"count", count}});
        h.expect("done", 120000);
        usleep(1500000);  // the grace after CLOSE, and a poll round: the stories are out
    };
    // The first batches take the tool to its working size (the ring
    // buffer's pages, the allocator's arenas); then 20,000 more stories
    // must not grow it: a leak of even 150 bytes a story would show.
    batch(5000);
    batch(5000);
    run.rss_warm = rss_kib(tool.pid());
    batch(5000);
    batch(5000);
    run.rss_end = rss_kib(tool.pid());
    int status = tool.stop();
    std::string err = slurp(err_path);
    unlink(err_path.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
    std::string out = slurp(out_path);
    unlink(out_path.c_str());
    std::string last = out.substr(out.rfind('\n', out.size() - 2) + 1);
    run.summary = json::parse(last);
    return run;
}

TEST(KernelStories, ChurnKeepsMemoryFlatAndFreesEveryConnection) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(churn_body);
    uint16_t port = unique_port();
    // A run whose events the kernel did not hand over cannot say whether
    // every connection was freed (a lost CLOSE leaves a story open). When
    // the kernel skipped one of our programs (an interrupt's softirq ran it
    // while it was already running on that CPU, counted as
    // program_skipped: likelier under qemu, where programs run slowly and
    // interrupts land inside them more often), the run is run again, twice
    // at most, as the scenario tests do. (CI's 6.1 guest once lost 1 event
    // here; the summary's reasons were not printed then, and are now.) A full ring buffer is never run
    // again: the reader keeping up is part of what this test checks.
    ChurnRun run;
    for (int attempt = 1;; ++attempt) {
        run = churn_under_trace(*h, port);
        if (HasFailure() || run.summary.is_null()) break;
        const json& by_reason = run.summary.at("lost_by_reason");
        const bool only_skipped = run.summary.at("lost") == by_reason.at("program_skipped");
        if (run.summary.at("lost") == 0u || !only_skipped || attempt == 3) break;
        std::printf("[ note     ] attempt %d lost %s events, all skipped by the kernel: running it again\n",
                    attempt, run.summary.at("lost").dump().c_str());
    }
    ASSERT_FALSE(run.summary.is_null());
    const json& summary = run.summary;
    EXPECT_EQ(summary.at("type"), "summary");
    EXPECT_GE(summary.at("connections"), 2u * 20000u) << "a story for each end of each connection";
    EXPECT_LE(summary.at("connections"), 2u * 20000u + 40u) << "and the warm-ups'";
    EXPECT_EQ(summary.at("connections_open"), 0u) << "every connection's state was freed";
    EXPECT_EQ(summary.at("connections_evicted"), 0u);
    EXPECT_EQ(summary.at("lost"), 0u) << summary.dump();
    std::printf("[ rss      ] after 10000 and 20000 connections: %llu %llu KiB\n",
                static_cast<unsigned long long>(run.rss_warm), static_cast<unsigned long long>(run.rss_end));
    ASSERT_GT(run.rss_warm, 0u);
    EXPECT_LE(run.rss_end, run.rss_warm + 3072) << "memory grew with the connections";
    h->send({{"type", "exit"}});
    h->join();
}

// ------------------------------------------------------------------ stuck

// Makes CLOSE_WAIT leaks on command: the peer closes after sending `bytes`,
// this side never reads nor closes, until told.
void leak_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-leaky");
    std::vector<int> fds;
    for (;;) {
        json m = io.next(60000);
        std::string type = m.value("type", "");
        if (type == "exit") return;
        if (type == "leak") {
            uint16_t port = m.at("port");
            size_t bytes = m.at("bytes");
            int lfd = tcp_listen("127.0.0.1", port);
            int cfd = tcp_connect("127.0.0.1", port);
            if (cfd < 0) fail("connect");
            int afd = accept_timeout(lfd, 5000);
            send_all(afd, bytes);
            close(afd);
            close(lfd);
            // In CLOSE_WAIT once the FIN is in.
            uint64_t deadline = now_ns() + 5000000000ull;
            tcp_info info{};
            socklen_t len = sizeof(info);
            while (now_ns() < deadline) {
                getsockopt(cfd, IPPROTO_TCP, TCP_INFO, &info, &len);
                if (info.tcpi_state == 8) break;
                usleep(1000);
            }
            if (info.tcpi_state != 8) fail("not in CLOSE_WAIT");
            fds.push_back(cfd);
            io.report({{"type", "leaked"}, {"cookie", socket_cookie(cfd)}, {"t", now_ns()}});
        } else if (type == "close_all") {
            for (int fd : fds) close(fd);
            fds.clear();
            io.report({{"type", "closed"}, {"t", now_ns()}});
        }
    }
}

// The Recv-Q `ss` shows for the CLOSE_WAIT socket on this local port.
int ss_recv_q(pid_t pid, uint16_t peer_port) {
    std::string out = run_in_netns(pid, {"ss", "-tnH", "state", "close-wait"});
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        int recv_q = 0, send_q = 0;
        std::string local, peer;
        f >> recv_q >> send_q >> local >> peer;
        if (peer.size() > 6 && peer.substr(peer.rfind(':') + 1) == std::to_string(peer_port)) return recv_q;
    }
    return -1;
}

// Connections made before the trace: `open` makes a pair on a port and
// leaves it ESTABLISHED, `close` closes one of a pair's ends (by cookie).
void older_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-older");
    std::map<uint64_t, int> fds;  // by cookie
    std::vector<int> listeners;
    for (;;) {
        json m = io.next(60000);
        std::string type = m.value("type", "");
        if (type == "exit") return;
        json r = {{"type", "done"}};
        if (type == "open") {
            uint16_t port = m.at("port");
            int lfd = tcp_listen("127.0.0.1", port);
            int cfd = tcp_connect("127.0.0.1", port);
            if (cfd < 0) fail("connect");
            int afd = accept_timeout(lfd, 5000);
            listeners.push_back(lfd);
            r["client"] = socket_cookie(cfd);
            r["server"] = socket_cookie(afd);
            fds[socket_cookie(cfd)] = cfd;
            fds[socket_cookie(afd)] = afd;
        } else if (type == "shutdown" || type == "close") {
            int fd = fds.at(m.at("cookie").get<uint64_t>());
            if (type == "shutdown") {
                shutdown(fd, SHUT_WR);
            } else {
                close(fd);
            }
            usleep(20000);  // the FIN and its ACK, on loopback
        } else {
            errno = 0;
            fail("unknown command " + m.dump());
        }
        io.report(r);
    }
    for (int fd : listeners) close(fd);
}

// Sockets the trace finds already open, in ESTABLISHED, CLOSE_WAIT and
// FIN_WAIT2: each story names its role from the ports (the client's is
// the ephemeral one), who closed first from the state it leaves, and a
// duration that is a lower bound from the trace's start.
TEST(KernelStories, ConnectionsOlderThanTheTrace) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(older_body);
    auto open = [&] {
        h->send({{"type", "open"}, {"port", unique_port()}});
        return h->expect("done");
    };
    auto act = [&](const char* what, uint64_t cookie) {
        h->send({{"type", what}, {"cookie", cookie}});
        h->expect("done");
    };
    json a = open(), b = open(), c = open();
    // b: the server half-closes (client in CLOSE_WAIT, server in FIN_WAIT2);
    // c: the client does (server in CLOSE_WAIT, client in FIN_WAIT2).
    act("shutdown", b.at("server"));
    act("shutdown", c.at("client"));
    const std::string err_path = temp_path("older-stderr");
    const uint64_t before_start = now_ns();
    Background tool({TCPSCOPE_BINARY, "trace", "--connections", "--json", "--netns", h->netns_path()},
                    err_path);
    // Attached once a connection made now has its story.
    json probe;
    const uint64_t deadline = now_ns() + 20000000000ull;
    while (now_ns() < deadline) {
        probe = open();
        act("close", probe.at("client"));
        act("close", probe.at("server"));
        uint64_t until = now_ns() + 2500000000ull;
        while (!story_of(parsed(tool), probe.at("client")) && now_ns() < until) read_more(tool, 100);
        if (story_of(parsed(tool), probe.at("client"))) break;
    }
    ASSERT_TRUE(story_of(parsed(tool), probe.at("client"))) << slurp(err_path);
    const uint64_t attached = now_ns();
    // a: the client closes first; b and c: each end left closes.
    act("close", a.at("client"));
    act("close", a.at("server"));
    act("close", b.at("client"));
    act("close", b.at("server"));
    act("close", c.at("server"));
    act("close", c.at("client"));
    struct Want {
        uint64_t cookie;
        const char* role;
        const char* closed_first;
    };
    const std::vector<Want> wants = {
        {a.at("client"), "client", "local"}, {a.at("server"), "server", "peer"},
        {b.at("client"), "client", "peer"},  {b.at("server"), "server", "local"},
        {c.at("client"), "client", "local"}, {c.at("server"), "server", "peer"},
    };
    auto all_told = [&] {
        auto lines = parsed(tool);
        return std::all_of(wants.begin(), wants.end(),
                           [&](const Want& w) { return story_of(lines, w.cookie) != nullptr; });
    };
    const uint64_t until = now_ns() + 10000000000ull;
    while (!all_told() && now_ns() < until) read_more(tool, 100);
    tool.stop();
    const std::string err = slurp(err_path);
    unlink(err_path.c_str());
    auto lines = parsed(tool);
    for (const auto& w : wants) {
        const json* story = story_of(lines, w.cookie);
        if (story == nullptr) {
            ADD_FAILURE() << "no story for cookie " << w.cookie << "\n" << err;
            continue;
        }
        const json& s = *story;
        EXPECT_EQ(s.at("role"), w.role) << s;
        EXPECT_EQ(s.at("role_from_ports"), true) << s;
        EXPECT_EQ(s.at("closed_first"), w.closed_first) << s;
        EXPECT_EQ(s.at("end"), "fin") << s;
        EXPECT_EQ(s.at("pid"), h->pid()) << "the owner, found in /proc at start: " << s;
        EXPECT_EQ(s.at("duration_known"), false) << s;
        // At least since the trace began: after before_start, before the
        // probe's story proved it attached.
        const uint64_t end = s.at("ts_ns"), duration = s.at("duration_ns");
        EXPECT_LE(duration, end - before_start) << s;
        EXPECT_GE(duration, end - attached) << s;
    }
    h->send({{"type", "exit"}});
    h->join();
}

// A CLOSE_WAIT leak older than the tracer and one made under it: each is
// reported at most once per period, with its owner, state, age and the
// Recv-Q that ss shows, and once more when the test closes them.
TEST(KernelStuck, CloseWaitLeaksBeforeAndAfterStart) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(leak_body);
    uint16_t port_old = unique_port(), port_new = unique_port();
    h->send({{"type", "leak"}, {"port", port_old}, {"bytes", 3}});
    json old_leak = h->expect("leaked");
    const int old_recv_q = ss_recv_q(h->pid(), port_old);
    ASSERT_GT(old_recv_q, 0);

    const std::string err_path = temp_path("stuck-stderr");
    const uint64_t tool_start = now_ns();
    Background tool({TCPSCOPE_BINARY, "trace", "--connections", "--json", "--stuck", "1",
                     "--netns", h->netns_path()},
                    err_path);
    auto stuck_lines = [&](uint64_t cookie, const std::string& phase) {
        std::vector<json> out;
        for (const auto& j : parsed(tool)) {
            if (j.value("type", "") == "stuck" && j.at("cookie") == cookie && j.at("phase") == phase) {
                out.push_back(j);
            }
        }
        return out;
    };
    auto wait_for = [&](const std::function<bool()>& pred, double seconds) {
        uint64_t deadline = now_ns() + static_cast<uint64_t>(seconds * 1e9);
        while (!pred() && now_ns() < deadline) read_more(tool, 100);
        return pred();
    };
    const uint64_t old_cookie = old_leak.at("cookie");
    ASSERT_TRUE(wait_for([&] { return !stuck_lines(old_cookie, "stuck").empty(); }, 15))
        << "the old leak was not reported; stderr:\n" << slurp(err_path);
    // Reporting, it holds CAP_BPF alone (sock_diag hands the socket storage
    // only to it), as user nobody: not root, as --stuck once kept.
    {
        std::string uid, cap_eff;
        std::ifstream status("/proc/" + std::to_string(tool.pid()) + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("Uid:", 0) == 0) uid = line.substr(4);
            if (line.rfind("CapEff:", 0) == 0) cap_eff = line.substr(7);
        }
        EXPECT_NE(uid.find("65534"), std::string::npos) << "Uid:" << uid;
        EXPECT_NE(cap_eff.find("0000008000000000"), std::string::npos) << "CapEff:" << cap_eff;
    }
    h->send({{"type", "leak"}, {"port", port_new}, {"bytes", 1000}});
    json new_leak = h->expect("leaked");
    const uint64_t new_cookie = new_leak.at("cookie");
    const int new_recv_q = ss_recv_q(h->pid(), port_new);
    ASSERT_TRUE(wait_for([&] { return stuck_lines(new_cookie, "stuck").size() >= 2; }, 10))
        << "cookie " << new_cookie << "\n" << [&] {
               std::string all;
               for (const auto& l : tool.lines()) all += l + "\n";
               return all;
           }() << slurp(err_path);
    h->send({{"type", "close_all"}});
    json closed = h->expect("closed");
    ASSERT_TRUE(wait_for([&] {
        return !stuck_lines(old_cookie, "ended").empty() && !stuck_lines(new_cookie, "ended").empty();
    }, 10)) << slurp(err_path);
    tool.stop();
    unlink(err_path.c_str());

    auto old_reports = stuck_lines(old_cookie, "stuck");
    const json& o = old_reports.front();
    EXPECT_EQ(o.at("state"), "CLOSE_WAIT");
    EXPECT_EQ(o.at("pid"), h->pid()) << "owner found in /proc at start: " << o;
    EXPECT_EQ(o.at("comm"), "tst-leaky");
    EXPECT_EQ(o.at("age_at_least"), true) << "older than the tracer: " << o;
    EXPECT_EQ(o.at("recv_q"), old_recv_q) << "as ss shows it";
    EXPECT_LE(o.at("age_ns").get<uint64_t>(), now_ns() - old_leak.at("t").get<uint64_t>());

    auto new_reports = stuck_lines(new_cookie, "stuck");
    const json& n = new_reports.front();
    EXPECT_EQ(n.at("pid"), h->pid());
    EXPECT_EQ(n.at("age_at_least"), false) << "its entry into CLOSE_WAIT was seen: " << n;
    EXPECT_EQ(n.at("recv_q"), new_recv_q) << "as ss shows it";
    // Its age is its time in CLOSE_WAIT: from before the helper saw the
    // state to the snapshot, by the same clock.
    uint64_t age = n.at("age_ns"), ts = n.at("ts_ns");
    EXPECT_GE(age, 1000000000ull);
    EXPECT_GE(ts - age + 0, tool_start);
    EXPECT_LE(ts - age, new_leak.at("t").get<uint64_t>());
    // Once per period (1 s) at most, numbered.
    for (const auto* reports : {&old_reports, &new_reports}) {
        for (size_t i = 0; i < reports->size(); ++i) {
            EXPECT_EQ((*reports)[i].at("report"), i + 1);
            if (i) {
                EXPECT_GE((*reports)[i].at("ts_ns").get<uint64_t>() - (*reports)[i - 1].at("ts_ns").get<uint64_t>(),
                          1000000000ull);
            }
        }
    }
    // The final record: gone, after the test closed it, said once.
    for (uint64_t cookie : {old_cookie, new_cookie}) {
        auto ended = stuck_lines(cookie, "ended");
        ASSERT_EQ(ended.size(), 1u);
        EXPECT_TRUE(ended[0].at("new_state").is_null()) << ended[0];
        EXPECT_GE(ended[0].at("ts_ns").get<uint64_t>(), closed.at("t").get<uint64_t>() - 1000000000ull);
    }
    h->send({{"type", "exit"}});
    h->join();
}

// Text output: a stuck line that comes before any event still comes under
// the column header (it once came alone, the header left for the first
// event).
TEST(KernelStuck, TextLinesComeUnderTheHeader) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(leak_body);
    h->send({{"type", "leak"}, {"port", unique_port()}, {"bytes", 3}});
    h->expect("leaked");
    const std::string err_path = temp_path("stuck-text-stderr");
    Background tool({TCPSCOPE_BINARY, "trace", "--stuck", "1", "--netns", h->netns_path()}, err_path);
    auto has_stuck = [&] {
        const auto& lines = tool.lines();
        return std::any_of(lines.begin(), lines.end(),
                           [](const std::string& l) { return l.find(" stuck ") != std::string::npos; });
    };
    uint64_t deadline = now_ns() + 15000000000ull;
    while (!has_stuck() && now_ns() < deadline) read_more(tool, 100);
    tool.stop();
    ASSERT_TRUE(has_stuck()) << slurp(err_path);
    unlink(err_path.c_str());
    const auto& lines = tool.lines();
    EXPECT_EQ(lines.front().rfind("TIME(s)", 0), 0u) << "first line: " << lines.front();
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.rfind("TIME(s)", 0) == 0; }),
              1)
        << "one header";
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find("CLOSE_WAIT for at least") != std::string::npos;
    }));
    h->send({{"type", "close_all"}});
    h->expect("closed");
    h->send({{"type", "exit"}});
    h->join();
}

}  // namespace
}  // namespace ktest
