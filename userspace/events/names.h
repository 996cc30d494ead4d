// Names for the numbers the kernel hands us: TCP states, errnos, signals,
// TCP header flags and reset reasons. Every lookup is bounds-checked: an
// unknown value gets a name that shows the number, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace tcpscope {

// "ESTABLISHED", "SYN_SENT", ... (kernel names without TCP_); "STATE_<n>" otherwise.
std::string tcp_state_name(int state);
// The same name as a constant, with no string made (the writers' hot path);
// nullptr for a number the kernel has no state for.
const char* known_tcp_state_name(int state);
std::optional<int> tcp_state_from_name(const std::string& name);

// "EPIPE", "ECONNRESET", ...; "E<n>" for values without a name.
std::string errno_name(int err);
std::optional<int> errno_from_name(const std::string& name);

// "SIGPIPE", ...; "SIG<n>" otherwise.
std::string signal_name(int sig);

// signal_generate's result: "delivered", "ignored", "already_pending", ...
std::string signal_result_name(int result);
std::optional<int> signal_result_from_name(const std::string& name);

// "FIN|ACK", "RST", "" for none.
std::string tcp_flags_name(uint8_t flags);
// Inverse of tcp_flags_name; nothing for an unknown flag name.
std::optional<uint8_t> tcp_flags_from_name(const std::string& text);

// Reset reasons (enum sk_rst_reason) and drop reasons (enum
// skb_drop_reason) are enums whose values change between kernels, so the
// names are read from the running kernel's BTF (see btf_reasons.h) and
// held here; a kernel without the enum gives an empty table.
class ReasonNames {
public:
    ReasonNames() = default;
    explicit ReasonNames(std::map<int, std::string> names) : names_(std::move(names)) {}

    // "TCP_ABORT_ON_CLOSE" (without SK_RST_REASON_); "REASON_<n>" when unknown.
    std::string name(int value) const;
    std::optional<int> value(const std::string& name) const;
    // The value of `name`, added with a value of its own when unknown: for
    // reading back recorded JSON, where only the names were kept.
    int intern(const std::string& name);
    bool empty() const { return names_.empty(); }

private:
    std::map<int, std::string> names_;
};

using ResetReasons = ReasonNames;
using DropReasons = ReasonNames;

}  // namespace tcpscope
