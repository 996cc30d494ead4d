// Under `tcpscope run`, the runner traces only the scenario's own network
// namespaces. It learns most of them by itself: a namespace joins once one
// of the scenario's sockets has an event there. One whose first event
// belongs to no socket of the scenario's does not: a "rebooted" peer,
// made again under the same name, whose first packet is a RST from no
// socket, handled in softirq (ksoftirqd, on a busy machine), not on a
// task of the scenario. So a program that has just made a namespace asks
// the runner to trace it, and waits until it does.
#pragma once

#include <string>

namespace scen {

// Asks the runner to trace the namespace /var/run/netns/<name>, just made,
// and waits for its answer (5 s at most: then the facts say what was
// missed). Outside the runner (no TCPSCOPE_SCOPE_FD), returns at once.
void ask_runner_to_trace(const std::string& name);

}  // namespace scen
