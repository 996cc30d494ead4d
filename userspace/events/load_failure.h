// The words for a failure to load or attach the BPF programs. Pure, so that
// the unit tests check what a user reads for each kind of failure; kernel/
// fills it from libbpf (its messages captured, the verifier's log among them).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tcpscope {

struct LoadFailure {
    std::string stage;    // "open", "load", "attach", "ringbuf", "privileges"
    int err = 0;          // positive errno
    std::string message;  // what failed, in words
    // libbpf's messages (warnings and information, the verifier's log
    // among them), one line each, oldest first, whether --verbose or not.
    std::vector<std::string> log;
    std::string kernel_release;  // uname -r
};

// Why a command cannot go on: the text it says (after its own prefix,
// "tcpscope trace: ") and the exit code it ends with. A LoadFailure
// becomes one (load_failure_text) when the programs cannot start; so do
// a bad option, a missing privilege, a file that cannot be written.
struct CommandFailure {
    int exit_code = 0;
    std::string text;
};

// Lines of libbpf's messages shown at most when the kernel refused the
// programs for a reason other than privileges.
constexpr size_t kLoadLogLines = 25;

// The text for the user: what failed and why; for a refusal on privileges,
// what privileges are needed; for any other refusal at load, that it is an
// incompatibility between tcpscope and this kernel (named by its release),
// with the last lines of libbpf's messages, to report.
std::string load_failure_text(const LoadFailure& failure, size_t max_log_lines = kLoadLogLines);

// Whether the failure is a matter of privileges: EPERM or EACCES before the
// verifier ran. The verifier itself rejects a program with EACCES (an
// invalid access, say); then libbpf's messages hold its log, and the cause
// is the program meeting this kernel, not the caller's privileges.
bool is_privilege_failure(const LoadFailure& failure);

// Whether libbpf's messages hold a verifier log (the kernel verified a
// program and said why it refused it).
bool has_verifier_log(const std::vector<std::string>& log);

}  // namespace tcpscope
