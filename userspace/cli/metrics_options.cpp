#include "metrics_options.h"

#include "listen_address.h"
#include "trace_options.h"

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
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    return cmd;
}

}  // namespace tcpscope
