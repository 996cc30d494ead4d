#include "load_failure.h"

#include <cerrno>
#include <cstring>

namespace tcpscope {

bool has_verifier_log(const std::vector<std::string>& log) {
    for (const auto& line : log) {
        if (line.find("-- BEGIN PROG LOAD LOG --") != std::string::npos) return true;
    }
    return false;
}

bool is_privilege_failure(const LoadFailure& f) {
    return (f.err == EPERM || f.err == EACCES) && !has_verifier_log(f.log);
}

std::string load_failure_text(const LoadFailure& f, size_t max_log_lines) {
    std::string s = f.stage + ": " + f.message;
    if (f.err) s += ": " + std::string(std::strerror(f.err));
    if (is_privilege_failure(f)) {
        return s + " (loading BPF programs needs root, or CAP_BPF and CAP_PERFMON)";
    }
    if (f.stage != "load") return s;
    const std::string release = f.kernel_release.empty() ? "unknown" : f.kernel_release;
    s += "\nThis is not a matter of privileges: this kernel (" + release +
         ") rejected tcpscope's BPF programs, an incompatibility between the two. Please "
         "report it with the kernel release and the lines below.";
    // Blank lines carry nothing; the verifier's own are many.
    std::vector<const std::string*> lines;
    for (const auto& line : f.log) {
        if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(&line);
    }
    if (lines.empty()) {
        s += "\n  (libbpf said nothing more)";
        return s;
    }
    const size_t from = lines.size() > max_log_lines ? lines.size() - max_log_lines : 0;
    if (from > 0) {
        s += "\n  (the last " + std::to_string(lines.size() - from) + " of " +
             std::to_string(lines.size()) + " lines of libbpf's messages; --verbose shows all)";
    }
    for (size_t i = from; i < lines.size(); ++i) s += "\n  " + *lines[i];
    return s;
}

}  // namespace tcpscope
