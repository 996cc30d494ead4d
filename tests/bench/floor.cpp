// tcpscope_floor [set_state|kfree_skb|set_state_storage|set_state_hash|set_state_table|set_state_ktime]:
// attaches one of the benchmark's empty programs, or one that keeps a
// timestamp per socket (floor.bpf.c; set_state by default), and holds it until
// SIGINT or SIGTERM. The link belongs to this process, so it goes with it
// on every way out: nothing is pinned, nothing is left behind.
// tests/bench/run_bench.py runs it in rounds of its own.
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "floor.skel.h"
#include "stop_signals.h"

int main(int argc, char** argv) {
    const std::string hook = argc > 1 ? argv[1] : "set_state";
    const char* const hooks[] = {"set_state", "kfree_skb", "set_state_storage", "set_state_hash",
                                 "set_state_table",   "set_state_ktime"};
    bool known = false;
    for (const char* h : hooks) known |= hook == h;
    if (argc > 2 || !known) {
        std::fprintf(stderr, "usage: tcpscope_floor [set_state|kfree_skb|set_state_storage|set_state_hash|set_state_table|set_state_ktime]\n");
        return 2;
    }
    const sigset_t stop = block_stop_signals();

    struct floor_bpf* skel = floor_bpf__open();
    if (skel == nullptr) {
        std::fprintf(stderr, "tcpscope_floor: cannot open the programs: %s\n", std::strerror(errno));
        return 1;
    }
    // Only the one asked for: each round's bpf_stats are read per process,
    // so another would mix its runs into this one's.
    struct bpf_program* progs[] = {skel->progs.floor_set_state, skel->progs.floor_kfree_skb,
                                   skel->progs.set_state_storage, skel->progs.set_state_hash,
                                   skel->progs.set_state_table,   skel->progs.set_state_ktime};
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); ++i) {
        bpf_program__set_autoload(progs[i], hook == hooks[i]);
    }
    int err = floor_bpf__load(skel);
    if (!err) err = floor_bpf__attach(skel);
    if (err) {
        std::fprintf(stderr, "tcpscope_floor: cannot load or attach %s: %s\n", hook.c_str(),
                     std::strerror(-err));
        floor_bpf__destroy(skel);
        return 1;
    }
    std::fprintf(stderr, "tcpscope_floor: attached (%s)\n", hook.c_str());
    wait_for_stop(stop);
    floor_bpf__destroy(skel);
    return 0;
}
