// The frame every scenario program runs in, and the one header scenarios include.
//
//     int main() { return scen::run_scenario([] { ... }); }
//
// run_scenario() installs the cleanup handlers (SIGINT, SIGTERM, SIGHUP) and a
// watchdog (SIGALRM after kWatchdogSeconds) that kill the children and delete
// the namespaces, then runs the body. Exit status: 0 when the scenario ran to
// completion, whatever the calls returned (the runner judges the facts); 2
// when the stage could not be built (SetupError or any other exception);
// 128+signal when interrupted.
#pragma once

#include "clock.h"
#include "errors.h"
#include "net_counters.h"
#include "netns.h"
#include "nft.h"
#include "tcp_setup.h"
#include "process.h"
#include "sock_diag.h"
#include "socket_info.h"
#include "steps.h"

#include <functional>

namespace scen {

// No scenario takes more than ~20 s; past this something hangs.
constexpr unsigned kWatchdogSeconds = 60;

int run_scenario(const std::function<void()>& body);

}  // namespace scen
