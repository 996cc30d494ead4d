#include "trace_loop.h"

#include <cerrno>

#include "btf_reasons.h"
#include "signals.h"

namespace tcpscope {

Tracer::RecordHandler TraceLoop::handler() {
    return [this](const void* data, size_t size) { on_record(data, size); };
}

void TraceLoop::on_record(const void* data, size_t size) {
    // Past --count, records still arrive in the same batch: drop them
    // without printing (they were delivered; the user asked for N).
    if (limits_.max_events && delivered_ >= limits_.max_events) return;
    Event* event = decoder_.decode(data, size);
    if (!event) {
        ++summary_.undecodable;
        return;
    }
    // The kernel hands a drop's reason as its own number; named here, once,
    // from the running kernel's BTF, for every output alike.
    if (event->kind == EventKind::Drop) {
        event->drop_reason = kernel_drop_reasons().name(event->drop_reason_code);
    }
    // The container of the process the event is attributed to. The
    // kernel's clock is CLOCK_MONOTONIC, as the resolver's pacing wants.
    if (containers_) event->container = containers_->of_cgroup(event->cgroup_id, event->ts_ns);
    deliver(*event);
}

void TraceLoop::deliver(const Event& event) {
    ++delivered_;
    ++kind_counts_[static_cast<size_t>(event.kind)];
    sink_.event(event);
}

void TraceLoop::look_at_listeners(bool force) {
    if (!listeners_) return;
    for (const auto& e : listeners_->look(monotonic_ns(), force)) {
        if (limits_.max_events && delivered_ >= limits_.max_events) return;
        deliver(e);
    }
}

void TraceLoop::check_lost(Tracer& tracer) {
    KernelLosses k = tracer.losses();
    note_lost(LossReason::RingbufFull, k.ringbuf_full_total());
    note_lost(LossReason::ProgramSkipped, k.program_skipped_total());
    if (output_) note_lost(LossReason::WriteFailed, output_->events_dropped());
}

void TraceLoop::note_lost(LossReason reason, uint64_t so_far) {
    uint64_t& known = summary_.lost_by_reason[static_cast<size_t>(reason)];
    if (so_far <= known) return;
    uint64_t count = so_far - known;
    known = so_far;
    summary_.lost += count;
    // A report of a failed write cannot reach the failed output.
    if (reason != LossReason::WriteFailed) sink_.lost(monotonic_ns(), count, summary_.lost, reason);
}

LoopEnd TraceLoop::run(Tracer& tracer, const std::function<bool()>& done) {
    // --duration counts from here, once the programs are attached: loading
    // them can take seconds (a slow or busy machine, qemu), and a user asks
    // for that many seconds of tracing.
    start_ns_ = monotonic_ns();
    const uint64_t deadline =
        limits_.duration_s > 0 ? start_ns_ + static_cast<uint64_t>(limits_.duration_s * 1e9) : 0;
    uint64_t last_flush = start_ns_;
    for (;;) {
        if (stop_requested()) return LoopEnd::Signal;
        int timeout_ms = limits_.flush_interval_ms;
        uint64_t now = monotonic_ns();
        if (deadline) {
            if (now >= deadline) return LoopEnd::Duration;
            uint64_t left_ms = (deadline - now) / 1000000 + 1;
            if (left_ms < static_cast<uint64_t>(timeout_ms)) timeout_ms = static_cast<int>(left_ms);
        }
        int n = tracer.poll(timeout_ms);
        if (n < 0 && n != -EINTR) return LoopEnd::PollFailed;
        now = monotonic_ns();
        // Under load a poll returns at once, hundreds of times a second,
        // and a look at the loss counters is a few dozen bpf() calls: on
        // every round they cost more than decoding the records. A tenth
        // of a second is soon enough for a report (finish looks once more).
        if (now - last_loss_check_ns_ >= kLossCheckIntervalNs) {
            check_lost(tracer);
            last_loss_check_ns_ = now;
        }
        look_at_listeners(false);
        if (output_ && output_->has_pending() &&
            now - last_flush >= static_cast<uint64_t>(limits_.flush_interval_ms) * 1000000ull) {
            output_->flush();
            last_flush = now;
        }
        if (output_ && output_->status() == LineWriter::Status::PipeClosed) {
            return LoopEnd::OutputClosed;
        }
        if (output_ && output_->status() == LineWriter::Status::Failed) return LoopEnd::OutputFailed;
        if (limits_.max_events && delivered_ >= limits_.max_events) return LoopEnd::Count;
        if (done && done()) return LoopEnd::Done;
    }
}

TraceSummary TraceLoop::finish(Tracer& tracer) {
    tracer.drain();
    check_lost(tracer);
    look_at_listeners(true);
    summary_.duration_ns = monotonic_ns() - start_ns_;
    for (size_t k = 0; k < TS_KIND_COUNT; ++k) {
        if (kind_counts_[k]) summary_.counts[kind_name(static_cast<EventKind>(k))] = kind_counts_[k];
    }
    sink_.summary(summary_);
    if (output_) output_->flush();
    return summary_;
}

}  // namespace tcpscope
