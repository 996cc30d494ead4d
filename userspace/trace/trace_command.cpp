#include "container_resolver.h"
#include "trace_command.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "btf_reasons.h"
#include "exit_codes.h"
#include "netns_check.h"
#include "unmatched_filters.h"
#include "privileges.h"
#include "signals.h"
#include "sinks.h"
#include "sock_diag.h"
#include "story_sink.h"
#include "stuck_detector.h"
#include "stuck_sink.h"
#include "listener_watch.h"
#include "trace_loop.h"
#include "tracer.h"

namespace tcpscope {

namespace {

// How often --stuck asks sock_diag: a quarter of the threshold, so a
// socket is reported soon after it passes it, between 0.1 s and 1 s (a
// dump of thousands of sockets takes milliseconds).
uint64_t snapshot_interval_ns(double stuck_s) {
    double s = stuck_s / 4;
    if (s < 0.1) s = 0.1;
    if (s > 1) s = 1;
    return static_cast<uint64_t>(s * 1e9);
}

}  // namespace

// Reads net.ipv4.ip_local_port_range into *low and *high; leaves them as
// they are when it cannot.
void read_ephemeral_ports(uint16_t* low, uint16_t* high) {
    std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f == nullptr) return;
    unsigned a = 0, b = 0;
    if (std::fscanf(f, "%u %u", &a, &b) == 2 && a > 0 && a <= b && b <= 65535) {
        *low = static_cast<uint16_t>(a);
        *high = static_cast<uint16_t>(b);
    }
    std::fclose(f);
}

int run_trace_command(const TraceOptions& o) {
    TracerConfig config;
    std::string error;
    FilterOptions filter = o.filter;
    // A story needs the state changes, the RSTs, the errors, SIGPIPE and
    // the drops; the socket counts its retransmits itself (total_retrans),
    // but a retransmit event is joined to the drop on this host that it
    // repairs (rare events: the tracepoint fires only on a retransmit). A
    // listener's drops (accept queue full) explain a slow connect.
    if (o.connections) filter.events = "state,reset,retransmit,error,signal,drop";
    if (!resolve_filter_container(&filter, &error) || !build_filter(filter, &config.filter, &error)) {
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
    config.all_drops = o.filter.all_drops;

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
    // The text time column's clock, when --timestamps wall; JSON always has it.
    const std::optional<WallClock> text_clock =
        o.timestamps == Timestamps::Wall ? std::optional<WallClock>(clock) : std::nullopt;
    std::unique_ptr<EventSink> sink;
    StorySink* stories = nullptr;
    TextSink* text_sink = nullptr;  // --stuck's text lines share its columns and header
    if (o.connections) {
        StoryOptions story_options;
        story_options.trace_start_ns = start_ns;
        // This namespace's range; another namespace may have its own, but
        // few change it.
        read_ephemeral_ports(&story_options.ephemeral_low, &story_options.ephemeral_high);
        std::unique_ptr<StoryOutput> output;
        if (o.json) {
            output = std::make_unique<JsonStoryOutput>(out, reasons, clock);
        } else {
            output = std::make_unique<TextStoryOutput>(out, err_out, reasons, start_ns, text_clock);
        }
        auto story_sink = std::make_unique<StorySink>(std::move(output), reasons, story_options);
        stories = story_sink.get();
        sink = std::move(story_sink);
    } else if (o.json) {
        sink = std::make_unique<JsonSink>(out, reasons, clock);
    } else {
        auto text = std::make_unique<TextSink>(out, err_out, reasons, start_ns, text_clock);
        text_sink = text.get();
        sink = std::move(text);
    }
    std::unique_ptr<StuckSink> stuck_out;
    if (o.json) {
        stuck_out = std::make_unique<JsonStuckSink>(out, clock);
    } else {
        stuck_out = std::make_unique<TextStuckSink>(out, start_ns, text_clock, text_sink);
    }
    TraceLoop loop(*sink, &out, LoopLimits{o.duration_s, static_cast<uint64_t>(o.count), o.flush_ms});
    if (o.json) loop.resolve_containers();
    TracerError terr;
    auto tracer = Tracer::start(config, loop.handler(), &terr);
    if (!tracer) {
        std::fprintf(stderr, "tcpscope trace: %s\n", terr.text().c_str());
        return kExitEnvironment;
    }
    for (const auto& w : tracer->warnings()) std::fprintf(stderr, "tcpscope trace: warning: %s\n", w.c_str());
    // A process or namespace may appear later (the filter holds for it
    // then), but a mistyped one should not pass for a quiet host.
    for (const auto& w : unmatched_filter_warnings(o.filter, config.filter, "tracing")) {
        std::fprintf(stderr, "tcpscope trace: warning: %s\n", w.c_str());
    }
    if (!btf_error.empty()) {
        std::fprintf(stderr, "tcpscope trace: warning: %s; reset reasons shown as numbers\n",
                     btf_error.c_str());
    }
    // --stuck: sock_diag of --netns's namespace, or ours.
    std::unique_ptr<SockDiag> diag;
    if (o.stuck_s > 0) {
        std::string why;
        std::string netns = netns_file(o.filter.netns, &why);
        if (!o.filter.netns.empty() && netns.empty()) {
            std::fprintf(stderr, "tcpscope trace: --stuck: %s (sock_diag needs a namespace file)\n",
                         why.c_str());
            return kExitUsage;
        }
        diag = SockDiag::open(netns, tracer->socket_storage_fd(), &why, tracer->older_owners_fd());
        if (!diag) {
            std::fprintf(stderr, "tcpscope trace: --stuck: %s\n", why.c_str());
            return kExitEnvironment;
        }
    }
    // Drops: the kernel's drop tracepoint never sees a SYN that a full
    // accept queue throws away; the listeners' own counters do, through
    // sock_diag, in --netns's namespace or ours (listener_watch.h).
    if (config.filter.kind_mask & (1u << TS_KIND_DROP)) {
        std::string why;
        std::string netns = netns_file(o.filter.netns, &why);
        if (o.filter.netns.empty() || !netns.empty()) {
            ListenerWatchOptions lw;
            lw.netns_path = netns;
            // Owners come with our socket storage, which the kernel hands
            // out only while CAP_BPF is kept (--stuck, --no-drop).
            lw.storage_map_fd = o.no_drop || o.stuck_s > 0 ? tracer->socket_storage_fd() : -1;
            lw.older_owners_fd = tracer->older_owners_fd();
            lw.filter = &config.filter;
            auto watch = ListenerWatch::open(lw, &why);
            if (watch) {
                loop.watch_listeners(std::move(watch));
            } else {
                std::fprintf(stderr, "tcpscope trace: warning: accept queues not watched: %s\n",
                             why.c_str());
            }
        } else {
            std::fprintf(stderr, "tcpscope trace: warning: accept queues not watched: %s\n",
                         why.c_str());
        }
    }
    // sock_diag hands our socket storage (the owners of idle sockets) only
    // to CAP_BPF: --stuck keeps that capability alone, as metrics does;
    // otherwise nothing at all is kept.
    const bool keep_root = o.no_drop;
    if (!keep_root) {
        std::string kept;
        const bool dropped = o.stuck_s > 0 ? drop_to_bpf_reader(o.user, &kept, &error)
                                           : drop_privileges(o.user, &error);
        if (!dropped) {
            std::fprintf(stderr, "tcpscope trace: %s (use --no-drop to keep root)\n", error.c_str());
            return kExitEnvironment;
        }
        if (o.verbose && !kept.empty()) std::fprintf(stderr, "tcpscope trace: running as %s\n", kept.c_str());
    }
    // A kernel may refuse bpf() to an unprivileged process
    // (kernel.unprivileged_bpf_disabled), reading counters included:
    // better no trace than one whose losses go unreported.
    if (!tracer->losses().complete) {
        std::fprintf(stderr,
                     "tcpscope trace: the loss counters cannot be read%s; use --no-drop\n",
                     keep_root ? "" : " after dropping root on this kernel");
        return kExitEnvironment;
    }
    if (!o.json) std::fprintf(stderr, "tcpscope trace: Tracing TCP... Hit Ctrl-C to end.\n");

    std::unique_ptr<StuckDetector> stuck;
    if (diag) {
        stuck = std::make_unique<StuckDetector>(
            StuckOptions{static_cast<uint64_t>(o.stuck_s * 1e9),
                         static_cast<uint64_t>(o.stuck_period_s * 1e9)},
            start_ns);
    }
    const uint64_t snapshot_every = snapshot_interval_ns(o.stuck_s);
    uint64_t next_snapshot = 0;
    bool snapshot_warned = false;
    // After each poll round: stories whose connection is complete, and
    // the stuck sockets of a fresh snapshot when one is due.
    auto tick = [&]() {
        uint64_t now = monotonic_ns();
        if (stories) stories->tick(now);
        if (stuck && now >= next_snapshot) {
            next_snapshot = now + snapshot_every;
            SocketSnapshot snapshot;
            std::string why;
            if (!diag->read(&snapshot, &why)) {
                if (!snapshot_warned) std::fprintf(stderr, "tcpscope trace: --stuck: %s\n", why.c_str());
                snapshot_warned = true;
                return false;
            }
            for (const auto& r : stuck->update(snapshot)) {
                if (!socket_passes(r.socket, config.filter)) continue;
                // Looked up only when the loop resolves containers (JSON).
                auto container = loop.containers() ? loop.containers()->of_cgroup(r.socket.cgroup_id, now)
                                                   : nullptr;
                stuck_out->report(r, container.get());
            }
        }
        return false;
    };
    LoopEnd end = loop.run(*tracer, tick);
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
