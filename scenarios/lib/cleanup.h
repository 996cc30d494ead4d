// What must not outlive a scenario: its child processes and the named network
// namespaces it created. Everything is recorded here as it is made, so that
// one async-signal-safe routine can undo it from a signal handler (SIGINT,
// SIGTERM, SIGHUP, the watchdog's SIGALRM) or from a failed setup.
//
// If the scenario program itself is SIGKILLed nothing here runs: the children
// still die (PR_SET_PDEATHSIG), and the namespaces, all named
// "tsc-<pid>-<role>" (see netns.h), are left for the runner to delete by
// prefix.
#pragma once

#include <string>
#include <sys/types.h>

namespace scen {

void register_child(pid_t pid);
void unregister_child(pid_t pid);  // once reaped
void register_netns(const std::string& name);
void unregister_netns(const std::string& name);  // once deleted

// Kills (SIGKILL) and reaps every registered child first (their sockets go
// with them, so no orphan keeps a namespace alive), then removes every
// registered namespace the way `ip netns del` does (umount2 + unlink).
// Async-signal-safe.
void emergency_cleanup();

// The first half of emergency_cleanup(): SIGKILL and reap every registered child.
void kill_children();

// A forked child must not act on its parent's records.
void forget_all();

}  // namespace scen
