// `tcpscope top` on the command line: its options and how CLI11 reads
// them. Pure; top_screen/top_command.h runs what was parsed.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "filter_options.h"

namespace tcpscope {

struct TopOptions {
    FilterOptions filter;           // trace's socket filters (events: fixed)
    double interval_s = 1;          // a frame every this many seconds
    std::string group = "process";  // process, port or remote
    std::string sort = "conns";     // a column's name (top_model.h)
    bool batch = false;             // the table printed each interval, no screen
    bool json = false;              // one JSON object per interval (implies batch)
    int64_t iterations = 0;         // stop after this many frames (0: no limit)
    double duration_s = 0;          // stop after this many seconds (0: no limit)
    double stuck_s = 10;            // a socket is stuck after this long (the STUCK column)
    uint32_t ringbuf_kib = 4096;
    bool verbose = false;
    std::string user = "nobody";    // to run as once attached, keeping CAP_BPF only
    bool no_drop = false;
};

CLI::App* add_top_command(CLI::App& app, TopOptions& options);

}  // namespace tcpscope
