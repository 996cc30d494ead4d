#include "command_line.h"

namespace tcpscope {

const char* tcpscope_version() { return TCPSCOPE_VERSION; }

CommandLine::CommandLine()
    : app("tcpscope: see what the kernel's TCP stack does, and why a socket call returned what "
          "it did") {
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("tcpscope ") + tcpscope_version());
    // The order of `tcpscope --help`, of the man pages' list and of completion.
    trace = add_trace_command(app, trace_options);
    run = add_run_command(app, run_options);
    list = add_list_command(app, list_options);
    info = add_info_command(app, info_options);
    metrics = add_metrics_command(app, metrics_options);
    exec = add_exec_command(app, exec_options);
    top = add_top_command(app, top_options);
}

}  // namespace tcpscope
