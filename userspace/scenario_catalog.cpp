#include "scenario_catalog.h"

namespace tcpscope {

const std::vector<ScenarioSpec>& scenario_catalog() {
    static const std::vector<ScenarioSpec> catalog = {
        zero_byte_send_scenario(),
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
