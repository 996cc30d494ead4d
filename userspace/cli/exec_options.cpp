#include "exec_options.h"

#include "filter_options.h"

namespace tcpscope {

CLI::App* add_exec_command(CLI::App& app, ExecOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "exec", "Run a command under tracing: its socket calls, the kernel's TCP events and the "
                "wire as one ladder; exits with the command's status");
    cmd->add_flag("--json", o.json, "JSON lines (run's schema: step and event lines, summary)");
    cmd->add_option("--output", o.output, "Write to this file instead of stdout");
    cmd->add_option("--html", o.html,
                    "Also write the ladder as a self-contained HTML page with an SVG sequence "
                    "diagram to this file");
    cmd->add_option("--user", o.user,
                    "Run the command as this user (name or uid; default: the user who invoked "
                    "sudo, else root)");
    cmd->add_option("--events", o.events,
                    "Kernel event kinds shown beside the calls (as for trace; default all)");
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    // Filled by split_exec_command from the words after "--"; without "--",
    // CLI11 reads them here.
    cmd->add_option("command", o.command, "The command and its arguments (after --)")
        ->expected(-1);
    cmd->callback([&o]() {
        if (o.command.empty()) throw CLI::ValidationError("exec", "give a command: tcpscope exec -- CMD [ARGS...]");
        std::string error;
        if (!parse_event_kinds(o.events, &o.kind_mask, &error)) {
            throw CLI::ValidationError("--events", error);
        }
    });
    return cmd;
}

int split_exec_command(int argc, char** argv, std::vector<std::string>* command) {
    if (argc < 2 || std::string(argv[1]) != "exec") return argc;
    for (int i = 2; i < argc; ++i) {
        if (std::string(argv[i]) != "--") continue;
        command->assign(argv + i + 1, argv + argc);
        return i;
    }
    return argc;
}

}  // namespace tcpscope
