#include "info_options.h"

namespace tcpscope {

CLI::App* add_info_command(CLI::App& app, InfoOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "info", "What this kernel lets tcpscope show: each event kind and field, and why not");
    cmd->add_flag("--json", o.json, "One JSON object");
    return cmd;
}

}  // namespace tcpscope
