// tcpscope_floor [set_state|kfree_skb]: attaches one of the benchmark's
// empty programs (floor.bpf.c; set_state by default) and holds it until
// SIGINT or SIGTERM. The link belongs to this process, so it goes with it
// on every way out: nothing is pinned, nothing is left behind.
// tests/bench/run_bench.py runs it in rounds of its own.
#include <bpf/libbpf.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "floor.skel.h"

int main(int argc, char** argv) {
    const std::string hook = argc > 1 ? argv[1] : "set_state";
    if (argc > 2 || (hook != "set_state" && hook != "kfree_skb")) {
        std::fprintf(stderr, "usage: tcpscope_floor [set_state|kfree_skb]\n");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    // Blocked before attaching: a signal that comes early waits for sigwait.
    sigprocmask(SIG_BLOCK, &stop, nullptr);

    struct floor_bpf* skel = floor_bpf__open();
    if (skel == nullptr) {
        std::fprintf(stderr, "tcpscope_floor: cannot open the programs: %s\n", std::strerror(errno));
        return 1;
    }
    // Only the one asked for: each round's bpf_stats are read per process,
    // so the other would mix its runs into the floor's.
    bpf_program__set_autoload(hook == "set_state" ? skel->progs.floor_kfree_skb
                                                  : skel->progs.floor_set_state,
                              false);
    int err = floor_bpf__load(skel);
    if (!err) err = floor_bpf__attach(skel);
    if (err) {
        std::fprintf(stderr, "tcpscope_floor: cannot load or attach %s: %s\n", hook.c_str(),
                     std::strerror(-err));
        floor_bpf__destroy(skel);
        return 1;
    }
    std::fprintf(stderr, "tcpscope_floor: attached (%s)\n", hook.c_str());
    int sig = 0;
    sigwait(&stop, &sig);
    floor_bpf__destroy(skel);
    return 0;
}
