#include "signals.h"

namespace tcpscope {

namespace {
volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_stop_from_kernel = 0;

void on_stop(int sig, siginfo_t* info, void*) {
    // Once a stop was asked for by a process, a later one from the
    // terminal does not make it look like the terminal's alone.
    if (!g_stop_signal) g_stop_from_kernel = info && info->si_code == SI_KERNEL;
    g_stop_signal = sig;
}
}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_sigaction = on_stop;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    // No SA_RESTART: a blocking epoll_wait returns EINTR at once.
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop_signal != 0; }
int stop_signal() { return g_stop_signal; }
bool stop_sent_by_kernel() { return g_stop_from_kernel != 0; }

}  // namespace tcpscope
