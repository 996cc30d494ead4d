// tcpscope: what the Linux TCP stack does and why. The command line only;
// each subcommand lives in its own file and returns the exit code.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "closest_names.h"
#include "command_failure.h"
#include "command_line.h"
#include "exec_command.h"
#include "exit_codes.h"
#include "info_command.h"
#include "metrics_command.h"
#include "scenario_commands.h"
#include "top_command.h"
#include "trace_command.h"

namespace {

// The subcommand argv names ("run"), or "" when it names none.
std::string command_named(const CLI::App& app, int argc, char** argv) {
    if (argc < 2) return "";
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == argv[1]) return argv[1];
    }
    return "";
}

// A bad command line, with the prefix every message of ours has
// ("tcpscope run: ..."). CLI11's own message names the subcommand in its
// ValidationErrors ("run: ..."): that part goes, the prefix says it.
void print_usage_error(const CLI::App& app, const std::string& command, const CLI::ParseError& e) {
    std::string what = e.what();
    if (command.empty() && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
        // No subcommand: name them, as the help does.
        std::vector<std::string> names;
        for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
            names.push_back(sub->get_name());
        }
        what = "give a command: " + tcpscope::one_of(names);
    }
    if (!command.empty() && what.compare(0, command.size() + 2, command + ": ") == 0) {
        what.erase(0, command.size() + 2);
    }
    const std::string me = command.empty() ? "tcpscope" : "tcpscope " + command;
    std::fprintf(stderr, "%s: %s\nRun '%s --help' for more information.\n", me.c_str(), what.c_str(),
                 me.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    tcpscope::CommandLine cli;
    CLI::App& app = cli.app;
    CLI::App* exec = cli.exec;

    // exec's command goes to the command untouched, not through CLI11.
    std::vector<std::string> exec_command;
    const int cli_argc = tcpscope::split_exec_command(argc, argv, &exec_command);
    cli.exec_options.command = exec_command;
    const std::string command = command_named(app, argc, argv);
    // exec's own failures, a bad command line included, exit 125 (as
    // env(1) and timeout(1)), apart from any status the command may have.
    const int usage_status = command == "exec" ? tcpscope::kExecFailure : tcpscope::kExitUsage;
    if (command == "exec") {
        const std::string fix =
            tcpscope::missing_separator_fix(*exec, std::vector<std::string>(argv + 2, argv + argc));
        if (!fix.empty()) {
            return tcpscope::fail("tcpscope exec", usage_status, "put -- before the command: " + fix);
        }
    }
    try {
        app.parse(cli_argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        print_usage_error(app, command, e);
        return usage_status;
    }
    if (cli.trace->parsed()) return tcpscope::run_trace_command(cli.trace_options);
    if (cli.run->parsed()) return tcpscope::run_run_command(cli.run_options);
    if (cli.list->parsed()) return tcpscope::run_list_command(cli.list_options);
    if (cli.info->parsed()) return tcpscope::run_info_command(cli.info_options);
    if (cli.metrics->parsed()) return tcpscope::run_metrics_command(cli.metrics_options);
    if (exec->parsed()) return tcpscope::run_exec_command(cli.exec_options);
    if (cli.top->parsed()) return tcpscope::run_top_command(cli.top_options);
    return usage_status;
}
