// What the running kernel's tracepoints can show. Kernels differ: a
// tracepoint may be missing (sock_send_length before 6.3) or carry fewer
// arguments (tcp_send_reset has no reason before 6.10, and fires only for
// RSTs sent by a full socket). kernel/ reads this from the kernel's BTF;
// `run --json` writes it as a "kernel" line, and recordings read it back,
// so that the facts can tell what they cannot see from what did not happen.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tcpscope {

// What a fact may need the kernel to show.
enum class KernelFeature {
    ResetReason,         // tcp_send_reset(sk, skb, reason): 6.10
    ResetWithoutSocket,  // RSTs sent with no socket or by a timewait mini-socket: 6.10
    SendRecvResults,     // sock_send_length / sock_recv_length: 6.3
    RetransmitResult,    // tcp_retransmit_skb(sk, skb, err), failed attempts too: 6.17
    DropSocket,          // kfree_skb(skb, location, reason, rx_sk): 6.11
};

struct KernelSupport {
    std::string release;  // uname -r, "" when unknown
    // Arguments of each tracepoint tcpscope uses, as the kernel declares
    // them; a tracepoint that is absent has no entry.
    std::map<std::string, int> tracepoint_args;
    // False when nothing could be read (no BTF, or a recording made before
    // the kernel line existed, all of them on 6.18): then every feature is
    // taken as present.
    bool known = false;

    bool has(const std::string& tracepoint) const { return !known || args(tracepoint) >= 0; }
    int args(const std::string& tracepoint) const;  // -1: absent (or not known)
    bool shows(KernelFeature feature) const;
    // "tcp_send_reset carries no reason before Linux 6.10 (this kernel:
    // 6.1.0-56-cloud-amd64)"; "" when the kernel shows it.
    std::string why_not(KernelFeature feature) const;
};

// The tracepoints tcpscope uses, by name ("tcp_send_reset").
const std::vector<std::string>& kernel_tracepoints();

// The Linux version that added a tracepoint tcpscope uses ("6.3" for
// sock_send_length), or "" when unknown.
std::string tracepoint_since(const std::string& tracepoint);

// The "kernel" line of `run --json` (schema v1) and back.
nlohmann::ordered_json kernel_support_to_json(const KernelSupport& support);
std::optional<KernelSupport> kernel_support_from_json(const nlohmann::ordered_json& line);

}  // namespace tcpscope
