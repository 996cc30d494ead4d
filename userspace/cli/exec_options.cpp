#include "exec_options.h"

#include "filter_options.h"

namespace tcpscope {

CLI::App* add_exec_command(CLI::App& app, ExecOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "exec", "Run a command under tracing: its socket calls, the kernel's TCP events and the "
                "wire as one ladder; exits with the command's status");
    cmd->add_flag("--json", o.json, "JSON lines (run's schema: step and event lines, summary)");
    cmd->add_option("--output", o.output, "Write to this file instead of stdout");
    cmd->add_option("--user", o.user,
                    "Run the command as this user (name or uid; default: the user who invoked "
                    "sudo, else root)");
    cmd->add_option("--events", o.events,
                    "Kernel event kinds shown beside the calls (as for trace; default all)");
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    cmd->add_option("command", o.command, "The command and its arguments (after --)")
        ->required()
        ->expected(-1);
    cmd->callback([&o]() {
        std::string error;
        if (!parse_event_kinds(o.events, &o.kind_mask, &error)) {
            throw CLI::ValidationError("--events", error);
        }
    });
    return cmd;
}

}  // namespace tcpscope
