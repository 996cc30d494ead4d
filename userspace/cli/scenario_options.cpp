#include "scenario_options.h"

#include "catalog.h"

namespace tcpscope {

namespace {

std::vector<std::string> scenario_names() {
    std::vector<std::string> names;
    for (const auto& s : scenario_catalog()) names.push_back(s.name);
    return names;
}

}  // namespace

CLI::App* add_list_command(CLI::App& app, ListOptions& o) {
    CLI::App* cmd = app.add_subcommand("list", "List the bundled scenarios");
    cmd->add_flag("--json", o.json, "One JSON object per scenario");
    return cmd;
}

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "run", "Run a bundled scenario under tracing; print its timeline and a verdict per fact");
    auto* name = cmd->add_option("name", o.name, "Scenario name (see `tcpscope list`)")
                     ->check(CLI::IsMember(scenario_names()));
    auto* all = cmd->add_flag("--all", o.all, "Run every scenario");
    name->excludes(all);
    cmd->add_flag("--json", o.json, "JSON lines (the trace schema plus step, verdict, summary)");
    cmd->add_option("--output", o.output, "Write to this file instead of stdout");
    cmd->add_option("--html", o.html,
                    "Also write the ladder as an HTML page with an SVG diagram: a FILE, or with "
                    "--all a DIR (index.html and one page per scenario)");
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    cmd->callback([&o]() {
        if (o.name.empty() && !o.all) throw CLI::ValidationError("run", "give a scenario name or --all");
    });
    return cmd;
}

}  // namespace tcpscope
