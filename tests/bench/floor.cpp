// tcpscope_floor: attaches the benchmark's empty program (floor.bpf.c) and
// holds it until SIGINT or SIGTERM. The link belongs to this process, so it
// goes with it on every way out: nothing is pinned, nothing is left behind.
// tests/bench/run_bench.py runs it in rounds of its own.
#include <bpf/libbpf.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "floor.skel.h"

int main() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    // Blocked before attaching: a signal that comes early waits for sigwait.
    sigprocmask(SIG_BLOCK, &stop, nullptr);

    struct floor_bpf* skel = floor_bpf__open_and_load();
    if (skel == nullptr) {
        std::fprintf(stderr, "tcpscope_floor: cannot load the program: %s\n", std::strerror(errno));
        return 1;
    }
    int err = floor_bpf__attach(skel);
    if (err) {
        std::fprintf(stderr, "tcpscope_floor: cannot attach: %s\n", std::strerror(-err));
        floor_bpf__destroy(skel);
        return 1;
    }
    std::fprintf(stderr, "tcpscope_floor: attached\n");
    int sig = 0;
    sigwait(&stop, &sig);
    floor_bpf__destroy(skel);
    return 0;
}
