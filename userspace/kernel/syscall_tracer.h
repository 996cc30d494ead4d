// `tcpscope exec`'s syscall capture (bpf/syscalls.bpf.c): loaded and
// attached for one command's run only, and detached by the destructor,
// since every syscall on the host is slower while it is attached.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "tracer.h"

struct syscalls_bpf;
struct ring_buffer;

namespace tcpscope {

class SyscallTracer {
public:
    // Each ts_call record, as the ring buffer hands it over.
    using CallHandler = std::function<void(const void* data, size_t size)>;

    ~SyscallTracer();
    SyscallTracer(const SyscallTracer&) = delete;
    SyscallTracer& operator=(const SyscallTracer&) = delete;

    // Loads and attaches; null with *error filled when it cannot. With a
    // cgroup (v2 id and depth), every process in it or below it is traced,
    // pid namespaces or not; without one (0), the processes follow() names.
    static std::unique_ptr<SyscallTracer> start(CallHandler handler, TracerError* error,
                                                uint64_t cgroup_id = 0, uint32_t cgroup_level = 0);

    // Without a cgroup: traces `pid` (as the kernel numbers it, which is
    // not the number a process in a PID namespace of its own sees) and,
    // from then on, every process it forks. Call before the process runs
    // its first instruction of interest.
    bool follow(pid_t pid);

    // Hands every record ready to the handler, waiting up to timeout_ms.
    int poll(int timeout_ms);
    // What the capture lost, every reason (ts_call_lost_reason): calls
    // the ring buffer or the map of calls in flight had no room for, and
    // forked processes the map of traced ones had no room for.
    uint64_t lost() const;

private:
    SyscallTracer() = default;

    struct syscalls_bpf* skel_ = nullptr;
    struct ring_buffer* ringbuf_ = nullptr;
    CallHandler handler_;
};

}  // namespace tcpscope
