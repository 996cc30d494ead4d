// What a scenario program may do, and the confinement that enforces it.
// The runner needs root (BPF, cleanup); a scenario needs far less, and a
// scenario is a program a user may point us at (TCPSCOPE_SCENARIO_DIR), so
// it gets only what its puzzle needs.
#pragma once

#include <string>

namespace tcpscope {

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

const char* privilege_name(ScenarioPrivilege privilege);

// Set in a Loopback scenario's environment: its private namespace is
// ready, it must not (and cannot) make one itself.
constexpr char kNetnsReadyEnv[] = "TCPSCOPE_NETNS_READY";

// In the forked child, before exec: applies the confinement. Returns
// false with *error set (the child must then not run the program).
bool confine_scenario(ScenarioPrivilege privilege, std::string* error);

}  // namespace tcpscope
