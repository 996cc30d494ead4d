// Reporting steps: how a scenario tells the tcpscope runner what it did.
// The protocol itself (keys, one JSON line per step, TCPSCOPE_STEP_FD) is
// defined once, in userspace/events/step.h, which the runner reads with.
// Without TCPSCOPE_STEP_FD, steps are printed readably on stderr instead, so
// the programs can be run by hand.
//
// Steps the scenario's parent process takes on behalf of a role (kill(server),
// wait(client), ip commands on a role's namespace) carry that role as side.
#pragma once

#include "clock.h"
#include "sock_diag.h"
#include "socket_info.h"
#include "step.h"

#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace scen {

using tcpscope::Step;
using tcpscope::StepOp;
using Info = tcpscope::StepInfo;

// A call before it is made: what the facts match (operation, arg, size;
// userspace/events/step.h) and the same as C for people.
struct Call {
    Call(StepOp op, std::string text, std::string arg = "", int64_t size = -1)
        : op(op), text(std::move(text)), arg(std::move(arg)), size(size) {}

    StepOp op;
    std::string text;  // send(fd, "x", 1)
    std::string arg;
    int64_t size;
};

// An epoll instance and the name its steps call it by ("et", "lt"): a
// scenario that registers one socket twice tells the two apart by name.
struct Epoll {
    int fd = -1;
    std::string name;
};

// epoll_create1(EPOLL_CLOEXEC): stage building, not a step (like socket());
// throws on failure.
Epoll epoll_instance(const std::string& name);

// Looks up TCPSCOPE_STEP_FD once and marks it close-on-exec (so the ip
// commands a scenario runs do not hold the runner's pipe open).
void steps_init();

// Writes one step to TCPSCOPE_STEP_FD, or a readable line to stderr.
void emit(Step step);

// Reports the calls one role (client or server) makes. Every method performs
// the real call, reports it, and returns its result with errno as the call
// left it, so scenarios read like the socket code they reproduce.
class Reporter {
public:
    explicit Reporter(std::string side) : side_(std::move(side)) {}
    const std::string& side() const { return side_; }

    // Any call acting on socket fd (-1 for none) that returns -1 and sets errno
    // on failure. The socket's identity is read before the call (a close or a
    // RST may erase it) and again after (connect/bind assign it).
    template <class Fn>
    long long call(int fd, const Call& what, Fn&& fn, Info info = Info::object()) {
        SocketInfo before = socket_info(fd);
        uint64_t start = mono_ns();
        long long ret = static_cast<long long>(fn());
        int err = ret < 0 ? errno : 0;
        uint64_t end = mono_ns();
        finish(fd, what, ret, err, start, end, before, std::move(info));
        errno = err;
        return ret;
    }

    // A step whose call was made and timed elsewhere (wait(), ip commands).
    void note(const Call& what, long long ret, int err, uint64_t start_ns, uint64_t ts_ns,
              Info info = Info::object(), SocketInfo sock = {});

    int socket_tcp();  // socket(AF_INET, SOCK_STREAM, 0); throws on failure
    int connect(int fd, const sockaddr_in& to);
    int bind(int fd, const sockaddr_in& addr);
    int listen(int fd, int backlog);
    // Reports the listener as the socket acted on and the new connection in
    // info.accepted = {cookie, local, remote}.
    int accept(int lfd);
    int close(int fd);
    int shutdown(int fd, int how);  // how = SHUT_WR / SHUT_RD / SHUT_RDWR
    // send(fd, "x", 1): data shown quoted.
    long long send(int fd, const std::string& data);
    // send(fd, buf, N): for bulk data; info.bytes = N.
    long long send_buf(int fd, const void* buf, size_t len);
    // recv(fd, buf, N); info.data holds what arrived when short and printable.
    long long recv(int fd, void* buf, size_t len);
    // Readiness calls (readiness_steps.cpp). Each reports in info.ready the
    // sockets that came back ready: {"cookie", "events": "IN|OUT|RDHUP",
    // "mask"}, none when the call timed out.
    //
    // poll(fd, POLLIN|POLLOUT): info.revents also lists the returned events
    // as poll's own names ("POLLIN", kept from before info.ready existed).
    int poll(int fd, short events, int timeout_ms);
    // select() with fd in the read set only: readable is reported as "IN".
    int select_readable(int fd, int timeout_ms);
    // epoll_ctl(ep, EPOLL_CTL_ADD, fd, events); arg names the events
    // registered ("IN|ET"), info.epoll the instance.
    int epoll_add(const Epoll& ep, int fd, uint32_t events);
    // epoll_wait(ep, events, max_events, timeout_ms); arg: the instance's name.
    int epoll_wait(const Epoll& ep, int max_events, int timeout_ms);
    // getsockopt(SO_ERROR): ret is getsockopt's; info.so_error the error's name
    // (or 0). Returns the SO_ERROR value (reading it clears it).
    int so_error(int fd);
    // setsockopt(fd, level, opt, int) reported as setsockopt(NAME value).
    int setsockopt_int(int fd, int level, int opt, const char* name, int value);
    // getsockopt(NAME) of an int option: ret is getsockopt's, info.value the
    // option's value (returned; -1 on failure).
    int getsockopt_int(int fd, int level, int opt, const char* name);
    int set_linger(int fd, bool on, int seconds);  // setsockopt(SO_LINGER {on,secs})
    int set_nonblocking(int fd);                   // fcntl(fd, F_SETFL, O_NONBLOCK)
    int ignore_sigpipe();                          // signal(SIGPIPE, SIG_IGN)

    // sock_diag(<local> <remote>): the kernel's view of one TCP 4-tuple,
    // including timewait mini-sockets that no tracepoint shows. ret 0 and
    // info.tcp_state null when no socket matches.
    DiagResult sock_diag(const sockaddr_in& local, const sockaddr_in& remote);

private:
    void finish(int fd, const Call& what, long long ret, int err, uint64_t start,
                uint64_t end, const SocketInfo& before, Info info);
    // Last known identity of each descriptor this role used: after a RST,
    // getpeername() fails, but the step should still name the peer.
    std::map<int, SocketInfo> known_;
    std::string side_;
};

}  // namespace scen
