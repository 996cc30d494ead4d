#include "top_options.h"

#include "trace_options.h"

namespace tcpscope {
namespace {

CLI::Validator one_of_words(std::vector<std::string> words, std::string type) {
    std::string list;
    for (const auto& w : words) list += (list.empty() ? "" : ", ") + w;
    return CLI::Validator(
        [words, list](std::string& text) {
            for (const auto& w : words) {
                if (text == w) return std::string();
            }
            return "must be one of " + list;
        },
        std::move(type));
}

}  // namespace

CLI::App* add_top_command(CLI::App& app, TopOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "top", "A live view of connections per process, port or peer: new, active, how they "
               "ended, retransmits, stuck sockets, connect time and RTT");
    add_socket_filter_options(cmd, o.filter);
    cmd->add_option("--interval", o.interval_s, "Refresh every this many seconds")
        ->capture_default_str()
        ->check(positive_seconds());
    cmd->add_option("--group", o.group, "Rows per process, local port or remote address")
        ->capture_default_str()
        ->check(one_of_words({"process", "port", "remote"}, "process|port|remote"));
    cmd->add_option("--sort", o.sort, "The column to sort by, largest first")
        ->capture_default_str()
        ->check(one_of_words({"group", "new_per_s", "conns", "active", "fin", "aborted",
                              "reset_sent", "reset_received", "refused", "timeout",
                              "retrans_per_s", "stuck", "stuck_oldest", "connect_p50",
                              "connect_p99", "rtt_p50", "rtt_p99", "reset_sent_reasons"},
                             "COLUMN"));
    cmd->add_flag("--batch", o.batch,
                  "Print the table every interval instead of the screen (also when stdout is no "
                  "terminal)");
    cmd->add_flag("--json", o.json, "One JSON object per interval instead of the screen");
    cmd->add_option("--iterations", o.iterations, "Stop after this many refreshes")
        ->check(whole(1, INT64_MAX, "must be a positive whole number of refreshes", "N"));
    cmd->add_option("--duration", o.duration_s, "Stop after this many seconds (counted once attached)")
        ->check(positive_seconds());
    cmd->add_option("--stuck", o.stuck_s,
                    "A socket counts as stuck after this many seconds in CLOSE_WAIT, FIN_WAIT2, "
                    "SYN_SENT, SYN_RECV, LAST_ACK, or ESTABLISHED while retransmitting")
        ->capture_default_str()
        ->check(positive_seconds());
    cmd->add_option("--ringbuf-kib", o.ringbuf_kib, "Ring buffer size in KiB (a power of two, at least 4)")
        ->capture_default_str()
        ->check(whole(4, 1u << 20, "must be a power of two of KiB, from 4 to 1048576 (1 GiB)", "KIB"));
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    auto* user = cmd->add_option("--user", o.user,
                                 "Once attached, run as this user, keeping only CAP_BPF (to read "
                                 "the sockets' owners)")
                     ->type_name("USER")
                     ->capture_default_str();
    cmd->add_flag("--no-drop", o.no_drop, "Keep root and capabilities after attaching")->excludes(user);
    return cmd;
}

}  // namespace tcpscope
