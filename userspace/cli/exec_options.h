// `tcpscope exec [options] -- CMD [ARGS...]` on the command line. Pure;
// exec/exec_command.h runs what was parsed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tcpscope {

struct ExecOptions {
    bool json = false;
    std::string output;
    // Who CMD runs as: a user name or number; empty: the user who invoked
    // sudo (SUDO_UID/SUDO_GID), else root.
    std::string user;
    std::string events = "all";  // kernel event kinds beside the calls
    uint32_t kind_mask = 0;      // parsed from events
    bool verbose = false;
    std::vector<std::string> command;  // CMD and its arguments
};

CLI::App* add_exec_command(CLI::App& app, ExecOptions& options);

}  // namespace tcpscope
