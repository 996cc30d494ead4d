// Owners of the TCP sockets that existed before the tracer started.
//
// The kernel side learns a socket's owner when the owner acts on it in
// process context (connect, listen, send, close). A socket made earlier,
// by a server already running, has had no such moment yet: its events in
// softirq (a SYN on its listener, a FIN from the peer) would otherwise name
// nobody. So at start the loader finds each TCP socket's process through
// /proc/PID/fd, takes a copy of the descriptor (pidfd_getfd, Linux 5.6),
// and writes the owner into the socket's own storage, where the kernel
// side reads it, and from where the kernel copies a listener's owner into
// each child it accepts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <linux/types.h>

#include "tcpscope.h"

namespace tcpscope {

struct SeedResult {
    size_t sockets = 0;        // TCP sockets found in some process's descriptors
    size_t seeded = 0;         // whose owner was written
    size_t already_known = 0;  // the kernel side had seen their owner itself
    size_t failed = 0;         // could not be copied or written (the process left, ...)
    std::string first_error;   // why the first failure happened
};

// Seeds the owner of every TCP socket any process holds into map_fd (the
// BPF_MAP_TYPE_SK_STORAGE map of struct ts_sock_info). A socket held by
// several processes (a listener inherited across fork) goes to the one
// with the lowest pid, usually the parent that made it. filter decides the
// TS_F_IN_CGROUP bit (the --cgroup tree). Needs root (CAP_SYS_PTRACE for
// pidfd_getfd).
SeedResult seed_socket_owners(int map_fd, const ts_filter& filter);

}  // namespace tcpscope
