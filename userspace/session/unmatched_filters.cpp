#include "unmatched_filters.h"

#include <dirent.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "netns_check.h"

namespace tcpscope {
namespace {

bool numeric(const char* name) { return std::isdigit(static_cast<unsigned char>(name[0])) != 0; }

// The first line of a /proc file, "" when it is gone (a process that
// ended meanwhile).
std::string read_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

bool process_exists(uint32_t pid, uint32_t* tgid) {
    // /proc/N answers for a thread id too (hidden from the listing): its
    // Tgid says whose thread it is.
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.compare(0, 5, "Tgid:") != 0) continue;
        *tgid = static_cast<uint32_t>(std::stoul(line.substr(5)));
        return *tgid == pid;
    }
    *tgid = 0;
    return false;
}

bool comm_running(const std::string& comm) {
    // Each thread has its own comm (prctl(PR_SET_NAME)); the filter
    // compares the one of the thread at work.
    DIR* proc = opendir("/proc");
    if (!proc) return true;  // cannot tell: no warning
    bool found = false;
    while (!found) {
        struct dirent* p = readdir(proc);
        if (!p) break;
        if (!numeric(p->d_name)) continue;
        const std::string tasks = std::string("/proc/") + p->d_name + "/task";
        DIR* task = opendir(tasks.c_str());
        if (!task) continue;
        while (struct dirent* t = readdir(task)) {
            if (numeric(t->d_name) && read_line(tasks + "/" + t->d_name + "/comm") == comm) {
                found = true;
                break;
            }
        }
        closedir(task);
    }
    closedir(proc);
    return found;
}

bool cgroup_has_processes(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto has_procs = [](const fs::path& dir) {
        return !read_line((dir / "cgroup.procs").string()).empty();
    };
    if (has_procs(path)) return true;
    for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec) && has_procs(it->path())) return true;
    }
    return ec ? true : false;  // cannot tell: no warning
}

std::vector<std::string> unmatched_filter_warnings(const FilterOptions& options, const ts_filter& filter,
                                                   const std::string& doing) {
    std::vector<std::string> warnings;
    const std::string anyway = "; " + doing + " anyway, in case ";
    if (filter.pid) {
        uint32_t tgid = 0;
        if (!process_exists(filter.pid, &tgid)) {
            const std::string pid = std::to_string(filter.pid);
            warnings.push_back(
                tgid ? "--pid " + pid + ": that is a thread of process " + std::to_string(tgid) +
                           ", and --pid matches processes (--pid " + std::to_string(tgid) + ")" + anyway +
                           "a process gets that pid"
                     : "--pid " + pid + ": no process has that pid now" + anyway + "one gets it");
        }
    }
    if (!options.comm.empty() && !comm_running(options.comm)) {
        warnings.push_back("--comm " + options.comm + ": no process has that name now" + anyway +
                           "one starts");
    }
    if (!options.cgroup.empty() && !cgroup_has_processes(options.cgroup)) {
        warnings.push_back("--cgroup " + options.cgroup + ": no process is in it or below it now" + anyway +
                           "one joins");
    }
    if (filter.netns != 0 && filter.netns_cookie == 0 && !network_namespace_exists(filter.netns)) {
        warnings.push_back("--netns " + std::to_string(filter.netns) +
                           ": no network namespace has that inode now (no process is in one, and "
                           "/run/netns names none)" + anyway + "it appears");
    }
    return warnings;
}

}  // namespace tcpscope
