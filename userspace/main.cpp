// tcpscope: what the Linux TCP stack does and why. The command line only;
// each subcommand lives in its own file and returns the exit code.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "exec_command.h"
#include "exit_codes.h"
#include "info_command.h"
#include "metrics_command.h"
#include "scenario_commands.h"
#include "trace_command.h"

int main(int argc, char** argv) {
    CLI::App app{"tcpscope: see what the kernel's TCP stack does, and why a socket call "
                 "returned what it did"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tcpscope 0.1.0");

    tcpscope::TraceOptions trace_options;
    CLI::App* trace = tcpscope::add_trace_command(app, trace_options);
    tcpscope::RunOptions run_options;
    CLI::App* run = tcpscope::add_run_command(app, run_options);
    tcpscope::ListOptions list_options;
    CLI::App* list = tcpscope::add_list_command(app, list_options);
    tcpscope::InfoOptions info_options;
    CLI::App* info = tcpscope::add_info_command(app, info_options);
    tcpscope::MetricsOptions metrics_options;
    CLI::App* metrics = tcpscope::add_metrics_command(app, metrics_options);

    tcpscope::ExecOptions exec_options;
    CLI::App* exec = tcpscope::add_exec_command(app, exec_options);
    // exec's command goes to the command untouched, not through CLI11.
    std::vector<std::string> exec_command;
    const int cli_argc = tcpscope::split_exec_command(argc, argv, &exec_command);
    exec_options.command = exec_command;
    try {
        app.parse(cli_argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return tcpscope::kExitUsage;
    }
    if (trace->parsed()) return tcpscope::run_trace_command(trace_options);
    if (run->parsed()) return tcpscope::run_run_command(run_options);
    if (list->parsed()) return tcpscope::run_list_command(list_options);
    if (info->parsed()) return tcpscope::run_info_command(info_options);
    if (metrics->parsed()) return tcpscope::run_metrics_command(metrics_options);
    if (exec->parsed()) return tcpscope::run_exec_command(exec_options);
    return tcpscope::kExitUsage;
}
