#include "socket_owners.h"

#include <unistd.h>

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

namespace tcpscope {

std::string run_owner_pass(int iter_link_fd, const std::function<void()>& between_reads) {
    int fd = bpf_iter_create(iter_link_fd);
    if (fd < 0) return std::string("bpf_iter_create: ") + std::strerror(errno);
    // The program writes one byte per file: a read of this size returns
    // after that many files (a few microseconds each).
    char buffer[1024];
    std::string error;
    int again = 0;
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof(buffer));
        if (between_reads) between_reads();
        if (n == 0) break;
        if (n > 0) continue;
        if (errno == EINTR) continue;
        // EAGAIN: the kernel stops a read after a million objects with
        // nothing written; the pass goes on at the next read.
        if (errno == EAGAIN && ++again < 1000) continue;
        error = std::string("reading the iterator: ") + std::strerror(errno);
        break;
    }
    close(fd);
    return error;
}

}  // namespace tcpscope
