// A run that lost events is judged neither pass nor FAIL (run_verdict.h),
// and every view says so with the number lost: the JSON summary and the
// HTML index (the text views print run_verdict_text, tested here).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ladder_html.h"
#include "run_json.h"
#include "run_verdict.h"

namespace tcpscope {
namespace {

TEST(RunVerdict, LostEventsLeaveTheFactsUnjudged) {
    EXPECT_EQ(run_verdict(true, true, 0), RunVerdict::Pass);
    EXPECT_EQ(run_verdict(true, false, 0), RunVerdict::Fail);
    // Facts that held or failed on an incomplete record say nothing.
    EXPECT_EQ(run_verdict(true, true, 1), RunVerdict::NotJudged);
    EXPECT_EQ(run_verdict(true, false, 983160), RunVerdict::NotJudged);
    // A program that did not run to the end (or exited non-zero) failed,
    // whatever the tracing lost.
    EXPECT_EQ(run_verdict(false, true, 5), RunVerdict::Fail);
    EXPECT_EQ(run_verdict(false, false, 0), RunVerdict::Fail);
}

TEST(RunVerdict, EventsTheKernelCountedAndNeverTracedLeaveItUnjudged) {
    EXPECT_EQ(run_verdict(true, true, 0, 1), RunVerdict::NotJudged);
    // A fact that failed outright fails the run: what is untraced cannot
    // excuse it.
    EXPECT_EQ(run_verdict(true, false, 0, 1), RunVerdict::Fail);
    EXPECT_EQ(run_verdict(false, true, 0, 1), RunVerdict::Fail);
    EXPECT_EQ(run_verdict_text(RunVerdict::NotJudged, 0, 1),
              "NOT JUDGED (1 event the namespace counted and the kernel's tracepoints never reported: "
              "the facts could not be judged)");
    // Lost events are the first reason given.
    EXPECT_EQ(run_verdict_text(RunVerdict::NotJudged, 3, 1),
              "NOT JUDGED (3 events lost: the facts could not be judged)");
}

TEST(RunVerdict, WordsSayWhyAndHowMany) {
    EXPECT_EQ(run_verdict_text(RunVerdict::Pass, 0), "pass");
    EXPECT_EQ(run_verdict_text(RunVerdict::Fail, 0), "FAIL");
    EXPECT_EQ(run_verdict_text(RunVerdict::NotJudged, 983160),
              "NOT JUDGED (983160 events lost: the facts could not be judged)");
    EXPECT_EQ(run_verdict_text(RunVerdict::NotJudged, 1),
              "NOT JUDGED (1 event lost: the facts could not be judged)");
    EXPECT_STREQ(run_verdict_key(RunVerdict::Pass), "pass");
    EXPECT_STREQ(run_verdict_key(RunVerdict::Fail), "fail");
    EXPECT_STREQ(run_verdict_key(RunVerdict::NotJudged), "not_judged");
}

TEST(RunVerdict, JsonSummaryCarriesTheVerdictAndTheLoss) {
    RunSummary s;
    s.scenario = "close-wait-forever";
    s.facts = 4;
    s.held = 4;
    s.lost = 983160;
    s.ok = false;
    s.verdict = run_verdict_key(run_verdict(true, true, s.lost));
    std::string line;
    append_run_summary_json(line, s);
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("verdict"), "not_judged");
    EXPECT_EQ(j.at("ok"), false);
    EXPECT_EQ(j.at("lost"), 983160u);
    // exec's summary has no facts to judge: no verdict key.
    RunSummary e;
    line.clear();
    append_run_summary_json(line, e);
    EXPECT_FALSE(nlohmann::json::parse(line).contains("verdict"));
}

TEST(RunVerdict, HtmlIndexSaysNotJudgedWithTheLoss) {
    std::vector<IndexEntry> entries{
        {"close-wait-forever", "c", "close-wait-forever.html", 4, 4, 0, false, "", 983160},
        {"time-wait", "t", "time-wait.html", 5, 5, 0, true, "", 0},
        {"peer-vanished", "p", "", 5, 3, 0, false, "timed out", 7},
    };
    std::string html = render_index_html(entries);
    EXPECT_NE(html.find("<tr class=\"unjudged\"><td><a href=\"close-wait-forever.html\">"), std::string::npos);
    EXPECT_NE(html.find("NOT JUDGED (983160 events lost: the facts could not be judged)"), std::string::npos);
    EXPECT_NE(html.find("<tr class=\"holds\"><td><a href=\"time-wait.html\">"), std::string::npos);
    // Timed out: a failure of the program's own, whatever was lost.
    EXPECT_NE(html.find("FAIL (timed out)"), std::string::npos);
    // The unjudged row says neither pass nor FAIL.
    size_t row = html.find("close-wait-forever.html");
    std::string unjudged = html.substr(row, html.find("</tr>", row) - row);
    EXPECT_EQ(unjudged.find("pass"), std::string::npos);
    EXPECT_EQ(unjudged.find("FAIL"), std::string::npos);
}

}  // namespace
}  // namespace tcpscope
