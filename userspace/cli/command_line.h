// tcpscope's whole command line: the top-level App with every subcommand
// registered into its options struct. main() parses with it, and the
// manual (man pages, bash completion; userspace/manual/) is generated from
// the same App objects, so that the two cannot drift apart. Pure.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "exec_options.h"
#include "info_options.h"
#include "metrics_options.h"
#include "scenario_options.h"
#include "top_options.h"
#include "trace_options.h"

namespace tcpscope {

// CMake's project(VERSION): what --version prints after "tcpscope ", and the
// man pages' version.
const char* tcpscope_version();

struct CommandLine {
    CommandLine();
    // The subcommands hold references into the options below.
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    TraceOptions trace_options;
    RunOptions run_options;
    ListOptions list_options;
    InfoOptions info_options;
    MetricsOptions metrics_options;
    ExecOptions exec_options;
    TopOptions top_options;

    CLI::App app;
    CLI::App* trace = nullptr;
    CLI::App* run = nullptr;
    CLI::App* list = nullptr;
    CLI::App* info = nullptr;
    CLI::App* metrics = nullptr;
    CLI::App* exec = nullptr;
    CLI::App* top = nullptr;
};

}  // namespace tcpscope
