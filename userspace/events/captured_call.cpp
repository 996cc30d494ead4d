#include "captured_call.h"

#include <arpa/inet.h>
#include <linux/types.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "names.h"
#include "readiness.h"
#include "syscalls.h"

namespace tcpscope {

static_assert(sizeof(ts_call) == 416, "ts_call layout changed: update the decoder");
static_assert(sizeof(ts_ready) == 24, "ts_ready layout changed");

namespace {

// x86_64 numbers, as bpf/syscalls.bpf.c captures them.
enum : uint32_t {
    kRead = 0, kWrite = 1, kClose = 3, kPoll = 7, kSelect = 23, kSocket = 41, kConnect = 42,
    kAccept = 43, kSendto = 44, kRecvfrom = 45, kSendmsg = 46, kRecvmsg = 47, kShutdown = 48,
    kBind = 49, kListen = 50, kSetsockopt = 54, kGetsockopt = 55, kFcntl = 72,
    kEpollWait = 232, kPselect6 = 270, kPpoll = 271, kEpollPwait = 281, kAccept4 = 288,
};

constexpr int kONonblock = 04000;

std::string address_text(int family, const uint8_t* addr, uint16_t port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == AF_INET) {
        inet_ntop(AF_INET, addr, buf, sizeof(buf));
        return std::string(buf) + ":" + std::to_string(port);
    }
    // A dual-stack socket's IPv4 peer is shown as IPv4, as `trace` does.
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(addr, mapped, 12) == 0) {
        inet_ntop(AF_INET, addr + 12, buf, sizeof(buf));
        return std::string(buf) + ":" + std::to_string(port);
    }
    inet_ntop(AF_INET6, addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(port);
}

bool all_zero(const uint8_t* p, size_t n) {
    return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

// The sockaddr a program passed to bind/connect; "" when unreadable.
std::string sockaddr_text(const uint8_t* addr, size_t len) {
    if (len < 2) return "";
    uint16_t family = 0;
    std::memcpy(&family, addr, 2);
    if (family == AF_INET && len >= 8) {
        uint16_t port;
        std::memcpy(&port, addr + 2, 2);
        return address_text(AF_INET, addr + 4, ntohs(port));
    }
    if (family == AF_INET6 && len >= 24) {
        uint16_t port;
        std::memcpy(&port, addr + 2, 2);
        return address_text(AF_INET6, addr + 8, ntohs(port));
    }
    if (family == AF_UNSPEC) return "AF_UNSPEC";
    return "family " + std::to_string(family);
}

const char* shutdown_how(uint64_t how) {
    switch (how) {
        case 0: return "SHUT_RD";
        case 1: return "SHUT_WR";
        case 2: return "SHUT_RDWR";
    }
    return "?";
}

}  // namespace

std::string syscall_name(uint32_t nr) {
    static const std::map<uint32_t, const char*> names = {
        {kRead, "read"}, {kWrite, "write"}, {kClose, "close"}, {kPoll, "poll"},
        {kSelect, "select"}, {kSocket, "socket"}, {kConnect, "connect"}, {kAccept, "accept"},
        {kSendto, "sendto"}, {kRecvfrom, "recvfrom"}, {kSendmsg, "sendmsg"},
        {kRecvmsg, "recvmsg"}, {kShutdown, "shutdown"}, {kBind, "bind"}, {kListen, "listen"},
        {kSetsockopt, "setsockopt"}, {kGetsockopt, "getsockopt"}, {kFcntl, "fcntl"},
        {kEpollWait, "epoll_wait"}, {kPselect6, "pselect6"}, {kPpoll, "ppoll"},
        {kEpollPwait, "epoll_pwait"}, {kAccept4, "accept4"},
    };
    auto it = names.find(nr);
    return it != names.end() ? it->second : "syscall_" + std::to_string(nr);
}

std::optional<CapturedCall> decode_call(const void* data, size_t size, std::string* error) {
    if (size != sizeof(ts_call)) {
        if (error) *error = "call record of " + std::to_string(size) + " bytes, expected " +
                            std::to_string(sizeof(ts_call));
        return std::nullopt;
    }
    ts_call r;
    std::memcpy(&r, data, sizeof(r));
    CapturedCall c;
    c.syscall = syscall_name(r.nr);
    c.tid = r.tid;
    c.comm.assign(r.comm, strnlen(r.comm, sizeof(r.comm)));
    c.sk = r.sk;
    c.accepted_sk = r.new_sk;
    c.accepted_cookie = r.new_cookie;
    if (r.optval_valid) c.optval = r.optval;
    Step& s = c.step;
    s.pid = r.tgid;
    s.start_ns = r.start_ns;
    s.ts_ns = r.end_ns;
    s.netns = r.netns;
    s.cookie = r.cookie;
    // The kernel returns -errno; the program saw -1 and errno.
    if (r.ret < 0 && r.ret >= -4095) {
        s.ret = -1;
        s.errno_name = errno_name(static_cast<int>(-r.ret));
    } else {
        s.ret = r.ret;
    }
    if (r.family == AF_INET || r.family == AF_INET6) {
        size_t alen = r.family == AF_INET ? 4 : 16;
        if (r.lport || !all_zero(r.laddr, alen)) s.local = address_text(r.family, r.laddr, r.lport);
        if (r.rport) s.remote = address_text(r.family, r.raddr, r.rport);
    }
    const int fd = static_cast<int>(r.args[0]);
    const std::string fds = std::to_string(fd);
    c.fd = fd;
    switch (r.nr) {
        case kSocket:
            c.fd = r.ret >= 0 ? static_cast<int>(r.ret) : -1;
            s.op = StepOp::Other;
            s.arg = "socket";
            s.call = std::string("socket(") + (r.args[0] == AF_INET6 ? "AF_INET6" : "AF_INET") +
                     ", SOCK_STREAM, " + std::to_string(r.args[2]) + ")";
            break;
        case kBind:
        case kConnect: {
            s.op = r.nr == kBind ? StepOp::Bind : StepOp::Connect;
            s.arg = sockaddr_text(r.addr, r.addr_len);
            s.call = c.syscall + "(" + fds + ", " + s.arg + ")";
            // A failed connect leaves no peer on the socket; the one aimed at is known.
            if (r.nr == kConnect && s.remote.empty() && s.arg.find(':') != std::string::npos)
                s.remote = s.arg;
            break;
        }
        case kListen:
            s.op = StepOp::Listen;
            s.size = static_cast<int>(r.args[1]);
            s.call = "listen(" + fds + ", " + std::to_string(s.size) + ")";
            break;
        case kAccept:
        case kAccept4:
            s.op = StepOp::Accept;
            s.call = c.syscall + "(" + fds + ")";
            break;
        case kClose:
            s.op = StepOp::Close;
            s.call = "close(" + fds + ")";
            break;
        case kShutdown:
            s.op = StepOp::Shutdown;
            s.arg = shutdown_how(r.args[1]);
            s.call = "shutdown(" + fds + ", " + s.arg + ")";
            break;
        case kSendto:
        case kWrite:
            s.op = StepOp::Send;
            s.size = static_cast<int64_t>(r.args[2]);
            s.call = c.syscall + "(" + fds + ", buf, " + std::to_string(s.size) + ")";
            break;
        case kSendmsg:
            s.op = StepOp::Send;
            s.call = "sendmsg(" + fds + ", msg)";
            break;
        case kRecvfrom:
        case kRead:
            s.op = StepOp::Recv;
            s.size = static_cast<int64_t>(r.args[2]);
            s.call = c.syscall + "(" + fds + ", buf, " + std::to_string(s.size) + ")";
            break;
        case kRecvmsg:
            s.op = StepOp::Recv;
            s.call = "recvmsg(" + fds + ", msg)";
            break;
        case kSetsockopt:
        case kGetsockopt: {
            s.op = r.nr == kSetsockopt ? StepOp::SetSockOpt : StepOp::GetSockOpt;
            const int level = static_cast<int>(r.args[1]);
            const int optname = static_cast<int>(r.args[2]);
            s.arg = sockopt_name(level, optname);
            // An int option's value; a struct's first int, in braces
            // (SO_LINGER's l_onoff); nothing for a string or a buffer.
            const OptionValue kind = sockopt_value_kind(level, optname);
            std::string value;
            if (c.optval && kind != OptionValue::Opaque) {
                value = kind == OptionValue::Struct ? " {" + std::to_string(*c.optval) + ",...}"
                                                    : " " + std::to_string(*c.optval);
                if (r.nr == kSetsockopt && kind == OptionValue::Int) s.size = *c.optval;
            }
            // The value fetched, as the scenario programs report it: an
            // error by its name, none as the number 0.
            if (r.nr == kGetsockopt && c.optval && s.arg == "SO_ERROR") {
                s.info["so_error"] = *c.optval ? StepInfo(errno_name(*c.optval)) : StepInfo(0);
            }
            s.call = c.syscall + "(" + fds + ", " + s.arg + (r.nr == kSetsockopt ? value : "") + ")";
            break;
        }
        case kFcntl:
            if (r.args[2] & kONonblock) {
                s.op = StepOp::SetNonblocking;
                s.call = "fcntl(" + fds + ", F_SETFL, O_NONBLOCK)";
            } else {
                s.op = StepOp::Other;
                s.arg = "fcntl";
                s.call = "fcntl(" + fds + ", F_SETFL, " + std::to_string(r.args[2]) + ")";
            }
            break;
        case kPoll:
        case kPpoll:
            c.fd = -1;
            s.op = StepOp::Poll;
            s.call = c.syscall + "(fds, " + std::to_string(r.args[1]) + ")";
            break;
        case kSelect:
        case kPselect6:
            c.fd = -1;
            s.op = StepOp::Select;
            s.call = c.syscall + "(" + std::to_string(r.args[0]) + ", ...)";
            break;
        case kEpollWait:
        case kEpollPwait:
            c.fd = -1;
            s.op = StepOp::EpollWait;
            s.size = static_cast<int64_t>(r.args[2]);
            s.call = c.syscall + "(" + fds + ", events, " + std::to_string(s.size) + ")";
            break;
        default:
            s.op = StepOp::Other;
            s.call = c.syscall + "(...)";
    }
    uint32_t n = std::min<uint32_t>(r.nready, TS_CALL_MAX_READY);
    for (uint32_t i = 0; i < n; ++i) {
        c.ready.push_back({r.ready[i].fd, r.ready[i].events, r.ready[i].sk, r.ready[i].cookie});
    }
    return c;
}

std::vector<Step> finish_calls(std::vector<CapturedCall>& calls) {
    // A readiness call is captured whatever it waits on; one that came back
    // with descriptors none of which is a TCP socket (a pipe, a timer) is
    // not about TCP. One that timed out or failed cannot be told, and stays.
    calls.erase(std::remove_if(calls.begin(), calls.end(),
                               [](const CapturedCall& c) {
                                   bool readiness = c.step.op == StepOp::Poll ||
                                                    c.step.op == StepOp::Select ||
                                                    c.step.op == StepOp::EpollWait;
                                   return readiness && c.step.ret > 0 &&
                                          std::none_of(c.ready.begin(), c.ready.end(),
                                                       [](const CapturedReady& r) { return r.sk != 0; });
                               }),
                calls.end());
    std::stable_sort(calls.begin(), calls.end(), [](const CapturedCall& a, const CapturedCall& b) {
        return a.step.start_ns < b.step.start_ns;
    });
    // Each life of a socket address: from the call that made it (socket,
    // accept) to its close. A cookie seen anywhere in a life is the life's.
    struct Life {
        uint64_t cookie = 0;
        std::string local, remote;  // last known (a RST or close can leave port 0)
    };
    std::vector<Life> lives;
    std::map<uint64_t, size_t> open;  // sk -> life
    std::vector<size_t> life_of(calls.size(), SIZE_MAX), accepted_life(calls.size(), SIZE_MAX);
    std::vector<std::vector<size_t>> ready_life(calls.size());
    auto life = [&](uint64_t sk, bool fresh) {
        auto it = open.find(sk);
        if (fresh || it == open.end()) {
            lives.push_back({});
            open[sk] = lives.size() - 1;
            return lives.size() - 1;
        }
        return it->second;
    };
    auto learn = [&](size_t l, uint64_t cookie) {
        if (cookie && !lives[l].cookie) lives[l].cookie = cookie;
    };
    auto known = [](const std::string& endpoint) {
        return endpoint.size() > 2 && endpoint.compare(endpoint.size() - 2, 2, ":0") != 0;
    };
    std::vector<std::string> life_local(calls.size()), life_remote(calls.size());
    for (size_t i = 0; i < calls.size(); ++i) {
        CapturedCall& c = calls[i];
        if (c.sk) {
            life_of[i] = life(c.sk, c.syscall == "socket");
            learn(life_of[i], c.step.cookie);
            Life& l = lives[life_of[i]];
            if (known(c.step.local)) l.local = c.step.local;
            if (known(c.step.remote)) l.remote = c.step.remote;
            life_local[i] = l.local;
            life_remote[i] = l.remote;
        }
        if (c.accepted_sk) {
            accepted_life[i] = life(c.accepted_sk, true);
            learn(accepted_life[i], c.accepted_cookie);
        }
        for (const auto& r : c.ready) {
            ready_life[i].push_back(r.sk ? life(r.sk, false) : SIZE_MAX);
            if (r.sk) learn(ready_life[i].back(), r.cookie);
        }
        if (c.sk && c.step.op == StepOp::Close && c.step.ret == 0) open.erase(c.sk);
    }
    for (size_t i = 0; i < calls.size(); ++i) {
        CapturedCall& c = calls[i];
        if (life_of[i] != SIZE_MAX) {
            c.step.cookie = lives[life_of[i]].cookie;
            // After a RST unhashed the socket its port reads 0: name it as
            // it was last seen.
            if (!known(c.step.local) && !life_local[i].empty()) c.step.local = life_local[i];
            if (!known(c.step.remote) && !life_remote[i].empty()) c.step.remote = life_remote[i];
        }
        if (accepted_life[i] != SIZE_MAX) c.accepted_cookie = lives[accepted_life[i]].cookie;
        for (size_t k = 0; k < c.ready.size(); ++k) {
            if (ready_life[i][k] != SIZE_MAX) c.ready[k].cookie = lives[ready_life[i][k]].cookie;
        }
    }

    // Sides: by socket, then by process.
    std::map<uint64_t, std::string> cookie_side;
    std::map<uint32_t, std::string> pid_side;
    for (const auto& c : calls) {
        const Step& s = c.step;
        if ((s.op == StepOp::Listen || s.op == StepOp::Accept) && s.cookie) cookie_side[s.cookie] = "server";
        if (s.op == StepOp::Accept && c.accepted_cookie) cookie_side[c.accepted_cookie] = "server";
        if (s.op == StepOp::Connect && s.cookie) cookie_side[s.cookie] = "client";
        if (s.op == StepOp::Listen || s.op == StepOp::Accept) pid_side[s.pid] = "server";
        if (s.op == StepOp::Connect && !pid_side.count(s.pid)) pid_side[s.pid] = "client";
    }
    std::vector<Step> steps;
    steps.reserve(calls.size());
    for (auto& c : calls) {
        Step s = c.step;
        auto by_cookie = s.cookie ? cookie_side.find(s.cookie) : cookie_side.end();
        if (by_cookie == cookie_side.end() && !c.ready.empty() && c.ready[0].cookie)
            by_cookie = cookie_side.find(c.ready[0].cookie);
        if (by_cookie != cookie_side.end()) {
            s.side = by_cookie->second;
        } else {
            auto by_pid = pid_side.find(s.pid);
            s.side = by_pid != pid_side.end() ? by_pid->second : "client";
        }
        if (s.op == StepOp::Accept && s.ret >= 0) {
            s.info["accepted"] = StepInfo{{"cookie", c.accepted_cookie}};
        }
        if (s.op == StepOp::Poll || s.op == StepOp::Select || s.op == StepOp::EpollWait) {
            StepInfo ready = StepInfo::array();
            for (const auto& r : c.ready) {
                ready.push_back(StepInfo{{"cookie", r.cookie},
                                         {"events", readiness_names(r.events)},
                                         {"mask", r.events}});
            }
            s.info["ready"] = std::move(ready);
            // The socket the call is about: the first that came back.
            if (!s.cookie && !c.ready.empty()) s.cookie = c.ready[0].cookie;
        }
        steps.push_back(std::move(s));
    }
    return steps;
}

}  // namespace tcpscope
