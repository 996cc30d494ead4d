// The filter options that name things on this host, looked up here, in
// the layer that may make system calls: a cgroup directory (statfs, stat,
// realpath) and a network namespace file (stat, and setns in a thread of
// its own for its cookie). events/filter_options.h parses the rest, pure.
#pragma once

#include <cstdint>
#include <string>

#include "filter_options.h"

namespace tcpscope {

// A cgroup v2 directory's inode number is its cgroup id; its level is its
// depth below the cgroup2 mount's root (the root is 0), which is where the
// kernel keeps it among a descendant's ancestors.
bool cgroup_id_of(const std::string& path, uint64_t* id, std::string* error);
bool cgroup_level_of(const std::string& path, uint32_t* level, std::string* error);

// The cookie of the network namespace at path (entered by a short-lived
// thread), or of the caller's own when path is empty. 0 with an error.
uint64_t netns_cookie_of(const std::string& path, std::string* error);

// The lookups above, for build_filter and parse_netns.
HostLookups host_lookups();

// build_filter with this host's lookups: --cgroup and a --netns file
// looked up.
bool build_host_filter(const FilterOptions& options, ts_filter* filter, std::string* error);

}  // namespace tcpscope
