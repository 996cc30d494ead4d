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
    std::string html;            // --html FILE: the ladder as a page too
    // Who CMD runs as: a user name or number; empty: the user who invoked
    // sudo (SUDO_UID/SUDO_GID), else root.
    std::string user;
    std::string events = "all";  // kernel event kinds beside the calls
    uint32_t kind_mask = 0;      // parsed from events
    bool verbose = false;
    std::vector<std::string> command;  // CMD and its arguments
};

CLI::App* add_exec_command(CLI::App& app, ExecOptions& options);

// `tcpscope exec [options] -- CMD ARGS...`: CMD and its arguments must reach
// the command byte for byte, and CLI11 reads some words itself (a "[...]"
// as a list, say). So main() cuts the command line at exec's "--" before
// CLI11 sees it: returns how many of argv's words CLI11 gets (argc when
// this is not exec, or it has no "--"), and the command after "--".
int split_exec_command(int argc, char** argv, std::vector<std::string>* command);

// Without "--", a word like an option after the command's first word
// (`tcpscope exec python3 -c 'print(1)'`) would be read as one of exec's,
// or refused as unknown: the command line to type instead ("tcpscope exec
// --json -- python3 -c 'print(1)'", shell-quoted). Empty when there is a
// "--", or no such word. `words` are those after "exec".
std::string missing_separator_fix(const CLI::App& exec, const std::vector<std::string>& words);

// A word as a POSIX shell reads it back: as it is when it is made of
// safe characters only, else in single quotes.
std::string shell_quote(const std::string& word);

}  // namespace tcpscope
