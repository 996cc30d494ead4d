// CLOCK_MONOTONIC in nanoseconds: the clock of the kernel's event
// timestamps (bpf_ktime_get_ns), so that a time read here and an event's
// ts_ns can be compared. The one reading of it for every layer above.
#pragma once

#include <cstdint>

namespace tcpscope {

uint64_t monotonic_ns();

}  // namespace tcpscope
