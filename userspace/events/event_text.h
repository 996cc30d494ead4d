// Events in words: the pieces that the text output, the ladder and the
// facts' "seen:" details all use, so that they describe an event alike.
#pragma once

#include <cstdint>
#include <string>

#include "event.h"
#include "names.h"

namespace tcpscope {

// "ESTABLISHED -> FIN_WAIT1 (12.3 ms)", "RST sent, reason TCP_ABORT_ON_CLOSE", ...
std::string event_detail(const Event& event, const ResetReasons& reasons);

// "SYN dropped on the way in, reason NETFILTER_DROP".
std::string drop_text(const Event& event);

// A drop a listener counted (drop_seen_by "listener"): "SYN dropped: accept
// queue of 127.0.0.1:8080 full (2 of backlog 1), 3 since last look".
std::string listener_drop_text(const Event& event);

// "ESTABLISHED -> FIN_WAIT1 (12.3 ms)". A state "changed" to itself is
// close() after shutdown(SHUT_WR) (Python's http.server does it): the
// kernel sets the state again, sends no second FIN; the words say so, as
// it reads like a bug.
std::string state_change_text(const Event& event);

// "127.0.0.1:5000" or "[::1]:5000".
std::string endpoint_text(const Endpoint& endpoint, int family);

// A duration with a unit that fits: "850 ns", "12.3 us", "12.3 ms", "1.50 s".
std::string duration_text(uint64_t ns);

}  // namespace tcpscope
