#include "json_encoding.h"

#include <sys/socket.h>

namespace tcpscope {

namespace {

void add_socket_fields(Json& j, const Event& e) {
    add_socket_keys(j, e.family, e.local, e.remote, e.cookie, e.netns);
    j["netns_cookie"] = e.netns_cookie;
}

// The segment a packet or a drop is about: the keys they share.
void segment_to_json(Json& j, const Event& e) {
    j["dir"] = e.dir == TS_DIR_RX ? "rx" : "tx";
    j["flags"] = tcp_flags_name(e.tcp_flags);
    j["payload_len"] = e.payload_len;
    j["seq"] = e.seq;
    j["ack_seq"] = e.ack_seq;
    j["ifindex"] = e.ifindex;
}

}  // namespace

void add_container_keys(Json& j, const ContainerIdentity* container) {
    if (container == nullptr || container->empty()) return;
    if (!container->id.empty()) j["container_id"] = container->id;
    if (!container->runtime.empty()) j["container_runtime"] = container->runtime;
    if (!container->pod_uid.empty()) {
        j["pod_uid"] = container->pod_uid;
        j["pod_qos"] = container->qos;
    }
}

void add_socket_keys(Json& j, int family, const Endpoint& local, const Endpoint& remote,
                     uint64_t cookie, uint32_t netns) {
    j["family"] = family == AF_INET6 ? "inet6" : "inet";
    j["saddr"] = local.addr;
    j["sport"] = local.port;
    j["daddr"] = remote.addr;
    j["dport"] = remote.port;
    j["cookie"] = cookie;
    j["netns"] = netns;
}

Json event_to_json(const Event& e, const ResetReasons& reasons, const WallClock* clock) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = kind_name(e.kind);
    j["ts_ns"] = e.ts_ns;
    if (clock) j["time"] = rfc3339_utc(clock->realtime_ns(e.ts_ns));
    j["pid"] = e.pid;
    j["tid"] = e.tid;
    j["comm"] = e.comm;
    // Who the event is attributed to, and who was actually running.
    j["attribution"] = e.attribution;
    j["cur_pid"] = e.cur_pid;
    j["cur_comm"] = e.cur_comm;
    j["cur_thread"] = e.cur_thread;
    j["context"] = e.irq ? "softirq" : "process";
    j["cgroup_id"] = e.cgroup_id;
    add_container_keys(j, e.container.get());
    if (e.is_socket_event()) add_socket_fields(j, e);

    switch (e.kind) {
    case EventKind::State:
        j["old_state"] = tcp_state_name(e.old_state);
        j["new_state"] = tcp_state_name(e.new_state);
        j["prev_state_ns"] = e.prev_state_ns ? Json(*e.prev_state_ns) : Json(nullptr);
        if (e.close_stats) {
            j["bytes_acked"] = e.close_stats->bytes_acked;
            j["bytes_received"] = e.close_stats->bytes_received;
            j["total_retrans"] = e.close_stats->total_retrans;
            j["fin_received"] = e.close_stats->fin_received;
            j["srtt_us"] = e.close_stats->srtt_us;
            j["min_rtt_us"] = e.close_stats->min_rtt_us;
            j["rto_us"] = e.close_stats->rto_us;
            j["snd_cwnd"] = e.close_stats->snd_cwnd;
        }
        break;
    case EventKind::ResetSent:
    case EventKind::ResetReceived:
        j["state"] = tcp_state_name(e.state);
        j["reason"] = e.reason ? Json(reasons.name(*e.reason)) : Json(nullptr);
        if (e.kind == EventKind::ResetSent) {
            j["no_socket"] = e.no_socket;
            j["minisock"] = e.minisock;
        }
        break;
    case EventKind::Retransmit:
        j["state"] = tcp_state_name(e.state);
        j["err"] = e.err ? Json(*e.err) : Json(nullptr);
        break;
    case EventKind::SockError:
        j["errno"] = errno_name(e.error);
        j["errno_value"] = e.error;
        break;
    case EventKind::Signal:
        j["signal"] = signal_name(e.signal);
        j["target_pid"] = e.target_pid;
        j["netns"] = e.netns;
        j["netns_cookie"] = e.netns_cookie;
        j["result"] = signal_result_name(e.signal_result);
        break;
    case EventKind::Send:
    case EventKind::Recv:
        j["ret"] = e.ret;
        if (e.ret < 0) j["errno"] = errno_name(static_cast<int>(-e.ret));
        break;
    case EventKind::Packet:
        segment_to_json(j, e);
        break;
    case EventKind::Drop:
        j["reason"] = e.drop_reason;
        j["reason_code"] = e.drop_reason_code;
        segment_to_json(j, e);
        j["seen_by"] = e.drop_seen_by;
        j["count"] = e.drop_count;
        j["queue"] = e.accept_queue ? Json(*e.accept_queue) : Json(nullptr);
        j["backlog"] = e.accept_backlog ? Json(*e.accept_backlog) : Json(nullptr);
        break;
    }
    return j;
}

const char* loss_reason_name(LossReason reason) {
    switch (reason) {
    case LossReason::RingbufFull: return "ringbuf_full";
    case LossReason::ProgramSkipped: return "program_skipped";
    case LossReason::WriteFailed: return "write_failed";
    }
    return "unknown";
}

Json lost_to_json(uint64_t ts_ns, uint64_t count, uint64_t total, const std::string& reason,
                  const WallClock* clock) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "lost";
    j["ts_ns"] = ts_ns;
    if (clock) j["time"] = rfc3339_utc(clock->realtime_ns(ts_ns));
    j["count"] = count;
    j["total"] = total;
    j["reason"] = reason;
    return j;
}

Json summary_to_json(const TraceSummary& s) {
    Json j;
    j["v"] = kJsonSchemaVersion;
    j["type"] = "summary";
    Json counts = Json::object();
    uint64_t total = 0;
    for (const auto& [type, n] : s.counts) {
        counts[type] = n;
        total += n;
    }
    j["counts"] = counts;
    j["events"] = total;
    j["lost"] = s.lost;
    Json by_reason = Json::object();
    for (size_t r = 0; r < kLossReasons; ++r) {
        by_reason[loss_reason_name(static_cast<LossReason>(r))] = s.lost_by_reason[r];
    }
    j["lost_by_reason"] = by_reason;
    j["undecodable"] = s.undecodable;
    j["duration_ns"] = s.duration_ns;
    return j;
}

}  // namespace tcpscope
