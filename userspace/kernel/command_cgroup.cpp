#include "command_cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "host_filter.h"

namespace tcpscope {

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool write_text(const std::string& path, const std::string& text, int* err) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    ssize_t n = write(fd, text.data(), text.size());
    *err = n < 0 ? errno : 0;
    close(fd);
    return n == static_cast<ssize_t>(text.size());
}

// Our own cgroup v2 path ("0::/a/b" in /proc/self/cgroup), "/" if none.
std::string own_cgroup() {
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) == 0) return line.substr(3).empty() ? "/" : line.substr(3);
    }
    return "/";
}

// mkdir path, then its id and level; false with *error.
bool make_at(const std::string& path, uint64_t* id, uint32_t* level, std::string* error) {
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        *error = "cannot make cgroup " + path + ": " + std::strerror(errno);
        return false;
    }
    if (!cgroup_id_of(path, id, error) || !cgroup_level_of(path, level, error)) {
        rmdir(path.c_str());
        return false;
    }
    return true;
}

}  // namespace

std::string cgroup2_mount_point() {
    // mountinfo: id parent major:minor root mount-point options ... - fstype source super
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream head(line.substr(0, dash));
        std::string id, parent, dev, root, mount_point;
        head >> id >> parent >> dev >> root >> mount_point;
        if (root == "/") return mount_point;
    }
    return "";
}

std::unique_ptr<CommandCgroup> CommandCgroup::create(const std::string& what, std::string* error) {
    const std::string mount = cgroup2_mount_point();
    if (mount.empty()) {
        *error = "no cgroup v2 is mounted";
        return nullptr;
    }
    const std::string name = "tcpscope-" + what + "-" + std::to_string(getpid());
    std::unique_ptr<CommandCgroup> cg(new CommandCgroup());
    // Below our own cgroup first: it stays inside whatever slice or
    // container tcpscope was started in. Then the mount's top.
    std::string own = own_cgroup();
    std::vector<std::string> parents{mount + (own == "/" ? "" : own), mount};
    std::string first_error;
    for (const auto& parent : parents) {
        std::string path = parent + "/" + name;
        std::string e;
        if (make_at(path, &cg->id_, &cg->level_, &e)) {
            cg->path_ = path;
            return cg;
        }
        if (first_error.empty()) first_error = e;
        if (parent == mount) break;
    }
    *error = first_error;
    return nullptr;
}

CommandCgroup::~CommandCgroup() {
    if (path_.empty()) return;
    kill_all();
    // Empty now (or its last members are zombies of ours, which no longer
    // count); an rmdir refused with EBUSY is retried for a moment.
    for (int tries = 0; tries < 200; ++tries) {
        if (rmdir(path_.c_str()) == 0 || errno == ENOENT) return;
        if (errno != EBUSY) break;
        usleep(10000);
    }
    std::fprintf(stderr, "tcpscope: could not remove cgroup %s: %s\n", path_.c_str(), std::strerror(errno));
}

bool CommandCgroup::add(pid_t pid, std::string* error) {
    int err = 0;
    if (!write_text(path_ + "/cgroup.procs", std::to_string(pid), &err)) {
        *error = "cannot move pid " + std::to_string(pid) + " into " + path_ + ": " + std::strerror(err);
        return false;
    }
    return true;
}

bool CommandCgroup::populated() const {
    return read_text(path_ + "/cgroup.events").find("populated 1") != std::string::npos;
}

void CommandCgroup::kill_all() {
    int err = 0;
    bool killed = write_text(path_ + "/cgroup.kill", "1", &err);  // 5.14+
    for (int tries = 0; tries < 500 && populated(); ++tries) {
        if (!killed) {
            // Older kernels: each member, again until none is left (a
            // member may fork between the read and the kill).
            std::istringstream procs(read_text(path_ + "/cgroup.procs"));
            for (long pid; procs >> pid;) kill(static_cast<pid_t>(pid), SIGKILL);
        }
        usleep(10000);
    }
}

}  // namespace tcpscope
