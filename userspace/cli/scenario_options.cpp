#include "scenario_options.h"

#include <algorithm>

#include "catalog.h"
#include "closest_names.h"

namespace tcpscope {

namespace {

std::vector<std::string> scenario_names() {
    std::vector<std::string> names;
    for (const auto& s : scenario_catalog()) names.push_back(s.name);
    return names;
}

}  // namespace

std::string unknown_scenario_message(const std::string& name) {
    const std::vector<std::string> names = scenario_names();
    std::string text = "no scenario named '" + name + "'";
    const std::vector<std::string> close = closest_names(name, names);
    if (!close.empty()) text += "; did you mean " + one_of(close) + "?";
    return text + " (`tcpscope list` shows all " + std::to_string(names.size()) + ")";
}

CLI::App* add_list_command(CLI::App& app, ListOptions& o) {
    CLI::App* cmd = app.add_subcommand("list", "List the bundled scenarios");
    auto* json = cmd->add_flag("--json", o.json, "One JSON object per scenario");
    auto* long_form = cmd->add_flag("--long", o.long_form,
                                    "Each scenario in full: what its program does, how it runs, "
                                    "the facts `tcpscope run` checks and why they hold")
                          ->excludes(json);
    cmd->add_flag("--markdown", o.markdown, "With --long: as Markdown (docs/scenarios.md)")
        ->needs(long_form);
    return cmd;
}

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "run", "Run a bundled scenario under tracing; print its timeline and a verdict per fact");
    // Checked in the callback, not by CLI::IsMember: a mistyped name gets
    // the names it may stand for, not all of them.
    auto* name = cmd->add_option("name", o.name, "Scenario name (see `tcpscope list`)");
    auto* all = cmd->add_flag("--all", o.all, "Run every scenario");
    name->excludes(all);
    cmd->add_flag("--json", o.json, "JSON lines (the trace schema plus step, verdict, summary)");
    cmd->add_option("--output", o.output, "Write to this file instead of stdout")->type_name("FILE");
    cmd->add_option("--html", o.html,
                    "Also write the ladder as an HTML page with an SVG diagram: a FILE, or with "
                    "--all a DIR (index.html and one page per scenario)")
        ->type_name("PATH");
    cmd->add_flag("--verbose", o.verbose, "Show libbpf's messages");
    cmd->callback([&o]() {
        if (o.name.empty() && !o.all) throw CLI::ValidationError("run", "give a scenario name or --all");
        const std::vector<std::string> names = scenario_names();
        if (!o.name.empty() && std::find(names.begin(), names.end(), o.name) == names.end()) {
            throw CLI::ValidationError("run", unknown_scenario_message(o.name));
        }
    });
    return cmd;
}

}  // namespace tcpscope
