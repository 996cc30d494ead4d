#include "exec_options.h"

#include "filter_options.h"

namespace tcpscope {

CLI::App* add_exec_command(CLI::App& app, ExecOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "exec", "Run a command under tracing: its socket calls, the kernel's TCP events and the "
                "wire as one ladder; exits with the command's status (125: exec itself failed; 126: "
                "the command cannot be run; 127: not found)");
    cmd->add_flag("--json", o.json, "JSON lines (run's schema: step and event lines, summary)");
    cmd->add_option("--output", o.output, "Write to this file instead of stdout")->type_name("FILE");
    cmd->add_option("--html", o.html,
                    "Also write the ladder as a self-contained HTML page with an SVG sequence "
                    "diagram to this file")
        ->type_name("FILE");
    cmd->add_option("--user", o.user,
                    "Run the command as this user (name or uid; default: the user who invoked "
                    "sudo, else root)")
        ->type_name("USER");
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

namespace {

bool looks_like_option(const std::string& word) { return word.size() > 1 && word[0] == '-'; }

}  // namespace

std::string shell_quote(const std::string& word) {
    static const std::string safe =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-";
    if (!word.empty() && word.find_first_not_of(safe) == std::string::npos) return word;
    std::string quoted = "'";
    for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string missing_separator_fix(const CLI::App& exec, const std::vector<std::string>& words) {
    size_t first = words.size();  // the command's first word
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w == "--") return "";
        if (!looks_like_option(w)) {
            first = i;
            break;
        }
        // One of exec's options: skip its value when it takes one and
        // has none of its own ("--user=alice").
        // Not one of exec's: CLI11's message names it first.
        const CLI::Option* opt = exec.get_option_no_throw(w.substr(0, w.find('=')));
        if (!opt) return "";
        if (opt->get_items_expected_min() > 0 && w.find('=') == std::string::npos) ++i;
    }
    bool option_after = false;
    for (size_t i = first + 1; i < words.size(); ++i) {
        if (words[i] == "--") return "";
        option_after = option_after || looks_like_option(words[i]);
    }
    if (!option_after) return "";
    std::string fixed = "tcpscope exec";
    for (size_t i = 0; i < words.size(); ++i) {
        if (i == first) fixed += " --";
        fixed += " " + shell_quote(words[i]);
    }
    return fixed;
}

}  // namespace tcpscope
