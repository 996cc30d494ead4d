// `tcpscope list` and `tcpscope run`: the bundled scenarios.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace tcpscope {

struct ListOptions {
    bool json = false;
};

struct RunOptions {
    std::string name;
    bool all = false;
    bool json = false;
    std::string output;
    bool verbose = false;
};

CLI::App* add_list_command(CLI::App& app, ListOptions& options);
CLI::App* add_run_command(CLI::App& app, RunOptions& options);

int run_list_command(const ListOptions& options);
int run_run_command(const RunOptions& options);

}  // namespace tcpscope
