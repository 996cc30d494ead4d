// What each scenario's facts file provides: what its program does, its
// facts, and the explanation printed under "Why:". One function per line of scenarios/catalog.txt,
// named after the scenario (zero-byte-send: zero_byte_send_facts()).
#pragma once

#include <string>
#include <vector>

#include "fact_shapes.h"
#include "facts.h"

namespace tcpscope {

struct ScenarioFacts {
    std::string setup;  // what the program does, for `tcpscope list --long`
    std::vector<Fact> facts;
    std::string explanation;
};

#define TCPSCOPE_SCENARIO(id, name, privilege, timeout_s, summary) ScenarioFacts id##_facts();
#include "scenario_list.inc"
#undef TCPSCOPE_SCENARIO

}  // namespace tcpscope
