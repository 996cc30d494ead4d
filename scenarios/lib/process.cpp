#include "process.h"

#include "cleanup.h"
#include "errors.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <exception>
#include <string>

namespace scen {

namespace {

void say(const std::string& s) {
    std::string line = s + "\n";
    if (::write(STDERR_FILENO, line.data(), line.size()) < 0) {
    }
}

}  // namespace

pid_t spawn(const std::function<int()>& body) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) fail_errno("fork");
    if (pid > 0) {
        register_child(pid);
        return pid;
    }
    // Child.
    forget_all();
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) std::signal(sig, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(kChildSetupFailed);  // the parent died before prctl
    int code = kChildSetupFailed;
    try {
        code = body();
    } catch (const std::exception& e) {
        say(std::string("setup failed in child: ") + e.what());
        code = kChildSetupFailed;
    }
    _exit(code);
}

int reap_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) fail_errno("waitpid");
    }
    unregister_child(pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == kChildSetupFailed)
        fail("child " + std::to_string(pid) + " failed its setup");
    return status;
}

int wait_child(pid_t pid, const std::string& who) {
    int status = 0;
    uint64_t start = mono_ns();
    int ret;
    while ((ret = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    if (ret < 0) fail_errno("waitpid");
    unregister_child(pid);
    Info info = Info::object();
    if (WIFSIGNALED(status)) {
        info["term_signal"] = WTERMSIG(status);
        info["exit_status"] = 128 + WTERMSIG(status);
    } else if (WIFEXITED(status)) {
        info["exit_status"] = WEXITSTATUS(status);
    }
    Reporter(who).note({StepOp::Wait, "wait(" + who + ")", who}, ret, err, start, end, std::move(info));
    if (WIFEXITED(status) && WEXITSTATUS(status) == kChildSetupFailed)
        fail(who + " failed its setup");
    return status;
}

void kill_child(pid_t pid, const std::string& who) {
    Reporter(who).call(-1, {StepOp::Kill, "kill(" + who + ", SIGKILL)", who}, [&] { return ::kill(pid, SIGKILL); });
}

Channel::Channel(std::string name) : name_(std::move(name)) {
    if (pipe2(fds_, O_CLOEXEC) < 0) fail_errno("pipe for " + name_);
}

Channel::~Channel() {
    ::close(fds_[0]);
    ::close(fds_[1]);
}

void Channel::notify() {
    char c = 1;
    while (::write(fds_[1], &c, 1) < 0)
        if (errno != EINTR) fail_errno("notify " + name_);
}

void Channel::wait(int timeout_ms) {
    uint64_t deadline = mono_ns() + static_cast<uint64_t>(timeout_ms) * 1000000ull;
    for (;;) {
        uint64_t now = mono_ns();
        if (now >= deadline) fail("timed out waiting for " + name_);
        pollfd p{fds_[0], POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>((deadline - now) / 1000000ull) + 1);
        if (n < 0 && errno != EINTR) fail_errno("poll " + name_);
        if (n <= 0) continue;
        char c;
        ssize_t r = ::read(fds_[0], &c, 1);
        if (r == 1) return;
        if (r < 0 && errno == EINTR) continue;
        fail_errno("read " + name_);
    }
}

void sleep_ms(int ms) {
    timespec ts{ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

}  // namespace scen
