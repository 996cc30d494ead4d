// The scenario catalogue: every scenario of ../shared/SCENARIOS.md is
// bundled, and none of them can pass without checking something.
#include <gtest/gtest.h>

#include <set>

#include "scenario_catalog.h"

namespace tcpscope {
namespace {

TEST(Catalog, HasEveryScenarioOfTheCatalogue) {
    const std::set<std::string> expected = {
        "zero-byte-send",     "sigpipe-default",       "close-unread-data", "linger-zero",
        "time-wait",          "close-wait-forever",    "fin-wait1-zero-window",
        "shutdown-write",     "send-buffer-full",      "connect-refused",
        "nonblocking-connect", "rst-before-accept",    "peer-vanished",     "peer-rebooted",
        "server-killed",      "econnreset-then-sigpipe"};
    std::set<std::string> names;
    for (const auto& s : scenario_catalog()) names.insert(s.name);
    EXPECT_EQ(names, expected);
    EXPECT_EQ(scenario_catalog().size(), expected.size()) << "a name appears twice";
}

TEST(Catalog, EveryScenarioDeclaresFactsAndExplains) {
    for (const auto& s : scenario_catalog()) {
        EXPECT_FALSE(s.facts.empty()) << s.name;
        EXPECT_FALSE(s.summary.empty()) << s.name;
        EXPECT_GT(s.explanation.size(), 100u) << s.name;
        EXPECT_GT(s.timeout_s, 0) << s.name;
        for (const auto& f : s.facts) EXPECT_TRUE(static_cast<bool>(f.check)) << s.name << ": " << f.text;
    }
}

TEST(Catalog, AScenarioWithoutFactsFails) {
    ScenarioSpec empty;
    empty.name = "nothing";
    Timeline timeline;
    ResetReasons reasons;
    auto verdicts = evaluate(empty, FactContext{timeline, reasons});
    ASSERT_EQ(verdicts.size(), 1u);
    EXPECT_FALSE(verdicts[0].ok);
}

}  // namespace
}  // namespace tcpscope
