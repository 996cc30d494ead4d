// tcpscope_witness transitions PORT: the soak's control (tests/soak/run_soak.py
// --perf). Counts inet_sock_set_state firings for sockets with PORT at
// either end, with a BPF program of its own (witness.bpf.c), until SIGINT
// or SIGTERM; then prints {"fired":N,"skipped":M} on stdout. It says
// "attached" on stderr once counting has begun. The program's link is this
// process's: it goes with it on every way out.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bpf_witness.h"
#include "stop_signals.h"

int main(int argc, char** argv) {
    const int port = argc == 3 ? std::atoi(argv[2]) : 0;
    if (argc != 3 || std::string(argv[1]) != "transitions" || port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: tcpscope_witness transitions PORT\n");
        return 2;
    }
    const sigset_t stop = block_stop_signals();
    ktest::BpfWitness witness = ktest::BpfWitness::transitions(static_cast<uint16_t>(port));
    if (!witness.fired()) {
        std::fprintf(stderr, "tcpscope_witness: %s\n", witness.error().c_str());
        return 1;
    }
    std::fprintf(stderr, "tcpscope_witness: attached\n");
    wait_for_stop(stop);
    std::printf("{\"fired\":%llu,\"skipped\":%llu}\n", static_cast<unsigned long long>(*witness.fired()),
                static_cast<unsigned long long>(witness.skipped()));
    return 0;
}
