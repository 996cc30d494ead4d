// The scenario catalogue: it covers every scenario program in the tree,
// and none of them can pass without checking something.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "catalog.h"

namespace tcpscope {
namespace {

// scenarios/catalog.txt is the one list; a program added to scenarios/
// without a line there would never run, nor be tested.
TEST(Catalog, EveryScenarioProgramInTheTreeIsCatalogued) {
    std::set<std::string> programs;
    for (const auto& entry : std::filesystem::directory_iterator(TCPSCOPE_SCENARIO_SOURCES)) {
        if (entry.path().extension() != ".cpp") continue;
        std::string name = entry.path().stem().string();
        std::replace(name.begin(), name.end(), '_', '-');
        programs.insert(name);
    }
    std::set<std::string> catalogued;
    for (const auto& s : scenario_catalog()) catalogued.insert(s.name);
    EXPECT_EQ(programs, catalogued);
    EXPECT_GE(catalogued.size(), 16u);
}

TEST(Catalog, EveryScenarioDeclaresFactsAndExplains) {
    for (const auto& s : scenario_catalog()) {
        EXPECT_FALSE(s.facts.empty()) << s.name;
        EXPECT_FALSE(s.summary.empty()) << s.name;
        // docs/scenarios.md and `tcpscope list --long` say what it does.
        EXPECT_GT(s.setup.size(), 40u) << s.name;
        EXPECT_GT(s.explanation.size(), 100u) << s.name;
        EXPECT_GT(s.timeout_s, 0) << s.name;
        std::set<std::string> texts;
        for (const auto& f : s.facts) {
            EXPECT_TRUE(static_cast<bool>(f.check)) << s.name << ": " << f.text;
            // Verdicts are told apart by their text (README, --json).
            EXPECT_TRUE(texts.insert(f.text).second) << s.name << ": twice: " << f.text;
        }
    }
}

TEST(Catalog, AScenarioWithoutFactsFails) {
    ScenarioSpec empty;
    empty.name = "nothing";
    Timeline timeline;
    ResetReasons reasons;
    auto verdicts = evaluate(empty.facts, FactContext{timeline, reasons, KernelSupport{}});
    ASSERT_EQ(verdicts.size(), 1u);
    EXPECT_FALSE(verdicts[0].ok);
}

}  // namespace
}  // namespace tcpscope
