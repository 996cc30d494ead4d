#include "container_resolver.h"
#include "top_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "btf_reasons.h"
#include "exit_codes.h"
#include "netns_check.h"
#include "privileges.h"
#include "signals.h"
#include "sock_diag.h"
#include "story_format.h"
#include "stuck_detector.h"
#include "top_format.h"
#include "top_keys.h"
#include "top_screen.h"
#include "top_sink.h"
#include "trace_command.h"
#include "trace_loop.h"
#include "tracer.h"
#include "unmatched_filters.h"

namespace tcpscope {
namespace {

uint64_t cpu_time_ns() {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    auto ns = [](const timeval& tv) {
        return static_cast<uint64_t>(tv.tv_sec) * 1000000000ull + static_cast<uint64_t>(tv.tv_usec) * 1000ull;
    };
    return ns(ru.ru_utime) + ns(ru.ru_stime);
}

// The stories of the selected row, their header first.
std::vector<std::string> story_lines(const TopModel& model, const TopFrame& frame, const TopUi& ui,
                                     uint64_t start_ns, const ResetReasons& reasons) {
    std::vector<std::string> lines;
    if (ui.selected >= frame.rows.size()) return lines;
    lines.push_back(story_text_header());
    for (const auto& s : model.recent_stories(frame.view.grouping, frame.rows[ui.selected].key)) {
        lines.push_back(story_text_line(s, start_ns, reasons));
    }
    return lines;
}

}  // namespace

int run_top_command(const TopOptions& o) {
    TracerConfig config;
    std::string error;
    FilterOptions filter = o.filter;
    // What the stories need (trace --connections) and the retransmits.
    filter.events = "state,reset,retransmit,error,signal";
    if (!resolve_filter_container(&filter, &error) || !build_filter(filter, &config.filter, &error)) {
        std::fprintf(stderr, "tcpscope top: %s\n", error.c_str());
        return kExitUsage;
    }
    if ((o.ringbuf_kib & (o.ringbuf_kib - 1)) != 0) {
        std::fprintf(stderr, "tcpscope top: --ringbuf-kib: %u is not a power of two\n", o.ringbuf_kib);
        return kExitUsage;
    }
    config.ringbuf_bytes = o.ringbuf_kib * 1024u;
    config.verbose = o.verbose;
    const bool on_screen = !o.batch && !o.json && isatty(STDOUT_FILENO);

    std::string btf_error;
    ResetReasons reasons = load_kernel_reset_reasons(&btf_error);
    install_stop_handlers();
    const uint64_t start_ns = monotonic_ns();
    const WallClock clock = WallClock::anchor();

    StoryOptions story_options;
    story_options.trace_start_ns = start_ns;
    read_ephemeral_ports(&story_options.ephemeral_low, &story_options.ephemeral_high);
    TopModelOptions model_options;
    model_options.ephemeral_low = story_options.ephemeral_low;
    model_options.ephemeral_high = story_options.ephemeral_high;
    TopModel model(reasons, model_options);
    TopSink sink(model, reasons, story_options);

    LineWriter out(STDOUT_FILENO, false);
    TraceLoop loop(sink, on_screen ? nullptr : &out, LoopLimits{o.duration_s, 0, 100});
    TracerError terr;
    auto tracer = Tracer::start(config, loop.handler(), &terr);
    if (!tracer) {
        std::fprintf(stderr, "tcpscope top: %s\n", terr.text().c_str());
        return kExitEnvironment;
    }
    for (const auto& w : tracer->warnings()) std::fprintf(stderr, "tcpscope top: warning: %s\n", w.c_str());
    for (const auto& w : unmatched_filter_warnings(o.filter, config.filter, "showing")) {
        std::fprintf(stderr, "tcpscope top: warning: %s\n", w.c_str());
    }
    if (!btf_error.empty()) {
        std::fprintf(stderr, "tcpscope top: warning: %s; reset reasons shown as numbers\n",
                     btf_error.c_str());
    }
    // The stuck sockets and the namespace's census: sock_diag of --netns's
    // namespace, or ours. Without it top still runs, with no STUCK.
    std::unique_ptr<SockDiag> diag;
    {
        std::string why;
        std::string netns = netns_file(o.filter.netns, &why);
        if (o.filter.netns.empty() || !netns.empty()) {
            diag = SockDiag::open(netns, tracer->socket_storage_fd(), &why, tracer->older_owners_fd());
        }
        if (!diag) std::fprintf(stderr, "tcpscope top: warning: no stuck sockets: %s\n", why.c_str());
    }
    if (!o.no_drop) {
        std::string kept;
        const bool dropped = diag ? drop_to_bpf_reader(o.user, &kept, &error)
                                  : drop_privileges(o.user, &error);
        if (!dropped) {
            std::fprintf(stderr, "tcpscope top: %s (use --no-drop to keep root)\n", error.c_str());
            return kExitEnvironment;
        }
    }
    if (!tracer->losses().complete) {
        std::fprintf(stderr, "tcpscope top: the loss counters cannot be read; use --no-drop\n");
        return kExitEnvironment;
    }

    TopUi ui;
    ui.view.grouping = grouping_from_name(o.group).value_or(Grouping::Process);
    ui.view.sort = column_from_name(o.sort).value_or(Column::Conns);
    std::unique_ptr<TopScreen> screen;
    if (on_screen) {
        screen = TopScreen::open(&error);
        if (!screen) {
            std::fprintf(stderr, "tcpscope top: %s\n", error.c_str());
            return kExitEnvironment;
        }
    }

    StuckDetector stuck(StuckOptions{static_cast<uint64_t>(o.stuck_s * 1e9), 0}, start_ns);
    const uint64_t interval_ns = static_cast<uint64_t>(o.interval_s * 1e9);
    const auto for_each_open = [&](const std::function<void(const ConnectionStory&)>& visit) {
        sink.builder().for_each_open(visit);
    };
    uint64_t cpu_before = cpu_time_ns();
    uint64_t cpu_at = monotonic_ns();
    // The first frame anchors the rates; it is drawn at once (empty).
    TopFrame current = model.frame(cpu_at, for_each_open, {}, {}, ui.view);
    uint64_t next_frame = cpu_at + interval_ns;
    int64_t frames = 0;
    bool redraw = true;

    auto make_frame = [&](uint64_t now) {
        std::vector<StuckReport> stuck_now;
        std::map<std::string, uint64_t> census;
        if (diag) {
            SocketSnapshot snapshot;
            std::string why;
            if (diag->read(&snapshot, &why)) {
                stuck.update(snapshot);
                for (auto& r : stuck.stuck_now()) {
                    if (socket_passes(r.socket, config.filter)) stuck_now.push_back(std::move(r));
                }
                for (const auto& s : snapshot.sockets) ++census[tcp_state_name(s.state)];
            }
        }
        TopFrame f = model.frame(now, for_each_open, stuck_now, std::move(census), ui.view);
        const uint64_t cpu_now = cpu_time_ns();
        f.self.cpu_percent = now > cpu_at ? 100.0 * static_cast<double>(cpu_now - cpu_before) /
                                                static_cast<double>(now - cpu_at)
                                          : 0;
        cpu_before = cpu_now;
        cpu_at = now;
        const std::string utc = rfc3339_utc(clock.realtime_ns(now));  // 2026-12-06T12:44:50.123Z
        f.clock = utc.substr(11, 8) + " UTC";
        f.self.lost_by_reason = sink.lost_by_reason();
        f.self.stories_evicted = sink.builder().evicted();
        f.self.stories_cut_short = sink.builder().cut_short();
        return f;
    };
    auto print = [&](const TopFrame& f) {
        if (o.json) {
            out.write_line(top_frame_to_json(f, clock).dump(-1, ' ', false, Json::error_handler_t::replace));
        } else {
            for (const auto& line : top_header_lines(f)) out.write_line(line);
            out.write_line("");
            out.write_line(top_table_header(f));
            for (const auto& row : f.rows) out.write_line(top_table_line(row));
            out.write_line("");
        }
        out.flush();
    };

    auto tick = [&]() {
        const uint64_t now = monotonic_ns();
        sink.tick(now);
        if (screen) {
            while (auto key = screen->read_key()) {
                redraw = true;
                if (*key == 0) continue;  // resized
                if (top_key(ui, *key, current.rows.size())) recut(current, ui.view);
                if (ui.quit) return true;
            }
        }
        if (now >= next_frame) {
            next_frame = next_frame + interval_ns > now ? next_frame + interval_ns : now + interval_ns;
            TopFrame f = make_frame(now);
            // Paused: the frame on the screen stands still; the counting goes on.
            if (!ui.paused || !screen) {
                current = std::move(f);
                if (current.view.grouping == ui.view.grouping && ui.selected >= current.rows.size()) {
                    ui.selected = current.rows.empty() ? 0 : current.rows.size() - 1;
                }
                redraw = true;
            }
            if (!screen) print(current);
            ++frames;
            if (o.iterations && frames >= o.iterations) return true;
        }
        if (screen && redraw) {
            screen->draw(current, ui,
                         ui.mode == TopMode::Stories ? story_lines(model, current, ui, start_ns, reasons)
                                                     : std::vector<std::string>{});
            redraw = false;
        }
        return false;
    };
    LoopEnd end = loop.run(*tracer, tick);
    screen.reset();  // the terminal as it was, before anything else is said
    if (end == LoopEnd::OutputClosed) return kExitOk;
    loop.finish(*tracer);
    if (end == LoopEnd::OutputFailed || out.status() == LineWriter::Status::Failed) {
        std::fprintf(stderr, "tcpscope top: output: %s\n", out.error().c_str());
        return kExitFailure;
    }
    if (end == LoopEnd::PollFailed) {
        std::fprintf(stderr, "tcpscope top: polling the ring buffer failed\n");
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace tcpscope
