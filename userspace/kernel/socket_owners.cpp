#include "socket_owners.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

namespace tcpscope {
namespace {

std::vector<uint32_t> process_ids() {
    std::vector<uint32_t> pids;
    DIR* d = opendir("/proc");
    if (!d) return pids;
    while (struct dirent* e = readdir(d)) {
        char* end = nullptr;
        unsigned long pid = std::strtoul(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0' && pid > 0) pids.push_back(static_cast<uint32_t>(pid));
    }
    closedir(d);
    std::sort(pids.begin(), pids.end());
    return pids;
}

// Descriptor numbers of pid that are sockets, with each socket's inode.
std::vector<std::pair<int, uint64_t>> socket_fds(uint32_t pid) {
    std::vector<std::pair<int, uint64_t>> out;
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (!d) return out;
    while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        char link[64] = {};
        std::string path = dir + "/" + e->d_name;
        ssize_t n = readlink(path.c_str(), link, sizeof(link) - 1);
        unsigned long long inode = 0;
        if (n > 0 && std::sscanf(link, "socket:[%llu]", &inode) == 1) {
            out.emplace_back(std::atoi(e->d_name), inode);
        }
    }
    closedir(d);
    return out;
}

std::string read_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Where the cgroup2 hierarchy is mounted ("" if nowhere).
std::string cgroup2_mount() {
    std::ifstream in("/proc/self/mounts");
    std::string dev, dir, type, rest;
    while (in >> dev >> dir >> type && std::getline(in, rest)) {
        if (type == "cgroup2") return dir;
    }
    return "";
}

struct ProcessIdentity {
    char comm[TS_COMM_LEN] = {};
    uint64_t cgroup_id = 0;
    bool in_filter_cgroup = false;
};

// Name and cgroup v2 of pid, as the kernel side records them for a task:
// comm, and the id (inode) of its cgroup directory.
ProcessIdentity identity_of(uint32_t pid, const std::string& mount, const ts_filter& filter) {
    ProcessIdentity id;
    std::string comm = read_line("/proc/" + std::to_string(pid) + "/comm");
    std::memcpy(id.comm, comm.data(), std::min(comm.size(), sizeof(id.comm) - 1));
    if (mount.empty()) return id;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, 3, "0::") != 0) continue;
        std::string dir = mount + line.substr(3);
        struct stat st {};
        if (stat(dir.c_str(), &st) != 0) break;
        id.cgroup_id = st.st_ino;
        // In the --cgroup tree: it or one of its parents up to the root
        // is the filter's cgroup.
        while (filter.cgroup_id != 0) {
            if (static_cast<uint64_t>(st.st_ino) == filter.cgroup_id) {
                id.in_filter_cgroup = true;
                break;
            }
            if (dir.size() <= mount.size()) break;
            dir = dir.substr(0, dir.rfind('/'));
            if (stat(dir.c_str(), &st) != 0) break;
        }
        break;
    }
    return id;
}

bool is_tcp_socket(int fd) {
    int domain = 0, protocol = 0;
    socklen_t len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return false;
    len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0) return false;
    return (domain == AF_INET || domain == AF_INET6) && protocol == IPPROTO_TCP;
}

}  // namespace

SeedResult seed_socket_owners(int map_fd, const ts_filter& filter) {
    SeedResult result;
    auto failed = [&](const std::string& why) {
        ++result.failed;
        if (result.first_error.empty()) result.first_error = why;
    };
    const std::string mount = cgroup2_mount();
    const uint32_t self = static_cast<uint32_t>(getpid());
    std::set<uint64_t> done;  // socket inodes already handled
    for (uint32_t pid : process_ids()) {
        if (pid == self) continue;
        auto fds = socket_fds(pid);
        if (fds.empty()) continue;
        int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
        if (pidfd < 0) continue;  // the process has just ended
        bool have_identity = false;
        ProcessIdentity identity;
        for (const auto& [fd, inode] : fds) {
            if (done.count(inode)) continue;
            int copy = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
            if (copy < 0) {
                if (errno != EBADF) {
                    failed("pidfd_getfd(" + std::to_string(pid) + ", " + std::to_string(fd) +
                           "): " + std::strerror(errno));
                }
                continue;  // EBADF: closed meanwhile
            }
            if (!is_tcp_socket(copy)) {
                done.insert(inode);
                close(copy);
                continue;
            }
            done.insert(inode);
            ++result.sockets;
            if (!have_identity) {
                identity = identity_of(pid, mount, filter);
                have_identity = true;
            }
            // The kernel side may have made this socket's storage already:
            // it keeps an owner it saw itself; its times are kept either way.
            ts_sock_info info{};
            bool exists = bpf_map_lookup_elem(map_fd, &copy, &info) == 0;
            // An owner copied from the listener is only a guess: the
            // process holding the accepted socket is the owner.
            if (exists && info.tgid != 0 && info.owner_from != TS_OWNER_LISTENER) {
                ++result.already_known;
                close(copy);
                continue;
            }
            info.tgid = pid;
            info.tid = pid;
            info.cgroup_id = identity.cgroup_id;
            std::memcpy(info.comm, identity.comm, sizeof(info.comm));
            info.owner_from = TS_OWNER_SEEDED;
            info.owner_flags = identity.in_filter_cgroup ? TS_F_IN_CGROUP : 0;
            if (!exists) info.seed_ino = inode;
            if (bpf_map_update_elem(map_fd, &copy, &info, exists ? BPF_EXIST : BPF_NOEXIST) == 0) {
                ++result.seeded;
            } else if (errno == EEXIST) {
                ++result.already_known;  // made by the kernel side in between
            } else {
                failed(std::string("writing a socket's owner: ") + std::strerror(errno));
            }
            close(copy);
        }
        close(pidfd);
    }
    return result;
}

}  // namespace tcpscope
