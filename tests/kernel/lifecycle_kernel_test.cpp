// Kernel tier: the tcpscope binary's life from start to end, the way an
// operator meets it: started without privileges, stopped by each signal at
// any moment (attach included), killed outright, and running without root
// once attached.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "kernel_test_support.h"

#ifndef TCPSCOPE_BINARY
#error "TCPSCOPE_BINARY must name the tcpscope executable"
#endif

namespace ktest {
namespace {

// A port nothing uses: the tracer stays quiet and its output is the summary.
const char* kQuietPort = "9";

// Lines of /proc/PID/status, e.g. "Uid" -> "65534 65534 65534 65534".
std::string proc_status(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            std::string value = line.substr(key.size() + 1);
            size_t start = value.find_first_not_of(" \t");
            return start == std::string::npos ? "" : value.substr(start);
        }
    }
    return "";
}

// BPF links in the system: `bpftool link list` prints one "N: type ..."
// line per link.
int bpf_link_count() {
    CommandResult r = run_command({"bpftool", "link", "list"}, 10000);
    std::istringstream in(r.output);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) ++n;
    }
    return n;
}

// The link count once it reaches `expected`, or after 1 s: a link goes
// when its last reference (a dead process's fd) is put, which the kernel
// may finish a moment after the process was reaped.
int bpf_link_count_settled(int expected) {
    int n = bpf_link_count();
    for (int i = 0; i < 20 && n != expected; ++i) {
        usleep(50000);
        n = bpf_link_count();
    }
    return n;
}

// The default trace drops to nobody right after attaching: seeing uid
// 65534 means the programs are in place.
bool wait_until_dropped(pid_t pid, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (proc_status(pid, "Uid").rfind("65534\t", 0) == 0) return true;
        usleep(10000);
    }
    return false;
}

// 9a. Once attached, tcpscope runs as nobody with no capability left;
// root cannot be had back. --no-drop keeps root, for those who ask.
TEST(KernelLifecycle, DropsRootOnceAttached) {
    KTEST_REQUIRE_ROOT();
    const int links_before = bpf_link_count();
    Background tool({TCPSCOPE_BINARY, "trace", "--json", "--port", kQuietPort});
    ASSERT_TRUE(wait_until_dropped(tool.pid(), 5000)) << proc_status(tool.pid(), "Uid");
    EXPECT_EQ(proc_status(tool.pid(), "Uid"), "65534\t65534\t65534\t65534");
    EXPECT_EQ(proc_status(tool.pid(), "Groups"), "");
    EXPECT_EQ(proc_status(tool.pid(), "CapEff"), "0000000000000000");
    EXPECT_EQ(proc_status(tool.pid(), "CapPrm"), "0000000000000000");
    // Still tracing: its programs stay attached through the fds it holds.
    EXPECT_GT(bpf_link_count(), links_before);
    int status = tool.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    ASSERT_FALSE(tool.lines().empty());
    EXPECT_NE(tool.lines().back().find("\"type\":\"summary\""), std::string::npos);

    const std::string err_path = "/tmp/tcpscope-test-" + std::to_string(getpid()) + "-nodrop";
    Background kept({TCPSCOPE_BINARY, "trace", "--no-drop", "--port", kQuietPort}, err_path);
    bool attached = false;
    for (int waited = 0; waited < 5000 && !attached; waited += 10) {
        std::ifstream in(err_path);
        std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        attached = all.find("Tracing TCP") != std::string::npos;
        if (!attached) usleep(10000);
    }
    ASSERT_TRUE(attached);
    EXPECT_EQ(proc_status(kept.pid(), "Uid").substr(0, 2), "0\t");
    kept.stop();
    unlink(err_path.c_str());
}

// 9b. SIGINT, SIGTERM and SIGHUP each end a running trace with exit 0 and
// the summary as its last line, and leave no link behind.
TEST(KernelLifecycle, EachStopSignalEndsWithSummary) {
    KTEST_REQUIRE_ROOT();
    const int links_before = bpf_link_count();
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        Background tool({TCPSCOPE_BINARY, "trace", "--json", "--port", kQuietPort});
        ASSERT_TRUE(wait_until_dropped(tool.pid(), 5000)) << strsignal(sig);
        EXPECT_GT(bpf_link_count(), links_before) << "attached";
        kill(tool.pid(), sig);
        int status = tool.wait_exit(5000);
        ASSERT_NE(status, -1) << strsignal(sig) << ": still running after 5 s";
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << strsignal(sig) << ": status " << status;
        ASSERT_FALSE(tool.lines().empty()) << strsignal(sig);
        json summary = json::parse(tool.lines().back());
        EXPECT_EQ(summary.at("type"), "summary") << strsignal(sig);
        EXPECT_EQ(summary.at("lost"), 0u);
        EXPECT_EQ(bpf_link_count_settled(links_before), links_before)
            << strsignal(sig) << ": links left";
    }
}

// 9c. A signal at any moment of the start (parsing, BTF, load, attach,
// privilege drop): tcpscope ends promptly, either by the signal's default
// action before its handlers exist or with exit 0, never another way, and
// leaves no link.
TEST(KernelLifecycle, SignalDuringStartEndsCleanly) {
    KTEST_REQUIRE_ROOT();
    const int links_before = bpf_link_count();
    for (int delay_ms : {0, 2, 5, 10, 20, 40, 60, 80, 120, 200}) {
        Background tool({TCPSCOPE_BINARY, "trace", "--json", "--port", kQuietPort});
        usleep(static_cast<useconds_t>(delay_ms) * 1000);
        kill(tool.pid(), SIGTERM);
        int status = tool.wait_exit(5000);
        ASSERT_NE(status, -1) << "SIGTERM after " << delay_ms << " ms: still running after 5 s";
        if (WIFSIGNALED(status)) {
            EXPECT_EQ(WTERMSIG(status), SIGTERM) << "after " << delay_ms << " ms";
        } else {
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
                << "after " << delay_ms << " ms: status " << status;
        }
        EXPECT_EQ(bpf_link_count_settled(links_before), links_before)
            << "after " << delay_ms << " ms: links left";
    }
}

// 9d. SIGKILL cannot be handled: the links are owned by the process's file
// descriptors and nothing is pinned, so the kernel detaches them.
TEST(KernelLifecycle, SigkillLeavesNothingAttached) {
    KTEST_REQUIRE_ROOT();
    const int links_before = bpf_link_count();
    Background tool({TCPSCOPE_BINARY, "trace", "--port", kQuietPort});
    ASSERT_TRUE(wait_until_dropped(tool.pid(), 5000));
    EXPECT_GT(bpf_link_count(), links_before);
    kill(tool.pid(), SIGKILL);
    int status = tool.wait_exit(5000);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    EXPECT_EQ(bpf_link_count_settled(links_before), links_before);
}

// 9e. Started without privileges, tcpscope says which capabilities it
// needs and exits 3 (environment), for trace and for run.
TEST(KernelLifecycle, WithoutPrivilegesNamesTheCapabilities) {
    KTEST_REQUIRE_ROOT();  // to become someone without them
    if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv (util-linux) not installed";
    const std::vector<std::string> as_nobody = {"/usr/bin/setpriv", "--reuid=65534",
                                                "--regid=65534", "--clear-groups"};
    auto run_as_nobody = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = as_nobody;
        argv.push_back(TCPSCOPE_BINARY);
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 10000);
    };
    CommandResult trace = run_as_nobody({"trace", "--duration", "1"});
    EXPECT_EQ(trace.status, 3) << trace.output;
    EXPECT_NE(trace.output.find("CAP_BPF"), std::string::npos) << trace.output;
    EXPECT_NE(trace.output.find("CAP_PERFMON"), std::string::npos) << trace.output;

    CommandResult run = run_as_nobody({"run", "zero-byte-send"});
    EXPECT_EQ(run.status, 3) << run.output;
    EXPECT_NE(run.output.find("CAP_NET_ADMIN"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace ktest
