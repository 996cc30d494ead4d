#include "scenario.h"

#include "cleanup.h"

#include <unistd.h>

#include <csignal>
#include <exception>
#include <string>

namespace scen {

namespace {

void on_signal(int sig) {
    emergency_cleanup();
    // Die of the same signal so the runner sees what happened.
    std::signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

void say(const std::string& s) {
    std::string line = s + "\n";
    if (::write(STDERR_FILENO, line.data(), line.size()) < 0) {
    }
}

}  // namespace

int run_scenario(const std::function<void()>& body) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) sigaddset(&sa.sa_mask, sig);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) sigaction(sig, &sa, nullptr);
    alarm(kWatchdogSeconds);
    steps_init();
    try {
        body();
    } catch (const std::exception& e) {
        say(std::string("scenario setup failed: ") + e.what());
        emergency_cleanup();
        return 2;
    }
    emergency_cleanup();  // normally nothing left; a no-op then
    return 0;
}

}  // namespace scen
