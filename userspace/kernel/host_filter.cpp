#include "host_filter.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // Linux 5.14; older libc headers lack it
#endif

namespace tcpscope {

namespace {

// --netns as a file (or a name under /run/netns): its inode, and its
// cookie read from inside it.
bool netns_file_spec(const std::string& text, const std::string& path, NetnsSpec* spec, std::string* error) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            *error = "--netns: '" + text + "' is not an inode, a cookie:N, or a namespace file (" +
                     path + ": " + std::strerror(errno) + ")";
        } else {
            *error = "--netns: cannot open '" + path + "': " + std::strerror(errno);
        }
        return false;
    }
    std::string why;
    spec->cookie = netns_cookie_of(path, &why);
    if (spec->cookie == 0) {
        *error = "--netns: " + why;
        return false;
    }
    spec->inode = static_cast<uint32_t>(st.st_ino);
    return true;
}

bool cgroup_of(const std::string& path, uint64_t* id, uint32_t* level, std::string* error) {
    return cgroup_id_of(path, id, error) && cgroup_level_of(path, level, error);
}

}  // namespace

bool cgroup_id_of(const std::string& path, uint64_t* id, std::string* error) {
    struct statfs fs {};
    struct stat st {};
    if (statfs(path.c_str(), &fs) != 0 || stat(path.c_str(), &st) != 0) {
        *error = "--cgroup: cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
        *error = "--cgroup: '" + path + "' is not a cgroup v2 directory";
        return false;
    }
    *id = st.st_ino;
    return true;
}

bool cgroup_level_of(const std::string& path, uint32_t* level, std::string* error) {
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) == nullptr) {
        *error = "--cgroup: cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    // Climb while the parent is still the same cgroup2 mount: each step is
    // one level. The mount's root is the first directory whose parent is
    // another file system (or itself).
    std::string dir = resolved;
    uint32_t depth = 0;
    struct stat here {};
    if (stat(dir.c_str(), &here) != 0) {
        *error = "--cgroup: cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    while (dir != "/") {
        std::string parent = dir.substr(0, dir.rfind('/'));
        if (parent.empty()) parent = "/";
        struct statfs fs {};
        struct stat up {};
        if (statfs(parent.c_str(), &fs) != 0 || stat(parent.c_str(), &up) != 0 ||
            fs.f_type != CGROUP2_SUPER_MAGIC || up.st_dev != here.st_dev) {
            break;
        }
        ++depth;
        dir = parent;
        here = up;
    }
    *level = depth;
    return true;
}

uint64_t netns_cookie_of(const std::string& path, std::string* error) {
    uint64_t cookie = 0;
    std::string failure;
    // Entering a namespace changes the calling thread's only: a thread of
    // our own does it and ends, and nothing else of the process moves.
    std::thread worker([&] {
        if (!path.empty()) {
            int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (ns < 0) {
                failure = "cannot open '" + path + "': " + std::strerror(errno);
                return;
            }
            int rc = setns(ns, CLONE_NEWNET);
            int saved = errno;
            close(ns);
            if (rc != 0) {
                failure = "'" + path + "' is not a network namespace we can enter: " +
                          std::strerror(saved);
                return;
            }
        }
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            failure = std::string("cannot make a socket to read the namespace cookie: ") +
                      std::strerror(errno);
            return;
        }
        socklen_t len = sizeof(cookie);
        if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
            failure = std::string("SO_NETNS_COOKIE: ") + std::strerror(errno) +
                      " (Linux 5.14 added it)";
            cookie = 0;
        }
        close(s);
    });
    worker.join();
    if (cookie == 0 && error) *error = failure;
    return cookie;
}

HostLookups host_lookups() {
    HostLookups host;
    host.cgroup = cgroup_of;
    host.netns_file = netns_file_spec;
    return host;
}

bool build_host_filter(const FilterOptions& options, ts_filter* filter, std::string* error) {
    return build_filter(options, filter, error, host_lookups());
}

}  // namespace tcpscope
