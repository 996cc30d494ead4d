// `tcpscope list` and `tcpscope run`: the bundled scenarios.
#pragma once

#include "scenario_options.h"

namespace tcpscope {

int run_list_command(const ListOptions& options);
int run_run_command(const RunOptions& options);

}  // namespace tcpscope
