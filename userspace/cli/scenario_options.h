// `tcpscope list` and `tcpscope run` on the command line. Pure (the
// scenario names come from the catalogue); scenario/scenario_commands.h
// runs what was parsed.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace tcpscope {

struct ListOptions {
    bool json = false;
    // Each scenario in full: setup, facts, explanation (docs/scenarios.md).
    bool long_form = false;
    bool markdown = false;  // with --long: as Markdown, docs/scenarios.md itself
};

struct RunOptions {
    std::string name;
    bool all = false;
    bool json = false;
    std::string output;
    // A page with the ladder as an SVG sequence diagram: a file for one
    // scenario, a directory (an index.html and a page per scenario) with --all.
    std::string html;
    bool verbose = false;
};

CLI::App* add_list_command(CLI::App& app, ListOptions& options);
CLI::App* add_run_command(CLI::App& app, RunOptions& options);

// `tcpscope run NAME` with no such scenario: says so and, where one is
// close, which it may be ("did you mean close-wait-forever?").
std::string unknown_scenario_message(const std::string& name);

}  // namespace tcpscope
