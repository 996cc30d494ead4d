// The poll loop shared by `trace` and `run`: records -> decode -> sink,
// with loss reports within a tenth of a second of the kernel's counter
// moving, and the stop
// conditions (signal, duration, count, output gone, caller's predicate).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "container_resolver.h"
#include "event.h"
#include "json_encoding.h"
#include "line_writer.h"
#include "listener_watch.h"
#include "monotonic_clock.h"
#include "sinks.h"
#include "tracer.h"

namespace tcpscope {

struct LoopLimits {
    double duration_s = 0;   // 0: no limit
    uint64_t max_events = 0; // 0: no limit
    int flush_interval_ms = 100;
};

enum class LoopEnd { Signal, Duration, Count, OutputClosed, OutputFailed, Done, PollFailed };

class TraceLoop {
public:
    TraceLoop(EventSink& sink, LineWriter* output, LoopLimits limits)
        : sink_(sink), output_(output), limits_(limits) {}

    // Handler to give Tracer::start.
    Tracer::RecordHandler handler();

    // Runs until a stop condition; `done` (optional) is asked after each
    // poll round whether the caller is finished.
    LoopEnd run(Tracer& tracer, const std::function<bool()>& done = {});

    // Final drain, last loss check, summary to the sink.
    TraceSummary finish(Tracer& tracer);

    uint64_t delivered() const { return delivered_; }

    // Looks at a namespace's listeners each second, after the poll rounds,
    // and once more in finish(): their drops go to the sink as `drop`
    // events like the kernel's (listener_watch.h). Null: none.
    void watch_listeners(std::unique_ptr<ListenerWatch> watch) { listeners_ = std::move(watch); }
    const ListenerWatch* listener_watch() const { return listeners_.get(); }
    // Names each event's container from its cgroup id (only JSON shows it:
    // the text lines have no room, and the walk of the cgroup tree is then
    // work for nothing). Null until asked for; stuck reports use it too.
    void resolve_containers() { containers_ = std::make_unique<ContainerResolver>(); }
    ContainerResolver* containers() { return containers_.get(); }
    // A look, when one is due, for a caller that polls the tracer itself
    // instead of run() (exec).
    void look_at_listeners() { look_at_listeners(false); }

private:
    void on_record(const void* data, size_t size);
    void deliver(const Event& event);
    void look_at_listeners(bool force);
    void check_lost(Tracer& tracer);
    void note_lost(LossReason reason, uint64_t so_far);

    EventSink& sink_;
    LineWriter* output_;
    LoopLimits limits_;
    TraceSummary summary_;
    uint64_t delivered_ = 0;
    uint64_t kind_counts_[TS_KIND_COUNT] = {};  // per event: no map lookup
    uint64_t start_ns_ = monotonic_ns();
    static constexpr uint64_t kLossCheckIntervalNs = 100'000'000;
    uint64_t last_loss_check_ns_ = 0;
    std::unique_ptr<ListenerWatch> listeners_;
    std::unique_ptr<ContainerResolver> containers_;
    EventDecoder decoder_;  // one Event, reused record after record
};

}  // namespace tcpscope
