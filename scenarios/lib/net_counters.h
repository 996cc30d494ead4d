// The kernel's own counters of the caller's network namespace: the TcpExt
// line of /proc/self/net/netstat and the Tcp line of /proc/self/net/snmp
// (what `nstat -az` shows as TcpExtTCPRcvQDrop, TcpRetransSegs). A scenario
// in a namespace of its own reads them from 0: they count only its sockets,
// a ground truth for the events tcpscope shows.
#pragma once

#include "steps.h"

#include <string>
#include <vector>

namespace scen {

// The counters named in `names` ("TCPRcvQDrop", "RetransSegs": the names
// without the TcpExt/Tcp prefix) that this kernel has, as {name: value};
// a name the kernel does not count is left out.
Info net_counters(const std::vector<std::string>& names);

}  // namespace scen
