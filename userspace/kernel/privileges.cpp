#include "privileges.h"

#include <grp.h>
#include <pwd.h>
#include <dirent.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace tcpscope {

bool drop_privileges(const std::string& user, std::string* error) {
    if (geteuid() != 0) return true;
    struct passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr) {
        *error = "--user: no such user '" + user + "'";
        return false;
    }
    // Order matters: groups and gid while we still may change them.
    if (setgroups(0, nullptr) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
        setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
        *error = "cannot switch to user '" + user + "': " + std::strerror(errno);
        return false;
    }
    // A uid change from 0 clears the permitted and effective capability
    // sets (no SECBIT_KEEP_CAPS is set); make sure it really did.
    if (setresuid(0, 0, 0) == 0) {
        *error = "dropping root failed: root could be regained";
        return false;
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return true;
}

namespace {

struct Caps {
    uint64_t effective = 0, permitted = 0, inheritable = 0;
};

bool get_caps(Caps* c) {
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2]{};
    if (syscall(SYS_capget, &h, d) != 0) return false;
    c->effective = d[0].effective | (uint64_t(d[1].effective) << 32);
    c->permitted = d[0].permitted | (uint64_t(d[1].permitted) << 32);
    c->inheritable = d[0].inheritable | (uint64_t(d[1].inheritable) << 32);
    return true;
}

bool set_caps(const Caps& c) {
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2]{};
    d[0] = {uint32_t(c.effective), uint32_t(c.permitted), uint32_t(c.inheritable)};
    d[1] = {uint32_t(c.effective >> 32), uint32_t(c.permitted >> 32), uint32_t(c.inheritable >> 32)};
    return syscall(SYS_capset, &h, d) == 0;
}

constexpr uint64_t bit(int cap) { return uint64_t(1) << cap; }

int threads_of_this_process() {
    int n = 0;
    if (DIR* d = opendir("/proc/self/task")) {
        while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
        closedir(d);
    }
    return n;
}

int last_cap() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int n = 0;
    return (in >> n) && n > 0 ? n : 63;
}

// Whether this process is down to one thread. A helper thread we joined
// (the owners' seeding drains the ring buffer on one; sock_diag enters a
// namespace on another) can still be listed for a moment: pthread_join()
// returns when the thread lets go of its memory, a little before the kernel
// takes it off /proc/self/task. Seen once in a full run: "other threads are
// running" right after Tracer::start(). So it is given up to a second.
bool single_threaded() {
    for (int waited_ms = 0; waited_ms < 1000; ++waited_ms) {
        if (threads_of_this_process() <= 1) return true;
        usleep(1000);
    }
    return false;
}

}  // namespace

bool drop_to_bpf_reader(const std::string& user, std::string* kept, std::string* error) {
    if (!single_threaded()) {
        *error = "dropping privileges: other threads are running (capabilities are per thread)";
        return false;
    }
    Caps caps;
    if (!get_caps(&caps)) {
        *error = std::string("capget: ") + std::strerror(errno);
        return false;
    }
    const uint64_t keep = caps.permitted & bit(CAP_BPF);
    if (caps.effective & bit(CAP_SETPCAP)) {
        for (int cap = 0; cap <= last_cap(); ++cap) {
            if (cap != CAP_BPF) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
        }
    }
    std::string who = "uid " + std::to_string(geteuid());
    const bool may_switch = (caps.effective & bit(CAP_SETUID)) && (caps.effective & bit(CAP_SETGID));
    if (may_switch) {
        struct passwd* pw = getpwnam(user.c_str());
        if (pw == nullptr) {
            *error = "--user: no such user '" + user + "'";
            return false;
        }
        // KEEPCAPS: the permitted set survives the switch from root; the
        // effective set is cleared, and made CAP_BPF alone below.
        prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        if (setgroups(0, nullptr) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
            *error = "cannot switch to user '" + user + "': " + std::strerror(errno);
            return false;
        }
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        who = "user " + user;
    }
    Caps reduced;
    reduced.effective = reduced.permitted = keep;
    if (!set_caps(reduced)) {
        *error = std::string("capset: ") + std::strerror(errno);
        return false;
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    // Check, rather than trust, that nothing more is left.
    Caps now;
    if (!get_caps(&now) || (now.permitted & ~bit(CAP_BPF)) || (now.effective & ~bit(CAP_BPF))) {
        *error = "dropping privileges failed: capabilities beyond CAP_BPF remain";
        return false;
    }
    if (may_switch && setresuid(0, 0, 0) == 0) {
        *error = "dropping root failed: root could be regained";
        return false;
    }
    *kept = who + (keep ? ", CAP_BPF" : ", no capabilities");
    return true;
}

}  // namespace tcpscope
