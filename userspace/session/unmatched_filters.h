// Warnings at start for filters that match nothing running now: a mistyped
// --pid, --comm, --cgroup or --netns would otherwise look like a quiet
// host. Only warnings: such a process or namespace may appear later, and
// the filter holds for it then.
#pragma once

#include <string>
#include <vector>

#include "filter_options.h"

namespace tcpscope {

// One text per filter that matches nothing now, without the command's
// prefix: "--pid 999999: no process has that pid now; tracing anyway, in
// case one appears". `doing` is the command's verb ("tracing", "counting").
std::vector<std::string> unmatched_filter_warnings(const FilterOptions& options, const ts_filter& filter,
                                                   const std::string& doing);

// The pieces, for the tests: whether a process (not a thread of another)
// has this pid now, *tgid its process when it is a thread; whether a
// thread has this comm; whether a process is in the cgroup or below it.
bool process_exists(uint32_t pid, uint32_t* tgid);
bool comm_running(const std::string& comm);
bool cgroup_has_processes(const std::string& path);

}  // namespace tcpscope
