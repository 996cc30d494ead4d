// `tcpscope trace` on the command line: its options and how CLI11 reads
// them. Pure, so that the unit tests parse command lines without root;
// trace/trace_command.h runs what was parsed.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "filter_options.h"

namespace tcpscope {

// --timestamps: what text's time column shows, read once from the command
// line. Relative: seconds since start; Wall: the wall clock (UTC, RFC 3339).
enum class Timestamps { Relative, Wall };

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
    Timestamps timestamps = Timestamps::Relative;
    // --connections: one story per connection when it ends, instead of
    // the events (stories/story_builder.h).
    bool connections = false;
    // --stuck SECONDS: report sockets stuck that long (sockets/stuck_detector.h);
    // 0 = off. --stuck-period: how often a stuck socket is reported again
    // (0: every --stuck seconds).
    double stuck_s = 0;
    double stuck_period_s = 0;
};

// --pid, --comm, --port, --addr, --netns and --cgroup, shared by the
// commands that filter sockets (trace, metrics).
void add_socket_filter_options(CLI::App* cmd, FilterOptions& filter);

// Option checks that say in words what they allow (CLI11 prefixes the
// option's name): a whole number from min to max, a positive duration.
CLI::Validator whole(uint64_t min, uint64_t max, std::string words, std::string help);
CLI::Validator positive_seconds();

// Registers the subcommand's options into `options`.
CLI::App* add_trace_command(CLI::App& app, TraceOptions& options);

}  // namespace tcpscope
