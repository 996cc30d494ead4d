#include "command_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <fstream>
#include <set>

#include "exit_codes.h"

namespace tcpscope {

namespace {

bool parse_id(const char* text, unsigned long* out) {
    if (!text || !*text) return false;
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(text, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

// Our children and their descendants, from /proc (ppid chains).
std::set<pid_t> descendants() {
    std::set<pid_t> all{getpid()};
    std::vector<std::pair<pid_t, pid_t>> parent_of;
    if (DIR* dir = opendir("/proc")) {
        while (struct dirent* d = readdir(dir)) {
            unsigned long pid;
            if (!parse_id(d->d_name, &pid)) continue;
            std::ifstream stat("/proc/" + std::string(d->d_name) + "/stat");
            std::string line;
            if (!std::getline(stat, line)) continue;
            auto close_paren = line.rfind(')');
            if (close_paren == std::string::npos) continue;
            int ppid = 0;
            char state = 0;
            if (std::sscanf(line.c_str() + close_paren + 1, " %c %d", &state, &ppid) != 2) continue;
            parent_of.emplace_back(static_cast<pid_t>(pid), ppid);
        }
        closedir(dir);
    }
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& [pid, ppid] : parent_of) {
            if (all.count(ppid) && all.insert(pid).second) grew = true;
        }
    }
    all.erase(getpid());
    return all;
}

// What `sudo -u USER` and `su USER` give the command: the target user's
// HOME, USER, LOGNAME and SHELL. A uid with no passwd entry has no home to
// give: HOME goes rather than stay the invoker's (root's under sudo).
void set_user_environment(const RunAs& as) {
    const std::string user = as.name.empty() ? std::to_string(as.uid) : as.name;
    setenv("USER", user.c_str(), 1);
    setenv("LOGNAME", user.c_str(), 1);
    if (as.home.empty()) {
        unsetenv("HOME");
    } else {
        setenv("HOME", as.home.c_str(), 1);
    }
    setenv("SHELL", as.shell.empty() ? "/bin/sh" : as.shell.c_str(), 1);
}

// What the child writes on its report pipe when it cannot run the command.
struct ChildFailure {
    int stage;  // ChildStage
    int err;    // errno
    uint32_t uid;
    uint32_t gid;
};
enum ChildStage : int { kStageGroups = 1, kStageIds = 2, kStageExec = 3 };

[[noreturn]] void fail_child(int report, ChildStage stage, int err, const RunAs& as) {
    ChildFailure f{stage, err, as.uid, as.gid};
    ssize_t n;
    do {
        n = write(report, &f, sizeof(f));
    } while (n < 0 && errno == EINTR);
    _exit(127);
}

[[noreturn]] void run_child(const std::vector<std::string>& argv, const RunAs& as, int gate,
                            int report) {
    // Wait for the tracer: the command's first instruction is traced.
    char byte = 0;
    ssize_t n;
    do {
        n = read(gate, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);  // tcpscope gave up before attaching
    close(gate);
    // tcpscope ignores SIGPIPE and catches the stop signals; the command
    // gets the defaults (an ignored disposition would survive exec).
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Another user's command gets that user's environment (compared
    // before the switch, which makes the two uids equal).
    if (as.uid != getuid()) set_user_environment(as);
    if (!as.name.empty() ? initgroups(as.name.c_str(), as.gid) != 0 : setgroups(0, nullptr) != 0) {
        fail_child(report, kStageGroups, errno, as);
    }
    if (setgid(as.gid) != 0 || setuid(as.uid) != 0) fail_child(report, kStageIds, errno, as);
    // After the credential change, which clears it: the command goes with us.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    fail_child(report, kStageExec, errno, as);
}

}  // namespace

bool resolve_run_as(const std::string& user, RunAs* out, std::string* error) {
    unsigned long id;
    struct passwd* pw = nullptr;
    if (user.empty()) {
        unsigned long gid;
        if (parse_id(std::getenv("SUDO_UID"), &id)) {
            out->uid = static_cast<uid_t>(id);
            pw = getpwuid(out->uid);
            out->gid = parse_id(std::getenv("SUDO_GID"), &gid) ? static_cast<gid_t>(gid)
                       : pw                                    ? pw->pw_gid
                                                               : out->gid;
            out->name = pw ? pw->pw_name : "";
            out->home = pw ? pw->pw_dir : "";
            out->shell = pw ? pw->pw_shell : "";
            return true;
        }
        out->uid = 0;
        out->gid = 0;
        out->name = "root";
        if ((pw = getpwuid(0)) != nullptr) {
            out->home = pw->pw_dir;
            out->shell = pw->pw_shell;
        }
        return true;
    }
    pw = parse_id(user.c_str(), &id) ? getpwuid(static_cast<uid_t>(id)) : getpwnam(user.c_str());
    if (pw == nullptr) {
        if (parse_id(user.c_str(), &id)) {  // a uid with no name: its own group
            out->uid = out->gid = static_cast<uid_t>(id);
            out->name.clear();
            out->home.clear();
            out->shell.clear();
            return true;
        }
        *error = "--user: no such user: " + user;
        return false;
    }
    out->uid = pw->pw_uid;
    out->gid = pw->pw_gid;
    out->name = pw->pw_name;
    out->home = pw->pw_dir;
    out->shell = pw->pw_shell;
    return true;
}

CommandProcess::~CommandProcess() {
    if (gate_ >= 0) close(gate_);  // a child still gated exits 127
    if (report_ >= 0) close(report_);
    if (pid_ > 0 && !done_) {
        kill_tree();
        while (!reap()) usleep(10000);
    }
}

bool CommandProcess::start(const std::vector<std::string>& argv, const RunAs& as,
                           std::string* error) {
    // Orphans of the command come to us, so the whole tree is reaped here
    // and "the last process exited" is waitpid's ECHILD.
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        *error = std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + std::strerror(errno);
        return false;
    }
    int fds[2];
    int report[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        *error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    // Non-blocking too: the read, once the command has ended, must never
    // wait (a write end is open only in a child that has not exec'd yet).
    if (pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0) {
        *error = std::string("pipe: ") + std::strerror(errno);
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    pid_ = fork();
    if (pid_ < 0) {
        *error = std::string("fork: ") + std::strerror(errno);
        for (int fd : {fds[0], fds[1], report[0], report[1]}) close(fd);
        return false;
    }
    if (pid_ == 0) {
        close(fds[1]);
        close(report[0]);
        run_child(argv, as, fds[0], report[1]);
    }
    close(fds[0]);
    close(report[1]);
    gate_ = fds[1];
    report_ = report[0];
    program_ = argv.empty() ? "" : argv[0];
    return true;
}

void CommandProcess::release() {
    if (gate_ < 0) return;
    char byte = 1;
    ssize_t n;
    do {
        n = write(gate_, &byte, 1);
    } while (n < 0 && errno == EINTR);
    close(gate_);
    gate_ = -1;
}

bool CommandProcess::reap() {
    for (;;) {
        int status = 0;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0) {
            if (p == pid_) {
                command_reaped_ = true;
                read_failure();
                if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
                if (WIFSIGNALED(status)) term_signal_ = WTERMSIG(status);
            }
            continue;
        }
        if (p < 0 && errno == EINTR) continue;
        if (p < 0 && errno == ECHILD) done_ = true;
        return done_;
    }
}

void CommandProcess::forward(int sig) {
    if (pid_ > 0 && !command_reaped_) kill(pid_, sig);
}

void CommandProcess::kill_tree() {
    if (pid_ > 0 && !command_reaped_) kill(pid_, SIGKILL);
    for (pid_t p : descendants()) kill(p, SIGKILL);
}

void CommandProcess::read_failure() {
    if (report_ < 0) return;
    // The child has ended: its end of the pipe is closed. Nothing to
    // read: execvp succeeded.
    ChildFailure f{};
    ssize_t n;
    do {
        n = read(report_, &f, sizeof(f));
    } while (n < 0 && errno == EINTR);
    close(report_);
    report_ = -1;
    if (n != static_cast<ssize_t>(sizeof(f))) return;
    switch (f.stage) {
        case kStageGroups:
            failure_ = "cannot set the groups of uid " + std::to_string(f.uid) + ": " + std::strerror(f.err);
            failure_status_ = kExecFailure;
            break;
        case kStageIds:
            failure_ = "cannot switch to uid " + std::to_string(f.uid) + " gid " + std::to_string(f.gid) +
                       ": " + std::strerror(f.err);
            failure_status_ = kExecFailure;
            break;
        default:
            // As timeout(1) and env(1): 127 not found, 126 found but not runnable.
            failure_ = "cannot run '" + program_ + "': " +
                       (f.err == ENOENT ? std::string("command not found") : std::strerror(f.err));
            failure_status_ = f.err == ENOENT ? kExecNotFound : kExecCannotRun;
    }
}

int CommandProcess::exit_status() const {
    if (term_signal_) return 128 + term_signal_;
    return exit_code_ >= 0 ? exit_code_ : 1;
}

}  // namespace tcpscope
