#include "trace_command.h"

#include <unistd.h>

#include <memory>
#include <optional>

#include "command_failure.h"
#include "exit_codes.h"
#include "listener_watch.h"
#include "session.h"
#include "signals.h"
#include "sinks.h"
#include "story_sink.h"
#include "stuck_detector.h"
#include "stuck_sink.h"
#include "trace_loop.h"

namespace tcpscope {

namespace {

const char* const kMe = "tcpscope trace";

// How often --stuck asks sock_diag: a quarter of the threshold, so a
// socket is reported soon after it passes it, between 0.1 s and 1 s (a
// dump of thousands of sockets takes milliseconds).
uint64_t snapshot_interval_ns(double stuck_s) {
    double s = stuck_s / 4;
    if (s < 0.1) s = 0.1;
    if (s > 1) s = 1;
    return static_cast<uint64_t>(s * 1e9);
}

// The session's options from trace's.
SessionOptions session_options(const TraceOptions& o) {
    SessionOptions s;
    s.command = "trace";
    s.filter = o.filter;
    // A story needs the state changes, the RSTs, the errors, SIGPIPE and
    // the drops; the socket counts its retransmits itself (total_retrans),
    // but a retransmit event is joined to the drop on this host that it
    // repairs (rare events: the tracepoint fires only on a retransmit). A
    // listener's drops (accept queue full) explain a slow connect.
    if (o.connections) s.events = "state,reset,retransmit,error,signal,drop";
    s.ringbuf_kib = o.ringbuf_kib;
    s.tracer.verbose = o.verbose;
    s.tracer.all_drops = o.filter.all_drops;
    return s;
}

// What trace writes: stories (--connections), JSON lines, or text; and
// --stuck's reports beside them, in the same form.
struct TraceSinks {
    std::unique_ptr<EventSink> sink;
    StorySink* stories = nullptr;
    std::unique_ptr<StuckSink> stuck;
};

TraceSinks make_sinks(const TraceOptions& o, LineWriter& out, LineWriter& err_out, const ResetReasons& reasons,
                      uint64_t start_ns, const WallClock& clock) {
    // The text time column's clock, when --timestamps wall; JSON always has it.
    const std::optional<WallClock> text_clock =
        o.timestamps == Timestamps::Wall ? std::optional<WallClock>(clock) : std::nullopt;
    TraceSinks s;
    TextSink* text = nullptr;  // --stuck's text lines share its columns and header
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
        auto stories = std::make_unique<StorySink>(std::move(output), reasons, story_options);
        s.stories = stories.get();
        s.sink = std::move(stories);
    } else if (o.json) {
        s.sink = std::make_unique<JsonSink>(out, reasons, clock);
    } else {
        auto text_sink = std::make_unique<TextSink>(out, err_out, reasons, start_ns, text_clock);
        text = text_sink.get();
        s.sink = std::move(text_sink);
    }
    if (o.json) {
        s.stuck = std::make_unique<JsonStuckSink>(out, clock);
    } else {
        s.stuck = std::make_unique<TextStuckSink>(out, start_ns, text_clock, text);
    }
    return s;
}

// Drops: the kernel's drop tracepoint never sees a SYN that a full accept
// queue throws away; the listeners' own counters do, through sock_diag, in
// --netns's namespace or ours (listener_watch.h).
void watch_listeners(const TraceOptions& o, Session& session, TraceLoop& loop) {
    if (!(session.filter().kind_mask & (1u << TS_KIND_DROP))) return;
    std::string why;
    const std::string netns = session.netns_path(&why);
    if (o.filter.netns.empty() || !netns.empty()) {
        ListenerWatchOptions lw;
        lw.netns_path = netns;
        // Owners come with our socket storage, which the kernel hands
        // out only while CAP_BPF is kept (--stuck, --no-drop).
        lw.storage_map_fd = o.no_drop || o.stuck_s > 0 ? session.tracer().socket_storage_fd() : -1;
        lw.older_owners_fd = session.tracer().older_owners_fd();
        lw.filter = &session.filter();
        if (auto watch = ListenerWatch::open(lw, &why)) {
            loop.watch_listeners(std::move(watch));
            return;
        }
    }
    warn(kMe, "accept queues not watched: " + why);
}

// --stuck: a snapshot of --netns's namespace (or ours) now and then, its
// sockets past the threshold written as lines of their own.
class StuckLines {
public:
    StuckLines(const TraceOptions& o, std::unique_ptr<SockDiag> diag, StuckSink& sink, TraceLoop& loop,
               const ts_filter& filter, uint64_t start_ns)
        : diag_(std::move(diag)), sink_(sink), loop_(loop), filter_(filter),
          every_(snapshot_interval_ns(o.stuck_s)),
          detector_(StuckOptions{static_cast<uint64_t>(o.stuck_s * 1e9),
                                 static_cast<uint64_t>(o.stuck_period_s * 1e9)},
                    start_ns) {}

    void tick(uint64_t now) {
        if (now < next_) return;
        next_ = now + every_;
        SocketSnapshot snapshot;
        std::string why;
        if (!diag_->read(&snapshot, &why)) {
            if (!warned_) say(kMe, "--stuck: " + why);
            warned_ = true;
            return;
        }
        for (const auto& r : detector_.update(snapshot)) {
            if (!socket_passes(r.socket, filter_)) continue;
            auto container = loop_.containers() ? loop_.containers()->of_cgroup(r.socket.cgroup_id, now)
                                                : nullptr;
            sink_.report(r, container.get());
        }
    }

private:
    std::unique_ptr<SockDiag> diag_;
    StuckSink& sink_;
    TraceLoop& loop_;
    const ts_filter& filter_;
    uint64_t every_;
    uint64_t next_ = 0;
    bool warned_ = false;
    StuckDetector detector_;
};

// sock_diag hands our socket storage (the owners of idle sockets) only to
// CAP_BPF: --stuck keeps that capability alone, as metrics does; otherwise
// nothing at all is kept. A kernel may refuse bpf() to an unprivileged
// process (kernel.unprivileged_bpf_disabled), reading counters included:
// better no trace than one whose losses go unreported.
bool give_up_root(const TraceOptions& o, Session& session, CommandFailure* failure) {
    if (!o.no_drop) {
        std::string kept;
        if (!session.drop_root(o.user, o.stuck_s > 0, " (use --no-drop to keep root)", &kept, failure)) {
            return false;
        }
        if (o.verbose && !kept.empty()) say(kMe, "running as " + kept);
    }
    if (!session.tracer().losses().complete) {
        *failure = {kExitEnvironment, std::string("the loss counters cannot be read") +
                                          (o.no_drop ? "" : " after dropping root on this kernel") +
                                          "; use --no-drop"};
        return false;
    }
    return true;
}

// How the loop ended, in an exit code (and words when it failed).
int loop_result(LoopEnd end, const TraceSummary& summary, const LineWriter& out) {
    if (end == LoopEnd::OutputFailed || out.status() == LineWriter::Status::Failed) {
        // The summary went to the failed output: say the losses here.
        const uint64_t unwritten = summary.lost_by_reason[static_cast<size_t>(LossReason::WriteFailed)];
        return fail(kMe, kExitFailure,
                    "output: " + out.error() + "; " + std::to_string(out.events_written()) +
                        " events written, " + std::to_string(unwritten) +
                        " events not written (write_failed), " + std::to_string(summary.lost - unwritten) +
                        " lost in the kernel");
    }
    if (end == LoopEnd::PollFailed) return fail(kMe, kExitFailure, "polling the ring buffer failed");
    return kExitOk;
}

}  // namespace

int run_trace_command(const TraceOptions& o) {
    SessionPlan plan;
    CommandFailure failure;
    if (!prepare_session(session_options(o), &plan, &failure)) return fail(kMe, failure);
    std::string error;
    const int out_fd = o.output.empty() ? STDOUT_FILENO : LineWriter::open_file(o.output, &error);
    if (out_fd < 0) return fail(kMe, kExitUsage, error);
    LineWriter out(out_fd, out_fd != STDOUT_FILENO);
    LineWriter err_out(STDERR_FILENO, false, 0);
    install_stop_handlers();
    // The sinks' own copy: the plan goes into the session.
    const ResetReasons reasons = plan.reasons;
    const uint64_t start_ns = monotonic_ns();
    // The one reading of the clock pair that turns ts_ns into "time".
    const WallClock clock = WallClock::anchor();
    TraceSinks sinks = make_sinks(o, out, err_out, reasons, start_ns, clock);
    TraceLoop loop(*sinks.sink, &out, LoopLimits{o.duration_s, static_cast<uint64_t>(o.count), o.flush_ms});
    if (o.json) loop.resolve_containers();
    auto session = open_session(std::move(plan), loop.handler(), &failure);
    if (!session) return fail(kMe, failure);
    std::unique_ptr<StuckLines> stuck;
    if (o.stuck_s > 0) {
        std::string why;
        bool no_file = false;
        auto diag = session->open_sock_diag(&why, &no_file);
        if (no_file) return fail(kMe, kExitUsage, "--stuck: " + why + " (sock_diag needs a namespace file)");
        if (!diag) return fail(kMe, kExitEnvironment, "--stuck: " + why);
        stuck = std::make_unique<StuckLines>(o, std::move(diag), *sinks.stuck, loop, session->filter(),
                                             start_ns);
    }
    watch_listeners(o, *session, loop);
    if (!give_up_root(o, *session, &failure)) return fail(kMe, failure);
    if (!o.json) say(kMe, "Tracing TCP... Hit Ctrl-C to end.");

    // After each poll round: stories whose connection is complete, and the
    // stuck sockets of a fresh snapshot when one is due.
    LoopEnd end = loop.run(session->tracer(), [&]() {
        const uint64_t now = monotonic_ns();
        if (sinks.stories) sinks.stories->tick(now);
        if (stuck) stuck->tick(now);
        return false;
    });
    // The reader went away (`| head`): nothing more to say, and nowhere to
    // say it on stdout.
    if (end == LoopEnd::OutputClosed) return kExitOk;
    return loop_result(end, loop.finish(session->tracer()), out);
}

}  // namespace tcpscope
