// Why a call failed, from the kernel's events: `tcpscope exec` has no
// scenario facts, so it explains each failed call (EPIPE, ECONNRESET,
// ETIMEDOUT, ECONNREFUSED, EAGAIN) by the event that caused it, e.g.
// "RST received in CLOSE_WAIT at 153.1 ms (peer's timewait socket,
// TCP_TIMEWAIT_SOCKET)".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "event.h"
#include "names.h"
#include "step.h"

namespace tcpscope {

// The cause of a failed step, in words; "" when the step did not fail
// with one of the errnos above, or no event explains it. Times are
// relative to t0_ns (the first call's start).
std::string failure_cause(const Step& step, const std::vector<Event>& events,
                          const ResetReasons& reasons, uint64_t t0_ns);

// Each failed step's cause into its info ("cause"); returns how many got one.
size_t explain_failures(std::vector<Step>& steps, const std::vector<Event>& events,
                        const ResetReasons& reasons);

}  // namespace tcpscope
