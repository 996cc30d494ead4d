// Shared helpers of the kernel tier.
//
//  - Helper: a forked process that runs a function in a network namespace
//    of its own (unshare) or in another helper's namespace (setns), talking
//    to the test over a pipe in JSON lines. Helpers are forked before the
//    tracer starts, so they never hold the tracer's BPF link fds; each one
//    is SIGKILLed and reaped by its destructor, and dies with the test
//    process (PR_SET_PDEATHSIG). Namespaces made by unshare vanish with
//    their last process: nothing named is left behind, even after a crash.
//  - Capture: Tracer + TraceLoop + CaptureSink, with "poll until" helpers.
//  - nstat inside a helper's namespace, socket helpers for helper bodies.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "event.h"
#include "filter_options.h"
#include "host_filter.h"
#include "names.h"
#include "sinks.h"
#include "trace_loop.h"
#include "tracer.h"

#define KTEST_REQUIRE_ROOT()                                           \
    do {                                                               \
        if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs"; \
    } while (0)

namespace ktest {

using nlohmann::json;
using tcpscope::Event;
using tcpscope::EventKind;

// ---------------------------------------------------------------- helpers

// The helper's end of the pipe pair.
class HelperIO {
public:
    HelperIO(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}
    void report(const json& message);
    // Next message from the test; throws on timeout or when the test went away.
    json next(int timeout_ms = 20000);
    // Next message, which must have "type" == type.
    json expect(const std::string& type, int timeout_ms = 20000);
    // Whether a message from the test is there to be read (does not wait):
    // a helper looping until told to stop checks it between rounds.
    bool message_waiting();

private:
    int in_, out_;
    std::string buffer_;
};

class Helper {
public:
    using Body = std::function<void(HelperIO&)>;

    // Forks a helper in a new network namespace with lo up. It first
    // reports {"type":"hello","pid":..,"netns":..}.
    static std::unique_ptr<Helper> in_new_netns(Body body);
    // Forks a helper that joins `other`'s network namespace.
    static std::unique_ptr<Helper> in_netns_of(const Helper& other, Body body);

    ~Helper();
    Helper(const Helper&) = delete;
    Helper& operator=(const Helper&) = delete;

    pid_t pid() const { return pid_; }
    uint32_t netns() const { return netns_; }
    // Its namespace file, as --netns takes it (matched by cookie).
    std::string netns_path() const { return "/proc/" + std::to_string(pid_) + "/ns/net"; }

    void send(const json& message);
    // Next message of this type; throws with the helper's own error text
    // when it failed, or on timeout.
    json expect(const std::string& type, int timeout_ms = 10000);
    // Waits for a clean exit (status 0); throws otherwise.
    void join(int timeout_ms = 10000);

private:
    Helper() = default;
    static std::unique_ptr<Helper> spawn(Body body, pid_t join_pid);
    std::optional<json> read_message(int timeout_ms);

    pid_t pid_ = -1;
    uint32_t netns_ = 0;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string buffer_;
    bool reaped_ = false;
};

// -------------------------------------------------------- inside helpers

void bring_lo_up();
uint32_t netns_inode_of(pid_t pid);  // 0 = self
// Listening socket on addr:port (port 0: ephemeral); throws on failure.
int tcp_listen(const std::string& addr, uint16_t port, int backlog = 128);
// Blocking connect; returns the fd, or -errno on failure (then the socket is
// closed, unless fd_out is given: it receives the still-open socket).
int tcp_connect(const std::string& addr, uint16_t port, int* fd_out = nullptr);
uint16_t local_port(int fd);
uint64_t socket_cookie(int fd);
void set_linger_zero(int fd);
int accept_timeout(int listen_fd, int timeout_ms);  // throws on timeout
// Throws std::runtime_error with text and errno.
[[noreturn]] void fail(const std::string& what);

// ------------------------------------------------------------- commands

struct CommandResult {
    int status = -1;  // exit status, -1 if it did not exit normally
    std::string output;  // stdout and stderr
};
CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms = 10000);
// Runs argv inside pid's network namespace (nsenter -t pid -n); throws unless exit 0.
std::string run_in_netns(pid_t pid, const std::vector<std::string>& argv);

// A command running in the background with its stdout+stderr in a pipe.
// The destructor stops it (SIGINT, then SIGKILL) and reaps it.
class Background {
public:
    // stderr goes to stderr_path when given, else into the same pipe as stdout.
    explicit Background(const std::vector<std::string>& argv, const std::string& stderr_path = "");
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    // Reads output until a line satisfies pred; false on timeout or EOF.
    bool wait_line(const std::function<bool(const std::string&)>& pred, int timeout_ms);
    // SIGINT, then collects the rest of the output until it exits.
    int stop(int timeout_ms = 5000);
    // Waits for it to exit on its own; returns the wait status, or -1 on timeout.
    int wait_exit(int timeout_ms);
    // Closes our read end of its output: its next write fails with EPIPE.
    void close_output();
    const std::vector<std::string>& lines() const { return lines_; }
    pid_t pid() const { return pid_; }

private:
    bool read_some(int timeout_ms);
    pid_t pid_ = -1;
    int out_ = -1;
    std::string partial_;
    std::vector<std::string> lines_;
    bool exited_ = false;
    int status_ = -1;
};

// `nstat -asz` inside pid's network namespace: counter name -> value.
std::map<std::string, uint64_t> nstat(pid_t pid);
uint64_t counter_delta(const std::map<std::string, uint64_t>& before,
                       const std::map<std::string, uint64_t>& after, const std::string& name);

// ---------------------------------------------------------------- capture

class Capture {
public:
    Capture() : loop_(sink_, nullptr, tcpscope::LoopLimits{0, 0, 50}) {}
    // Starts the tracer; returns false and sets *error on failure.
    bool start(const tcpscope::TracerConfig& config, std::string* error);
    // seed_owners: learn the owners of sockets older than the tracer
    // (TracerConfig::seed_owners).
    bool start(const tcpscope::FilterOptions& options, std::string* error,
               uint32_t ringbuf_bytes = 4u << 20, bool seed_owners = true);

    // Polls until pred(events) holds or timeout_s passes; returns pred's last value.
    bool wait_for(const std::function<bool(const std::vector<Event>&)>& pred, double timeout_s);
    // Keeps polling for ms, to collect events that should not arrive.
    void settle(int ms);
    tcpscope::TraceSummary finish();
    // Hands the loop an accept-queue watch (its looks then come with each
    // poll round and finish()).
    void watch_listeners(std::unique_ptr<tcpscope::ListenerWatch> watch) {
        loop_.watch_listeners(std::move(watch));
    }

    const std::vector<Event>& events() const { return sink_.events; }
    tcpscope::Tracer& tracer() { return *tracer_; }
    const tcpscope::TraceLoop& loop() const { return loop_; }
    uint64_t lost_reported() const { return sink_.lost_total; }

private:
    tcpscope::CaptureSink sink_;
    tcpscope::TraceLoop loop_;
    std::unique_ptr<tcpscope::Tracer> tracer_;
};

// Events matching a predicate, in arrival order.
std::vector<Event> select(const std::vector<Event>& events,
                          const std::function<bool(const Event&)>& pred);
// "OLD->NEW" for each state event.
std::vector<std::string> transitions(const std::vector<Event>& events);
std::string describe(const Event& e);
std::string describe(const std::vector<Event>& events);

// Kernel's own reset reason names (from BTF).
const tcpscope::ResetReasons& kernel_reasons();

// What the running kernel's tracepoints offer (from its BTF), for the tests
// that need more than every supported kernel has: they check what this
// kernel can show, then skip naming what it cannot.
const tcpscope::KernelSupport& kernel_support();
// "this kernel (6.1.0-56-cloud-amd64)", for skip messages.
std::string this_kernel();

// A port per test process and call, away from the ephemeral range.
uint16_t unique_port();

}  // namespace ktest

namespace ktest {

// How many times the kernel itself fired a tracepoint, counted by perf
// (`perf stat -a -e EVENT --filter FILTER`), an observer that shares
// nothing with tcpscope: when tcpscope's count falls short of a ground
// truth (an nft rule's counter), this tells whether the tracepoint never
// fired (the kernel's gap: now and then no tracepoint fires for a timer's
// retransmit; docs/run.md) or tcpscope lost what fired. Without perf (the
// qemu matrix carries none) it counts nothing: available() is false.
class TracepointWitness {
public:
    TracepointWitness(const std::string& event, const std::string& filter);
    ~TracepointWitness();
    bool available() const { return pid_ > 0; }
    // Stops perf and returns its count; nullopt when perf is not there or
    // wrote no count.
    std::optional<uint64_t> stop();

private:
    size_t counted_lines(uint64_t* sum = nullptr) const;
    std::string event_;
    pid_t pid_ = -1;
    std::string out_path_;
};

}  // namespace ktest
