// A cgroup v2 of tcpscope's own for the processes it starts (exec's command,
// run's scenario), so that the kernel side keeps only their events: the
// programs filter by it (--cgroup's subtree filter, in the kernel), where a
// pid would not do (the command forks, and inside a PID namespace its pids
// are not the kernel's).
//
// Made below the cgroup tcpscope itself runs in (/proc/self/cgroup, on the
// cgroup2 mount found in /proc/self/mountinfo), named
// tcpscope-<what>-<tcpscope's pid>; where that is refused (a cgroup that is
// not ours to split), at the top of the cgroup2 mount. The destructor kills
// whatever is still in it (cgroup.kill, 5.14+; else SIGKILL to each member
// until none is left) and removes it, on every way out that runs
// destructors (errors, and SIGINT/SIGTERM/SIGHUP, which the commands turn
// into a normal return). Only a SIGKILL of tcpscope itself leaves it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace tcpscope {

class CommandCgroup {
public:
    ~CommandCgroup();  // kill_all(), then rmdir
    CommandCgroup(const CommandCgroup&) = delete;
    CommandCgroup& operator=(const CommandCgroup&) = delete;

    // Makes the cgroup; null with *error when there is no cgroup v2 or it
    // cannot be made.
    static std::unique_ptr<CommandCgroup> create(const std::string& what, std::string* error);

    const std::string& path() const { return path_; }
    uint64_t id() const { return id_; }        // the kernel's cgroup id (kernfs inode)
    uint32_t level() const { return level_; }  // depth below the root, for the subtree filter

    // Moves pid (and its threads) in. Call before the process runs.
    bool add(pid_t pid, std::string* error);
    // Whether any process is left in it (or below it).
    bool populated() const;
    // SIGKILL to every process in it, then waits (up to a few seconds) for
    // it to be empty. Our own children among them still need reaping.
    void kill_all();

private:
    CommandCgroup() = default;
    std::string path_;
    uint64_t id_ = 0;
    uint32_t level_ = 0;
};

// Where cgroup v2 is mounted ("" when nowhere).
std::string cgroup2_mount_point();

}  // namespace tcpscope
