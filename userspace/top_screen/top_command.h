// `tcpscope top`: the live view, on the screen (a terminal) or as lines
// (--batch, --json, or stdout not a terminal).
#pragma once

#include "top_options.h"

namespace tcpscope {

// Runs it; returns the process exit code.
int run_top_command(const TopOptions& options);

}  // namespace tcpscope
