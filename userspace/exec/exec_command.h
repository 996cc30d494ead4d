// `tcpscope exec -- CMD`: runs CMD under tracing and prints its ladder.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "event.h"
#include "exec_options.h"
#include "step.h"

namespace tcpscope {

// The kernel events that belong to the command's calls: those of a socket
// a call acted on (by cookie), signals to its processes, and events with
// no cookie (RSTs sent with no socket or by a timewait mini-socket,
// packets) between two endpoints its calls named, as `run` selects them.
std::vector<Event> events_of_calls(std::vector<Event> events, const std::vector<Step>& steps,
                                   const std::set<uint32_t>& pids);

// Returns CMD's status: its exit code, 128+N when killed by signal N, 127
// when it cannot be found; 2/3 for our own usage/environment errors.
int run_exec_command(const ExecOptions& options);

}  // namespace tcpscope
