// Dropping root once the programs are attached and the output is open, the
// way tcpdump does: the tracer then reads its ring buffer through file
// descriptors it already holds and needs no privilege at all.
#pragma once

#include <string>

namespace tcpscope {

// Switches to `user` (supplementary groups, gid, uid), which also clears
// every capability; verifies that root cannot be regained. Returns false
// with *error set on failure. A no-op returning true when not root.
bool drop_privileges(const std::string& user, std::string* error);

}  // namespace tcpscope
