#include "names.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

namespace tcpscope {

namespace {

// Indexed by the kernel's TCP state numbers (include/net/tcp_states.h).
const char* const kStateNames[] = {
    nullptr,      "ESTABLISHED", "SYN_SENT",  "SYN_RECV",   "FIN_WAIT1",
    "FIN_WAIT2",  "TIME_WAIT",   "CLOSE",     "CLOSE_WAIT", "LAST_ACK",
    "LISTEN",     "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE",
};

// The largest errno value to look names up for (Linux's are below 134).
constexpr int kMaxErrno = 4095;

}  // namespace

const char* known_tcp_state_name(int state) {
    return state > 0 && static_cast<size_t>(state) < std::size(kStateNames) ? kStateNames[state] : nullptr;
}

std::string tcp_state_name(int state) {
    if (const char* known = known_tcp_state_name(state)) return known;
    return "STATE_" + std::to_string(state);
}

std::optional<int> tcp_state_from_name(const std::string& name) {
    for (size_t i = 1; i < std::size(kStateNames); ++i) {
        if (name == kStateNames[i]) return static_cast<int>(i);
    }
    return std::nullopt;
}

// glibc's own tables (strerrorname_np, sigabbrev_np; 2.32+): the same names
// on every architecture, and no table of ours to fall behind.
std::string errno_name(int err) {
    long long value = err < 0 ? -static_cast<long long>(err) : err;  // INT_MIN has no int negation
    const char* name =
        value > 0 && value <= kMaxErrno ? strerrorname_np(static_cast<int>(value)) : nullptr;
    return name ? name : "E" + std::to_string(value);
}

std::optional<int> errno_from_name(const std::string& name) {
    for (int value = 1; value <= kMaxErrno; ++value) {
        const char* known = strerrorname_np(value);
        if (known && name == known) return value;
    }
    return std::nullopt;
}

std::string signal_name(int sig) {
    const char* name = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : nullptr;
    return name ? std::string("SIG") + name : "SIG" + std::to_string(sig);
}

namespace {
const char* const kFlagBits[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
// include/trace/events/signal.h: enum trace_signal_result.
const char* const kSignalResults[] = {"delivered", "ignored", "already_pending", "overflow_fail",
                                      "lose_info"};
}  // namespace

std::string signal_result_name(int result) {
    if (result >= 0 && static_cast<size_t>(result) < std::size(kSignalResults)) {
        return kSignalResults[result];
    }
    return "result_" + std::to_string(result);
}

std::optional<int> signal_result_from_name(const std::string& name) {
    for (size_t i = 0; i < std::size(kSignalResults); ++i) {
        if (name == kSignalResults[i]) return static_cast<int>(i);
    }
    return std::nullopt;
}

std::optional<uint8_t> tcp_flags_from_name(const std::string& text) {
    uint8_t flags = 0;
    size_t start = 0;
    while (start < text.size()) {
        size_t bar = text.find('|', start);
        std::string part = text.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
        bool known = false;
        for (int bit = 0; bit < 8; ++bit) {
            if (part == kFlagBits[bit]) {
                flags |= static_cast<uint8_t>(1u << bit);
                known = true;
            }
        }
        if (!known) return std::nullopt;
        if (bar == std::string::npos) break;
        start = bar + 1;
    }
    return flags;
}

std::string tcp_flags_name(uint8_t flags) {
    const auto& kBits = kFlagBits;
    // Printed in the order people read them in captures: SYN|ACK, FIN|ACK.
    static const int kOrder[] = {1, 2, 0, 3, 4, 5, 6, 7};
    std::string out;
    for (int bit : kOrder) {
        if (flags & (1u << bit)) {
            if (!out.empty()) out += '|';
            out += kBits[bit];
        }
    }
    return out;
}

std::string ReasonNames::name(int value) const {
    auto it = names_.find(value);
    if (it != names_.end()) return it->second;
    return "REASON_" + std::to_string(value);
}

std::optional<int> ReasonNames::value(const std::string& name) const {
    for (const auto& [v, n] : names_) {
        if (n == name) return v;
    }
    return std::nullopt;
}

int ReasonNames::intern(const std::string& name) {
    if (auto v = value(name)) return *v;
    int next = names_.empty() ? 0 : names_.rbegin()->first + 1;
    names_.emplace(next, name);
    return next;
}

}  // namespace tcpscope
