// Every catalogue scenario has a run recorded on Linux 6.18
// (scenarios/<name>/recording.jsonl, `tcpscope run <name> --json`), and
// every fact of the scenario holds on it. The altered recordings that must
// fail are in the scenario's folder too (scenarios/<name>/facts_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

std::vector<std::string> catalogue_names() {
    std::vector<std::string> names;
    for (const auto& spec : scenario_catalog()) names.push_back(spec.name);
    return names;
}

class AllHold : public testing::TestWithParam<std::string> {};

TEST_P(AllHold, OnTheRecordedRun) {
    Recording r = load(GetParam());
    ASSERT_FALSE(r.steps.empty()) << "no steps in the recording of " << GetParam();
    auto verdicts = verdicts_of(r, GetParam());
    EXPECT_EQ(verdicts.size(), find_scenario(GetParam())->facts.size());
    for (const auto& v : verdicts) EXPECT_TRUE(v.ok) << v.fact << ": " << v.detail;
}

INSTANTIATE_TEST_SUITE_P(RecordedRuns, AllHold, testing::ValuesIn(catalogue_names()),
                         [](const auto& info) {
                             std::string name = info.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

}  // namespace
}  // namespace tcpscope
