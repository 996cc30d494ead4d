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
    uint64_t ts_ns = 0;        // CLOCK_MONOTONIC, same clock as bpf_ktime_get_ns
    uint32_t pid = 0;
    uint32_t netns = 0;        // inode of the caller's network namespace
    nlohmann::json info;       // extra observations: {"tcp_state":"TIME_WAIT"}, ...
};

// Parses one line of the step pipe; nothing on malformed input.
std::optional<Step> parse_step(const std::string& line);

}  // namespace tcpscope
