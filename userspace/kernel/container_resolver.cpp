#include "container_resolver.h"

#include <dirent.h>
#include <sys/stat.h>

#include <map>
#include <utility>

#include "command_cgroup.h"

namespace tcpscope {
namespace {

// Calls visit(path relative to the mount, inode) for every cgroup directory,
// depth first, parents before children; stops after `limit` directories.
template <typename Visit>
void walk_cgroups(const std::string& mount, size_t limit, Visit visit) {
    std::vector<std::string> pending{""};
    size_t seen = 0;
    while (!pending.empty() && seen < limit) {
        const std::string rel = pending.back();
        pending.pop_back();
        const std::string dir = mount + rel;
        struct stat st;
        if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        ++seen;
        visit(rel.empty() ? std::string("/") : rel, static_cast<uint64_t>(st.st_ino));
        DIR* d = opendir(dir.c_str());
        if (d == nullptr) continue;  // gone since, or not ours to read: skip it
        while (dirent* entry = readdir(d)) {
            if (entry->d_type != DT_DIR) continue;
            const std::string name = entry->d_name;
            if (name == "." || name == "..") continue;
            pending.push_back(rel + "/" + name);
        }
        closedir(d);
    }
}

}  // namespace

ContainerResolver::ContainerResolver(std::string mount)
    : mount_(mount.empty() ? cgroup2_mount_point() : std::move(mount)) {}

void ContainerResolver::walk() {
    ++walks_;
    by_id_.clear();
    missing_.clear();
    if (mount_.empty()) return;
    // Identities are shared by the cgroups of one container (and by the
    // events that name them).
    std::map<std::pair<std::string, std::string>, std::shared_ptr<const ContainerIdentity>> shared;
    walk_cgroups(mount_, kMaxCgroups, [&](const std::string& rel, uint64_t id) {
        ContainerIdentity c = container_of_cgroup_path(rel);
        std::shared_ptr<const ContainerIdentity> value;
        if (!c.empty()) {
            auto& slot = shared[{c.id, c.pod_uid}];
            if (!slot) slot = std::make_shared<const ContainerIdentity>(std::move(c));
            value = slot;
        }
        by_id_.emplace(id, std::move(value));
    });
}

std::shared_ptr<const ContainerIdentity> ContainerResolver::of_cgroup(uint64_t id, uint64_t now_ns) {
    if (id == 0 || mount_.empty()) return nullptr;
    if (id == memo_id_ && memo_walk_ == walks_) return memo_;
    auto it = by_id_.find(id);
    if (it != by_id_.end() || missing_.count(id)) {
        memo_id_ = id;
        memo_walk_ = walks_;
        memo_ = it != by_id_.end() ? it->second : nullptr;
        return memo_;
    }
    // Records from several CPUs arrive slightly out of order: a time
    // before the last walk is within its second too.
    if (walks_ > 0 && now_ns < last_walk_ns_ + 1000000000ull) return nullptr;
    last_walk_ns_ = now_ns;
    walk();
    it = by_id_.find(id);
    if (it != by_id_.end()) return it->second;
    // Not there even now (a cgroup already removed): remembered as missing,
    // so that its later events do not walk the tree again.
    if (missing_.size() < kMaxCgroups) missing_.insert(id);
    return nullptr;
}

std::shared_ptr<const ContainerIdentity> ContainerResolver::in_last_walk(uint64_t id, bool* found) const {
    auto it = by_id_.find(id);
    *found = it != by_id_.end();
    return *found ? it->second : nullptr;
}

bool container_cgroup_dir(const std::string& prefix, std::string* dir, std::string* error,
                          const std::string& mount_arg) {
    if (!is_container_id_prefix(prefix)) {
        *error = "--container: '" + prefix +
                 "' is not a container ID (1 to 64 hex digits, as `docker ps` or `podman ps` shows it)";
        return false;
    }
    const std::string mount = mount_arg.empty() ? cgroup2_mount_point() : mount_arg;
    if (mount.empty()) {
        *error = "--container: no cgroup v2 is mounted, and container IDs are read from its tree";
        return false;
    }
    // The outermost cgroup of each matching ID: parents are visited first.
    std::map<std::string, std::string> found;  // ID -> directory
    walk_cgroups(mount, ContainerResolver::kMaxCgroups, [&](const std::string& rel, uint64_t) {
        ContainerIdentity c = container_of_cgroup_path(rel);
        if (c.id.empty() || c.id.compare(0, prefix.size(), prefix) != 0) return;
        auto it = found.find(c.id);
        if (it == found.end() || rel.size() < it->second.size()) found[c.id] = rel;
    });
    if (found.empty()) {
        *error = "--container: no running container's ID starts with '" + prefix + "' (under " + mount +
                 "; `docker ps` or `podman ps` lists them)";
        return false;
    }
    if (found.size() > 1) {
        std::string ids;
        for (const auto& f : found) ids += (ids.empty() ? "" : ", ") + f.first.substr(0, 12);
        *error = "--container: '" + prefix + "' matches " + std::to_string(found.size()) +
                 " containers (" + ids + "): give more of the ID";
        return false;
    }
    *dir = mount + found.begin()->second;
    return true;
}

bool resolve_filter_container(FilterOptions* filter, std::string* error) {
    if (filter->container.empty()) return true;
    return container_cgroup_dir(filter->container, &filter->cgroup, error);
}

}  // namespace tcpscope
