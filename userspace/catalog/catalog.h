// The bundled scenarios as plain data: the list itself is
// scenarios/catalog.txt (name, privilege, timeout, summary), from which
// CMake generates the table; each scenario's setup, facts and explanation
// come from its folder, scenarios/<name>/facts.cpp. The facts know nothing
// of the table.
// `tcpscope list --long` and docs/scenarios.md are written from it.
#pragma once

#include <string>
#include <vector>

#include "facts.h"

namespace tcpscope {

// What a scenario program may do; scenario/scenario_sandbox.h enforces it.
enum class ScenarioPrivilege {
    // Plays on loopback in a private network namespace. The runner makes
    // that namespace (lo up) before exec, then runs the program as
    // `nobody` with no capabilities.
    Loopback,
    // Builds its own hosts: named namespaces, veth pairs, links that go
    // down. Keeps uid 0 for /run/netns, with only CAP_NET_ADMIN and
    // CAP_SYS_ADMIN (mount and setns for `ip netns`) left in every set.
    Namespaces,
};

struct ScenarioSpec {
    std::string name;         // as in the catalogue: "zero-byte-send"
    std::string summary;      // one line for `tcpscope list`
    int timeout_s = 60;       // the runner kills the scenario after this
    ScenarioPrivilege privilege = ScenarioPrivilege::Loopback;
    std::string setup;        // what the program does, in plain words
    std::string explanation;  // plain words, printed after the verdicts
    std::vector<Fact> facts;
};

const std::vector<ScenarioSpec>& scenario_catalog();
const ScenarioSpec* find_scenario(const std::string& name);

}  // namespace tcpscope
