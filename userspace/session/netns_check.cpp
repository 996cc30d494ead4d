#include "netns_check.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cctype>
#include <string>

namespace tcpscope {
namespace {

// Whether any entry of dir, with suffix appended, stats to this inode.
bool any_entry_is(const char* dir, bool numeric_only, const char* suffix, uint64_t inode) {
    DIR* d = opendir(dir);
    if (!d) return false;
    bool found = false;
    while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        if (numeric_only && !std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
        std::string path = std::string(dir) + "/" + e->d_name + suffix;
        struct stat st {};
        if (stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_ino) == inode) {
            found = true;
            break;
        }
    }
    closedir(d);
    return found;
}

}  // namespace

bool network_namespace_exists(uint64_t inode) {
    return any_entry_is("/proc", true, "/ns/net", inode) ||
           any_entry_is("/run/netns", false, "", inode);
}

// The namespace file for sock_diag, from --netns's text: a file, an
// `ip netns` name, or an inode (the namespace of a process that is in it).
// Empty with *why when there is none (a cookie names no file).
std::string netns_file(const std::string& text, std::string* why) {
    if (text.empty()) return "";
    if (text[0] == '/') return text;
    if (text.compare(0, 7, "cookie:") == 0) {
        *why = "--netns cookie:N names no namespace file";
        return "";
    }
    if (text.find_first_not_of("0123456789") != std::string::npos) return "/run/netns/" + text;
    const unsigned long long inode = std::stoull(text);
    DIR* proc = opendir("/proc");
    std::string found;
    while (proc && found.empty()) {
        struct dirent* d = readdir(proc);
        if (!d) break;
        if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
        std::string path = std::string("/proc/") + d->d_name + "/ns/net";
        struct stat st {};
        if (stat(path.c_str(), &st) == 0 && st.st_ino == inode) found = path;
    }
    if (proc) closedir(proc);
    if (found.empty()) *why = "no process is in network namespace " + text + " now";
    return found;
}

}  // namespace tcpscope
