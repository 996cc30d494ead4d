// `tcpscope trace`: live tracing of the whole system.
#pragma once

#include "trace_options.h"

namespace tcpscope {

// Runs it; returns the process exit code.
int run_trace_command(const TraceOptions& options);

}  // namespace tcpscope
