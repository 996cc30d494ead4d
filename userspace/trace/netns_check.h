// Whether a network namespace (by inode) exists now: for the warning that
// `--netns N` names one that nothing is in.
#pragma once

#include <cstdint>

namespace tcpscope {

// True when some process is in the network namespace with this inode, or
// an entry of /run/netns (`ip netns add`) is it. A namespace can exist with
// neither (held only by an open file or a mount elsewhere); the answer is
// for a warning, never a refusal.
bool network_namespace_exists(uint64_t inode);

}  // namespace tcpscope
