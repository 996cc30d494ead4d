// libFuzzer target: command lines. The input is split at NUL bytes into
// arguments; parsing must end in options or a usage error, never a crash.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "scenario_options.h"
#include "trace_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> args;
    std::string current;
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(current);
            current.clear();
        } else {
            current.push_back(static_cast<char>(data[i]));
        }
    }
    args.push_back(current);
    CLI::App app{"tcpscope"};
    app.require_subcommand(1);
    tcpscope::TraceOptions trace;
    tcpscope::add_trace_command(app, trace);
    tcpscope::RunOptions run;
    tcpscope::add_run_command(app, run);
    tcpscope::ListOptions list;
    tcpscope::add_list_command(app, list);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
    try {
        app.parse(reversed);
    } catch (const CLI::Error&) {
    }
    return 0;
}
