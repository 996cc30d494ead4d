// The keys of an event's JSON line (docs/schema.md), declared once: the
// fast writer (output/json_writer.h), the reference encoder
// (output/json_encoding.h) and the reader of recorded runs (recording.h)
// all walk event_fields. See record_fields.h for how a list is written.
#pragma once

#include "record_fields.h"

namespace tcpscope {

// --- The event ------------------------------------------------------------

// The segment a packet or a drop is about: the keys they share. A drop
// without "dir" was received, a packet without it sent.
template <class F, class E>
void segment_fields(F& f, E& e, int default_dir) {
    f.field("dir", e.dir, DirName{}, or_value(default_dir));
    f.field("flags", e.tcp_flags, TcpFlagsName{});
    f.field("payload_len", e.payload_len);
    f.field("seq", e.seq);
    f.field("ack_seq", e.ack_seq);
    f.field("ifindex", e.ifindex);
}

// Every key of an event's line (docs/schema.md), in order. A drop is an
// event of kind "drop".
template <class F, class E>
void event_fields(F& f, E& e) {
    f.computed("v", [] { return kJsonSchemaVersion; });
    f.field("type", e.kind, KindName{});
    f.required("ts_ns", e.ts_ns);
    f.time("time", e.ts_ns);
    f.field("pid", e.pid);
    f.field("tid", e.tid);
    f.field("comm", e.comm);
    // Who the event is attributed to, and who was actually running.
    f.field("attribution", e.attribution);
    f.field("cur_pid", e.cur_pid, same_as(e.pid));
    f.field("cur_comm", e.cur_comm, same_as(e.comm));
    f.field("cur_thread", e.cur_thread, same_as(e.cur_comm));
    f.field("context", e.irq, ContextName{});
    f.field("cgroup_id", e.cgroup_id);
    container_keys(f, e.container);
    if (f.when(e.is_socket_event())) {
        socket_fields(f, e.family, e.local, e.remote, e.cookie, e.netns);
        f.field("netns_cookie", e.netns_cookie);
    }
    switch (e.kind) {
    case EventKind::State:
        f.field("old_state", e.old_state, TcpStateName{});
        f.field("new_state", e.new_state, TcpStateName{});
        f.field("prev_state_ns", e.prev_state_ns);
        // What the connection moved, on its way into CLOSE.
        if (f.when(e.close_stats.has_value(), "bytes_acked")) {
            auto& c = f.open(e.close_stats);
            f.field("bytes_acked", c.bytes_acked);
            f.field("bytes_received", c.bytes_received);
            f.field("total_retrans", c.total_retrans);
            f.field("fin_received", c.fin_received);
            f.field("srtt_us", c.srtt_us);
            f.field("min_rtt_us", c.min_rtt_us);
            f.field("rto_us", c.rto_us);
            f.field("snd_cwnd", c.snd_cwnd);
        }
        break;
    case EventKind::ResetSent:
    case EventKind::ResetReceived:
        f.field("state", e.state, TcpStateName{});
        f.field("reason", e.reason, ResetReasonName{});
        if (f.when(e.kind == EventKind::ResetSent)) {
            f.field("no_socket", e.no_socket);
            f.field("minisock", e.minisock);
        }
        break;
    case EventKind::Retransmit:
        f.field("state", e.state, TcpStateName{});
        f.field("err", e.err);
        break;
    case EventKind::SockError:
        // The name for people, the number for programs (which wins when
        // both are read back).
        f.field("errno", e.error, ErrnoName{});
        f.field("errno_value", e.error);
        break;
    case EventKind::Signal:
        // No socket keys: the namespace is the target's.
        f.field("signal", e.signal, SignalName{});
        f.field("target_pid", e.target_pid);
        f.field("netns", e.netns);
        f.field("netns_cookie", e.netns_cookie);
        f.field("result", e.signal_result, SignalResultName{});
        break;
    case EventKind::Send:
    case EventKind::Recv:
        f.field("ret", e.ret);
        if (f.when(e.ret < 0)) f.computed("errno", [&] { return errno_name(static_cast<int>(-e.ret)); });
        break;
    case EventKind::Packet:
        segment_fields(f, e, TS_DIR_TX);
        break;
    case EventKind::Drop:
        f.field("reason", e.drop_reason);
        f.field("reason_code", e.drop_reason_code);
        segment_fields(f, e, TS_DIR_RX);
        f.field("seen_by", e.drop_seen_by);
        f.field("count", e.drop_count);
        f.field("queue", e.accept_queue);
        f.field("backlog", e.accept_backlog);
        break;
    }
}

}  // namespace tcpscope
