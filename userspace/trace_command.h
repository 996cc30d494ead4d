// `tcpscope trace`: live tracing of the whole system.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "filter_options.h"

namespace tcpscope {

struct TraceOptions {
    FilterOptions filter;
    bool json = false;
    double duration_s = 0;
    int64_t count = 0;
    std::string output;
    bool verbose = false;
    uint32_t ringbuf_kib = 4096;
    int flush_ms = 100;  // longest a batch of events waits in the kernel or our buffer
    std::string user = "nobody";  // to drop to once attached
    bool no_drop = false;
};

// Registers the subcommand's options into `options`.
CLI::App* add_trace_command(CLI::App& app, TraceOptions& options);

// Runs it; returns the process exit code.
int run_trace_command(const TraceOptions& options);

}  // namespace tcpscope
