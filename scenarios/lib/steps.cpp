#include "steps.h"

#include "errors.h"
#include "inherited_fd.h"
#include "names.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

namespace scen {

namespace {

// The step pipe, or -1 for "print on stderr". Looked up once.
int step_fd() {
    static const int fd = inherited_fd("TCPSCOPE_STEP_FD");
    return fd;
}

// Read per step: scenario processes move between namespaces (setns).
uint64_t netns_inode() {
    struct stat st {};
    if (stat("/proc/self/ns/net", &st) < 0) return 0;
    return st.st_ino;
}

// Whole-buffer write; one write() call in practice (lines stay < PIPE_BUF).
void write_all(int fd, const std::string& s) {
    const char* p = s.data();
    size_t left = s.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the runner went away: nothing useful to do
        p += n;
        left -= static_cast<size_t>(n);
    }
}

std::string readable(const Step& s) {
    std::string line = "[" + s.side + " " + std::to_string(s.pid) + "] " + s.call + " = " +
                       std::to_string(s.ret);
    if (s.failed()) line += " " + s.errno_name;
    if (s.cookie) line += "  cookie=" + std::to_string(s.cookie);
    if (!s.local.empty() || !s.remote.empty())
        line += "  " + (s.local.empty() ? "?" : s.local) + " -> " +
                (s.remote.empty() ? "?" : s.remote);
    if (!s.info.empty()) line += "  " + s.info.dump();
    return line + "\n";
}

// Short printable payloads are worth showing in the call itself.
bool printable(const std::string& s) {
    if (s.size() > 32) return false;
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
    return true;
}

}  // namespace

void steps_init() { step_fd(); }

void emit(Step s) {
    s.pid = static_cast<uint32_t>(getpid());
    s.netns = netns_inode();
    int fd = step_fd();
    write_all(fd < 0 ? STDERR_FILENO : fd, fd < 0 ? readable(s) : tcpscope::step_json_line(s));
}

namespace {

Step started(const std::string& side, const Call& what, long long ret, int err, uint64_t start,
             uint64_t end, Info info) {
    Step s;
    s.op = what.op;
    s.arg = what.arg;
    s.size = what.size;
    s.call = what.text;
    s.side = side;
    s.ret = ret;
    if (err) s.errno_name = tcpscope::errno_name(err);
    s.start_ns = start;
    s.ts_ns = end;
    s.info = std::move(info);
    return s;
}

}  // namespace

void Reporter::finish(int fd, const Call& what, long long ret, int err, uint64_t start,
                      uint64_t end, const SocketInfo& before, Info info) {
    Step s = started(side_, what, ret, err, start, end, std::move(info));
    // Prefer what the socket says now (connect and bind assign addresses),
    // fall back on what it said before (close, or a RST that unhashed it).
    bool open = fd >= 0 && fcntl(fd, F_GETFD) >= 0;
    SocketInfo after = open ? socket_info(fd) : SocketInfo{};
    SocketInfo sock;
    sock.cookie = before.cookie ? before.cookie : after.cookie;
    // A failed connect leaves getsockname() at 0.0.0.0:<port>; an address
    // seen earlier names the socket better.
    bool wildcard = after.local.rfind("0.0.0.0:", 0) == 0;
    sock.local = !after.local.empty() && !(wildcard && !before.local.empty()) ? after.local : before.local;
    sock.remote = !after.remote.empty() ? after.remote : before.remote;
    if (fd >= 0 && sock.cookie) {
        SocketInfo& known = known_[fd];
        if (known.cookie != sock.cookie) known = SocketInfo{sock.cookie, "", ""};
        if (sock.local.empty() || (sock.local.rfind("0.0.0.0:", 0) == 0 && !known.local.empty()))
            sock.local = known.local;
        if (sock.remote.empty()) sock.remote = known.remote;
        known = sock;
        if (!open) known_.erase(fd);
    }
    s.cookie = sock.cookie;
    s.local = sock.local;
    s.remote = sock.remote;
    emit(std::move(s));
}

void Reporter::note(const Call& what, long long ret, int err, uint64_t start_ns,
                    uint64_t ts_ns, Info info, SocketInfo sock) {
    Step s = started(side_, what, ret, err, start_ns, ts_ns, std::move(info));
    s.cookie = sock.cookie;
    s.local = std::move(sock.local);
    s.remote = std::move(sock.remote);
    emit(std::move(s));
}

int Reporter::socket_tcp() {
    // Not a step: creating a socket is stage building, and it has no cookie
    // worth reporting until it does something.
    return static_cast<int>(check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
}

int Reporter::connect(int fd, const sockaddr_in& to) {
    SocketInfo before = socket_info(fd);
    uint64_t start = mono_ns();
    int ret = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    // getpeername() answers ENOTCONN while SYN_SENT or after a refusal, but
    // the peer the call aimed at is known: name it.
    if (before.remote.empty()) before.remote = to_string(to);
    finish(fd, {StepOp::Connect, "connect(" + to_string(to) + ")", to_string(to)}, ret, err, start, end, before, Info::object());
    errno = err;
    return ret;
}

int Reporter::bind(int fd, const sockaddr_in& addr) {
    return static_cast<int>(call(fd, {StepOp::Bind, "bind(" + to_string(addr) + ")", to_string(addr)}, [&] {
        return ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    }));
}

int Reporter::listen(int fd, int backlog) {
    return static_cast<int>(call(fd, {StepOp::Listen, "listen(fd, " + std::to_string(backlog) + ")", "", backlog},
                                 [&] { return ::listen(fd, backlog); }));
}

int Reporter::accept(int lfd) {
    SocketInfo before = socket_info(lfd);
    uint64_t start = mono_ns();
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = Info::object();
    if (fd >= 0) {
        // The listener is the socket acted on; the connection it handed out
        // is the one later events are about, so name it too.
        SocketInfo acc = socket_info(fd);
        known_[fd] = acc;
        Info accepted = {{"cookie", acc.cookie}};
        if (!acc.local.empty()) accepted["local"] = acc.local;
        if (!acc.remote.empty()) accepted["remote"] = acc.remote;  // gone if a RST came first
        info["accepted"] = std::move(accepted);
    }
    finish(lfd, {StepOp::Accept, "accept(lfd)"}, fd, err, start, end, before, std::move(info));
    errno = err;
    return fd;
}

int Reporter::close(int fd) {
    // finish() sees the descriptor gone and keeps the identity read before.
    return static_cast<int>(call(fd, {StepOp::Close, "close(fd)"}, [&] { return ::close(fd); }));
}

int Reporter::shutdown(int fd, int how) {
    const char* name = how == SHUT_WR ? "SHUT_WR" : how == SHUT_RD ? "SHUT_RD" : "SHUT_RDWR";
    return static_cast<int>(call(fd, {StepOp::Shutdown, std::string("shutdown(fd, ") + name + ")", name},
                                 [&] { return ::shutdown(fd, how); }));
}

long long Reporter::send(int fd, const std::string& data) {
    std::string shown = printable(data) ? "\"" + data + "\"" : "buf";
    return call(fd, {StepOp::Send, "send(fd, " + shown + ", " + std::to_string(data.size()) + ")", "",
                 static_cast<int64_t>(data.size())},
                [&] { return ::send(fd, data.data(), data.size(), 0); });
}

long long Reporter::send_buf(int fd, const void* buf, size_t len) {
    return call(fd, {StepOp::Send, "send(fd, buf, " + std::to_string(len) + ")", "", static_cast<int64_t>(len)},
                [&] { return ::send(fd, buf, len, 0); }, Info{{"bytes", len}});
}

long long Reporter::recv(int fd, void* buf, size_t len) {
    SocketInfo before = socket_info(fd);
    uint64_t start = mono_ns();
    ssize_t n = ::recv(fd, buf, len, 0);
    int err = n < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = Info::object();
    if (n > 0) {
        std::string got(static_cast<const char*>(buf), static_cast<size_t>(n));
        if (printable(got)) info["data"] = got;
    }
    finish(fd, {StepOp::Recv, "recv(fd, buf, " + std::to_string(len) + ")", "", static_cast<int64_t>(len)}, n, err, start, end, before,
           std::move(info));
    errno = err;
    return n;
}

int Reporter::so_error(int fd) {
    SocketInfo before = socket_info(fd);
    int value = 0;
    socklen_t len = sizeof(value);
    uint64_t start = mono_ns();
    int ret = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &len);
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = Info::object();
    if (ret == 0) info["so_error"] = value ? Info(tcpscope::errno_name(value)) : Info(0);
    finish(fd, {StepOp::GetSockOpt, "getsockopt(SO_ERROR)", "SO_ERROR"}, ret, err, start, end, before, std::move(info));
    errno = err;
    return value;
}

int Reporter::setsockopt_int(int fd, int level, int opt, const char* name, int value) {
    return static_cast<int>(
        call(fd, {StepOp::SetSockOpt, std::string("setsockopt(") + name + " " + std::to_string(value) + ")", name, value},
             [&] { return ::setsockopt(fd, level, opt, &value, sizeof(value)); }));
}

int Reporter::getsockopt_int(int fd, int level, int opt, const char* name) {
    int value = -1;
    socklen_t len = sizeof(value);
    SocketInfo before = socket_info(fd);
    uint64_t start = mono_ns();
    int ret = ::getsockopt(fd, level, opt, &value, &len);
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = Info::object();
    if (ret == 0) info["value"] = value;
    finish(fd, {StepOp::GetSockOpt, std::string("getsockopt(") + name + ")", name}, ret, err, start, end, before, std::move(info));
    errno = err;
    return ret == 0 ? value : -1;
}

int Reporter::set_linger(int fd, bool on, int seconds) {
    linger l{on ? 1 : 0, seconds};
    return static_cast<int>(call(
        fd, {StepOp::SetSockOpt, "setsockopt(SO_LINGER {" + std::to_string(l.l_onoff) + "," + std::to_string(seconds) + "})", "SO_LINGER"},
        [&] { return ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)); }));
}

int Reporter::set_nonblocking(int fd) {
    return static_cast<int>(call(fd, {StepOp::SetNonblocking, "fcntl(fd, F_SETFL, O_NONBLOCK)"}, [&] {
        int flags = fcntl(fd, F_GETFL);
        return flags < 0 ? flags : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }));
}

int Reporter::ignore_sigpipe() {
    return static_cast<int>(call(-1, {StepOp::IgnoreSigpipe, "signal(SIGPIPE, SIG_IGN)"}, [] {
        return std::signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -1 : 0;
    }));
}

DiagResult Reporter::sock_diag(const sockaddr_in& local, const sockaddr_in& remote) {
    DiagResult r;
    uint64_t start = mono_ns();
    int ret = sock_diag_query(local, remote, &r);
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = Info::object();
    if (ret == 0 && r.found) {
        info["tcp_state"] = r.tcp_state;
        info["timer"] = r.timer;
        info["timer_ms"] = r.timer_ms;
        info["retrans"] = r.retrans;
        info["send_q"] = r.send_q;
        info["recv_q"] = r.recv_q;
    } else if (ret == 0) {
        info["tcp_state"] = nullptr;
    }
    SocketInfo sock{r.cookie, to_string(local), to_string(remote)};
    note({StepOp::SockDiag, "sock_diag(" + sock.local + " " + sock.remote + ")", sock.local}, ret, err, start, end, std::move(info),
         sock);
    errno = err;
    return r;
}

}  // namespace scen
