#include "scenario_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "command_cgroup.h"
#include "program_trace.h"
#include "host_filter.h"
#include "scenario_sandbox.h"
#include "signals.h"
#include "timeline.h"
#include "sinks.h"
#include "listener_watch.h"
#include "trace_loop.h"

namespace tcpscope {

namespace {

// How long the step pipe may stay open after the program exited.
constexpr uint64_t kPipeGraceNs = 2'000'000'000;

std::string self_dir() {
    char buf[PATH_MAX] = {};
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) return ".";
    std::string path(buf, static_cast<size_t>(n));
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Reads whatever complete lines the pipe holds; returns false at EOF.
bool read_steps(int fd, std::string& pending, ScenarioOutcome& outcome) {
    char buf[8192];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            pending.append(buf, static_cast<size_t>(n));
            size_t nl;
            while ((nl = pending.find('\n')) != std::string::npos) {
                auto step = parse_step(pending.substr(0, nl));
                pending.erase(0, nl + 1);
                if (step) {
                    outcome.steps.push_back(std::move(*step));
                } else {
                    ++outcome.undecodable_steps;
                }
            }
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return true;  // EAGAIN: nothing more for now
    }
}

// Moves the calling process into the cgroup at path (writing 0 names the
// writer), while still root.
bool join_cgroup(const std::string& path, std::string* error) {
    int fd = open((path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, "0", 1) == 1;
    if (!ok) *error = "cannot join cgroup " + path + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return ok;
}

[[noreturn]] void exec_scenario(const std::string& program, ScenarioPrivilege privilege,
                               int step_fd, int scope_fd, const std::string& cgroup) {
    // Our own process group: a Ctrl-C at the terminal reaches the runner,
    // which then ends the whole group itself, cleanup included.
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    std::string fd_text = std::to_string(step_fd);
    setenv("TCPSCOPE_STEP_FD", fd_text.c_str(), 1);
    std::string scope_text = std::to_string(scope_fd);
    setenv("TCPSCOPE_SCOPE_FD", scope_text.c_str(), 1);
    // Opened while still root: `nobody` may not be able to walk the path
    // to the build tree. Not close-on-exec, so that a script's
    // interpreter can open it as /dev/fd/N.
    int program_fd = open(program.c_str(), O_PATH);
    std::string error;
    if (program_fd < 0) {
        error = std::string("cannot open: ") + std::strerror(errno);
    } else if (join_cgroup(cgroup, &error) && confine_scenario(privilege, &error)) {
        // After the credential change, which clears the death signal.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
        fexecve(program_fd, argv, environ);
        error = std::strerror(errno);
    }
    std::fprintf(stderr, "tcpscope run: cannot run %s (%s): %s\n", program.c_str(),
                 privilege_name(privilege), error.c_str());
    _exit(127);
}

}  // namespace

RunVerdict ScenarioOutcome::verdict(const std::vector<Verdict>& verdicts) const {
    bool none_failed = true;
    for (const auto& v : verdicts) none_failed &= !v.failed();
    return run_verdict(ran_to_end() && exit_code == 0, none_failed, lost, untraced(verdicts));
}

uint64_t untraced(const std::vector<Verdict>& verdicts) {
    uint64_t n = 0;
    for (const auto& v : verdicts) n += v.untraced;
    return n;
}

RunSummary ScenarioOutcome::summary(const std::string& scenario,
                                    const std::vector<Verdict>& verdicts) const {
    RunSummary s;
    s.scenario = scenario;
    s.facts = verdicts.size();
    for (const auto& v : verdicts) {
        s.held += v.ok;
        s.not_observable += !v.observable;
    }
    s.ok = passed(verdicts);
    s.verdict = run_verdict_key(verdict(verdicts));
    for (const auto& e : events) s.count(kind_name(e.kind));
    s.steps = steps.size();
    s.lost = lost;
    s.untraced = untraced(verdicts);
    s.lost_by_reason = lost_by_reason;
    s.exit_code = exit_code;
    s.term_signal = term_signal;
    s.timed_out = timed_out;
    s.duration_ns = duration_ns;
    s.error = error;
    return s;
}

std::string scenario_program_path(const std::string& name) {
    // TCPSCOPE_SCENARIO_DIR points the runner at other programs: the tests
    // use it to run scenarios that crash, hang or get killed.
    const char* dir = std::getenv("TCPSCOPE_SCENARIO_DIR");
    return (dir && *dir ? std::string(dir) : self_dir() + "/scenarios") + "/" + name;
}

int scenario_timeout_s(int declared) {
    const char* text = std::getenv("TCPSCOPE_SCENARIO_TIMEOUT");
    int value = text ? std::atoi(text) : 0;
    return value > 0 ? value : declared;
}

std::string namespace_prefix(int pid) { return "tsc-" + std::to_string(pid) + "-"; }

std::vector<std::string> named_namespaces(int pid) {
    const std::string prefix = namespace_prefix(pid);
    std::vector<std::string> names;
    DIR* dir = opendir("/var/run/netns");
    if (dir == nullptr) return names;
    while (struct dirent* d = readdir(dir)) {
        std::string name = d->d_name;
        if (name.rfind(prefix, 0) == 0) names.push_back(name);
    }
    closedir(dir);
    return names;
}

int remove_leftover_namespaces(int pid) {
    int removed = 0;
    for (const auto& name : named_namespaces(pid)) {
        // `ip netns delete` unmounts and removes the bind mount; deleting
        // the namespace also deletes the veth ends inside it.
        std::string cmd = "ip netns delete '" + name + "' 2>/dev/null";
        if (std::system(cmd.c_str()) == 0) ++removed;
    }
    return removed;
}

ScenarioOutcome run_scenario(const ScenarioRunConfig& config, TracerError* tracer_error) {
    ScenarioOutcome outcome;
    if (access(config.program.c_str(), X_OK) != 0) {
        outcome.error = "scenario program " + config.program + " not found (build it first)";
        return outcome;
    }

    // In the kernel: the scenario's processes (a cgroup of their own,
    // joined before the program starts) and the ownerless events (RSTs
    // with no socket, from timewait sockets) of its namespaces only, so
    // that other namespaces' traffic never fills the ring buffer. Here:
    // only the namespaces the steps name.
    std::string cgroup_error;
    std::unique_ptr<CommandCgroup> cgroup = CommandCgroup::create("run", &cgroup_error);
    if (!cgroup) {
        outcome.error = "a cgroup of the scenario's own: " + cgroup_error;
        return outcome;
    }
    const std::string cgroup_path = cgroup->path();
    ProgramTraceConfig ptc;
    ptc.ringbuf_bytes = config.ringbuf_bytes;
    ptc.verbose = config.verbose;
    auto trace = ProgramTrace::start(ptc, std::move(cgroup), tracer_error);
    if (!trace) {
        outcome.error = tracer_error->text();
        return outcome;
    }
    Tracer* tracer = &trace->tracer();
    TraceLoop& loop = trace->loop();
    outcome.kernel = tracer->support();  // what the facts can expect to see
    outcome.warnings = tracer->warnings();

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        outcome.error = std::string("pipe: ") + std::strerror(errno);
        return outcome;
    }
    // The program's requests to trace a namespace it just made, answered
    // once it is in the kernel's scope (scenarios/lib/runner_scope.h).
    int scope_fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, scope_fds) != 0) {
        outcome.error = std::string("socketpair: ") + std::strerror(errno);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return outcome;
    }
    uint64_t start = monotonic_ns();
    pid_t child = fork();
    if (child < 0) {
        outcome.error = std::string("fork: ") + std::strerror(errno);
        for (int fd : {pipe_fds[0], pipe_fds[1], scope_fds[0], scope_fds[1]}) close(fd);
        return outcome;
    }
    if (child == 0) {
        close(pipe_fds[0]);
        close(scope_fds[0]);
        int fd = dup(pipe_fds[1]);  // without O_CLOEXEC: the program inherits it
        int scope_fd = dup(scope_fds[1]);
        exec_scenario(config.program, config.privilege, fd, scope_fd, cgroup_path);
    }
    setpgid(child, child);  // also here, against the race with the child
    close(pipe_fds[1]);
    close(scope_fds[1]);
    fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    fcntl(scope_fds[0], F_SETFL, O_NONBLOCK);

    std::string pending;
    bool pipe_open = true;
    bool exited = false;
    int status = 0;
    uint64_t deadline = start + static_cast<uint64_t>(config.timeout_s) * 1000000000ull;
    uint64_t exited_at = 0;
    // The namespaces the program makes, into the kernel's scope as it
    // makes them. The kernel learns a namespace by itself once one of the
    // scenario's sockets has an event there, or when an ownerless RST is
    // handled on one of its tasks; a namespace whose first event is an
    // answer handled elsewhere (a "rebooted" peer's RST handled by
    // ksoftirqd) the program asks for (scenarios/lib/runner_scope.h). A
    // request names a namespace of the program's own (tsc-<pid>-*), made a
    // moment ago: its cookie joins the scope, and the same line goes back.
    // A name not the program's is answered too, and not traced.
    std::string scope_requests;
    auto answer_scope_requests = [&]() {
        char buf[512];
        ssize_t got;
        while ((got = recv(scope_fds[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
            scope_requests.append(buf, static_cast<size_t>(got));
        }
        const std::string prefix = namespace_prefix(child);
        for (size_t nl; (nl = scope_requests.find('\n')) != std::string::npos;) {
            const std::string name = scope_requests.substr(0, nl);
            scope_requests.erase(0, nl + 1);
            if (name.rfind(prefix, 0) == 0 && name.find('/') == std::string::npos) {
                uint64_t cookie = netns_cookie_of("/var/run/netns/" + name, nullptr);
                if (cookie) tracer->add_scope_netns(cookie);
            }
            const std::string answer = name + "\n";
            send(scope_fds[0], answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        // A program that sends no newline cannot grow this for ever.
        if (scope_requests.size() > 4096) scope_requests.clear();
    };
    // The accept queues of the namespace the program moved into (its
    // private one): its listeners' drops, which the kernel's drop
    // tracepoint never sees, as `drop` events (listener_watch.h). Looked
    // for until the program has left ours; every drop there counts, the
    // namespace being the program's own.
    bool listeners_watched = false;
    auto watch_program_listeners = [&]() {
        if (listeners_watched) return;
        struct stat ours {}, theirs {};
        const std::string path = "/proc/" + std::to_string(child) + "/ns/net";
        if (stat("/proc/self/ns/net", &ours) != 0 || stat(path.c_str(), &theirs) != 0 ||
            ours.st_ino == theirs.st_ino) {
            return;
        }
        listeners_watched = true;
        ListenerWatchOptions lw;
        lw.netns_path = path;
        lw.storage_map_fd = tracer->socket_storage_fd();
        lw.report_first_look = true;
        std::string why;
        if (auto watch = ListenerWatch::open(lw, &why)) {
            loop.watch_listeners(std::move(watch));
        } else {
            outcome.warnings.push_back("accept queues not watched: " + why);
        }
    };
    auto finished = [&]() {
        answer_scope_requests();
        if (!exited) watch_program_listeners();
        if (pipe_open) pipe_open = read_steps(pipe_fds[0], pending, outcome);
        if (!exited && waitpid(child, &status, WNOHANG) == child) {
            exited = true;
            exited_at = monotonic_ns();
            // The scenario is over: whatever it left running in its
            // process group goes too (and lets go of the step pipe).
            kill(-child, SIGKILL);
        }
        if (!exited && monotonic_ns() > deadline) {
            outcome.timed_out = true;
            return true;
        }
        // The pipe closes when every holder of it is gone; one that left
        // the process group is not waited for beyond a grace period.
        return exited && (!pipe_open || monotonic_ns() - exited_at > kPipeGraceNs);
    };
    LoopEnd end = loop.run(*tracer, finished);
    if (end == LoopEnd::Signal) outcome.interrupted = true;

    if (!exited) {
        kill(-child, SIGKILL);
        waitpid(child, &status, 0);
        exited = true;
    }
    // Grandchildren of a program that crashed may linger in its group,
    // or have left it: the cgroup holds them all.
    kill(-child, SIGKILL);
    trace->kill_all();
    read_steps(pipe_fds[0], pending, outcome);
    close(pipe_fds[0]);
    close(scope_fds[0]);

    ProgramEvents captured = trace->finish();
    outcome.lost = captured.lost;
    outcome.lost_by_reason = std::move(captured.lost_by_reason);
    remove_leftover_namespaces(child);

    if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) outcome.term_signal = WTERMSIG(status);
    outcome.duration_ns = monotonic_ns() - start;

    // Ours: events in a namespace a step was made in, signals to our
    // processes, and events of an endpoint a step named: a namespace the
    // scenario made but never entered (a peer that "rebooted") still
    // answers on an address the client's steps know.
    std::set<uint32_t> netns;
    std::set<uint32_t> pids;
    std::set<std::string> endpoints;
    pids.insert(static_cast<uint32_t>(child));
    for (const auto& s : outcome.steps) {
        if (s.netns) netns.insert(s.netns);
        if (s.pid) pids.insert(s.pid);
        if (!s.local.empty()) endpoints.insert(s.local);
        if (!s.remote.empty()) endpoints.insert(s.remote);
    }
    // A namespace's inode is reused once it is gone: another test's
    // namespace made after ours ended could take it while we still drain.
    // So each inode stands for the namespace whose cookie its first event
    // carries at or after the first step made in it (our namespace has
    // no TCP event before our first call in it).
    std::map<uint32_t, uint64_t> first_step_ns;
    for (const auto& s : outcome.steps) {
        if (!s.netns) continue;
        auto it = first_step_ns.find(s.netns);
        if (it == first_step_ns.end() || s.start_ns < it->second) first_step_ns[s.netns] = s.start_ns;
    }
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> cookie_of;  // inode -> (ts, cookie)
    for (const auto& e : captured.events) {
        auto step = first_step_ns.find(e.netns);
        if (step == first_step_ns.end() || e.ts_ns < step->second || e.netns_cookie == 0) continue;
        auto it = cookie_of.find(e.netns);
        if (it == cookie_of.end() || e.ts_ns < it->second.first) {
            cookie_of[e.netns] = {e.ts_ns, e.netns_cookie};
        }
    }
    auto same_namespace = [&](const Event& e) {
        if (!netns.count(e.netns)) return false;
        auto it = cookie_of.find(e.netns);
        return it == cookie_of.end() || e.netns_cookie == 0 || e.netns_cookie == it->second.second;
    };
    for (auto& e : captured.events) {
        bool mine = false;
        if (e.kind == EventKind::Signal) {
            mine = pids.count(e.target_pid) > 0;
        } else {
            mine = same_namespace(e) ||
                   (endpoints.count(endpoint_key(e.local, e.family)) > 0 &&
                    endpoints.count(endpoint_key(e.remote, e.family)) > 0);
        }
        if (mine) outcome.events.push_back(std::move(e));
    }
    return outcome;
}

}  // namespace tcpscope
