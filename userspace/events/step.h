// A step: one call a scenario program made, as it reported it over the
// step pipe (one JSON object per line, see scenarios/lib/steps.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tcpscope {

struct Step {
    std::string call;          // "send(fd, \"\", 0)"
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
    nlohmann::json info = nlohmann::json::object();  // {"tcp_state":"TIME_WAIT"}, ...

    bool failed() const { return !errno_name.empty(); }
    // True when the call string starts with `prefix` ("send(", "close(").
    bool is(const std::string& prefix) const { return call.rfind(prefix, 0) == 0; }
};

// Parses one line of the step pipe; nothing on malformed input.
std::optional<Step> parse_step(const std::string& line);

}  // namespace tcpscope
