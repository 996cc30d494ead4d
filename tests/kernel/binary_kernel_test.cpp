// Kernel tier: the tcpscope binary end to end, as a user runs it.
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "kernel_test_support.h"

#ifndef TCPSCOPE_BINARY
#error "TCPSCOPE_BINARY must name the tcpscope executable"
#endif

namespace ktest {
namespace {

// On {"type":"conn","port":P}: one loopback connection in this process.
void one_conn_body(HelperIO& io) {
    prctl(PR_SET_NAME, "tst-e2e");
    for (;;) {
        json m = io.next();
        if (m.value("type", "") == "exit") return;
        uint16_t port = m.at("port");
        int lfd = tcp_listen("127.0.0.1", port);
        int cfd = tcp_connect("127.0.0.1", port);
        if (cfd < 0) {
            errno = -cfd;
            fail("connect");
        }
        int afd = accept_timeout(lfd, 5000);
        uint64_t cookie = socket_cookie(cfd);
        close(cfd);
        char c;
        recv(afd, &c, 1, 0);
        close(afd);
        close(lfd);
        io.report({{"type", "done"}, {"cookie", cookie}});
    }
}

std::string temp_path(const char* what) {
    return "/tmp/tcpscope-test-" + std::to_string(getpid()) + "-" + what;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Makes connections until the tool's output has a line (it is attached and
// flushing), at most timeout_ms.
bool poke_until_output(Helper& h, Background& tool, uint16_t& port, int timeout_ms) {
    uint64_t deadline = tcpscope::monotonic_ns() / 1000000 + static_cast<uint64_t>(timeout_ms);
    while (tcpscope::monotonic_ns() / 1000000 < deadline) {
        h.send({{"type", "conn"}, {"port", port++}});
        h.expect("done");
        if (tool.wait_line([](const std::string&) { return true; }, 300)) return true;
    }
    return false;
}

// 8a. `tcpscope trace --json --duration 6 --netns N`: every line is JSON
// schema v1, the events of our connection are there, the summary is last
// and agrees with the lines before it.
TEST(KernelBinary, JsonDurationRun) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(one_conn_body);
    const std::string err_path = temp_path("stderr");
    // 6 s from the attach: the last connection must fall inside the run
    // (with 2 s it once came after the end, on 6.12). Attaching itself took
    // over 5 s under qemu on a loaded machine: the pokes wait 20 s for it.
    Background tool({TCPSCOPE_BINARY, "trace", "--json", "--duration", "6", "--netns",
                     std::to_string(h->netns())},
                    err_path);
    uint16_t port = unique_port();
    const uint16_t first_port = port;
    ASSERT_TRUE(poke_until_output(*h, tool, port, 20000)) << "no output; stderr:\n"
                                                          << slurp(err_path);
    // One more, known to happen while it is attached.
    const uint16_t last_port = port;
    h->send({{"type", "conn"}, {"port", port++}});
    uint64_t last_cookie = h->expect("done").at("cookie");
    int status = tool.wait_exit(15000);
    std::string err = slurp(err_path);
    unlink(err_path.c_str());
    ASSERT_NE(status, -1) << "did not stop after --duration 6";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << err;

    const auto& lines = tool.lines();
    ASSERT_GE(lines.size(), 2u);
    std::map<std::string, uint64_t> counts;
    std::vector<std::string> last_transitions;
    for (size_t i = 0; i < lines.size(); ++i) {
        json j;
        ASSERT_NO_THROW(j = json::parse(lines[i])) << "line " << i << ": " << lines[i];
        ASSERT_TRUE(j.is_object()) << lines[i];
        EXPECT_EQ(j.at("v"), 1) << lines[i];
        std::string type = j.at("type");
        if (i + 1 == lines.size()) {
            EXPECT_EQ(type, "summary") << lines[i];
            using Counts = std::map<std::string, uint64_t>;
            EXPECT_EQ(j.at("counts").get<Counts>(), counts) << lines[i];
            EXPECT_EQ(j.at("lost"), 0u);
            EXPECT_GE(j.at("duration_ns").get<uint64_t>(), 6000000000ull);
            break;
        }
        EXPECT_NE(type, "summary") << "summary before the end, line " << i;
        ++counts[type];
        EXPECT_EQ(j.at("netns"), h->netns()) << lines[i];
        // Only our connections happened in that namespace.
        int sp = j.at("sport"), dp = j.at("dport");
        auto ours = [&](int p) { return p >= first_port && p < port; };
        EXPECT_TRUE(ours(sp) || ours(dp)) << lines[i];
        if (type == "state" && j.at("cookie") == last_cookie) {
            last_transitions.push_back(j.at("old_state").get<std::string>() + "->" +
                                       j.at("new_state").get<std::string>());
            EXPECT_EQ(j.at("pid"), h->pid());
            EXPECT_EQ(j.at("comm"), "tst-e2e");
        }
    }
    EXPECT_EQ(last_transitions,
              (std::vector<std::string>{"CLOSE->SYN_SENT", "SYN_SENT->ESTABLISHED",
                                        "ESTABLISHED->FIN_WAIT1", "FIN_WAIT1->FIN_WAIT2",
                                        "FIN_WAIT2->CLOSE"}))
        << "connection on port " << last_port;
    h->send({{"type", "exit"}});
    h->join();
}

// RFC 3339 UTC with microseconds -> ns since the epoch; 0 when malformed.
int64_t parse_rfc3339_utc(const std::string& text) {
    struct tm tm {};
    unsigned micros = 0;
    char z = 0;
    if (text.size() != 27 ||
        std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6u%c", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros, &z) != 8 ||
        z != 'Z') {
        return 0;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(timegm(&tm)) * 1000000000 + int64_t{micros} * 1000;
}

int64_t realtime_ns() {
    struct timespec ts {};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Every event line of `trace --json` has "time", the wall clock (UTC) of its
// ts_ns: our connection's events are within a second of the test's own
// CLOCK_REALTIME around it, and "time" moves with ts_ns. In text,
// --timestamps wall puts the same kind of time in the first column.
TEST(KernelBinary, JsonTimeIsTheWallClock) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(one_conn_body);
    const std::string err_path = temp_path("stderr-time");
    Background tool({TCPSCOPE_BINARY, "trace", "--json", "--netns", std::to_string(h->netns())},
                    err_path);
    uint16_t port = unique_port();
    ASSERT_TRUE(poke_until_output(*h, tool, port, 20000)) << slurp(err_path);
    const int64_t before = realtime_ns();
    h->send({{"type", "conn"}, {"port", port++}});
    uint64_t cookie = h->expect("done").at("cookie");
    const int64_t after = realtime_ns();
    tool.wait_line([&](const std::string& l) { return l.find(std::to_string(cookie)) != std::string::npos &&
                                                      l.find("FIN_WAIT2") != std::string::npos; },
                   3000);
    tool.stop();
    unlink(err_path.c_str());
    size_t ours = 0;
    int64_t first_offset = 0;
    for (const auto& line : tool.lines()) {
        json j = json::parse(line);
        if (j.at("type") == "summary") {
            EXPECT_FALSE(j.contains("time")) << line;
            continue;
        }
        ASSERT_TRUE(j.contains("time")) << line;
        const int64_t t = parse_rfc3339_utc(j.at("time").get<std::string>());
        ASSERT_NE(t, 0) << "not RFC 3339 UTC with microseconds: " << line;
        // One anchor for the whole run: time - ts_ns is the same on every
        // line (to the microsecond the time is truncated to).
        const int64_t offset = t - static_cast<int64_t>(j.at("ts_ns").get<uint64_t>());
        if (first_offset == 0) first_offset = offset;
        EXPECT_LE(std::llabs(offset - first_offset), 1000) << line;
        if (j.value("cookie", uint64_t{0}) != cookie) continue;
        ++ours;
        EXPECT_GE(t, before - 1000000000) << line << "\nrealtime before: " << before;
        EXPECT_LE(t, after + 1000000000) << line << "\nrealtime after: " << after;
    }
    EXPECT_GE(ours, 5u) << "the connection's state changes at least";

    // Text: the time column is the wall clock with --timestamps wall.
    Background text({TCPSCOPE_BINARY, "trace", "--timestamps", "wall", "--netns",
                     std::to_string(h->netns())},
                    err_path);
    ASSERT_TRUE(poke_until_output(*h, text, port, 20000)) << slurp(err_path);
    ASSERT_TRUE(text.wait_line([](const std::string&) { return true; }, 3000) ||
                text.lines().size() >= 2);
    text.stop();
    unlink(err_path.c_str());
    ASSERT_GE(text.lines().size(), 2u);
    EXPECT_EQ(text.lines()[0].rfind("TIME(UTC) ", 0), 0u) << text.lines()[0];
    const std::string stamp = text.lines()[1].substr(0, 27);
    const int64_t t = parse_rfc3339_utc(stamp);
    ASSERT_NE(t, 0) << text.lines()[1];
    EXPECT_LE(std::llabs(t - realtime_ns()), 10000000000ll) << text.lines()[1];
    h->send({{"type", "exit"}});
    h->join();
}

// 8b. `tcpscope trace | head -1`: the reader goes away after one line;
// tcpscope notices at its next write and exits 0, promptly.
TEST(KernelBinary, ClosedStdoutExitsQuietly) {
    KTEST_REQUIRE_ROOT();
    auto h = Helper::in_new_netns(one_conn_body);
    const std::string err_path = temp_path("stderr2");
    Background tool({TCPSCOPE_BINARY, "trace", "--netns", std::to_string(h->netns())}, err_path);
    uint16_t port = unique_port();
    ASSERT_TRUE(poke_until_output(*h, tool, port, 20000)) << slurp(err_path);
    EXPECT_NE(tool.lines().front().find("PID"), std::string::npos)
        << "text mode starts with the header: " << tool.lines().front();
    tool.close_output();  // head -1 exits
    uint64_t closed_at = tcpscope::monotonic_ns();
    // Something to write, so that it meets the closed pipe.
    h->send({{"type", "conn"}, {"port", port++}});
    h->expect("done");
    int status = tool.wait_exit(3000);
    std::string err = slurp(err_path);
    unlink(err_path.c_str());
    ASSERT_NE(status, -1) << "still running 3 s after its stdout was closed\n" << err;
    EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status)
                                   << " (SIGPIPE is 13)";
    EXPECT_EQ(WEXITSTATUS(status), 0) << err;
    EXPECT_LT(tcpscope::monotonic_ns() - closed_at, 1500000000ull);
    EXPECT_EQ(err.find("rror"), std::string::npos) << "nothing to complain about: " << err;
    h->send({{"type", "exit"}});
    h->join();
}

// 8c. `tcpscope trace --output /dev/full`: the first flush fails; the tool
// ends with exit 1 and says how many events it read but could not write.
// A tracer of our own, attached to the same namespace, sees the same
// events: every one of them must be in that count.
TEST(KernelBinary, FailedWriteCountsEventsNotWritten) {
    KTEST_REQUIRE_ROOT();
    if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full is not available here";
    auto h = Helper::in_new_netns(one_conn_body);
    Capture witness;
    tcpscope::FilterOptions options;
    options.netns = h->netns_path();
    std::string error;
    ASSERT_TRUE(witness.start(options, &error)) << error;

    const std::string err_path = temp_path("stderr3");
    Background tool({TCPSCOPE_BINARY, "trace", "--output", "/dev/full", "--netns",
                     std::to_string(h->netns())},
                    err_path);
    // Text mode says on stderr when it is attached.
    uint64_t deadline = tcpscope::monotonic_ns() + 5000000000ull;
    while (slurp(err_path).find("Tracing TCP") == std::string::npos &&
           tcpscope::monotonic_ns() < deadline) {
        usleep(20000);
    }
    ASSERT_NE(slurp(err_path).find("Tracing TCP"), std::string::npos) << slurp(err_path);

    h->send({{"type", "conn"}, {"port", unique_port()}});
    h->expect("done");
    int status = tool.wait_exit(5000);
    std::string err = slurp(err_path);
    unlink(err_path.c_str());
    ASSERT_NE(status, -1) << "still running 5 s after its output failed\n" << err;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << "\n" << err;
    EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;

    witness.settle(200);
    const size_t made = witness.events().size();
    ASSERT_GE(made, 5u) << "the connection's state changes at least";
    EXPECT_EQ(witness.tracer().lost_total(), 0u);
    const std::string expect = std::to_string(made) + " events not written (write_failed)";
    EXPECT_NE(err.find(expect), std::string::npos) << "expected \"" << expect << "\" in:\n"
                                                   << err;
    h->send({{"type", "exit"}});
    h->join();
}

// 8c'. A disk that fills: `--output` on a 64 KiB tmpfs (mounted in a
// private mount namespace of the tool's own, so nothing outlives it). The
// tool stops with exit 1 and says how many events it wrote; the file ends
// at the last whole line, every line is JSON, and it holds exactly that many.
TEST(KernelBinary, FullDiskLeavesOnlyWholeLines) {
    KTEST_REQUIRE_ROOT();
    if (access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "unshare (util-linux) not installed";
    auto h = Helper::in_new_netns(one_conn_body);
    char dir_template[] = "/tmp/tcpscope-full-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    const std::string dir = dir_template;
    const std::string copy = temp_path("full-copy");
    const std::string err_path = temp_path("stderr-full");
    int status = -1;
    {
        Background tool({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                         "mount -t tmpfs -o size=64k tcpscope-test \"$1\" || exit 99; "
                         "\"$2\" trace --json --events all --output \"$1/out.jsonl\" --netns \"$3\"; "
                         "rc=$?; cp \"$1/out.jsonl\" \"$4\"; exit $rc",
                         "sh", dir, TCPSCOPE_BINARY, std::to_string(h->netns()), copy},
                        err_path);
        uint16_t port = unique_port();
        for (int i = 0; i < 2000; ++i) {
            status = tool.wait_exit(0);
            if (status != -1) break;
            h->send({{"type", "conn"}, {"port", port++}});
            h->expect("done");
        }
        if (status == -1) status = tool.wait_exit(5000);
    }
    rmdir(dir.c_str());
    std::string err = slurp(err_path);
    unlink(err_path.c_str());
    std::string content = slurp(copy);
    unlink(copy.c_str());
    ASSERT_NE(status, -1) << "never stopped: the disk did not fill\n" << err;
    ASSERT_TRUE(WIFEXITED(status)) << status << "\n" << err;
    ASSERT_NE(WEXITSTATUS(status), 99) << "could not mount a tmpfs\n" << err;
    EXPECT_EQ(WEXITSTATUS(status), 1) << err;
    EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
    size_t at = err.find(" events written, ");
    ASSERT_NE(at, std::string::npos) << err;
    size_t num_from = err.rfind(' ', at - 1) + 1;
    const uint64_t said_written = std::stoull(err.substr(num_from, at - num_from));

    ASSERT_FALSE(content.empty()) << err;
    EXPECT_GT(content.size(), 32768u) << "the disk filled early?";
    EXPECT_EQ(content.back(), '\n') << "ends in half a line: ..."
                                    << content.substr(content.size() - 60);
    std::istringstream in(content);
    std::string line;
    uint64_t events = 0, n = 0;
    while (std::getline(in, line)) {
        ++n;
        json j;
        ASSERT_NO_THROW(j = json::parse(line)) << "line " << n << ": " << line;
        std::string type = j.at("type");
        if (type != "lost" && type != "summary") ++events;
    }
    EXPECT_EQ(events, said_written) << err;
    EXPECT_GT(events, 0u);
    h->send({{"type", "exit"}});
    h->join();
}

// 8d. RLIMIT_MEMLOCK of zero (soft and hard) does not stop it: this kernel
// charges BPF memory to the memory cgroup, and libbpf raises the limit
// itself where a kernel still counts it.
TEST(KernelBinary, RunsUnderZeroMemlockLimit) {
    KTEST_REQUIRE_ROOT();
    if (access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "prlimit (util-linux) not installed";
    CommandResult r = run_command({"/usr/bin/prlimit", "--memlock=0:0", TCPSCOPE_BINARY, "trace",
                                   "--json", "--duration", "1", "--port", "9"},
                                  10000);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("\"type\":\"summary\""), std::string::npos) << r.output;
}

// 8e. Bad command lines exit 2 before touching the kernel.
TEST(KernelBinary, UsageErrorsExitTwo) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"trace", "--port", "0"},
          std::vector<std::string>{"trace", "--duration", "0"},
          std::vector<std::string>{"trace", "--events", "bogus"},
          std::vector<std::string>{"trace", "--comm", "a-name-much-too-long"},
          std::vector<std::string>{"trace", "--ringbuf-kib", "12"},
          std::vector<std::string>{"trace", "--bogus"}, std::vector<std::string>{}}) {
        std::vector<std::string> argv = {TCPSCOPE_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        CommandResult r = run_command(argv, 5000);
        std::string cmd;
        for (const auto& a : args) cmd += a + " ";
        EXPECT_EQ(r.status, 2) << cmd << "\n" << r.output;
        EXPECT_FALSE(r.output.empty()) << cmd << ": no message";
    }
}

// `tcpscope info` against bpftool's own reading of the kernel's BTF: each
// tracepoint present or not, and with as many arguments, as the
// btf_trace_<name> typedef -> pointer -> function prototype says.
TEST(KernelBinary, InfoAgreesWithBpftool) {
    CommandResult info = run_command({TCPSCOPE_BINARY, "info", "--json"}, 10000);
    ASSERT_EQ(info.status, 0) << info.output;
    nlohmann::json j = nlohmann::json::parse(info.output);
    CommandResult dump = run_command(
        {"/usr/sbin/bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"},
        120000);
    ASSERT_EQ(dump.status, 0) << dump.output.substr(0, 500);
    // [id] KIND 'name' ... type_id=N ... vlen=N
    std::map<std::string, std::string> typedef_target;  // btf_trace_x -> id
    std::map<std::string, std::string> pointee;         // PTR id -> id
    std::map<std::string, int> vlen;                    // FUNC_PROTO id -> vlen
    // Plain string handling: the dump has hundreds of thousands of lines,
    // and this runs under qemu's software emulation too.
    auto number_after = [](const std::string& text, const std::string& key) {
        size_t at = text.find(key);
        if (at == std::string::npos) return std::string();
        size_t from = at + key.size();
        size_t to = text.find_first_not_of("0123456789", from);
        return text.substr(from, to == std::string::npos ? std::string::npos : to - from);
    };
    std::istringstream lines(dump.output);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] != '[') continue;
        std::string id = line.substr(1, line.find(']') - 1);
        if (line.find("] TYPEDEF 'btf_trace_") != std::string::npos) {
            size_t name_from = line.find("'btf_trace_") + 11;
            std::string name = line.substr(name_from, line.find('\'', name_from) - name_from);
            typedef_target[name] = number_after(line, "type_id=");
        } else if (line.find("] PTR '") != std::string::npos) {
            pointee[id] = number_after(line, "type_id=");
        } else if (line.find("] FUNC_PROTO '") != std::string::npos) {
            std::string n = number_after(line, "vlen=");
            if (!n.empty()) vlen[id] = std::stoi(n);
        }
    }
    auto bpftool_args = [&](const std::string& tracepoint) {
        auto td = typedef_target.find(tracepoint);
        if (td == typedef_target.end()) return -1;
        auto ptr = pointee.find(td->second);
        if (ptr == pointee.end() || !vlen.count(ptr->second)) return -2;
        return vlen[ptr->second] - 1;  // the first parameter is the context
    };
    ASSERT_GE(bpftool_args("inet_sock_set_state"), 3) << "bpftool's dump was not understood";
    std::map<std::string, bool> present;
    for (const auto& row : j.at("support")) {
        present[row.at("what").get<std::string>()] = row.at("present").get<bool>();
    }
    const std::map<std::string, std::string> kinds = {
        {"state", "inet_sock_set_state"},     {"reset (sent)", "tcp_send_reset"},
        {"reset (received)", "tcp_receive_reset"}, {"retransmit", "tcp_retransmit_skb"},
        {"error", "inet_sk_error_report"},   {"signal", "signal_generate"},
        {"send", "sock_send_length"},        {"recv", "sock_recv_length"},
        {"packet", "net_dev_start_xmit"}};
    for (const auto& [what, tracepoint] : kinds) {
        ASSERT_TRUE(present.count(what)) << what;
        EXPECT_EQ(present[what], bpftool_args(tracepoint) >= 0) << what;
    }
    EXPECT_EQ(present["reset_sent.reason"], bpftool_args("tcp_send_reset") >= 3);
    EXPECT_EQ(present["reset_sent without a full socket"], bpftool_args("tcp_send_reset") >= 3);
    EXPECT_EQ(present["retransmit.err, failed attempts"], bpftool_args("tcp_retransmit_skb") >= 3);
}

}  // namespace
}  // namespace ktest
