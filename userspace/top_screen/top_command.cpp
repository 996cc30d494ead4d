#include "top_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "command_failure.h"
#include "exit_codes.h"
#include "session.h"
#include "signals.h"
#include "story_format.h"
#include "stuck_detector.h"
#include "top_format.h"
#include "top_keys.h"
#include "top_screen.h"
#include "top_sink.h"
#include "trace_loop.h"

namespace tcpscope {
namespace {

const char* const kMe = "tcpscope top";

// The session's options from top's: what the stories need (trace
// --connections) and the retransmits.
SessionOptions session_options(const TopOptions& o) {
    SessionOptions s;
    s.command = "top";
    s.filter = o.filter;
    s.events = "state,reset,retransmit,error,signal";
    s.ringbuf_kib = o.ringbuf_kib;
    s.doing = "showing";
    s.tracer.verbose = o.verbose;
    return s;
}

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

// The frames of top: one each interval, from the model's rows, the stuck
// sockets and the namespace's census (sock_diag, when it could be opened),
// drawn on the screen (with its keys) or written as text or JSON.
class TopFrames {
public:
    TopFrames(const TopOptions& o, TopModel& model, TopSink& sink, std::unique_ptr<SockDiag> diag,
              const ts_filter& filter, const ResetReasons& reasons, uint64_t start_ns, const WallClock& clock,
              LineWriter& out, std::unique_ptr<TopScreen> screen)
        : o_(o), model_(model), sink_(sink), diag_(std::move(diag)), filter_(filter), reasons_(reasons),
          start_ns_(start_ns), clock_(clock), out_(out), screen_(std::move(screen)),
          stuck_(StuckOptions{static_cast<uint64_t>(o.stuck_s * 1e9), 0}, start_ns),
          interval_ns_(static_cast<uint64_t>(o.interval_s * 1e9)) {
        ui_.view.grouping = grouping_from_name(o.group).value_or(Grouping::Process);
        ui_.view.sort = column_from_name(o.sort).value_or(Column::Conns);
        cpu_before_ = cpu_time_ns();
        cpu_at_ = monotonic_ns();
        // The first frame anchors the rates; it is drawn at once (empty).
        current_ = model_.frame(cpu_at_, for_each_open(), {}, {}, ui_.view);
        next_frame_ = cpu_at_ + interval_ns_;
    }

    // After each poll round; true when top is done (q, --iterations).
    bool tick() {
        const uint64_t now = monotonic_ns();
        sink_.tick(now);
        if (screen_) {
            while (auto key = screen_->read_key()) {
                redraw_ = true;
                if (*key == 0) continue;  // resized
                if (top_key(ui_, *key, current_.rows.size())) recut(current_, ui_.view);
                if (ui_.quit) return true;
            }
        }
        if (now >= next_frame_) {
            next_frame_ = next_frame_ + interval_ns_ > now ? next_frame_ + interval_ns_ : now + interval_ns_;
            TopFrame f = make_frame(now);
            // Paused: the frame on the screen stands still; the counting goes on.
            if (!ui_.paused || !screen_) {
                current_ = std::move(f);
                if (current_.view.grouping == ui_.view.grouping && ui_.selected >= current_.rows.size()) {
                    ui_.selected = current_.rows.empty() ? 0 : current_.rows.size() - 1;
                }
                redraw_ = true;
            }
            if (!screen_) print(current_);
            ++frames_;
            if (o_.iterations && frames_ >= o_.iterations) return true;
        }
        if (screen_ && redraw_) {
            screen_->draw(current_, ui_,
                          ui_.mode == TopMode::Stories ? story_lines(model_, current_, ui_, start_ns_, reasons_)
                                                       : std::vector<std::string>{});
            redraw_ = false;
        }
        return false;
    }

    // The terminal as it was, before anything else is said.
    void close_screen() { screen_.reset(); }

private:
    std::function<void(const std::function<void(const ConnectionStory&)>&)> for_each_open() {
        return [this](const std::function<void(const ConnectionStory&)>& visit) {
            sink_.builder().for_each_open(visit);
        };
    }

    TopFrame make_frame(uint64_t now) {
        std::vector<StuckReport> stuck_now;
        std::map<std::string, uint64_t> census;
        if (diag_) {
            SocketSnapshot snapshot;
            std::string why;
            if (diag_->read(&snapshot, &why)) {
                stuck_.update(snapshot);
                for (auto& r : stuck_.stuck_now()) {
                    if (socket_passes(r.socket, filter_)) stuck_now.push_back(std::move(r));
                }
                for (const auto& s : snapshot.sockets) ++census[tcp_state_name(s.state)];
            }
        }
        TopFrame f = model_.frame(now, for_each_open(), stuck_now, std::move(census), ui_.view);
        const uint64_t cpu_now = cpu_time_ns();
        f.self.cpu_percent = now > cpu_at_ ? 100.0 * static_cast<double>(cpu_now - cpu_before_) /
                                                 static_cast<double>(now - cpu_at_)
                                           : 0;
        cpu_before_ = cpu_now;
        cpu_at_ = now;
        const std::string utc = rfc3339_utc(clock_.realtime_ns(now));  // 2026-12-06T12:44:50.123Z
        f.clock = utc.substr(11, 8) + " UTC";
        f.self.lost_by_reason = sink_.lost_by_reason();
        f.self.stories_evicted = sink_.builder().evicted();
        f.self.stories_cut_short = sink_.builder().cut_short();
        return f;
    }

    void print(const TopFrame& f) {
        if (o_.json) {
            out_.write_line(top_frame_to_json(f, clock_).dump(-1, ' ', false, Json::error_handler_t::replace));
        } else {
            for (const auto& line : top_header_lines(f)) out_.write_line(line);
            out_.write_line("");
            out_.write_line(top_table_header(f));
            for (const auto& row : f.rows) out_.write_line(top_table_line(row));
            out_.write_line("");
        }
        out_.flush();
    }

    const TopOptions& o_;
    TopModel& model_;
    TopSink& sink_;
    std::unique_ptr<SockDiag> diag_;
    const ts_filter& filter_;
    const ResetReasons& reasons_;
    const uint64_t start_ns_;
    const WallClock& clock_;
    LineWriter& out_;
    std::unique_ptr<TopScreen> screen_;
    StuckDetector stuck_;
    const uint64_t interval_ns_;
    TopUi ui_;
    TopFrame current_;
    uint64_t cpu_before_ = 0;
    uint64_t cpu_at_ = 0;
    uint64_t next_frame_ = 0;
    int64_t frames_ = 0;
    bool redraw_ = true;
};

// Once everything is open: root given up (CAP_BPF kept for sock_diag's
// owners), and the loss counters readable, or no top.
bool give_up_root(const TopOptions& o, Session& session, bool keep_bpf, CommandFailure* failure) {
    std::string kept;
    if (!o.no_drop && !session.drop_root(o.user, keep_bpf, " (use --no-drop to keep root)", &kept, failure)) {
        return false;
    }
    if (!session.tracer().losses().complete) {
        *failure = {kExitEnvironment, "the loss counters cannot be read; use --no-drop"};
        return false;
    }
    return true;
}

}  // namespace

int run_top_command(const TopOptions& o) {
    SessionPlan plan;
    CommandFailure failure;
    if (!prepare_session(session_options(o), &plan, &failure)) return fail(kMe, failure);
    const bool on_screen = !o.batch && !o.json && isatty(STDOUT_FILENO);
    const ResetReasons reasons = plan.reasons;  // the model's own: the plan goes into the session
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
    auto session = open_session(std::move(plan), loop.handler(), &failure);
    if (!session) return fail(kMe, failure);
    // The stuck sockets and the namespace's census: sock_diag of --netns's
    // namespace, or ours. Without it top still runs, with no STUCK.
    std::string error;
    std::unique_ptr<SockDiag> diag = session->open_sock_diag(&error);
    if (!diag) warn(kMe, "no stuck sockets: " + error);
    if (!give_up_root(o, *session, diag != nullptr, &failure)) return fail(kMe, failure);
    std::unique_ptr<TopScreen> screen;
    if (on_screen && !(screen = TopScreen::open(&error))) return fail(kMe, kExitEnvironment, error);

    TopFrames frames(o, model, sink, std::move(diag), session->filter(), reasons, start_ns, clock, out,
                     std::move(screen));
    LoopEnd end = loop.run(session->tracer(), [&]() { return frames.tick(); });
    frames.close_screen();
    if (end == LoopEnd::OutputClosed) return kExitOk;
    loop.finish(session->tracer());
    if (end == LoopEnd::OutputFailed || out.status() == LineWriter::Status::Failed) {
        return fail(kMe, kExitFailure, "output: " + out.error());
    }
    if (end == LoopEnd::PollFailed) return fail(kMe, kExitFailure, "polling the ring buffer failed");
    return kExitOk;
}

}  // namespace tcpscope
