#include "cleanup.h"

#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace scen {

namespace {

// Fixed arrays, not containers: the signal handler reads them, and must not
// meet a half-resized vector. Scenarios use a handful of each.
constexpr int kMaxChildren = 16;
constexpr int kMaxNetns = 8;
constexpr size_t kPathMax = 128;

volatile pid_t g_children[kMaxChildren];
char g_netns_paths[kMaxNetns][kPathMax];
volatile sig_atomic_t g_netns_used[kMaxNetns];

const char kNetnsDir[] = "/var/run/netns/";

}  // namespace

void register_child(pid_t pid) {
    for (auto& slot : g_children)
        if (slot == 0) {
            slot = pid;
            return;
        }
}

void unregister_child(pid_t pid) {
    for (auto& slot : g_children)
        if (slot == pid) slot = 0;
}

void register_netns(const std::string& name) {
    std::string path = kNetnsDir + name;
    if (path.size() >= kPathMax) return;
    for (int i = 0; i < kMaxNetns; ++i)
        if (!g_netns_used[i]) {
            std::memcpy(g_netns_paths[i], path.c_str(), path.size() + 1);
            g_netns_used[i] = 1;
            return;
        }
}

void unregister_netns(const std::string& name) {
    std::string path = kNetnsDir + name;
    for (int i = 0; i < kMaxNetns; ++i)
        if (g_netns_used[i] && path == g_netns_paths[i]) g_netns_used[i] = 0;
}

void kill_children() {
    int saved = errno;
    for (auto& slot : g_children) {
        pid_t pid = slot;
        if (pid <= 0) continue;
        kill(pid, SIGKILL);
        while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        slot = 0;
    }
    errno = saved;
}

void emergency_cleanup() {
    int saved = errno;
    kill_children();
    for (int i = 0; i < kMaxNetns; ++i) {
        if (!g_netns_used[i]) continue;
        umount2(g_netns_paths[i], MNT_DETACH);
        unlink(g_netns_paths[i]);
        g_netns_used[i] = 0;
    }
    errno = saved;
}

void forget_all() {
    for (auto& slot : g_children) slot = 0;
    for (auto& used : g_netns_used) used = 0;
}

}  // namespace scen
