#include "trace_command.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "btf_reasons.h"
#include "exit_codes.h"
#include "netns_check.h"
#include "privileges.h"
#include "signals.h"
#include "sinks.h"
#include "trace_loop.h"
#include "tracer.h"

namespace tcpscope {

int run_trace_command(const TraceOptions& o) {
    TracerConfig config;
    std::string error;
    if (!build_filter(o.filter, &config.filter, &error)) {
        std::fprintf(stderr, "tcpscope trace: %s\n", error.c_str());
        return kExitUsage;
    }
    if ((o.ringbuf_kib & (o.ringbuf_kib - 1)) != 0) {
        std::fprintf(stderr, "tcpscope trace: --ringbuf-kib: %u is not a power of two\n",
                     o.ringbuf_kib);
        return kExitUsage;
    }
    config.ringbuf_bytes = o.ringbuf_kib * 1024u;
    config.verbose = o.verbose;

    int out_fd = STDOUT_FILENO;
    if (!o.output.empty()) {
        out_fd = LineWriter::open_file(o.output, &error);
        if (out_fd < 0) {
            std::fprintf(stderr, "tcpscope trace: %s\n", error.c_str());
            return kExitUsage;
        }
    }
    LineWriter out(out_fd, out_fd != STDOUT_FILENO);
    LineWriter err_out(STDERR_FILENO, false, 0);

    std::string btf_error;
    ResetReasons reasons = load_kernel_reset_reasons(&btf_error);
    install_stop_handlers();

    uint64_t start_ns = monotonic_ns();
    // The one reading of the clock pair that turns ts_ns into "time".
    const WallClock clock = WallClock::anchor();
    std::unique_ptr<EventSink> sink;
    if (o.json) {
        sink = std::make_unique<JsonSink>(out, reasons, clock);
    } else {
        sink = std::make_unique<TextSink>(
            out, err_out, reasons, start_ns,
            o.timestamps == "wall" ? std::optional<WallClock>(clock) : std::nullopt);
    }
    TraceLoop loop(*sink, &out, LoopLimits{o.duration_s, static_cast<uint64_t>(o.count), o.flush_ms});
    TracerError terr;
    auto tracer = Tracer::start(config, loop.handler(), &terr);
    if (!tracer) {
        std::fprintf(stderr, "tcpscope trace: %s\n", terr.text().c_str());
        return kExitEnvironment;
    }
    for (const auto& w : tracer->warnings()) std::fprintf(stderr, "tcpscope trace: warning: %s\n", w.c_str());
    // A namespace may appear later (the filter holds for it then), but a
    // mistyped inode should not pass for a quiet host.
    if (config.filter.netns != 0 && config.filter.netns_cookie == 0 &&
        !network_namespace_exists(config.filter.netns)) {
        std::fprintf(stderr,
                     "tcpscope trace: warning: --netns %u: no network namespace has that inode "
                     "now (no process is in one, and /run/netns names none); tracing anyway, in "
                     "case it appears\n",
                     static_cast<unsigned>(config.filter.netns));
    }
    if (!btf_error.empty()) {
        std::fprintf(stderr, "tcpscope trace: warning: %s; reset reasons shown as numbers\n",
                     btf_error.c_str());
    }
    if (!o.no_drop && !drop_privileges(o.user, &error)) {
        std::fprintf(stderr, "tcpscope trace: %s (use --no-drop to keep root)\n", error.c_str());
        return kExitEnvironment;
    }
    // A kernel may refuse bpf() to an unprivileged process
    // (kernel.unprivileged_bpf_disabled), reading counters included:
    // better no trace than one whose losses go unreported.
    if (!tracer->losses().complete) {
        std::fprintf(stderr,
                     "tcpscope trace: the loss counters cannot be read%s; use --no-drop\n",
                     o.no_drop ? "" : " after dropping root on this kernel");
        return kExitEnvironment;
    }
    if (!o.json) std::fprintf(stderr, "Tracing TCP... Hit Ctrl-C to end.\n");

    LoopEnd end = loop.run(*tracer);
    if (end == LoopEnd::OutputClosed) {
        // The reader went away (`| head`): nothing more to say, and
        // nowhere to say it on stdout.
        return kExitOk;
    }
    TraceSummary summary = loop.finish(*tracer);
    if (end == LoopEnd::OutputFailed || out.status() == LineWriter::Status::Failed) {
        // The summary went to the failed output: say the losses here.
        std::fprintf(stderr,
                     "tcpscope trace: output: %s; %llu events written, "
                     "%llu events not written (write_failed), %llu lost in the kernel\n",
                     out.error().c_str(), static_cast<unsigned long long>(out.events_written()),
                     static_cast<unsigned long long>(
                         summary.lost_by_reason[static_cast<size_t>(LossReason::WriteFailed)]),
                     static_cast<unsigned long long>(
                         summary.lost -
                         summary.lost_by_reason[static_cast<size_t>(LossReason::WriteFailed)]));
        return kExitFailure;
    }
    if (end == LoopEnd::PollFailed) {
        std::fprintf(stderr, "tcpscope trace: polling the ring buffer failed\n");
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace tcpscope
