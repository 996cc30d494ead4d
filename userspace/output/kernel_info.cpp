#include "kernel_info.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace tcpscope {

namespace {

KernelInfoRow tracepoint_row(const KernelSupport& s, const std::string& what, const char* category,
                             const std::string& tracepoint) {
    KernelInfoRow row{what, std::string(category) + ":" + tracepoint, s.has(tracepoint), ""};
    if (!row.present) {
        std::string since = tracepoint_since(tracepoint);
        row.note = "no such tracepoint" + (since.empty() ? "" : " (added in Linux " + since + ")");
    }
    return row;
}

KernelInfoRow feature_row(const KernelSupport& s, const std::string& what,
                          const std::string& source, KernelFeature feature) {
    return {what, source, s.shows(feature), s.why_not(feature)};
}

}  // namespace

std::vector<KernelInfoRow> kernel_info_rows(const KernelSupport& s) {
    std::vector<KernelInfoRow> rows;
    rows.push_back(tracepoint_row(s, "state", "sock", "inet_sock_set_state"));
    rows.push_back(tracepoint_row(s, "reset (sent)", "tcp", "tcp_send_reset"));
    rows.push_back(feature_row(s, "reset_sent.reason", "tcp:tcp_send_reset",
                               KernelFeature::ResetReason));
    rows.push_back(feature_row(s, "reset_sent without a full socket", "tcp:tcp_send_reset",
                               KernelFeature::ResetWithoutSocket));
    rows.push_back(tracepoint_row(s, "reset (received)", "tcp", "tcp_receive_reset"));
    rows.push_back(tracepoint_row(s, "retransmit", "tcp", "tcp_retransmit_skb"));
    rows.push_back(feature_row(s, "retransmit.err, failed attempts", "tcp:tcp_retransmit_skb",
                               KernelFeature::RetransmitResult));
    rows.push_back(tracepoint_row(s, "error", "sock", "inet_sk_error_report"));
    rows.push_back(tracepoint_row(s, "signal", "signal", "signal_generate"));
    rows.push_back(tracepoint_row(s, "send", "sock", "sock_send_length"));
    rows.push_back(tracepoint_row(s, "recv", "sock", "sock_recv_length"));
    rows.push_back(tracepoint_row(s, "packet", "net", "net_dev_start_xmit"));
    rows.push_back(tracepoint_row(s, "drop", "skb", "kfree_skb"));
    rows.push_back(feature_row(s, "drop: the receiving socket", "skb:kfree_skb",
                               KernelFeature::DropSocket));
    return rows;
}

std::string render_kernel_info(const KernelSupport& s) {
    std::string out = "kernel " + (s.release.empty() ? std::string("unknown") : s.release);
    out += s.known ? "\n" : " (its BTF could not be read: nothing below is known)\n";
    char line[256];
    std::snprintf(line, sizeof(line), "%-34s %-26s %s\n", "WHAT", "SOURCE", "HERE");
    out += line;
    for (const auto& r : kernel_info_rows(s)) {
        std::string here = r.present ? "yes" : "no: " + r.note;
        std::snprintf(line, sizeof(line), "%-34s %-26s ", r.what.c_str(), r.source.c_str());
        out += line + here + "\n";
    }
    return out;
}

std::string kernel_info_json(const KernelSupport& s) {
    nlohmann::ordered_json j;
    j["v"] = 1;
    j["type"] = "kernel_info";
    j["release"] = s.release;
    j["btf"] = s.known;
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& r : kernel_info_rows(s)) {
        rows.push_back({{"what", r.what}, {"source", r.source}, {"present", r.present},
                        {"note", r.note.empty() ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(r.note)}});
    }
    j["support"] = std::move(rows);
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace tcpscope
