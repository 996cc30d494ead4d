// A descriptor the runner hands down to a scenario program by number, in
// an environment variable (the step pipe, the scope channel).
#pragma once

#include <fcntl.h>

#include <cstdlib>

namespace scen {

// The descriptor named by the variable `env_name`, or -1 when it is not
// set, not a number or not open. Marked close-on-exec, so that the
// commands the program runs (ip, nft) do not hold the runner's end open.
inline int inherited_fd(const char* env_name) {
    const char* env = std::getenv(env_name);
    if (!env || !*env) return -1;
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 0 || fcntl(static_cast<int>(v), F_GETFD) < 0) return -1;
    fcntl(static_cast<int>(v), F_SETFD, FD_CLOEXEC);
    return static_cast<int>(v);
}

}  // namespace scen
