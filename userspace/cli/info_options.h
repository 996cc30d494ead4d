// `tcpscope info` on the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace tcpscope {

struct InfoOptions {
    bool json = false;
};

CLI::App* add_info_command(CLI::App& app, InfoOptions& options);

}  // namespace tcpscope
