// A program run under tracing, the part `run` (a scenario program) and
// `exec` (the user's command) share: a cgroup of its own, the programs
// started on it (every kind asked for, only the cgroup's events and the
// ownerless ones of its namespaces), the events captured while it runs,
// and at its end the events still in flight polled for, the programs
// detached, the cgroup emptied. How the program is started and waited for
// is the caller's (the scenario's step pipe and sandbox, the command's
// gate and signals).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "command_cgroup.h"
#include "event.h"
#include "sinks.h"
#include "trace_loop.h"
#include "tracer.h"

namespace tcpscope {

struct ProgramTraceConfig {
    uint32_t kind_mask = (1u << TS_KIND_COUNT) - 1;
    uint32_t ringbuf_bytes = 16u << 20;
    bool verbose = false;
};

// What the kernel said about the program's run: every event its cgroup
// saw (the caller picks out its own), and what was lost.
struct ProgramEvents {
    std::vector<Event> events;
    uint64_t lost = 0;
    std::vector<std::pair<std::string, uint64_t>> lost_by_reason;
};

class ProgramTrace {
public:
    // Starts the programs on the cgroup (null: the whole host's events
    // are kept until the program ends). Null with *error when they cannot
    // start.
    static std::unique_ptr<ProgramTrace> start(const ProgramTraceConfig& config,
                                               std::unique_ptr<CommandCgroup> cgroup, TracerError* error);

    Tracer& tracer() { return *tracer_; }
    TraceLoop& loop() { return loop_; }
    CommandCgroup* cgroup() { return cgroup_.get(); }
    // The events so far (signals among them, for the program's pids).
    const std::vector<Event>& events() const { return capture_.events; }

    // SIGKILL to whatever is left in the cgroup.
    void kill_all() {
        if (cgroup_) cgroup_->kill_all();
    }
    // Once the program is gone: events it caused may still be in flight
    // (a RST on its way, the ring buffer's last batch), polled for a
    // while (each round calls `each_round`); then `before_detach`, the
    // last drain, the programs detached.
    ProgramEvents finish(const std::function<void()>& each_round = {},
                         const std::function<void()>& before_detach = {});

    ~ProgramTrace();

private:
    ProgramTrace() : loop_(capture_, nullptr, LoopLimits{0, 0, 50}) {}

    CaptureSink capture_;
    TraceLoop loop_;
    std::unique_ptr<CommandCgroup> cgroup_;
    std::unique_ptr<Tracer> tracer_;
};

}  // namespace tcpscope
