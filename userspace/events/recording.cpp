#include "recording.h"

#include <sys/socket.h>

namespace tcpscope {

namespace {

int state_value(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_string()) return 0;
    return tcp_state_from_name(j[key].get<std::string>()).value_or(0);
}

}  // namespace

std::optional<Event> event_from_json(const nlohmann::json& j, ResetReasons& reasons) {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return std::nullopt;
    auto kind = kind_from_name(j["type"].get<std::string>());
    if (!kind) return std::nullopt;
    Event e;
    try {
        e.kind = *kind;
        e.ts_ns = j.at("ts_ns").get<uint64_t>();
        e.pid = j.value("pid", 0u);
        e.tid = j.value("tid", 0u);
        e.cur_pid = j.value("cur_pid", e.pid);
        e.comm = j.value("comm", std::string());
        e.cur_comm = j.value("cur_comm", e.comm);
        e.cur_thread = j.value("cur_thread", e.cur_comm);
        e.attribution = j.value("attribution", std::string("current"));
        e.irq = j.value("context", std::string("process")) != "process";
        e.cgroup_id = j.value("cgroup_id", uint64_t{0});
        if (j.contains("container_id") || j.contains("pod_uid")) {
            auto c = std::make_shared<ContainerIdentity>();
            c->id = j.value("container_id", std::string());
            c->runtime = j.value("container_runtime", std::string());
            c->pod_uid = j.value("pod_uid", std::string());
            c->qos = j.value("pod_qos", std::string());
            e.container = std::move(c);
        }
        e.netns = j.value("netns", 0u);
        e.netns_cookie = j.value("netns_cookie", uint64_t{0});
        if (e.is_socket_event()) {
            e.family = j.value("family", std::string("inet")) == "inet6" ? AF_INET6 : AF_INET;
            e.local = {j.at("saddr").get<std::string>(), j.at("sport").get<uint16_t>()};
            e.remote = {j.at("daddr").get<std::string>(), j.at("dport").get<uint16_t>()};
            e.cookie = j.value("cookie", uint64_t{0});
        }
        switch (e.kind) {
        case EventKind::State:
            e.old_state = state_value(j, "old_state");
            e.new_state = state_value(j, "new_state");
            if (j.contains("prev_state_ns") && j["prev_state_ns"].is_number()) {
                e.prev_state_ns = j["prev_state_ns"].get<uint64_t>();
            }
            if (j.contains("bytes_acked") && j["bytes_acked"].is_number_unsigned()) {
                CloseStats stats;
                stats.bytes_acked = j["bytes_acked"].get<uint64_t>();
                stats.bytes_received = j.value("bytes_received", uint64_t{0});
                stats.total_retrans = j.value("total_retrans", 0u);
                stats.fin_received = j.value("fin_received", false);
                // Recordings made before the RTT was read have none: 0.
                stats.srtt_us = j.value("srtt_us", 0u);
                stats.min_rtt_us = j.value("min_rtt_us", 0u);
                stats.rto_us = j.value("rto_us", 0u);
                stats.snd_cwnd = j.value("snd_cwnd", 0u);
                e.close_stats = stats;
            }
            break;
        case EventKind::ResetSent:
        case EventKind::ResetReceived:
            e.state = state_value(j, "state");
            if (j.contains("reason") && j["reason"].is_string()) {
                e.reason = reasons.intern(j["reason"].get<std::string>());
            }
            e.no_socket = j.value("no_socket", false);
            e.minisock = j.value("minisock", false);
            break;
        case EventKind::Retransmit:
            e.state = state_value(j, "state");
            if (j.contains("err") && j["err"].is_number()) e.err = j["err"].get<int>();
            break;
        case EventKind::SockError:
            e.error = j.value("errno_value", 0);
            if (e.error == 0 && j.contains("errno") && j["errno"].is_string()) {
                e.error = errno_from_name(j["errno"].get<std::string>()).value_or(0);
            }
            break;
        case EventKind::Signal:
            e.signal = j.value("signal", std::string()) == "SIGPIPE" ? 13 : 0;
            e.target_pid = j.value("target_pid", 0u);
            if (j.contains("result") && j["result"].is_string()) {
                e.signal_result = signal_result_from_name(j["result"].get<std::string>()).value_or(-1);
            }
            break;
        case EventKind::Send:
        case EventKind::Recv:
            e.ret = j.value("ret", int64_t{0});
            break;
        case EventKind::Packet:
            e.dir = j.value("dir", std::string("tx")) == "rx" ? TS_DIR_RX : TS_DIR_TX;
            e.tcp_flags = tcp_flags_from_name(j.value("flags", std::string())).value_or(0);
            e.payload_len = j.value("payload_len", 0);
            e.seq = j.value("seq", 0u);
            e.ack_seq = j.value("ack_seq", 0u);
            e.ifindex = j.value("ifindex", 0);
            break;
        case EventKind::Drop:
            e.drop_reason = j.value("reason", std::string());
            e.drop_reason_code = j.value("reason_code", 0);
            e.dir = j.value("dir", std::string("rx")) == "rx" ? TS_DIR_RX : TS_DIR_TX;
            e.tcp_flags = tcp_flags_from_name(j.value("flags", std::string())).value_or(0);
            e.payload_len = j.value("payload_len", 0);
            e.seq = j.value("seq", 0u);
            e.ack_seq = j.value("ack_seq", 0u);
            e.ifindex = j.value("ifindex", 0);
            e.drop_seen_by = j.value("seen_by", std::string("kfree_skb"));
            e.drop_count = j.value("count", uint64_t{1});
            if (j.contains("queue") && j["queue"].is_number()) e.accept_queue = j["queue"].get<uint32_t>();
            if (j.contains("backlog") && j["backlog"].is_number()) {
                e.accept_backlog = j["backlog"].get<uint32_t>();
            }
            break;
        }
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    return e;
}

Recording read_recording(std::istream& in) {
    Recording r;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            ++r.malformed;
            continue;
        }
        std::string type = j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
        if (type == "step") {
            if (auto s = parse_step(line)) {
                r.steps.push_back(std::move(*s));
            } else {
                ++r.malformed;
            }
        } else if (type == "kernel") {
            if (auto k = kernel_support_from_json(nlohmann::ordered_json::parse(line))) {
                r.kernel = std::move(*k);
            } else {
                ++r.malformed;
            }
        } else if (auto e = event_from_json(j, r.reasons)) {
            r.events.push_back(std::move(*e));
        }
    }
    return r;
}

}  // namespace tcpscope
