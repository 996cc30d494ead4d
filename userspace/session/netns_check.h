// Whether a network namespace (by inode) exists now: for the warning that
// `--netns N` names one that nothing is in.
#pragma once

#include <cstdint>
#include <string>

namespace tcpscope {

// True when some process is in the network namespace with this inode, or
// an entry of /run/netns (`ip netns add`) is it. A namespace can exist with
// neither (held only by an open file or a mount elsewhere); the answer is
// for a warning, never a refusal.
bool network_namespace_exists(uint64_t inode);

// The namespace file for sock_diag (which answers for the namespace its
// socket was made in), from --netns's text: a file, an `ip netns` name, or
// an inode (the namespace of a process that is in it). Empty for no
// --netns; empty with *why when there is no file (a cookie names none).
std::string netns_file(const std::string& text, std::string* why);

}  // namespace tcpscope
