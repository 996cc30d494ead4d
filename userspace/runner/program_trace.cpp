#include "program_trace.h"

namespace tcpscope {

namespace {

// After the program is gone, events it caused may still be in flight (a
// RST on its way, the ring buffer's last batch): keep polling this long.
constexpr int kSettleMs = 200;

}  // namespace

std::unique_ptr<ProgramTrace> ProgramTrace::start(const ProgramTraceConfig& config,
                                                  std::unique_ptr<CommandCgroup> cgroup, TracerError* error) {
    TracerConfig tc;
    tc.filter.kind_mask = config.kind_mask;
    if (cgroup) {
        tc.filter.cgroup_id = cgroup->id();
        tc.filter.cgroup_level = cgroup->level();
        tc.filter.scope = 1;
    }
    tc.seed_owners = false;  // every socket of the program is made after the start
    tc.ringbuf_bytes = config.ringbuf_bytes;
    tc.verbose = config.verbose;
    std::unique_ptr<ProgramTrace> trace(new ProgramTrace());
    trace->cgroup_ = std::move(cgroup);
    trace->tracer_ = Tracer::start(tc, trace->loop_.handler(), error);
    if (!trace->tracer_) return nullptr;
    return trace;
}

ProgramEvents ProgramTrace::finish(const std::function<void()>& each_round,
                                   const std::function<void()>& before_detach) {
    for (int waited = 0; waited < kSettleMs; waited += 50) {
        tracer_->poll(50);
        if (each_round) each_round();
    }
    if (before_detach) before_detach();
    loop_.finish(*tracer_);
    ProgramEvents out;
    out.lost = capture_.lost_total;
    out.lost_by_reason = capture_.kernel_losses();
    tracer_.reset();  // detach before anything else runs
    out.events = std::move(capture_.events);
    return out;
}

// The programs detach before the cgroup goes (its destructor kills what
// is left in it and removes it).
ProgramTrace::~ProgramTrace() { tracer_.reset(); }

}  // namespace tcpscope
