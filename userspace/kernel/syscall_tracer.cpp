#include "syscall_tracer.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "ring_reader.h"
#include "syscalls.h"
#include "syscalls.skel.h"

namespace tcpscope {

namespace {

void fail(TracerError* e, const char* stage, int err, std::string message) {
    e->stage = stage;
    e->err = err;
    e->message = std::move(message);
    struct utsname u {};
    e->kernel_release = uname(&u) == 0 ? u.release : "unknown";
}

}  // namespace

SyscallTracer::~SyscallTracer() {
    if (ringbuf_) ring_buffer__free(ringbuf_);
    if (skel_) syscalls_bpf__destroy(skel_);  // detaches every link
}

std::unique_ptr<SyscallTracer> SyscallTracer::start(CallHandler handler, TracerError* error,
                                                    uint64_t cgroup_id, uint32_t cgroup_level) {
    std::unique_ptr<SyscallTracer> t(new SyscallTracer());
    t->handler_ = std::move(handler);
    t->skel_ = syscalls_bpf__open();
    if (t->skel_ == nullptr) {
        fail(error, "open", errno, "cannot open the syscall capture's BPF object");
        return nullptr;
    }
    t->skel_->rodata->scope_cgroup_id = cgroup_id;
    t->skel_->rodata->scope_cgroup_level = cgroup_level;
    int err = syscalls_bpf__load(t->skel_);
    if (err) {
        fail(error, "load", -err, "the kernel refused the syscall capture's programs");
        return nullptr;
    }
    err = syscalls_bpf__attach(t->skel_);
    if (err) {
        fail(error, "attach", -err, "cannot attach the syscall capture to sys_enter/sys_exit");
        return nullptr;
    }
    t->ringbuf_ = ring_buffer__new(bpf_map__fd(t->skel_->maps.calls), &call_record_handler,
                                   &t->handler_, nullptr);
    if (t->ringbuf_ == nullptr) {
        fail(error, "ringbuf", errno, "cannot open the syscall capture's ring buffer");
        return nullptr;
    }
    return t;
}

bool SyscallTracer::follow(pid_t pid) {
    uint32_t key = static_cast<uint32_t>(pid);
    uint8_t one = 1;
    return bpf_map__update_elem(skel_->maps.traced, &key, sizeof(key), &one, sizeof(one), BPF_ANY) == 0;
}

int SyscallTracer::poll(int timeout_ms) { return poll_ring_buffer(ringbuf_, timeout_ms); }

uint64_t SyscallTracer::lost() const {
    int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) return 0;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpus));
    uint64_t total = 0;
    // Every reason: a full ring buffer, a full map of calls in flight, a
    // forked process the full map of traced ones could not take.
    for (uint32_t reason = 0; reason < TS_CALL_LOST_REASONS; ++reason) {
        if (bpf_map__lookup_elem(skel_->maps.lost, &reason, sizeof(reason), per_cpu.data(),
                                 per_cpu.size() * sizeof(uint64_t), 0) != 0) {
            continue;
        }
        for (uint64_t n : per_cpu) total += n;
    }
    return total;
}

}  // namespace tcpscope
