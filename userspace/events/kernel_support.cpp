#include "kernel_support.h"

namespace tcpscope {

namespace {

struct TracepointInfo {
    const char* name;
    const char* since;
};
// The tracepoints tcpscope uses, and the Linux version that added each.
constexpr TracepointInfo kTracepoints[] = {
    {"inet_sock_set_state", "4.16"},  {"tcp_send_reset", "4.15"},
    {"tcp_receive_reset", "4.15"},    {"tcp_retransmit_skb", "4.15"},
    {"inet_sk_error_report", "5.14"}, {"signal_generate", "2.6.32"},
    {"sock_send_length", "6.3"},      {"sock_recv_length", "6.3"},
    {"net_dev_start_xmit", "3.18"},
    // kfree_skb is older; its drop reason, which tcpscope reads, is from 5.17.
    {"kfree_skb", "5.17"},
};

std::string this_kernel(const KernelSupport& s) {
    return " (this kernel: " + (s.release.empty() ? std::string("unknown") : s.release) + ")";
}

}  // namespace

int KernelSupport::args(const std::string& tracepoint) const {
    auto it = tracepoint_args.find(tracepoint);
    return it == tracepoint_args.end() ? -1 : it->second;
}

bool KernelSupport::shows(KernelFeature feature) const {
    if (!known) return true;
    switch (feature) {
    case KernelFeature::ResetReason:
    case KernelFeature::ResetWithoutSocket:
        return args("tcp_send_reset") >= 3;
    case KernelFeature::SendRecvResults:
        return has("sock_send_length") && has("sock_recv_length");
    case KernelFeature::RetransmitResult:
        return args("tcp_retransmit_skb") >= 3;
    case KernelFeature::DropSocket:
        return args("kfree_skb") >= 4;
    }
    return false;
}

std::string KernelSupport::why_not(KernelFeature feature) const {
    if (shows(feature)) return "";
    switch (feature) {
    case KernelFeature::ResetReason:
        return "tcp_send_reset carries no reset reason before Linux 6.10" + this_kernel(*this);
    case KernelFeature::ResetWithoutSocket:
        return "tcp_send_reset does not fire for a RST sent with no socket or by a timewait "
               "mini-socket before Linux 6.10" + this_kernel(*this);
    case KernelFeature::SendRecvResults:
        return "the sock_send_length and sock_recv_length tracepoints (the kernel's own send and "
               "recv results) arrived in Linux 6.3" + this_kernel(*this);
    case KernelFeature::RetransmitResult:
        return "tcp_retransmit_skb reports failed attempts and their error from Linux 6.17" +
               this_kernel(*this);
    case KernelFeature::DropSocket:
        return "kfree_skb names the socket a dropped segment was for (rx_sk) from Linux 6.11; "
               "before, a segment dropped on its way in names its socket only where the kernel "
               "had set it on the packet (early demux), and one dropped in softirq often names "
               "neither socket nor namespace" +
               this_kernel(*this);
    }
    return "";
}

const std::vector<std::string>& kernel_tracepoints() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& t : kTracepoints) out.push_back(t.name);
        return out;
    }();
    return names;
}

std::string tracepoint_since(const std::string& tracepoint) {
    for (const auto& t : kTracepoints) {
        if (tracepoint == t.name) return t.since;
    }
    return "";
}

nlohmann::ordered_json kernel_support_to_json(const KernelSupport& s) {
    nlohmann::ordered_json j;
    j["v"] = 1;
    j["type"] = "kernel";
    j["release"] = s.release;
    if (!s.known) {
        j["tracepoints"] = nullptr;  // could not be read
        return j;
    }
    nlohmann::ordered_json tracepoints = nlohmann::ordered_json::object();
    for (const auto& t : kTracepoints) {
        int n = s.args(t.name);
        tracepoints[t.name] = n >= 0 ? nlohmann::ordered_json(n) : nlohmann::ordered_json(nullptr);
    }
    j["tracepoints"] = std::move(tracepoints);
    return j;
}

std::optional<KernelSupport> kernel_support_from_json(const nlohmann::ordered_json& j) {
    if (!j.is_object() || j.value("type", std::string()) != "kernel") return std::nullopt;
    if (!j.contains("tracepoints")) return std::nullopt;
    KernelSupport s;
    if (j.contains("release") && j["release"].is_string()) s.release = j["release"].get<std::string>();
    if (j["tracepoints"].is_null()) return s;  // not known when it was written
    if (!j["tracepoints"].is_object()) return std::nullopt;
    s.known = true;
    for (auto it = j["tracepoints"].begin(); it != j["tracepoints"].end(); ++it) {
        if (it->is_number_integer()) s.tracepoint_args[it.key()] = it->get<int>();
    }
    return s;
}

}  // namespace tcpscope
