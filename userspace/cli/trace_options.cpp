#include "trace_options.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace tcpscope {
namespace {

// A whole decimal number, nothing else around it, from min to max.
bool whole_number_in(const std::string& text, uint64_t min, uint64_t max) {
    if (text.empty() || text.size() > 20) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    return errno == 0 && v >= min && v <= max;
}

// Checks the option's text before CLI11 converts it, so that every error
// says in words what is allowed (CLI11's own names the type's limits in
// digits, 300 of them for a double). CLI11 prefixes the option's name.
}  // namespace

CLI::Validator whole(uint64_t min, uint64_t max, std::string words, std::string help) {
    return CLI::Validator(
        [min, max, words](std::string& text) {
            return whole_number_in(text, min, max) ? std::string() : words;
        },
        std::move(help));
}

namespace {

CLI::Validator power_of_two_kib() {
    return CLI::Validator(
        [](std::string& text) {
            const std::string words = "must be a power of two of KiB, from 4 to 1048576 (1 GiB)";
            if (!whole_number_in(text, 4, 1u << 20)) return words;
            unsigned long v = std::strtoul(text.c_str(), nullptr, 10);
            return (v & (v - 1)) == 0 ? std::string() : words;
        },
        "KIB");
}

// --netns: the forms parse_netns takes. Only the text is checked here; a
// namespace file is opened (and entered, for its cookie) when the filter
// is built.
CLI::Validator netns_form() {
    return CLI::Validator(
        [](std::string& text) {
            const std::string words =
                "must be a network namespace's inode number (as `lsns -t net` shows it, a whole "
                "number from 1 to 4294967295), cookie:N, a namespace file such as "
                "/proc/PID/ns/net, or an `ip netns` name";
            if (text.empty() || text[0] == '-') return words;
            if (text.find_first_not_of("0123456789") == std::string::npos) {
                return whole_number_in(text, 1, 0xffffffffu) ? std::string() : words;
            }
            if (text.compare(0, 7, "cookie:") == 0) {
                return whole_number_in(text.substr(7), 1, UINT64_MAX) ? std::string() : words;
            }
            return std::string();
        },
        "NETNS");
}

}  // namespace

constexpr double kMaxDurationS = 1e9;

CLI::Validator positive_seconds() {
    return CLI::Validator(
        [](std::string& text) {
            const std::string words =
                "must be a positive number of seconds (at most 1000000000), e.g. 10 or 0.5";
            if (text.empty()) return words;
            char* end = nullptr;
            errno = 0;
            double v = std::strtod(text.c_str(), &end);
            if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v) || v <= 0 ||
                v > kMaxDurationS) {
                return words;
            }
            return std::string();
        },
        "SECONDS");
}


void add_socket_filter_options(CLI::App* cmd, FilterOptions& filter) {
    cmd->add_option("--pid", filter.pid, "Only this process (by tgid)")
        ->check(whole(1, 4194304, "must be a process id, a whole number from 1 to 4194304", "PID"));
    cmd->add_option("--comm", filter.comm, "Only processes with this name");
    cmd->add_option("--port", filter.ports, "Only this local or remote port (N[,N...])");
    cmd->add_option("--addr", filter.addr, "Only this local or remote address (IPv4 or IPv6)");
    cmd->add_option("--netns", filter.netns,
                    "Only this network namespace: its inode (as `lsns -t net` shows it), "
                    "cookie:N (SO_NETNS_COOKIE), a file (/proc/PID/ns/net) or an `ip netns` name")
        ->check(netns_form());
    CLI::Option* cgroup = cmd->add_option("--cgroup", filter.cgroup,
                                          "Only processes in this cgroup v2 directory or below it")
                              ->type_name("DIR");
    cmd->add_option("--container", filter.container,
                    "Only this container (docker, podman, containerd, cri-o): its ID or the start "
                    "of it, as `docker ps` or `podman ps` shows it")
        ->type_name("ID")
        ->excludes(cgroup);
}

CLI::App* add_trace_command(CLI::App& app, TraceOptions& o) {
    CLI::App* cmd = app.add_subcommand("trace", "Trace TCP state changes, resets, retransmits, "
                                                "socket errors and SIGPIPE system-wide, live");
    cmd->add_flag("--json", o.json, "One JSON object per line (schema v1, see README)");
    add_socket_filter_options(cmd, o.filter);
    auto* events = cmd->add_option("--events", o.filter.events,
                                   "Event kinds: state,reset,retransmit,error,signal,drop,send,recv,packet or all")
                       ->capture_default_str();
    cmd->add_flag("--all-drops", o.filter.all_drops,
                  "Also the drops that lose nothing on the network, left out by default: "
                  "NOT_SPECIFIED, and a socket's queues emptied at close (QUEUE_PURGE, SOCKET_CLOSE)");

    cmd->add_flag("--connections", o.connections,
                  "One line per connection when it ends (owner, bytes, states, who closed, how it "
                  "ended and why) instead of the events")
        ->excludes(events);
    cmd->add_option("--duration", o.duration_s, "Stop after tracing this many seconds (counted once attached)")
        ->check(positive_seconds());
    cmd->add_option("--count", o.count, "Stop after this many events")
        ->check(whole(1, INT64_MAX, "must be a positive whole number of events", "N"));
    cmd->add_option("--output", o.output, "Write events to this file instead of stdout")
        ->type_name("FILE");
    cmd->add_option("--ringbuf-kib", o.ringbuf_kib,
                    "Ring buffer size in KiB (a power of two, at least 4)")
        ->capture_default_str()
        ->check(power_of_two_kib());
    cmd->add_option("--flush-ms", o.flush_ms,
                    "Longest an event waits before it is written, in ms (batching)")
        ->capture_default_str()
        ->check(whole(1, 10000, "must be a whole number of milliseconds from 1 to 10000", "MS"));
    // Read into the enum here, the one place the words are compared.
    cmd->add_option_function<std::string>(
           "--timestamps",
           [&o](const std::string& text) {
               o.timestamps = text == "wall" ? Timestamps::Wall : Timestamps::Relative;
           },
           "Text's time column: relative (seconds since start) or wall (UTC, RFC 3339)")
        ->default_str("relative")
        ->check(CLI::Validator(
            [](std::string& text) {
                return text == "relative" || text == "wall" ? std::string()
                                                            : std::string("must be wall or relative");
            },
            "relative|wall"));
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    auto* user = cmd->add_option("--user", o.user,
                                 "Once attached, run as this user (no capabilities left)")
                     ->type_name("USER")
                     ->capture_default_str();
    auto* no_drop = cmd->add_flag("--no-drop", o.no_drop, "Keep root and capabilities after attaching")
                        ->excludes(user);
    // sock_diag hands out tcpscope's socket storage (owner, state age)
    // only to a process with CAP_BPF: --stuck keeps that one capability,
    // as user nobody.
    auto* stuck = cmd->add_option("--stuck", o.stuck_s,
                                  "Report sockets stuck this many seconds in CLOSE_WAIT, FIN_WAIT2, "
                                  "SYN_SENT, SYN_RECV, LAST_ACK, or ESTABLISHED while retransmitting "
                                  "(keeps CAP_BPF alone, as nobody)")
                      ->check(positive_seconds())
                      ->excludes(user);
    (void)no_drop;
    cmd->add_option("--stuck-period", o.stuck_period_s,
                    "Report a socket that stays stuck again at most this often (default: --stuck)")
        ->check(positive_seconds())
        ->needs(stuck);
    return cmd;
}

}  // namespace tcpscope
