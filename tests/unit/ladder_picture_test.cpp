// The ladder's one model and its two renderers (text and SVG), on the runs
// recorded from this kernel (scenarios/*/recording.jsonl): the layout's geometry (no two
// labels overlap, arrows from the sender's lifeline to the receiver's, time
// only flows down, idle gaps compressed), the clarity marks (blocking calls,
// causal order), and the page being self-contained.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "catalog.h"
#include "event_text.h"
#include "ladder.h"
#include "ladder_html.h"
#include "ladder_model.h"
#include "ladder_svg.h"
#include "recording_support.h"
#include "scenario_options.h"

namespace tcpscope {
namespace {

using testing_support::load;

size_t count_of(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

struct Counts {
    size_t steps = 0, packets = 0, states = 0;
};

Counts counts_of(const Recording& r) {
    Counts c;
    c.steps = r.steps.size();
    for (const auto& e : r.events) {
        c.packets += e.kind == EventKind::Packet;
        c.states += e.kind == EventKind::State;
    }
    return c;
}

class EveryRecordedRun : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryRecordedRun, ModelHasOneRowPerStepSegmentAndStateChange) {
    Recording r = load(GetParam());
    Timeline timeline(r.steps, r.events);
    LadderModel model = build_ladder_model(timeline, r.reasons, GetParam());
    Counts c = counts_of(r);
    Counts rows;
    for (const auto& row : model.rows) {
        rows.steps += row.kind == LadderRowKind::Call;
        rows.packets += row.kind == LadderRowKind::Segment;
        rows.states += row.kind == LadderRowKind::State;
        EXPECT_FALSE(row.raw_json.empty()) << row.text;
        if (row.kind == LadderRowKind::CallReturn) {
            ASSERT_GE(row.call_row, 0);
            EXPECT_LT(static_cast<size_t>(row.call_row), &row - &model.rows.front());
            EXPECT_EQ(model.rows[static_cast<size_t>(row.call_row)].return_row, &row - &model.rows.front());
        }
    }
    EXPECT_EQ(rows.steps, c.steps);
    EXPECT_EQ(rows.packets, c.packets);
    EXPECT_EQ(rows.states, c.states);
    ASSERT_GE(model.lanes.size(), 2u);
    EXPECT_EQ(model.lanes[0], "client");
    EXPECT_EQ(model.lanes[1], "server");
}

TEST_P(EveryRecordedRun, NoTwoLabelsOverlap) {
    Recording r = load(GetParam());
    LadderModel model = build_ladder_model(Timeline(r.steps, r.events), r.reasons, GetParam());
    LadderLayout layout = layout_ladder(model);
    std::vector<const LayoutLabel*> labels;
    for (const auto& l : layout.lane_names) labels.push_back(&l);
    for (const auto& g : layout.gaps) labels.push_back(&g.label);
    for (const auto& row : layout.rows) {
        labels.push_back(&row.label);
        labels.push_back(&row.time);
    }
    for (size_t i = 0; i < labels.size(); ++i) {
        const LayoutRect& a = labels[i]->bounds;
        EXPECT_GT(a.w, 0) << labels[i]->text;
        EXPECT_GE(a.x, 0) << labels[i]->text;
        EXPECT_LE(a.x + a.w, layout.width) << labels[i]->text;
        for (size_t j = i + 1; j < labels.size(); ++j) {
            EXPECT_FALSE(a.overlaps(labels[j]->bounds))
                << "\"" << labels[i]->text << "\" overlaps \"" << labels[j]->text << "\"";
        }
    }
}

TEST_P(EveryRecordedRun, ArrowsGoFromTheSendersLifelineToTheReceivers) {
    Recording r = load(GetParam());
    Timeline timeline(r.steps, r.events);
    LadderModel model = build_ladder_model(timeline, r.reasons, GetParam());
    LadderLayout layout = layout_ladder(model);
    size_t arrows = 0;
    for (const auto& placed : layout.rows) {
        const LadderRow& row = model.rows[placed.row];
        if (row.kind != LadderRowKind::Segment) continue;
        ++arrows;
        const Event& e = timeline.events()[row.index];
        // The sender is the side that owns the segment's source address;
        // the receiver, the one that owns its destination.
        std::string src = timeline.side_of_endpoint(endpoint_key(e.local, e.family));
        std::string dst = timeline.side_of_endpoint(endpoint_key(e.remote, e.family));
        if (!src.empty()) EXPECT_EQ(row.lane, src) << row.raw_json;
        if (!dst.empty()) EXPECT_EQ(row.to_lane, dst) << row.raw_json;
        EXPECT_NE(row.lane, row.to_lane) << row.raw_json;
        EXPECT_DOUBLE_EQ(placed.x1, layout.x_of(row.lane));
        EXPECT_DOUBLE_EQ(placed.x2, layout.x_of(row.to_lane));
        EXPECT_GT(placed.y2, placed.y1) << "an arrow goes down, as time does";
    }
    EXPECT_GT(arrows, 0u);
}

TEST_P(EveryRecordedRun, TimeOnlyFlowsDown) {
    Recording r = load(GetParam());
    LadderModel model = build_ladder_model(Timeline(r.steps, r.events), r.reasons, GetParam());
    LadderLayout layout = layout_ladder(model);
    ASSERT_EQ(layout.rows.size(), model.rows.size());
    for (size_t i = 1; i < layout.rows.size(); ++i) {
        EXPECT_GT(layout.rows[i].y, layout.rows[i - 1].y);
    }
    // The time shown beside a row never goes back up, except on a row
    // marked as shown in causal order.
    uint64_t latest = 0;
    for (const auto& row : model.rows) {
        if (!row.reordered) {
            EXPECT_GE(row.ts_ns, latest) << row.text;
            latest = std::max(latest, row.ts_ns);
        }
    }
    for (const auto& placed : layout.rows) {
        const LadderRow& row = model.rows[placed.row];
        if (row.kind != LadderRowKind::Call) continue;
        EXPECT_GT(placed.box.h, 0);
        if (row.return_row >= 0) {
            // The box reaches its return, which is below its start.
            const LayoutRow& ret = layout.rows[static_cast<size_t>(row.return_row)];
            EXPECT_GT(ret.y, placed.y);
            EXPECT_GE(placed.box.y + placed.box.h, ret.y);
        }
    }
    for (const auto& gap : layout.gaps) {
        EXPECT_GE(gap.ns, kLabelledGapNs);
        EXPECT_EQ(gap.label.text, "... " + duration_text(gap.ns) + " ...");
    }
}

TEST_P(EveryRecordedRun, TextAndPictureShowTheSameRows) {
    Recording r = load(GetParam());
    Timeline timeline(r.steps, r.events);
    LadderModel model = build_ladder_model(timeline, r.reasons, GetParam());
    std::string text = render_ladder(model);
    std::string svg = render_ladder_svg(model, layout_ladder(model));
    Counts c = counts_of(r);
    EXPECT_EQ(count_of(svg, "<rect class=\"step\""), c.steps);
    EXPECT_EQ(count_of(svg, "<g class=\"arrow"), c.packets);
    EXPECT_EQ(count_of(svg, "<g class=\"state"), c.states);
    for (size_t i = 0; i < model.rows.size(); ++i) {
        EXPECT_NE(svg.find("data-row=\"" + std::to_string(i) + "\""), std::string::npos);
        const LadderRow& row = model.rows[i];
        // Every row's words are in the text ladder (a long one may wrap, so
        // look for its first words).
        std::string words = row.kind == LadderRowKind::Call && row.return_row >= 0 ? row.call : row.text;
        EXPECT_NE(text.find(words.substr(0, 20)), std::string::npos) << words;
    }
}

std::vector<std::string> recorded_scenarios() {
    std::vector<std::string> names;
    for (const auto& s : scenario_catalog()) names.push_back(s.name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Ladder, EveryRecordedRun, ::testing::ValuesIn(recorded_scenarios()),
                         [](const auto& info) {
                             std::string name = info.param;
                             for (auto& ch : name) if (ch == '-') ch = '_';
                             return name;
                         });

TEST(LadderClarity, ABlockingCallIsShownAtItsReturnAfterWhatHappenedWhileItBlocked) {
    // peer-vanished: recv() blocks ~4 s while the kernel retransmits to a
    // peer that is gone, then fails with ETIMEDOUT.
    Recording r = load("peer-vanished");
    LadderModel model = build_ladder_model(Timeline(r.steps, r.events), r.reasons, "peer-vanished");
    int recv_row = -1;
    for (size_t i = 0; i < model.rows.size(); ++i) {
        if (model.rows[i].kind == LadderRowKind::Call &&
            model.rows[i].call.rfind("recv(", 0) == 0) recv_row = static_cast<int>(i);
    }
    ASSERT_GE(recv_row, 0);
    const LadderRow& call = model.rows[static_cast<size_t>(recv_row)];
    ASSERT_GE(call.return_row, 0) << "recv() blocked for seconds: it must be drawn as a span";
    size_t retransmits_inside = 0;
    for (int i = recv_row + 1; i < call.return_row; ++i) {
        retransmits_inside += model.rows[static_cast<size_t>(i)].text.find("retransmit") != std::string::npos;
    }
    EXPECT_GE(retransmits_inside, 1u) << "the retransmits that caused ETIMEDOUT come before its return";
    std::string text = render_ladder(model);
    size_t start = text.find("recv(fd, buf, 64) ...");
    size_t ret = text.find("<- recv(fd, buf, 64) = -1 ETIMEDOUT");
    ASSERT_NE(start, std::string::npos) << text;
    ASSERT_NE(ret, std::string::npos) << text;
    EXPECT_LT(start, ret);
    EXPECT_NE(text.substr(start, ret - start).find("retransmit"), std::string::npos);
}

TEST(LadderClarity, AnEventShownBeforeEarlierTimestampsIsMarked) {
    // zero-byte-send: on loopback the client can see the RST (its
    // reset_received, CLOSE, EPIPE) before tcp_send_reset fires for it; the
    // timeline then shows the RST sent first. This recording has them in
    // order: make tcp_send_reset fire last, as a loaded machine can.
    Recording r = load("zero-byte-send");
    Recording plain_run = r;
    Event* sent = testing_support::event_where(r, [](const Event& e, const std::string&) {
        return e.kind == EventKind::ResetSent;
    });
    ASSERT_NE(sent, nullptr);
    uint64_t last = 0;
    for (const auto& e : r.events) {
        if (e.ts_ns < sent->ts_ns + 1'000'000) last = std::max(last, e.ts_ns);
    }
    sent->ts_ns = last + 1000;
    LadderModel model = build_ladder_model(Timeline(r.steps, r.events), r.reasons, "zero-byte-send");
    size_t reordered = 0;
    for (const auto& row : model.rows) {
        if (!row.reordered) continue;
        ++reordered;
        EXPECT_EQ(row.kind, LadderRowKind::Reset) << row.text;
        EXPECT_NE(row.text.find("RST sent"), std::string::npos);
    }
    EXPECT_EQ(reordered, 1u);
    std::string text = render_ladder(model);
    EXPECT_TRUE(std::regex_search(text, std::regex(R"(\d\^ +RST sent \(TCP_TIMEWAIT_SOCKET)")))
        << text;
    EXPECT_NE(text.find("Legend: * fired during a call"), std::string::npos);
    // As recorded, in timestamp order: nothing is marked.
    LadderModel plain = build_ladder_model(Timeline(plain_run.steps, plain_run.events), plain_run.reasons, "");
    for (const auto& row : plain.rows) EXPECT_FALSE(row.reordered) << row.text;
}

TEST(LadderLayoutGaps, ALongIdleGapIsCompressedAndLabelled) {
    Recording r = load("zero-byte-send");
    LadderModel model = build_ladder_model(Timeline(r.steps, r.events), r.reasons, "");
    LadderLayout before = layout_ladder(model);
    // Push everything after the middle row 60 s later: a TIME_WAIT's length.
    LadderModel later = model;
    size_t middle = later.rows.size() / 2;
    for (size_t i = middle; i < later.rows.size(); ++i) {
        later.rows[i].ts_ns += 60'000'000'000ull;
        later.rows[i].end_ns += 60'000'000'000ull;
    }
    LadderLayout after = layout_ladder(later);
    bool labelled = false;
    for (const auto& gap : after.gaps) labelled |= gap.label.text == "... " + duration_text(gap.ns) + " ...";
    EXPECT_TRUE(labelled);
    bool minute = false;
    for (const auto& gap : after.gaps) minute |= gap.ns >= 60'000'000'000ull;
    EXPECT_TRUE(minute);
    // At most one more band than before, whatever the gap's length.
    EXPECT_LE(after.height, before.height + 24.0 + 0.01);
}

TEST(LadderPage, IsSelfContainedAndEscapesWhatItShows) {
    Recording r = load("zero-byte-send");
    r.steps.front().call = "bind(<script>alert(1)</script> & \"x\")";
    LadderModel model = build_ladder_model(Timeline(r.steps, r.events), r.reasons, "zero-byte-send");
    const ScenarioSpec* spec = find_scenario("zero-byte-send");
    ASSERT_NE(spec, nullptr);
    Timeline timeline(r.steps, r.events);
    auto verdicts = evaluate(spec->facts, FactContext{timeline, r.reasons, r.kernel});
    std::string html = render_ladder_html(model, {spec->name, spec->summary, spec->explanation, verdicts, ""});
    EXPECT_NE(html.find(std::string("<meta http-equiv=\"Content-Security-Policy\" content=\"") +
                        kPageContentSecurityPolicy + "\">"),
              std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"), std::string::npos);
    // Nothing to fetch: no URL but the SVG namespace, no src=, no link.
    std::string stripped = std::regex_replace(html, std::regex("http://www\\.w3\\.org/2000/svg"), "");
    EXPECT_EQ(stripped.find("://"), std::string::npos);
    EXPECT_EQ(stripped.find("src="), std::string::npos);
    EXPECT_EQ(stripped.find("<link"), std::string::npos);
    EXPECT_EQ(stripped.find("url(") , stripped.find("url(#head"));  // only in-page markers
    // One verdict row per fact.
    EXPECT_EQ(count_of(html, "<tr class=\"verdict "), verdicts.size());
}

TEST(LadderPage, IndexLinksEachPageWithItsVerdict) {
    std::string html = render_index_html({{"zero-byte-send", "s", "zero-byte-send.html", 5, 5, 0, true, ""},
                                          {"time-wait", "t", "", 5, 4, 0, false, "timed out"}});
    EXPECT_NE(html.find("<a href=\"zero-byte-send.html\">zero-byte-send</a>"), std::string::npos);
    EXPECT_NE(html.find("FAIL (timed out)"), std::string::npos);
    EXPECT_EQ(html.find("href=\"\""), std::string::npos) << "no link to a page that was not written";
}

}  // namespace
}  // namespace tcpscope

namespace tcpscope {
namespace {

// `run --html`: a file for one scenario, a directory with --all; both keep
// the usual output options.
TEST(LadderPageCli, RunTakesHtml) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"tcpscope", "run", "zero-byte-send", "--html", "z.html"},
             {"tcpscope", "run", "--all", "--html", "pages", "--json", "--output", "run.jsonl"}}) {
        CLI::App app{"tcpscope"};
        RunOptions o;
        add_run_command(app, o);
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        ASSERT_NO_THROW(app.parse(static_cast<int>(argv.size()), argv.data()));
        EXPECT_EQ(o.html, args[4]);
        EXPECT_EQ(o.all, args[2] == "--all");
    }
}

}  // namespace
}  // namespace tcpscope

namespace tcpscope {
namespace {

TEST(LadderLayoutEdges, AnEmptyRunStillDrawsTheTwoLifelines) {
    LadderModel model = build_ladder_model(Timeline({}, {}), ResetReasons{}, "none");
    EXPECT_TRUE(model.rows.empty());
    LadderLayout layout = layout_ladder(model);
    ASSERT_EQ(layout.lane_x.size(), 2u);
    EXPECT_GT(layout.height, 0);
    std::string svg = render_ladder_svg(model, layout);
    EXPECT_EQ(count_of(svg, "class=\"lifeline\""), 2u);
    EXPECT_NE(render_ladder(model).find("CLIENT"), std::string::npos);
}

TEST(LadderLayoutEdges, AThirdActorGetsItsOwnColumnAndNothingOverlaps) {
    // peer-rebooted's ip commands, as if the runner had made them.
    Recording r = load("peer-rebooted");
    size_t moved = 0;
    for (auto& s : r.steps) {
        if (s.op == StepOp::Command) {
            s.side = "runner";
            ++moved;
        }
    }
    ASSERT_GT(moved, 0u);
    LadderModel model = build_ladder_model(Timeline(r.steps, r.events), r.reasons, "peer-rebooted");
    ASSERT_EQ(model.lanes.size(), 3u);
    EXPECT_EQ(model.lanes[2], "runner");
    LadderLayout layout = layout_ladder(model);
    EXPECT_GT(layout.lane_x[2], layout.lane_x[1]);
    std::vector<LayoutRect> boxes;
    for (const auto& row : layout.rows) {
        if (model.rows[row.row].lane == "runner") {
            EXPECT_GT(row.label.bounds.x, layout.lane_x[2]);
        }
        boxes.push_back(row.label.bounds);
    }
    for (size_t i = 0; i < boxes.size(); ++i) {
        EXPECT_LE(boxes[i].x + boxes[i].w, layout.width);
        for (size_t j = i + 1; j < boxes.size(); ++j) EXPECT_FALSE(boxes[i].overlaps(boxes[j]));
    }
}

}  // namespace
}  // namespace tcpscope
