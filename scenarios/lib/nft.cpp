#include "nft.h"

#include "clock.h"
#include "errors.h"
#include "steps.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

namespace scen {

namespace {

constexpr int kNotInstalled = 127;

struct NftRun {
    int status = -1;  // exit status; kNotInstalled when nft could not be run
    std::string out;  // its standard output
    std::string err;  // its standard error
};

std::string read_all(int fd) {
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

// Writes text to a pipe whose reader may already have exited (nft not
// installed: the child's exec failed and it is gone). Such a write raises
// SIGPIPE, whose default would kill the scenario before it could say
// "install nftables" (seen under qemu, where the child is often gone before
// the write): SIGPIPE is blocked around the write, and the one it raised is
// taken off the pending set, so the program's own disposition is
// untouched. The child's exit status then tells why it did not read.
void write_unless_gone(int fd, const std::string& text) {
    if (text.empty()) return;
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    bool already_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t n;
    do {
        n = ::write(fd, text.data(), text.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EPIPE && !already_pending) {
        const timespec now{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// Runs nft with `args`, feeding it `input`, and collects what it prints.
// The output is small (one table), so reading stdout to the end and then
// stderr cannot deadlock on a full pipe in practice; stderr is a file to
// be sure.
NftRun run_nft(const std::vector<std::string>& args, const std::string& input) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) fail_errno("pipe for nft");
    FILE* err_file = tmpfile();
    if (err_file == nullptr) fail_errno("tmpfile for nft's errors");
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    std::string prog = "nft";
    argv.push_back(prog.data());
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) fail_errno("fork for nft");
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(fileno(err_file), STDERR_FILENO);
        execvp("nft", argv.data());
        _exit(errno == ENOENT ? kNotInstalled : 126);
    }
    ::close(in[0]);
    ::close(out[1]);
    // A script is a few lines: it fits in the pipe, no writer thread needed.
    write_unless_gone(in[1], input);
    ::close(in[1]);
    NftRun run;
    run.out = read_all(out[0]);
    ::close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) fail_errno("waitpid(nft)");
    }
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    rewind(err_file);
    run.err = read_all(fileno(err_file));
    fclose(err_file);
    return run;
}

void require_ok(const NftRun& run, const std::string& what) {
    if (run.status == kNotInstalled) {
        fail("nft not found: this scenario needs nftables (Debian: apt-get install nftables)");
    }
    if (run.status != 0) {
        fail(what + " failed (exit " + std::to_string(run.status) + "): " + run.err);
    }
}

std::string first_line(const std::string& text) {
    size_t start = text.find_first_not_of(" \n");
    if (start == std::string::npos) return "";
    return text.substr(start, text.find('\n', start) - start);
}

}  // namespace

void nft_apply(const std::string& script, Reporter& r) {
    uint64_t start = mono_ns();
    NftRun run = run_nft({"-f", "-"}, script);
    uint64_t end = mono_ns();
    r.note({StepOp::Command, "nft -f - " + first_line(script) + " ...", "nft add"},
           run.status, 0, start, end, Info{{"ruleset", script}});
    require_ok(run, "nft -f - (" + first_line(script) + ")");
}

int64_t nft_counter_packets(const std::string& table, Reporter& r) {
    uint64_t start = mono_ns();
    NftRun run = run_nft({"-j", "list", "table", "inet", table}, "");
    uint64_t end = mono_ns();
    std::string call = "nft -j list table inet " + table;
    require_ok(run, call);
    int64_t packets = 0, bytes = 0;
    bool found = false;
    auto listing = nlohmann::json::parse(run.out, nullptr, false);
    if (listing.is_discarded() || !listing.contains("nftables")) fail(call + ": no JSON listing");
    for (const auto& item : listing["nftables"]) {
        if (!item.contains("rule")) continue;
        for (const auto& expr : item["rule"].value("expr", nlohmann::json::array())) {
            if (!expr.contains("counter")) continue;
            packets += expr["counter"].value("packets", int64_t{0});
            bytes += expr["counter"].value("bytes", int64_t{0});
            found = true;
        }
    }
    if (!found) fail(call + ": the table has no rule with a counter");
    r.note({StepOp::Command, call, "nft counter"}, packets, 0, start, end,
           Info{{"counter_packets", packets}, {"counter_bytes", bytes}});
    return packets;
}

}  // namespace scen
