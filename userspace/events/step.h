// A step: one call a scenario program made, as it reported it over the
// step pipe. The one definition of the step protocol: the programs in
// scenarios/ write it with step_json_line, the runner reads it back with
// parse_step, and `tcpscope run --json` prints the same keys.
//
// The runner passes the write end of a pipe in TCPSCOPE_STEP_FD; each step
// is one JSON object on one line, written with a single write() so that the
// lines of the client and server processes never interleave (pipe writes
// under PIPE_BUF are atomic). Keys: op, arg, size (what the call was, typed,
// for the facts to match), call (the same as C, for people), ret, errno
// (name or null), cookie (SO_COOKIE, 0 if none), side, start_ns / ts_ns
// (CLOCK_MONOTONIC right before / right after the call), pid, netns (inode of
// the caller's network namespace), local / remote ("addr:port", when known),
// info (extra observations, when any).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace tcpscope {

// The operation a step performed. The facts match steps by operation and
// arguments, never by the text of the call.
enum class StepOp : uint8_t {
    Other,
    Bind,            // arg: the address
    Listen,          // size: the backlog
    Connect,         // arg: the address connected to
    Accept,          // info.accepted: the new connection
    Close,
    Shutdown,        // arg: SHUT_WR, SHUT_RD, SHUT_RDWR
    Send,            // size: bytes offered
    Recv,            // size: the buffer's size
    Poll,            // arg: the events asked for, "POLLIN|POLLOUT"; info.ready
    GetSockOpt,      // arg: the option, "SO_ERROR"
    SetSockOpt,      // arg: the option, "SO_LINGER"; size: an int option's value
    SetNonblocking,  // fcntl(fd, F_SETFL, O_NONBLOCK)
    IgnoreSigpipe,   // signal(SIGPIPE, SIG_IGN)
    SockDiag,        // arg: the local address of the 4-tuple asked about
    Kill,            // arg: the role killed ("server")
    Wait,            // arg: the role waited for ("client")
    Command,         // arg: an ip command's object and verb, "netns add", "link set"
    // Readiness calls. Each (and Poll) reports what came back in info.ready,
    // one entry per socket reported ready: {"cookie", "events":
    // "IN|OUT|RDHUP", "mask": 8197}; an empty list when the call timed out.
    Select,          // arg: the sets the socket was in, "read", "read|write"
    EpollCtl,        // arg: the events registered, "IN|ET"; info.epoll: the instance's name
    EpollWait,       // arg: the epoll instance's name; size: maxevents
};

const char* step_op_name(StepOp op);  // "send", "sock_diag", ...
std::optional<StepOp> step_op_from_name(const std::string& name);

using StepInfo = nlohmann::ordered_json;

struct Step {
    StepOp op = StepOp::Other;
    std::string arg;           // see StepOp; empty when the operation has none
    int64_t size = -1;         // see StepOp; -1 when the operation has none
    std::string call;          // "send(fd, \"\", 0)": for people, never matched
    int64_t ret = 0;           // return value
    std::string errno_name;    // "EPIPE", empty when errno was not set
    uint64_t cookie = 0;       // SO_COOKIE of the socket it acted on, 0 if none
    std::string side;          // "client", "server" or "runner"
    uint64_t start_ns = 0;     // CLOCK_MONOTONIC just before the call
    uint64_t ts_ns = 0;        // just after it returned (same clock as bpf_ktime_get_ns)
    uint32_t pid = 0;
    uint32_t netns = 0;        // inode of the caller's network namespace
    std::string local;         // "127.0.0.1:5000" when the socket had one
    std::string remote;
    StepInfo info = StepInfo::object();  // {"tcp_state":"TIME_WAIT"}, ...

    bool failed() const { return !errno_name.empty(); }
};

// Which steps a fact is about: an operation, and optionally its arg and
// size (empty / -1: any).
struct StepMatch {
    StepMatch(StepOp op, std::string arg = "", int64_t size = -1)
        : op(op), arg(std::move(arg)), size(size) {}

    StepOp op;
    std::string arg;
    int64_t size;

    bool matches(const Step& step) const {
        return step.op == op && (arg.empty() || step.arg == arg) && (size < 0 || step.size == size);
    }
};

// The step as one line of the protocol, newline included. Bytes that are
// not UTF-8 are replaced: reporting a step must never fail.
std::string step_json_line(const Step& step);
// The step's keys into `out`, in protocol order (for `run --json`, which
// adds its own around them).
void step_to_json(const Step& step, StepInfo& out);
// Parses one line of the step pipe; nothing on malformed input.
std::optional<Step> parse_step(const std::string& line);

// The value a getsockopt(SO_ERROR) step fetched (info.so_error): the
// error's name ("ECONNREFUSED"), "0" when none was pending; nothing when
// the step did not fetch one. The scenario programs write 0 as a number,
// an error as its name.
std::optional<std::string> fetched_so_error(const Step& step);

}  // namespace tcpscope
