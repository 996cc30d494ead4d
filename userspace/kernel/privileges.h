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

namespace tcpscope {

// What `metrics` keeps once attached: CAP_BPF alone, which its scrapes
// need on the descriptors it already holds (bpf() on its maps and programs
// where kernel.unprivileged_bpf_disabled is set, and the socket storage that
// sock_diag dumps carry, which the kernel hands only to bpf_capable()).
// Runs as `user` too when this process may switch users (root with
// CAP_SETUID and CAP_SETGID); otherwise (a systemd unit's bounded root)
// stays the same user with the same reduced capabilities. The bounding set
// is cut to CAP_BPF when CAP_SETPCAP allows, no ambient or inheritable
// capabilities are left, and no_new_privs is set. Call it while the
// process has one thread: capabilities belong to each thread. *kept says
// what is left, in words ("user nobody, CAP_BPF").
bool drop_to_bpf_reader(const std::string& user, std::string* kept, std::string* error);

}  // namespace tcpscope
