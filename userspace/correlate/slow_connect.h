// Why a connect() that succeeded took a second or more, from the kernel's
// events: a blocking connect returns once the handshake is done, so one
// that waited that long lost its first SYN (the initial RTO is 1 s, then
// 3 s, 7 s ...). `tcpscope exec` says where the SYN went when this host
// saw it: a listener here whose accept queue was full (its own drop
// counter, a `drop` event seen_by "listener"), or the kernel's drop
// tracepoint (a firewall rule). The stories say the same of a connection
// (stories/story_builder.cpp); this is the call's view.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "event.h"
#include "step.h"

namespace tcpscope {

// Whether a connect to `remote` ("127.0.0.1:8080", as a step names it)
// reached `listener`: the same address and port, or a wildcard listener
// (0.0.0.0, ::) on that port (the namespace is the caller's to check).
bool reaches_listener(const std::string& remote, const Endpoint& listener, int family);

// "took 1.02 s: its SYN was retransmitted once; the listener 127.0.0.1:8080
// dropped SYNs, its accept queue full (backlog 1)"; "" when the step is
// not a connect that succeeded after at least one SYN retransmit.
std::string slow_connect_cause(const Step& step, const std::vector<Event>& events);

// Each such step's cause into its info ("cause"), unless it has one;
// returns how many got one.
size_t explain_slow_connects(std::vector<Step>& steps, const std::vector<Event>& events);

}  // namespace tcpscope
