// `tcpscope metrics` on the command line. Pure, like the other options;
// serve/metrics_command.h runs what was parsed.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "filter_options.h"
#include "listen_address.h"

namespace tcpscope {

struct MetricsOptions {
    FilterOptions filter;       // the socket filters of trace (events: fixed)
    std::string listen = "127.0.0.1:" + std::to_string(kDefaultMetricsPort);
    std::string labels;         // "comm,netns,port,container": extra labels on the counters
    uint32_t max_series = 10000;  // the hard limit on labelled series (TS_MAX_SERIES_CAP at most)
    double series_idle_s = 600;   // a labelled series unchanged this long is removed
    double stuck_s = 0;         // --stuck: 0 = no tcpscope_stuck_* gauges
    bool verbose = false;
    std::string user = "nobody";  // to run as once attached, keeping CAP_BPF only
    bool no_drop = false;         // keep every privilege (for debugging)
    std::string web_config_file;  // --web.config.file: TLS and basic auth
};

CLI::App* add_metrics_command(CLI::App& app, MetricsOptions& options);

}  // namespace tcpscope
