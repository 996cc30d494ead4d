#include "runner_scope.h"

#include "inherited_fd.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace scen {
namespace {

// The runner's end of the channel, or -1 outside the runner. Looked up once.
int scope_fd() {
    static const int fd = inherited_fd("TCPSCOPE_SCOPE_FD");
    return fd;
}

}  // namespace

void ask_runner_to_trace(const std::string& name) {
    const int fd = scope_fd();
    if (fd < 0) return;
    const std::string request = name + "\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        return;  // the runner is gone: nothing to wait for
    }
    // The answer is the same line. Lines for other names (another process
    // of the program asking at the same time) are not ours.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string pending;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                          std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        pollfd p{fd, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        char buf[256];
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return;
        pending.append(buf, static_cast<size_t>(got));
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (line == name) return;
        }
    }
}

}  // namespace scen
