#include "trace_options.h"

#include <cstdint>

namespace tcpscope {

CLI::App* add_trace_command(CLI::App& app, TraceOptions& o) {
    CLI::App* cmd = app.add_subcommand("trace", "Trace TCP state changes, resets, retransmits, "
                                                "socket errors and SIGPIPE system-wide, live");
    cmd->add_flag("--json", o.json, "One JSON object per line (schema v1, see README)");
    cmd->add_option("--pid", o.filter.pid, "Only this process (by tgid)")
        ->check(CLI::Range(int64_t{1}, int64_t{4194304}));
    cmd->add_option("--comm", o.filter.comm, "Only processes with this name");
    cmd->add_option("--port", o.filter.ports, "Only this local or remote port (N[,N...])");
    cmd->add_option("--addr", o.filter.addr, "Only this local or remote address (IPv4 or IPv6)");
    cmd->add_option("--netns", o.filter.netns, "Only this network namespace (inode number)")
        ->check(CLI::Range(int64_t{1}, int64_t{0xffffffff}));
    cmd->add_option("--cgroup", o.filter.cgroup, "Only processes in this cgroup v2 directory");
    cmd->add_option("--events", o.filter.events,
                    "Event kinds: state,reset,retransmit,error,signal,send,recv,packet or all")
        ->capture_default_str();
    cmd->add_option("--duration", o.duration_s, "Stop after this many seconds")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--count", o.count, "Stop after this many events")
        ->check(CLI::Range(int64_t{1}, INT64_MAX));
    cmd->add_option("--output", o.output, "Write events to this file instead of stdout");
    cmd->add_option("--ringbuf-kib", o.ringbuf_kib,
                    "Ring buffer size in KiB (a power of two, at least 4)")
        ->capture_default_str()
        ->check(CLI::Range(4u, 1u << 20));
    cmd->add_option("--flush-ms", o.flush_ms,
                    "Longest an event waits before it is written, in ms (batching)")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000));
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    auto* user = cmd->add_option("--user", o.user,
                                 "Once attached, run as this user (no capabilities left)")
                     ->capture_default_str();
    cmd->add_flag("--no-drop", o.no_drop, "Keep root and capabilities after attaching")
        ->excludes(user);
    return cmd;
}

}  // namespace tcpscope
