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

}  // namespace tcpscope
