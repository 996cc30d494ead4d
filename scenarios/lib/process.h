// Client and server run as separate processes, as in the lab notes: signals
// (SIGPIPE) and process death (SIGKILL) belong to one of them, and the runner
// tells them apart by pid. This file forks them, orders them, and reaps them.
#pragma once

#include "steps.h"

#include <sys/types.h>

#include <functional>
#include <string>

namespace scen {

// Exit code of a child whose setup failed (a SetupError escaped its body).
constexpr int kChildSetupFailed = 3;

// Forks a child that runs body() and exits with its return value. The child
// dies with the scenario program (PR_SET_PDEATHSIG), resets the scenario's
// signal handlers, and never returns into the caller's stack (_exit), so it
// cannot run the parent's cleanup.
pid_t spawn(const std::function<int()>& body);

// Reaps a child and reports the step wait(<who>) (side = who) with info
// {"exit_status": N} or {"term_signal": S, "exit_status": 128+S} (the shell's
// number). Returns the raw waitpid status. Throws SetupError if the child
// reported a failed setup.
int wait_child(pid_t pid, const std::string& who);

// Same, without a step: for children whose end is not part of the story.
int reap_child(pid_t pid);

// Sends SIGKILL to a child and reports kill(<who>, SIGKILL) (side = who).
void kill_child(pid_t pid, const std::string& who);

// One-way, one-byte notifications between processes: "listening",
// "connected", "closed". A pipe, not a socket, so it never shows up among the
// socket events the tracer records. Create it before fork(); both processes
// keep both ends.
class Channel {
public:
    explicit Channel(std::string name);
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel();

    void notify();
    // Waits for one notify(); throws SetupError after timeout_ms.
    void wait(int timeout_ms = 20000);

private:
    std::string name_;
    int fds_[2] = {-1, -1};
};

// Gives the kernel time to process what the last call set off (a FIN, a RST).
void sleep_ms(int ms);

}  // namespace scen
