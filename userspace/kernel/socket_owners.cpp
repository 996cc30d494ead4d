#include "socket_owners.h"

#include <unistd.h>

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

namespace tcpscope {

std::string run_owner_pass(int iter_link_fd, const std::function<void()>& between_reads) {
    int fd = bpf_iter_create(iter_link_fd);
    if (fd < 0) return std::string("bpf_iter_create: ") + std::strerror(errno);
    // The program writes one byte per task: a read of this size returns
    // after that many tasks (a few microseconds each, more for a task with
    // many descriptors).
    char buffer[64];
    std::string error;
    int again = 0;
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof(buffer));
        if (between_reads) between_reads();
        if (n == 0) break;
        if (n > 0) continue;
        if (errno == EINTR) continue;
        // EAGAIN: the kernel may stop a read with nothing written; the
        // pass goes on at the next read.
        if (errno == EAGAIN && ++again < 1000) continue;
        error = std::string("reading the iterator: ") + std::strerror(errno);
        break;
    }
    close(fd);
    return error;
}

}  // namespace tcpscope
