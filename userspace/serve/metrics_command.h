// `tcpscope metrics`: load the programs in metrics mode, serve what they
// count until SIGINT, SIGTERM or SIGHUP.
#pragma once

#include "metrics_options.h"

namespace tcpscope {

int run_metrics_command(const MetricsOptions& options);

}  // namespace tcpscope
