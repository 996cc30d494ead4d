// The clock every step is stamped with. CLOCK_MONOTONIC is what
// bpf_ktime_get_ns() reads, so step times and kernel event times compare
// directly.
#pragma once

#include <cstdint>
#include <ctime>

namespace scen {

inline uint64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace scen
