// For the test tools that hold a BPF program until told to stop
// (tcpscope_floor, tcpscope_witness): SIGINT and SIGTERM are blocked before
// anything is attached, so that one that comes early waits for sigwait
// instead of killing the tool before it has cleaned up.
#pragma once

#include <signal.h>

inline sigset_t block_stop_signals() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    return stop;
}

// Returns the stop signal that came.
inline int wait_for_stop(const sigset_t& stop) {
    int sig = 0;
    sigwait(&stop, &sig);
    return sig;
}
