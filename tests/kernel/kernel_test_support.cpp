#include "kernel_test_support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "btf_reasons.h"

namespace ktest {

namespace {

uint64_t now_ms() { return tcpscope::monotonic_ns() / 1000000ull; }

// Reads one '\n'-terminated line from fd into *line, buffering the rest.
// Returns false on timeout or EOF.
bool read_line(int fd, std::string& buffer, std::string* line, int timeout_ms) {
    uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
    for (;;) {
        size_t nl = buffer.find('\n');
        if (nl != std::string::npos) {
            *line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            return true;
        }
        uint64_t now = now_ms();
        if (now >= deadline) return false;
        struct pollfd p = {fd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(deadline - now));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        char buf[4096];
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buffer.append(buf, static_cast<size_t>(n));
    }
}

void write_all(int fd, const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("pipe write failed: " + std::string(strerror(errno)));
        done += static_cast<size_t>(n);
    }
}

// In a fresh child: close every descriptor but stdio and the two pipe ends,
// so that it holds none of the parent's BPF objects or other helpers' pipes.
void close_other_fds(int keep1, int keep2) {
    std::vector<int> fds;
    if (DIR* d = opendir("/proc/self/fd")) {
        int dfd = dirfd(d);
        while (struct dirent* ent = readdir(d)) {
            if (ent->d_name[0] == '.') continue;
            int fd = atoi(ent->d_name);
            if (fd > 2 && fd != keep1 && fd != keep2 && fd != dfd) fds.push_back(fd);
        }
        closedir(d);
    }
    for (int fd : fds) close(fd);
}

}  // namespace

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + (errno ? std::string(": ") + strerror(errno) : ""));
}

// ----------------------------------------------------------------- HelperIO

void HelperIO::report(const json& message) { write_all(out_, message.dump() + "\n"); }

json HelperIO::next(int timeout_ms) {
    std::string line;
    if (!read_line(in_, buffer_, &line, timeout_ms)) {
        errno = 0;
        fail("helper: no message from the test within " + std::to_string(timeout_ms) + " ms");
    }
    return json::parse(line);
}

bool HelperIO::message_waiting() {
    if (buffer_.find('\n') != std::string::npos) return true;
    struct pollfd p = {in_, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

json HelperIO::expect(const std::string& type, int timeout_ms) {
    json m = next(timeout_ms);
    if (m.value("type", "") != type) {
        errno = 0;
        fail("helper: expected '" + type + "', got " + m.dump());
    }
    return m;
}

// ------------------------------------------------------------------- Helper

std::unique_ptr<Helper> Helper::in_new_netns(Body body) { return spawn(std::move(body), 0); }

std::unique_ptr<Helper> Helper::in_netns_of(const Helper& other, Body body) {
    return spawn(std::move(body), other.pid());
}

std::unique_ptr<Helper> Helper::spawn(Body body, pid_t join_pid) {
    int down[2], up[2];
    if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) fail("pipe");
    fflush(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        close_other_fds(down[0], up[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(3);
        HelperIO io(down[0], up[1]);
        int code = 0;
        try {
            if (join_pid == 0) {
                if (unshare(CLONE_NEWNET) != 0) fail("unshare(CLONE_NEWNET)");
                bring_lo_up();
            } else {
                std::string path = "/proc/" + std::to_string(join_pid) + "/ns/net";
                int nsfd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
                if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) fail("setns " + path);
                close(nsfd);
            }
            io.report({{"type", "hello"}, {"pid", getpid()}, {"netns", netns_inode_of(0)}});
            body(io);
        } catch (const std::exception& e) {
            try {
                io.report({{"type", "error"}, {"what", e.what()}});
            } catch (...) {
            }
            code = 1;
        }
        _exit(code);
    }
    close(down[0]);
    close(up[1]);
    std::unique_ptr<Helper> h(new Helper());
    h->pid_ = pid;
    h->to_child_ = down[1];
    h->from_child_ = up[0];
    json hello = h->expect("hello", 10000);
    h->netns_ = hello.at("netns").get<uint32_t>();
    return h;
}

Helper::~Helper() {
    if (!reaped_ && pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (to_child_ >= 0) close(to_child_);
    if (from_child_ >= 0) close(from_child_);
}

void Helper::send(const json& message) { write_all(to_child_, message.dump() + "\n"); }

std::optional<json> Helper::read_message(int timeout_ms) {
    std::string line;
    if (!read_line(from_child_, buffer_, &line, timeout_ms)) return std::nullopt;
    return json::parse(line);
}

json Helper::expect(const std::string& type, int timeout_ms) {
    uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
    for (;;) {
        uint64_t now = now_ms();
        int left = now >= deadline ? 0 : static_cast<int>(deadline - now);
        auto m = read_message(left);
        if (!m) {
            throw std::runtime_error("helper " + std::to_string(pid_) + ": no '" + type +
                                     "' message within " + std::to_string(timeout_ms) + " ms");
        }
        std::string got = m->value("type", "");
        if (got == "error") {
            throw std::runtime_error("helper " + std::to_string(pid_) +
                                     " failed: " + m->value("what", ""));
        }
        if (got == type) return *m;
        throw std::runtime_error("helper " + std::to_string(pid_) + ": expected '" + type +
                                 "', got " + m->dump());
    }
}

void Helper::join(int timeout_ms) {
    uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) break;
        if (r < 0) fail("waitpid");
        if (now_ms() >= deadline) {
            throw std::runtime_error("helper " + std::to_string(pid_) + " did not exit");
        }
        usleep(5000);
    }
    reaped_ = true;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string extra;
        while (auto m = read_message(0)) {
            if (m->value("type", "") == "error") extra = ": " + m->value("what", "");
        }
        throw std::runtime_error("helper " + std::to_string(pid_) + " exited with status " +
                                 std::to_string(status) + extra);
    }
}

// ----------------------------------------------------------- socket helpers

void bring_lo_up() {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) fail("SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) fail("SIOCSIFFLAGS lo");
    close(fd);
}

uint32_t netns_inode_of(pid_t pid) {
    std::string path = pid == 0 ? "/proc/self/ns/net" : "/proc/" + std::to_string(pid) + "/ns/net";
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) fail("stat " + path);
    return static_cast<uint32_t>(st.st_ino);
}

namespace {
sockaddr_in make_addr(const std::string& addr, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) {
        errno = 0;
        fail("bad address " + addr);
    }
    return sa;
}
}  // namespace

int tcp_listen(const std::string& addr, uint16_t port, int backlog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa = make_addr(addr, port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        fail("bind " + addr + ":" + std::to_string(port));
    }
    if (listen(fd, backlog) != 0) fail("listen");
    return fd;
}

int tcp_connect(const std::string& addr, uint16_t port, int* fd_out) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    sockaddr_in sa = make_addr(addr, port);
    int r;
    do {
        r = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        int err = errno;
        if (fd_out) {
            *fd_out = fd;
        } else {
            close(fd);
        }
        return -err;
    }
    if (fd_out) *fd_out = fd;
    return fd;
}

uint16_t local_port(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) fail("getsockname");
    return ntohs(sa.sin_port);
}

uint64_t socket_cookie(int fd) {
    uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) fail("SO_COOKIE");
    return cookie;
}

void set_linger_zero(int fd) {
    struct linger l = {1, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0) fail("SO_LINGER");
}

int accept_timeout(int listen_fd, int timeout_ms) {
    struct pollfd p = {listen_fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r <= 0) {
        errno = r == 0 ? ETIMEDOUT : errno;
        fail("accept: nothing to accept");
    }
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) fail("accept");
    return fd;
}

// ----------------------------------------------------------------- commands

CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) fail("pipe");
    fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(out[1], 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    CommandResult result;
    uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
    bool killed = false;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline && !killed) {
            kill(pid, SIGKILL);
            killed = true;
        }
        struct pollfd p = {out[0], POLLIN, 0};
        int r = ::poll(&p, 1, killed ? 1000 : static_cast<int>(deadline - now));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (killed) break;
            continue;
        }
        char buf[4096];
        ssize_t n = read(out[0], buf, sizeof(buf));
        if (n <= 0) break;
        result.output.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.status = WIFEXITED(status) && !killed ? WEXITSTATUS(status) : -1;
    return result;
}

Background::Background(const std::vector<std::string>& argv, const std::string& stderr_path) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) fail("pipe");
    fflush(nullptr);
    pid_ = fork();
    if (pid_ < 0) fail("fork");
    if (pid_ == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_DFL);
        dup2(out[1], 1);
        if (stderr_path.empty()) {
            dup2(out[1], 2);
        } else {
            int efd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (efd >= 0) dup2(efd, 2);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    out_ = out[0];
}

Background::~Background() {
    if (!exited_ && pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
}

void Background::close_output() {
    if (out_ >= 0) close(out_);
    out_ = -1;
}

int Background::wait_exit(int timeout_ms) {
    if (exited_) return status_;
    uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
    for (;;) {
        if (out_ >= 0) read_some(20);
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            while (out_ >= 0 && read_some(0)) {
            }
            exited_ = true;
            status_ = status;
            if (!partial_.empty()) lines_.push_back(partial_);
            partial_.clear();
            return status;
        }
        if (now_ms() >= deadline) return -1;
        if (out_ < 0) usleep(10000);
    }
}

bool Background::read_some(int timeout_ms) {
    if (out_ < 0) return false;
    struct pollfd p = {out_, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r <= 0) return false;
    char buf[8192];
    ssize_t n = read(out_, buf, sizeof(buf));
    if (n <= 0) return false;
    partial_.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
        lines_.push_back(partial_.substr(0, nl));
        partial_.erase(0, nl + 1);
    }
    return true;
}

bool Background::wait_line(const std::function<bool(const std::string&)>& pred, int timeout_ms) {
    uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
    size_t checked = 0;
    for (;;) {
        for (; checked < lines_.size(); ++checked) {
            if (pred(lines_[checked])) return true;
        }
        uint64_t now = now_ms();
        if (now >= deadline) return false;
        if (!read_some(static_cast<int>(deadline - now))) {
            if (now_ms() >= deadline) return false;
            // EOF: nothing more will come.
            struct pollfd p = {out_, POLLIN, 0};
            if (::poll(&p, 1, 0) > 0 && (p.revents & POLLHUP) && !(p.revents & POLLIN)) {
                for (; checked < lines_.size(); ++checked) {
                    if (pred(lines_[checked])) return true;
                }
                return false;
            }
        }
    }
}

int Background::stop(int timeout_ms) {
    if (exited_) return status_;
    kill(pid_, SIGINT);
    uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
    while (now_ms() < deadline) {
        if (out_ < 0) usleep(10000);
        if (!read_some(100)) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                while (read_some(0)) {
                }
                exited_ = true;
                status_ = status;
                if (!partial_.empty()) lines_.push_back(partial_);
                partial_.clear();
                return status;
            }
        }
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    exited_ = true;
    return status_;
}

std::string run_in_netns(pid_t pid, const std::vector<std::string>& argv) {
    std::vector<std::string> full = {"nsenter", "-t", std::to_string(pid), "-n", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    CommandResult r = run_command(full);
    if (r.status != 0) {
        std::string cmd;
        for (const auto& a : full) cmd += a + " ";
        throw std::runtime_error("command failed (" + std::to_string(r.status) + "): " + cmd +
                                 "\n" + r.output);
    }
    return r.output;
}

std::map<std::string, uint64_t> nstat(pid_t pid) {
    // -a: absolute values (no history), -s: leave the history file alone,
    // -z: zeros too.
    std::string text = run_in_netns(pid, {"nstat", "-asz"});
    std::map<std::string, uint64_t> counters;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string name;
        uint64_t value = 0;
        if (fields >> name >> value) counters[name] = value;
    }
    if (counters.empty()) throw std::runtime_error("nstat printed no counters:\n" + text);
    return counters;
}

uint64_t counter_delta(const std::map<std::string, uint64_t>& before,
                       const std::map<std::string, uint64_t>& after, const std::string& name) {
    auto a = after.find(name);
    auto b = before.find(name);
    if (a == after.end() || b == before.end()) {
        throw std::runtime_error("nstat has no counter " + name);
    }
    return a->second - b->second;
}

// ------------------------------------------------------------------ Capture

bool Capture::start(const tcpscope::TracerConfig& config, std::string* error) {
    tcpscope::TracerError terr;
    tracer_ = tcpscope::Tracer::start(config, loop_.handler(), &terr);
    if (!tracer_) {
        *error = terr.text();
        return false;
    }
    return true;
}

bool Capture::start(const tcpscope::FilterOptions& options, std::string* error,
                    uint32_t ringbuf_bytes, bool seed_owners) {
    tcpscope::TracerConfig config;
    config.ringbuf_bytes = ringbuf_bytes;
    config.seed_owners = seed_owners;
    if (!tcpscope::build_host_filter(options, &config.filter, error)) return false;
    return start(config, error);
}

bool Capture::wait_for(const std::function<bool(const std::vector<Event>&)>& pred,
                       double timeout_s) {
    uint64_t deadline = tcpscope::monotonic_ns() + static_cast<uint64_t>(timeout_s * 1e9);
    bool ok = false;
    loop_.run(*tracer_, [&] {
        ok = pred(sink_.events);
        return ok || tcpscope::monotonic_ns() >= deadline;
    });
    return ok;
}

void Capture::settle(int ms) {
    uint64_t deadline = tcpscope::monotonic_ns() + static_cast<uint64_t>(ms) * 1000000ull;
    loop_.run(*tracer_, [&] { return tcpscope::monotonic_ns() >= deadline; });
}

tcpscope::TraceSummary Capture::finish() { return loop_.finish(*tracer_); }

// ------------------------------------------------------------------ events

std::vector<Event> select(const std::vector<Event>& events,
                          const std::function<bool(const Event&)>& pred) {
    std::vector<Event> out;
    for (const auto& e : events) {
        if (pred(e)) out.push_back(e);
    }
    return out;
}

std::vector<std::string> transitions(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        if (e.kind == EventKind::State) {
            out.push_back(tcpscope::tcp_state_name(e.old_state) + "->" +
                          tcpscope::tcp_state_name(e.new_state));
        }
    }
    return out;
}

std::string describe(const Event& e) {
    return tcpscope::event_to_json(e, kernel_reasons()).dump();
}

std::string describe(const std::vector<Event>& events) {
    std::string out;
    for (const auto& e : events) out += "  " + describe(e) + "\n";
    return out;
}

const tcpscope::ResetReasons& kernel_reasons() {
    static const tcpscope::ResetReasons reasons = [] {
        std::string error;
        return tcpscope::load_kernel_reset_reasons(&error);
    }();
    return reasons;
}

const tcpscope::KernelSupport& kernel_support() {
    static const tcpscope::KernelSupport support = [] {
        std::string error;
        return tcpscope::probe_kernel_support(&error);
    }();
    return support;
}

std::string this_kernel() { return "this kernel (" + kernel_support().release + ")"; }

uint16_t unique_port() {
    static std::atomic<int> counter{0};
    // 20000-29999: below the default ephemeral range (32768-60999).
    return static_cast<uint16_t>(20000 + (getpid() * 37 + counter++ * 101) % 10000);
}

}  // namespace ktest

namespace ktest {

TracepointWitness::TracepointWitness(const std::string& event, const std::string& filter) : event_(event) {
    if (run_command({"perf", "--version"}).status != 0) return;
    char path[] = "/tmp/tcpscope-witness-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    close(fd);
    out_path_ = path;
    pid_ = fork();
    if (pid_ == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        // No command: every CPU is counted until SIGINT, a line every 100 ms.
        execlp("perf", "perf", "stat", "-a", "-I", "100", "-x,", "-e", event.c_str(), "--filter",
               filter.c_str(), "-o", out_path_.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    if (pid_ < 0) {
        unlink(out_path_.c_str());
        return;
    }
    // Counting has begun once the first interval's line is written: the
    // traffic must not start before (perf opens a counter on every CPU).
    for (int i = 0; i < 100 && counted_lines() == 0; ++i) usleep(50 * 1000);
    if (counted_lines() == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        unlink(out_path_.c_str());
    }
}

// The interval lines so far: "<time>,<count>,,<event>,...", and their sum.
size_t TracepointWitness::counted_lines(uint64_t* sum) const {
    size_t lines = 0;
    if (sum) *sum = 0;
    FILE* f = fopen(out_path_.c_str(), "r");
    if (!f) return 0;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        std::vector<std::string> fields;
        std::stringstream in(line);
        for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
        if (fields.size() < 4 || fields[3] != event_ || fields[1].empty() ||
            fields[1].find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        ++lines;
        if (sum) *sum += std::stoull(fields[1]);
    }
    fclose(f);
    return lines;
}

std::optional<uint64_t> TracepointWitness::stop() {
    if (pid_ <= 0) return std::nullopt;
    usleep(300 * 1000);  // past the interval that holds the last of the traffic
    kill(pid_, SIGINT);  // perf writes the last interval and exits
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    uint64_t sum = 0;
    std::optional<uint64_t> count;
    if (counted_lines(&sum) > 0) count = sum;
    unlink(out_path_.c_str());
    return count;
}

TracepointWitness::~TracepointWitness() {
    if (pid_ > 0) stop();
}

}  // namespace ktest
