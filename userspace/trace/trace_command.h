// `tcpscope trace`: live tracing of the whole system.
#pragma once

#include <cstdint>

#include "trace_options.h"

namespace tcpscope {

// Runs it; returns the process exit code.
int run_trace_command(const TraceOptions& options);

// Reads net.ipv4.ip_local_port_range into *low and *high; leaves them as
// they are when it cannot (`trace --connections` and `top` read a client's
// role from it).
void read_ephemeral_ports(uint16_t* low, uint16_t* high);

}  // namespace tcpscope
