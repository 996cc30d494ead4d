#include "scenario_sandbox.h"

#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace tcpscope {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// A new namespace has lo down, and 127.0.0.1 answers only once it is up.
bool make_loopback_namespace(std::string* error) {
    if (unshare(CLONE_NEWNET) != 0) {
        *error = errno_text("unshare(CLONE_NEWNET)");
        return false;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = errno_text("socket");
        return false;
    }
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    if (ok) {
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        ok = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    }
    if (!ok) *error = errno_text("bringing lo up");
    close(fd);
    return ok;
}

int last_capability() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int last = CAP_LAST_CAP;
    in >> last;
    return last;
}

// Leaves only `keep` (a bit mask of CAP_* numbers below 64) in the bounding
// set, and no ambient capabilities. A root process that execs gets its
// bounding set as its capabilities, so the bound is what a program run as
// root will have. Needs CAP_SETPCAP, so it comes before the other drops.
bool limit_bounding_set(uint64_t keep, std::string* error) {
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    const int last = last_capability();
    for (int cap = 0; cap <= last; ++cap) {
        if (keep & (1ull << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            *error = errno_text("PR_CAPBSET_DROP " + std::to_string(cap));
            return false;
        }
    }
    return true;
}

// The permitted and effective sets become `keep`, inheritable empty.
bool set_capabilities(uint64_t keep, std::string* error) {
    struct __user_cap_header_struct header {};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    struct __user_cap_data_struct data[2] {};
    for (int i = 0; i < 2; ++i) {
        uint32_t bits = static_cast<uint32_t>(keep >> (32 * i));
        data[i].effective = bits;
        data[i].permitted = bits;
        data[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &header, data) != 0) {
        *error = errno_text("capset");
        return false;
    }
    return true;
}

// uid and gid of `nobody`, groups none: every capability goes with root.
bool become_nobody(std::string* error) {
    struct passwd* pw = getpwnam("nobody");
    uid_t uid = pw ? pw->pw_uid : 65534;
    gid_t gid = pw ? pw->pw_gid : 65534;
    if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
        *error = errno_text("switching to nobody");
        return false;
    }
    if (setuid(0) == 0) {
        *error = "could still regain root after switching to nobody";
        return false;
    }
    return true;
}

}  // namespace

const char* privilege_name(ScenarioPrivilege privilege) {
    return privilege == ScenarioPrivilege::Loopback ? "loopback" : "namespaces";
}

bool confine_scenario(ScenarioPrivilege privilege, std::string* error) {
    if (privilege == ScenarioPrivilege::Loopback) {
        if (!make_loopback_namespace(error)) return false;
        setenv(kNetnsReadyEnv, "1", 1);
        // Leaving uid 0 clears the permitted and effective sets.
        if (!limit_bounding_set(0, error) || !become_nobody(error)) return false;
    } else {
        const uint64_t keep = (1ull << CAP_NET_ADMIN) | (1ull << CAP_SYS_ADMIN);
        if (!limit_bounding_set(keep, error) || !set_capabilities(keep, error)) return false;
    }
    // No exec may give back what was taken (setuid or file capabilities).
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        *error = errno_text("PR_SET_NO_NEW_PRIVS");
        return false;
    }
    return true;
}

}  // namespace tcpscope
