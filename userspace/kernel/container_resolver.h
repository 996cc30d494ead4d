// Container and pod identities for the cgroup ids events carry, from the
// cgroup v2 tree itself: a cgroup directory's inode number is its id, and
// its path names the container (container_identity.h). Reads only names
// under the cgroup2 mount, as any user may: nothing of the containers'.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "container_identity.h"
#include "filter_options.h"

namespace tcpscope {

class ContainerResolver {
public:
    // mount: the cgroup2 mount point; "" for the one in /proc/self/mountinfo.
    explicit ContainerResolver(std::string mount = "");

    // The identity of the cgroup with this id, null when it is in no
    // container. An id not seen in the last walk of the tree (a container
    // started since) walks it again, at most once a second.
    std::shared_ptr<const ContainerIdentity> of_cgroup(uint64_t id, uint64_t now_ns);

    // For a caller that decides itself when to walk (tcpscope metrics: at
    // most once per scrape, when a series names a cgroup not seen yet).
    // What the last walk found for id; *found is false when it did not find
    // it (a cgroup made since, or removed before: in no container as far as
    // the tree can tell, but not known to be the host's either).
    std::shared_ptr<const ContainerIdentity> in_last_walk(uint64_t id, bool* found) const;
    void walk();
    // Whether a cgroup2 mount was found to read.
    bool mounted() const { return !mount_.empty(); }

    // At most this many cgroups are remembered; a walk that finds more
    // keeps the first ones (a host has far fewer).
    static constexpr size_t kMaxCgroups = 65536;
    uint64_t walks() const { return walks_; }

private:

    std::string mount_;
    std::unordered_map<uint64_t, std::shared_ptr<const ContainerIdentity>> by_id_;
    // Ids the last walk did not find (removed cgroups): not walked for again.
    std::unordered_set<uint64_t> missing_;
    uint64_t last_walk_ns_ = 0;
    uint64_t walks_ = 0;
    // The last answer of_cgroup() found in the walk (by_id_ or missing_),
    // good until the next walk: events come in runs of one cgroup, and two
    // hash lookups an event were 2% of trace --json's CPU under churn.
    uint64_t memo_id_ = 0;
    uint64_t memo_walk_ = 0;  // walks_ when it was found; 0: none
    std::shared_ptr<const ContainerIdentity> memo_;
};

// The cgroup directory of the container whose ID starts with `prefix` (its
// outermost cgroup: rootless podman nests one more inside), for --container.
// An error names what went wrong: no cgroup v2, no such container, or a
// prefix that matches several.
bool container_cgroup_dir(const std::string& prefix, std::string* dir, std::string* error,
                          const std::string& mount = "");

// --container ID into --cgroup DIR (the kernel's cgroup subtree filter);
// nothing to do without --container.
bool resolve_filter_container(FilterOptions* filter, std::string* error);

}  // namespace tcpscope
