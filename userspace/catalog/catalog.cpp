#include "catalog.h"

#include "scenario_facts.h"

namespace tcpscope {

namespace {

ScenarioSpec make_spec(const char* name, const char* summary, int timeout_s,
                       ScenarioPrivilege privilege, ScenarioFacts facts) {
    ScenarioSpec spec;
    spec.name = name;
    spec.summary = summary;
    spec.timeout_s = timeout_s;
    spec.privilege = privilege;
    spec.setup = std::move(facts.setup);
    spec.explanation = std::move(facts.explanation);
    spec.facts = std::move(facts.facts);
    return spec;
}

}  // namespace

const std::vector<ScenarioSpec>& scenario_catalog() {
    static const std::vector<ScenarioSpec> catalog = {
#define TCPSCOPE_SCENARIO(id, name, privilege, timeout_s, summary) \
    make_spec(name, summary, timeout_s, ScenarioPrivilege::privilege, id##_facts()),
#include "scenario_list.inc"
#undef TCPSCOPE_SCENARIO
    };
    return catalog;
}

const ScenarioSpec* find_scenario(const std::string& name) {
    for (const auto& spec : scenario_catalog()) {
        if (spec.name == name) return &spec;
    }
    return nullptr;
}

}  // namespace tcpscope
