#include "exec_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "btf_reasons.h"
#include "captured_call.h"
#include "command_cgroup.h"
#include "command_failure.h"
#include "command_process.h"
#include "exit_codes.h"
#include "failure_cause.h"
#include "line_writer.h"
#include "listener_watch.h"
#include "names.h"
#include "page_file.h"
#include "program_trace.h"
#include "run_report.h"
#include "signals.h"
#include "slow_connect.h"
#include "syscall_tracer.h"
#include "timeline.h"
#include "wall_clock.h"

namespace tcpscope {

namespace {

const char* const kMe = "tcpscope exec";
// After a forwarded Ctrl-C, how long the command may take to end before
// its tree is killed.
constexpr uint64_t kStopGraceNs = 5'000'000'000ull;

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<Event> events_of_calls(std::vector<Event> events, const std::vector<Step>& steps,
                                   const std::set<uint32_t>& pids) {
    std::set<uint64_t> cookies;
    std::set<std::string> endpoints;
    for (const auto& s : steps) {
        if (s.cookie) cookies.insert(s.cookie);
        if (s.info.contains("accepted")) cookies.insert(s.info["accepted"].value("cookie", 0ull));
        if (!s.local.empty()) endpoints.insert(s.local);
        if (!s.remote.empty()) endpoints.insert(s.remote);
    }
    // The endpoints and network namespaces of our sockets, from the calls
    // and from the kernel's events on them (a refused connect never had its
    // local port in a call).
    std::set<uint32_t> netns_inodes;
    std::set<uint64_t> netns_cookies;
    for (const auto& s : steps) {
        if (s.netns) netns_inodes.insert(s.netns);
    }
    for (const auto& e : events) {
        if (e.kind != EventKind::Signal && e.cookie && cookies.count(e.cookie)) {
            if (e.local.port) endpoints.insert(endpoint_key(e.local, e.family));
            if (e.remote.port) endpoints.insert(endpoint_key(e.remote, e.family));
            if (e.netns_cookie) netns_cookies.insert(e.netns_cookie);
        }
    }
    // Another namespace can have the same addresses (127.0.0.1:5000 in
    // every test's namespace): an endpoint matches only in ours, by cookie
    // where the event has one (an inode is reused once its namespace is gone).
    auto in_our_netns = [&](const Event& e) {
        return e.netns_cookie ? netns_cookies.count(e.netns_cookie) > 0 : netns_inodes.count(e.netns) > 0;
    };
    auto connected_to = [&](const Endpoint& listener, int family) {
        for (const auto& s : steps) {
            if (s.op == StepOp::Connect && reaches_listener(s.remote, listener, family)) return true;
        }
        return false;
    };
    std::vector<Event> mine;
    for (auto& e : events) {
        bool ours = false;
        if (e.kind == EventKind::Signal) {
            ours = pids.count(e.target_pid) > 0;
        } else if (e.kind == EventKind::Drop && e.drop_seen_by == "listener") {
            // A listener of ours, or one we connected to (by its address,
            // or a wildcard one on that port) in our namespace.
            ours = (e.cookie && cookies.count(e.cookie)) ||
                   (in_our_netns(e) && connected_to(e.local, e.family));
        } else if (e.cookie && cookies.count(e.cookie)) {
            ours = true;
        } else {
            // Packets and RSTs with no socket of ours, and the peer's socket
            // when the peer is not traced: between two of our endpoints.
            ours = in_our_netns(e) && endpoints.count(endpoint_key(e.local, e.family)) > 0 &&
                   endpoints.count(endpoint_key(e.remote, e.family)) > 0;
        }
        if (ours) mine.push_back(std::move(e));
    }
    return mine;
}

namespace {

// --output, opened before the command runs, so that a path that cannot be
// written fails first; one made here is removed again if the command never
// runs (not found), as there is nothing to put in it.
struct ExecOutput {
    int fd = STDOUT_FILENO;
    bool made = false;
};

bool open_output(const ExecOptions& o, ExecOutput* output, std::string* error) {
    if (o.output.empty()) return true;
    struct stat before;
    output->made = stat(o.output.c_str(), &before) != 0 && errno == ENOENT;
    output->fd = LineWriter::open_file(o.output, error);
    return output->fd >= 0;
}

// The kernel's TCP events, as `run` takes them: every kind asked for, of
// the command's cgroup (its sockets are picked out afterwards). The
// cgroup keeps the rest of the host's traffic out of our memory; made
// before the command, removed after it, on every way out.
std::unique_ptr<ProgramTrace> start_trace(const ExecOptions& o, CommandFailure* failure) {
    std::string error;
    std::unique_ptr<CommandCgroup> cgroup = CommandCgroup::create("exec", &error);
    if (!cgroup) {
        warn(kMe, "no cgroup of the command's own (" + error +
                      "): every TCP event of the host is kept until it ends, and inside a PID "
                      "namespace its calls cannot be followed");
    }
    ProgramTraceConfig config;
    config.kind_mask = o.kind_mask;
    config.verbose = o.verbose;
    TracerError terr;
    auto trace = ProgramTrace::start(config, std::move(cgroup), &terr);
    if (!trace) {
        *failure = {kExecFailure, terr.text()};
        return nullptr;
    }
    for (const auto& w : trace->tracer().warnings()) warn(kMe, w);
    // A connect slowed by a full accept queue: the kernel's drop
    // tracepoint never sees that SYN; the listeners of our namespace show
    // it by their own counters (listener_watch.h), looked at each second.
    if (o.kind_mask & (1u << TS_KIND_DROP)) {
        ListenerWatchOptions lw;
        lw.older_owners_fd = trace->tracer().older_owners_fd();
        if (auto watch = ListenerWatch::open(lw, &error)) {
            trace->loop().watch_listeners(std::move(watch));
        } else {
            warn(kMe, "accept queues not watched: " + error);
        }
    }
    return trace;
}

// The command's socket calls, from the syscall tracepoints of its cgroup
// (or of its pid, followed, without one).
struct CallCapture {
    std::vector<CapturedCall> calls;
    uint64_t undecodable = 0;
    uint64_t lost = 0;
    std::unique_ptr<SyscallTracer> tracer;

    bool start(CommandCgroup* cgroup, CommandFailure* failure) {
        TracerError terr;
        tracer = SyscallTracer::start(
            [this](const void* data, size_t size) {
                auto call = decode_call(data, size);
                if (call) {
                    calls.push_back(std::move(*call));
                } else {
                    ++undecodable;
                }
            },
            &terr, cgroup ? cgroup->id() : 0, cgroup ? cgroup->level() : 0);
        if (!tracer) *failure = {kExecFailure, terr.text()};
        return tracer != nullptr;
    }
    // The last calls read, the loss counted, the tracepoints detached
    // (they cost every syscall of the host).
    void stop() {
        tracer->poll(0);
        lost = tracer->lost();
        tracer.reset();
    }
};

// The command started gated, put in the cgroup (or followed by pid), let
// go (at *start_ns), and waited for: until no process of its tree is left.
bool run_command(const ExecOptions& o, const RunAs& as, ProgramTrace& trace, CallCapture& calls,
                 CommandProcess& command, uint64_t* start_ns, CommandFailure* failure) {
    std::string error;
    if (!command.start(o.command, as, &error)) {
        *failure = {kExecFailure, error};
        return false;
    }
    // In before it runs a single instruction of the command's: the child
    // waits at its gate until release().
    if (trace.cgroup() && !trace.cgroup()->add(command.pid(), &error)) {
        *failure = {kExecFailure, error};
        return false;
    }
    if (!trace.cgroup() && !calls.tracer->follow(command.pid())) {
        *failure = {kExecFailure, "cannot follow pid " + std::to_string(command.pid())};
        return false;
    }
    *start_ns = monotonic_ns();
    command.release();
    bool forwarded = false;
    uint64_t stop_at = 0;
    while (!command.reap()) {
        trace.tracer().poll(50);
        calls.tracer->poll(0);
        trace.loop().look_at_listeners();
        if (stop_requested() && !forwarded) {
            // The command stays in our process group, as under sudo, time
            // or strace, so the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z reach
            // it by themselves (the tty driver signals the whole foreground
            // group; job control works unchanged). Passing those on would
            // deliver them twice: only a signal a process sent to tcpscope
            // alone is forwarded.
            if (!stop_sent_by_kernel()) command.forward(stop_signal());
            forwarded = true;
            stop_at = monotonic_ns();
        }
        if (forwarded && monotonic_ns() - stop_at > kStopGraceNs) {
            command.kill_tree();
            trace.kill_all();
        }
    }
    // Whatever of the command left our tree (a double fork into another
    // session) is still in its cgroup: it ends with the command.
    trace.kill_all();
    return true;
}

// The report of a command that ran: its calls and the kernel's events on
// its sockets, as run's ladder.
struct ExecRun {
    std::vector<Step> steps;
    std::vector<Event> events;
    uint64_t lost = 0;
    std::vector<std::pair<std::string, uint64_t>> lost_by_reason;
    uint64_t calls_lost = 0;
    uint64_t duration_ns = 0;
};

ExecRun join_calls_and_events(ProgramEvents kernel, CallCapture& calls, const CommandProcess& command,
                              bool in_cgroup, const ResetReasons& reasons) {
    std::set<uint32_t> pids{static_cast<uint32_t>(command.pid())};
    for (const auto& c : calls.calls) pids.insert(c.step.pid);
    // With the cgroup, the kernel kept only signals to its processes,
    // whose pids (the kernel's) command.pid() may not be, inside a PID
    // namespace.
    if (in_cgroup) {
        for (const auto& e : kernel.events) {
            if (e.kind == EventKind::Signal) pids.insert(e.target_pid);
        }
    }
    ExecRun run;
    run.steps = finish_calls(calls.calls);
    run.events = events_of_calls(std::move(kernel.events), run.steps, pids);
    explain_failures(run.steps, run.events, reasons);
    explain_slow_connects(run.steps, run.events);
    run.lost = kernel.lost + calls.lost;
    run.lost_by_reason = std::move(kernel.lost_by_reason);
    run.lost_by_reason.emplace_back("calls", calls.lost);
    run.calls_lost = calls.lost;
    return run;
}

// The ladder as text or JSON on out, the page at --html; false when the
// page could not be written.
bool write_report(const ExecOptions& o, const ExecRun& run, const CommandProcess& command,
                  const KernelSupport& support, const ResetReasons& reasons, const WallClock& clock,
                  LineWriter& out) {
    Timeline timeline(run.steps, run.events);
    RunReport report;
    report.name = base_name(o.command.front());
    report.heading = "Command: " + report.name;
    report.timeline = &timeline;
    report.reasons = &reasons;
    report.clock = &clock;
    report.kernel = support;
    RunSummary& summary = report.summary;
    summary.scenario = report.name;
    summary.ok = command.term_signal() == 0 && command.exit_code() == 0;
    for (const auto& e : run.events) summary.count(kind_name(e.kind));
    summary.steps = run.steps.size();
    summary.lost = run.lost;
    summary.lost_by_reason = run.lost_by_reason;
    summary.exit_code = command.term_signal() ? -1 : command.exit_code();
    summary.term_signal = command.term_signal();
    summary.duration_ns = run.duration_ns;
    // The causes of the errors calls handed over (failed, fetched by
    // SO_ERROR, reported by poll/epoll), in words: under the text ladder,
    // and on the page where run's "why" goes.
    const std::string why = why_lines(timeline.steps());
    report.below_ladder = why.empty() ? "" : "Why:\n" + why;
    report.tail = std::to_string(run.steps.size()) + " calls, " + std::to_string(run.events.size()) +
                  " kernel events, " + std::to_string(summary.lost) + " lost";
    const LadderModel model = report_model(report);
    bool page_written = true;
    if (!o.html.empty()) {
        std::string command_line;
        for (const auto& word : o.command) command_line += (command_line.empty() ? "" : " ") + word;
        LadderPage page{report.name, "tcpscope exec -- " + command_line,
                        why.empty() ? "No call failed or reported an error."
                                    : "Why each call failed or reported an error:\n" + why,
                        {}, report.tail};
        page_written = write_run_page(kMe, o.html, model, page, true);
    }
    write_run_report(out, o.json, report, model);
    return page_written;
}

}  // namespace

int run_exec_command(const ExecOptions& o) {
    if (geteuid() != 0) {
        return fail(kMe, kExecFailure, "needs root (CAP_BPF and CAP_PERFMON to trace; the command runs as --user)");
    }
    std::string error;
    RunAs as;
    if (!resolve_run_as(o.user, &as, &error)) return fail(kMe, kExecFailure, error);
    if (!o.html.empty() && !prepare_page_target(o.html, false, &error)) {
        return fail(kMe, kExecFailure, "--html: " + error);
    }
    ExecOutput output;
    if (!open_output(o, &output, &error)) return fail(kMe, kExecFailure, error);
    LineWriter out(output.fd, output.fd != STDOUT_FILENO);
    install_stop_handlers();
    ResetReasons reasons = load_kernel_reset_reasons(&error);
    CommandFailure failure;
    auto trace = start_trace(o, &failure);
    if (!trace) return fail(kMe, failure);
    const KernelSupport support = trace->tracer().support();
    CallCapture calls;
    if (!calls.start(trace->cgroup(), &failure)) return fail(kMe, failure);

    const WallClock clock = WallClock::anchor();
    CommandProcess command;
    uint64_t start = 0;
    if (!run_command(o, as, *trace, calls, command, &start, &failure)) return fail(kMe, failure);
    ProgramEvents kernel = trace->finish([&] { calls.tracer->poll(0); }, [&] { calls.stop(); });
    const uint64_t duration = monotonic_ns() - start;
    // A command that never ran has no calls to show: its error alone.
    if (!command.failure().empty()) {
        if (output.made) unlink(o.output.c_str());
        return fail(kMe, command.failure_status(), command.failure());
    }
    ExecRun run = join_calls_and_events(std::move(kernel), calls, command, trace->cgroup() != nullptr, reasons);
    run.duration_ns = duration;
    const bool page_written = write_report(o, run, command, support, reasons, clock, out);
    if (calls.undecodable) say(kMe, std::to_string(calls.undecodable) + " call records not decoded");
    if (command.term_signal()) {
        say(kMe, base_name(o.command.front()) + " killed by " + signal_name(command.term_signal()));
    }
    if (out.status() == LineWriter::Status::Failed) say(kMe, "output: " + out.error());
    // The command's status is the answer; a page asked for and not
    // written turns a success into a failure rather than pass unnoticed.
    if (!page_written && command.exit_status() == 0) return kExecFailure;
    return command.exit_status();
}

}  // namespace tcpscope
