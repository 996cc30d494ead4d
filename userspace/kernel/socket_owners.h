// Owners of the TCP sockets that existed before the tracer started.
//
// The kernel side learns a socket's owner when the owner acts on it in
// process context (connect, listen, send, close). A socket made earlier,
// by a server already running, has had no such moment yet: its events in
// softirq (a SYN on its listener, a FIN from the peer) would otherwise name
// nobody. So at start the loader runs a BPF iterator over every task once
// (learn_owners in bpf/older_owners.bpf.h, iter/task): the kernel side reads each
// task's descriptor table, finds each TCP socket itself and records its
// owner, which the programs adopt into the socket's storage when they
// first meet it. No descriptor of another process is touched nor any file
// referenced (their close() stays the last reference), no ptrace right is
// needed, and the pids are global.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace tcpscope {

struct SeedResult {
    bool ran = false;          // the pass went to its end
    size_t sockets = 0;        // TCP sockets found in some task's files
    size_t seeded = 0;         // whose owner was recorded
    size_t already_known = 0;  // (the pass cannot tell: always 0)
    size_t failed = 0;         // no room to record them
    std::string error;         // why the pass could not run (then the counts are 0)
};

// Reads the iterator link's pass to its end (bpf_iter_create, then reads;
// each read covers a bounded number of tasks), calling between_reads (if
// set) after each read. Returns "" or why the pass failed.
std::string run_owner_pass(int iter_link_fd, const std::function<void()>& between_reads);

}  // namespace tcpscope
