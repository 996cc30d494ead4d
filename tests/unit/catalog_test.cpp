// The scenario catalogue: it covers every scenario folder in the tree,
// each folder holds what a scenario is, and none of them can pass without
// checking something.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "catalog.h"

namespace tcpscope {
namespace {

// scenarios/catalog.txt is the one list; a scenario folder added to
// scenarios/ without a line there would never run, nor be tested.
TEST(Catalog, EveryScenarioProgramInTheTreeIsCatalogued) {
    std::set<std::string> folders;
    for (const auto& entry : std::filesystem::directory_iterator(TCPSCOPE_SCENARIO_SOURCES)) {
        if (entry.is_directory() && std::filesystem::exists(entry.path() / "program.cpp")) {
            folders.insert(entry.path().filename().string());
        }
    }
    std::set<std::string> catalogued;
    for (const auto& s : scenario_catalog()) catalogued.insert(s.name);
    EXPECT_EQ(folders, catalogued);
    EXPECT_GE(catalogued.size(), 16u);
}

// A scenario is one folder: its program, its facts, the run recorded on
// this kernel and the tests of its facts on that run (scenarios/README.md).
TEST(Catalog, EveryScenarioFolderHoldsItsProgramFactsRecordingAndTests) {
    for (const auto& s : scenario_catalog()) {
        const std::filesystem::path folder = std::filesystem::path(TCPSCOPE_SCENARIO_SOURCES) / s.name;
        for (const char* file : {"program.cpp", "facts.cpp", "recording.jsonl", "facts_test.cpp"}) {
            EXPECT_TRUE(std::filesystem::exists(folder / file)) << s.name << ": no " << file;
        }
    }
}

// Tests find a fact by its id, "<scenario>.<check>", never by its words.
TEST(Catalog, EveryFactHasAnIdOfItsScenarioOnce) {
    const std::regex shape("[a-z0-9-]+\\.[a-z0-9-]+");
    std::set<std::string> ids;
    for (const auto& s : scenario_catalog()) {
        for (const auto& f : s.facts) {
            EXPECT_TRUE(std::regex_match(f.id, shape)) << s.name << ": id \"" << f.id << "\"";
            EXPECT_EQ(f.id.rfind(s.name + ".", 0), 0u) << s.name << ": id " << f.id;
            EXPECT_TRUE(ids.insert(f.id).second) << "twice: " << f.id;
        }
    }
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
            // The output tells verdicts apart by their text (README, --json).
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
