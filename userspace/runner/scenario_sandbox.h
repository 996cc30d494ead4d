// What a scenario program may do, and the confinement that enforces it.
// The runner needs root (BPF, cleanup); a scenario needs far less, and a
// scenario is a program a user may point us at (TCPSCOPE_SCENARIO_DIR), so
// it gets only what its puzzle needs.
#pragma once

#include <string>

#include "catalog.h"

namespace tcpscope {

const char* privilege_name(ScenarioPrivilege privilege);

// Set in a Loopback scenario's environment: its private namespace is
// ready, it must not (and cannot) make one itself.
constexpr char kNetnsReadyEnv[] = "TCPSCOPE_NETNS_READY";

// In the forked child, before exec: applies the confinement. Returns
// false with *error set (the child must then not run the program).
bool confine_scenario(ScenarioPrivilege privilege, std::string* error);

}  // namespace tcpscope
