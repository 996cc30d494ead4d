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
#include "command_process.h"
#include "exit_codes.h"
#include "failure_cause.h"
#include "kernel_support.h"
#include "ladder.h"
#include "line_writer.h"
#include "names.h"
#include "ladder_html.h"
#include "ladder_model.h"
#include "listener_watch.h"
#include "page_file.h"
#include "run_json.h"
#include "signals.h"
#include "slow_connect.h"
#include "sinks.h"
#include "syscall_tracer.h"
#include "timeline.h"
#include "trace_loop.h"
#include "wall_clock.h"

namespace tcpscope {

namespace {

// After the tree is gone, events it caused may still be in flight (a RST
// on its way, the ring buffer's last batch): keep polling this long.
constexpr int kSettleMs = 200;
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

int run_exec_command(const ExecOptions& o) {
    if (geteuid() != 0) {
        std::fprintf(stderr, "tcpscope exec: needs root (CAP_BPF and CAP_PERFMON to trace; the "
                             "command runs as --user)\n");
        return kExecFailure;
    }
    std::string error;
    RunAs as;
    if (!resolve_run_as(o.user, &as, &error)) {
        std::fprintf(stderr, "tcpscope exec: %s\n", error.c_str());
        return kExecFailure;
    }
    if (!o.html.empty() && !prepare_page_target(o.html, false, &error)) {
        std::fprintf(stderr, "tcpscope exec: --html: %s\n", error.c_str());
        return kExecFailure;
    }
    int out_fd = STDOUT_FILENO;
    // Opened now, so that a path that cannot be written fails before the
    // command runs; one made here is removed again if the command never
    // runs (not found), as there is nothing to put in it.
    bool output_made = false;
    if (!o.output.empty()) {
        struct stat before;
        output_made = stat(o.output.c_str(), &before) != 0 && errno == ENOENT;
        out_fd = LineWriter::open_file(o.output, &error);
        if (out_fd < 0) {
            std::fprintf(stderr, "tcpscope exec: %s\n", error.c_str());
            return kExecFailure;
        }
    }
    LineWriter out(out_fd, out_fd != STDOUT_FILENO);
    install_stop_handlers();
    ResetReasons reasons = load_kernel_reset_reasons(&error);

    // The command runs in a cgroup of its own, and the kernel side keeps
    // only its events (and the ownerless RSTs of its namespaces): the
    // rest of the host's traffic never reaches our memory. Made before
    // the command, removed after it (the destructor, on every way out).
    std::unique_ptr<CommandCgroup> cgroup = CommandCgroup::create("exec", &error);
    if (!cgroup) {
        std::fprintf(stderr,
                     "tcpscope exec: warning: no cgroup of the command's own (%s): every TCP "
                     "event of the host is kept until it ends, and inside a PID namespace its "
                     "calls cannot be followed\n",
                     error.c_str());
    }

    // The kernel's TCP events, as `run` takes them: every kind asked for,
    // of the command's cgroup (its sockets are picked out afterwards).
    TracerConfig tc;
    tc.filter.kind_mask = o.kind_mask;
    if (cgroup) {
        tc.filter.cgroup_id = cgroup->id();
        tc.filter.cgroup_level = cgroup->level();
        tc.filter.scope = 1;
    }
    tc.seed_owners = false;  // the command's sockets are all made after the start
    tc.ringbuf_bytes = 16u << 20;
    tc.verbose = o.verbose;
    CaptureSink capture;
    TraceLoop loop(capture, nullptr, LoopLimits{0, 0, 50});
    TracerError terr;
    auto tracer = Tracer::start(tc, loop.handler(), &terr);
    if (!tracer) {
        std::fprintf(stderr, "tcpscope exec: %s\n", terr.text().c_str());
        return kExecFailure;
    }
    const KernelSupport support = tracer->support();
    for (const auto& w : tracer->warnings()) std::fprintf(stderr, "tcpscope exec: warning: %s\n", w.c_str());
    // A connect slowed by a full accept queue: the kernel's drop
    // tracepoint never sees that SYN; the listeners of our namespace show
    // it by their own counters (listener_watch.h), looked at each second.
    if (tc.filter.kind_mask & (1u << TS_KIND_DROP)) {
        ListenerWatchOptions lw;
        lw.older_owners_fd = tracer->older_owners_fd();
        auto watch = ListenerWatch::open(lw, &error);
        if (watch) {
            loop.watch_listeners(std::move(watch));
        } else {
            std::fprintf(stderr, "tcpscope exec: warning: accept queues not watched: %s\n", error.c_str());
        }
    }

    std::vector<CapturedCall> calls;
    uint64_t undecodable = 0;
    auto syscalls = SyscallTracer::start(
        [&](const void* data, size_t size) {
            auto call = decode_call(data, size);
            if (call) {
                calls.push_back(std::move(*call));
            } else {
                ++undecodable;
            }
        },
        &terr, cgroup ? cgroup->id() : 0, cgroup ? cgroup->level() : 0);
    if (!syscalls) {
        std::fprintf(stderr, "tcpscope exec: %s\n", terr.text().c_str());
        return kExecFailure;
    }

    const WallClock clock = WallClock::anchor();
    CommandProcess command;
    if (!command.start(o.command, as, &error)) {
        std::fprintf(stderr, "tcpscope exec: %s\n", error.c_str());
        return kExecFailure;
    }
    // In before it runs a single instruction of the command's: the
    // child waits at its gate until release().
    if (cgroup && !cgroup->add(command.pid(), &error)) {
        std::fprintf(stderr, "tcpscope exec: %s\n", error.c_str());
        return kExecFailure;
    }
    if (!cgroup && !syscalls->follow(command.pid())) {
        std::fprintf(stderr, "tcpscope exec: cannot follow pid %d\n", command.pid());
        return kExecFailure;
    }
    const uint64_t start = monotonic_ns();
    command.release();

    bool forwarded = false;
    uint64_t stop_at = 0;
    while (!command.reap()) {
        tracer->poll(50);
        syscalls->poll(0);
        loop.look_at_listeners();
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
            if (cgroup) cgroup->kill_all();
        }
    }
    // Whatever of the command left our tree (a double fork into another
    // session) is still in its cgroup: it ends with the command.
    if (cgroup) cgroup->kill_all();
    for (int waited = 0; waited < kSettleMs; waited += 50) {
        tracer->poll(50);
        syscalls->poll(0);
    }
    syscalls->poll(0);
    const uint64_t calls_lost = syscalls->lost();
    syscalls.reset();  // detach the syscall tracepoints first: they cost every syscall
    loop.finish(*tracer);
    tracer.reset();
    const uint64_t duration = monotonic_ns() - start;
    // A command that never ran has no calls to show: its error alone.
    if (!command.failure().empty()) {
        std::fprintf(stderr, "tcpscope exec: %s\n", command.failure().c_str());
        if (output_made) unlink(o.output.c_str());
        return command.failure_status();
    }

    std::set<uint32_t> pids{static_cast<uint32_t>(command.pid())};
    for (const auto& c : calls) pids.insert(c.step.pid);
    // With the cgroup, the kernel kept only signals to its processes,
    // whose pids (the kernel's) command.pid() may not be, inside a PID
    // namespace.
    if (cgroup) {
        for (const auto& e : capture.events) {
            if (e.kind == EventKind::Signal) pids.insert(e.target_pid);
        }
    }
    std::vector<Step> steps = finish_calls(calls);
    std::vector<Event> events = events_of_calls(std::move(capture.events), steps, pids);
    explain_failures(steps, events, reasons);
    explain_slow_connects(steps, events);
    Timeline timeline(steps, events);
    const std::string name = base_name(o.command.front());

    RunSummary summary;
    summary.scenario = name;
    summary.ok = command.term_signal() == 0 && command.exit_code() == 0;
    for (const auto& e : events) summary.count(kind_name(e.kind));
    summary.steps = steps.size();
    summary.lost = capture.lost_total + calls_lost;
    summary.lost_by_reason = capture.kernel_losses();
    summary.lost_by_reason.emplace_back("calls", calls_lost);
    summary.exit_code = command.term_signal() ? -1 : command.exit_code();
    summary.term_signal = command.term_signal();
    summary.duration_ns = duration;

    // The causes of the errors calls handed over (failed, fetched by
    // SO_ERROR, reported by poll/epoll), in words: under the text ladder,
    // and on the page where run's "why" goes.
    const std::string why = why_lines(timeline.steps());
    const std::string tally = std::to_string(steps.size()) + " calls, " + std::to_string(events.size()) +
                              " kernel events, " + std::to_string(summary.lost) + " lost";
    bool page_failed = false;
    if (!o.html.empty()) {
        std::string command_line;
        for (const auto& word : o.command) command_line += (command_line.empty() ? "" : " ") + word;
        LadderPage page{name, "tcpscope exec -- " + command_line,
                        why.empty() ? "No call failed or reported an error."
                                    : "Why each call failed or reported an error:\n" + why, {},
                        tally};
        std::string page_error;
        if (write_page(o.html, render_ladder_html(build_ladder_model(timeline, reasons, name, &clock), page),
                       &page_error)) {
            std::fprintf(stderr, "tcpscope exec: page written: %s\n", o.html.c_str());
        } else {
            std::fprintf(stderr, "tcpscope exec: --html: %s\n", page_error.c_str());
            page_failed = true;
        }
    }

    if (o.json) {
        std::string line = kernel_support_to_json(support).dump();
        out.write_line(line);
        for (const auto& entry : timeline.entries()) {
            line.clear();
            if (entry.is_step) {
                append_run_step_json(line, timeline.steps()[entry.index], name);
            } else {
                append_run_event_json(line, timeline.events()[entry.index], reasons, name, entry.side,
                                      &clock);
            }
            out.write_line(line);
        }
        line.clear();
        append_run_summary_json(line, summary);
        out.write_line(line);
    } else {
        out.write_line("Command: " + name + "\n");
        out.write_line(render_ladder(timeline, reasons));
        if (!why.empty()) out.write_line("Why:\n" + why);
        out.write_line(tally);
    }
    out.flush();
    if (undecodable) std::fprintf(stderr, "tcpscope exec: %lu call records not decoded\n",
                                  static_cast<unsigned long>(undecodable));
    if (command.term_signal()) {
        std::fprintf(stderr, "tcpscope exec: %s killed by %s\n", name.c_str(),
                     signal_name(command.term_signal()).c_str());
    }
    if (out.status() == LineWriter::Status::Failed) {
        std::fprintf(stderr, "tcpscope exec: output: %s\n", out.error().c_str());
    }
    // The command's status is the answer; a page asked for and not
    // written turns a success into a failure rather than pass unnoticed.
    if (page_failed && command.exit_status() == 0) return kExecFailure;
    return command.exit_status();
}

}  // namespace tcpscope
