#include "metrics_options.h"

#include "listen_address.h"
#include "metric_families.h"
#include "trace_options.h"
#include "tcpscope.h"

namespace tcpscope {

CLI::App* add_metrics_command(CLI::App& app, MetricsOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "metrics", "Serve Prometheus metrics at /metrics, counted in the kernel");
    cmd->add_option("--listen", o.listen,
                    "Address and port to serve on (a non-loopback address is logged at start)")
        ->capture_default_str()
        ->check(CLI::Validator(
            [](std::string& text) {
                ListenAddress a;
                std::string error;
                return parse_listen_address(text, &a, &error) ? std::string() : error;
            },
            "ADDR:PORT"));
    add_socket_filter_options(cmd, o.filter);
    cmd->add_option("--labels", o.labels,
                    "Extra labels on the counters: comm (the owner process), netns (inode), port "
                    "(listening port of accepted connections, remote port of outgoing ones), "
                    "container (label container_id: the owner's container ID, \"\" on the host)")
        ->check(CLI::Validator(
            [](std::string& text) {
                uint32_t mask = 0;
                std::string error;
                return parse_label_names(text, &mask, &error) ? std::string() : error;
            },
            "comm,netns,port,container"));
    cmd->add_option("--max-series", o.max_series,
                    "With --labels: at most this many labelled series (the kernel's memory for "
                    "them is bounded by it; see the README); counts beyond are "
                    "tcpscope_series_dropped_total")
        ->capture_default_str()
        ->check(whole(1, TS_MAX_SERIES_CAP,
                      "must be a whole number of series from 1 to " +
                          std::to_string(TS_MAX_SERIES_CAP) +
                          " (each series costs 8 bytes per CPU of kernel memory)",
                      "N"));
    cmd->add_option("--series-idle", o.series_idle_s,
                    "With --labels: a series whose count has not moved for this many seconds is "
                    "removed, so its room serves new series (it starts again from 0 if it comes "
                    "back)")
        ->capture_default_str()
        ->check(positive_seconds());
    cmd->add_flag("--all-drops", o.filter.all_drops,
                  "Count in tcpscope_drops_total the drops that lose nothing on the network too "
                  "(NOT_SPECIFIED, QUEUE_PURGE, SOCKET_CLOSE)");
    cmd->add_option("--stuck", o.stuck_s,
                    "Gauges of the sockets stuck this many seconds in CLOSE_WAIT, FIN_WAIT2, SYN_SENT, "
                    "SYN_RECV, LAST_ACK, or ESTABLISHED while retransmitting (tcpscope_stuck_*)")
        ->check(positive_seconds());
    cmd->add_option("--web.config.file", o.web_config_file,
                    "TLS and basic authentication, in the Prometheus exporter-toolkit's web "
                    "configuration format (tls_server_config, basic_auth_users)")
        ->check(CLI::ExistingFile);
    auto* user = cmd->add_option("--user", o.user,
                                 "Once attached, run as this user, keeping only CAP_BPF (to read "
                                 "its maps and the socket storage in sock_diag dumps)")
                     ->type_name("USER")
                     ->capture_default_str();
    cmd->add_flag("--no-drop", o.no_drop, "Keep root and every capability after attaching")
        ->excludes(user);
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    return cmd;
}

}  // namespace tcpscope
