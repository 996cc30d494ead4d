// Checking readiness steps (poll, select, epoll_wait) against the kernel.
// A readiness call reports bits; whether those bits are right depends on
// the state the kernel's events had put the socket in when the call ran,
// so the facts read both: the bits from the step (info.ready), the state
// from the socket's own state events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "readiness.h"
#include "timeline.h"

namespace tcpscope {

// The bits `step` reported for the socket with `cookie`: 0 when it reported
// that socket not ready (or nothing, a timeout); nothing when the step has
// no info.ready (the call failed, or it is not a readiness step).
std::optional<uint32_t> ready_mask(const Step& step, uint64_t cookie);
// "IN|OUT|RDHUP" for each socket reported ready, ", "-joined; "" for none.
std::string ready_text(const Step& step);

// The socket's TCP state at `ts_ns` as its state events tell it: the
// new_state of its last state event before then; "" when it had none.
std::string state_at(const Timeline& timeline, uint64_t cookie, uint64_t ts_ns);

// The call blocked for its whole timeout (info.timeout_ms, at least 90 %
// of it: timers may fire a little early, never much) and returned 0.
bool timed_out(const Step& step);

}  // namespace tcpscope
