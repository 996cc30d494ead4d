#include "event.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>

namespace tcpscope {

// The record layout is an ABI between the BPF object and this file:
// tcpscope.h checks its size and every field's offset, and both compilers
// (clang for the BPF object, this one here) run those checks.
static_assert(sizeof(ts_event) == 208, "ts_event size changed: update both sides");

namespace {

const char* const kKindNames[] = {
    "state", "reset_sent", "reset_received", "retransmit", "sock_error",
    "signal", "send", "recv", "packet", "drop",
};
static_assert(sizeof(kKindNames) / sizeof(kKindNames[0]) == TS_KIND_COUNT,
              "every kind needs a name");

// Written into the Event's own string: one copy of a few bytes, where a
// returned string and an Endpoint built around it made three.
void assign_addr(std::string& out, int family, const uint8_t* bytes) {
    if (family == AF_INET6) {
        char buf[INET6_ADDRSTRLEN] = {};
        inet_ntop(AF_INET6, bytes, buf, sizeof(buf));
        out.assign(buf);
        return;
    }
    // IPv4 is most of the traffic: four numbers, without inet_ntop's cost.
    char buf[16];
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
        unsigned v = bytes[i];
        if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
        if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
        if (i < 3) *p++ = '.';
    }
    out.assign(buf, static_cast<size_t>(p - buf));
}

}  // namespace

const char* kind_name(EventKind kind) {
    auto index = static_cast<size_t>(kind);
    return index < TS_KIND_COUNT ? kKindNames[index] : "unknown";
}

std::optional<EventKind> kind_from_name(const std::string& name) {
    for (size_t i = 0; i < TS_KIND_COUNT; ++i) {
        if (name == kKindNames[i]) return static_cast<EventKind>(i);
    }
    return std::nullopt;
}

void sanitize_comm_into(std::string& out, const char* comm, size_t max_len) {
    size_t len = 0;
    bool plain = true;
    for (; len < max_len && comm[len] != '\0'; ++len) {
        auto c = static_cast<unsigned char>(comm[len]);
        plain &= c >= 0x20 && c < 0x7f && c != '\\';
    }
    if (plain) {
        out.assign(comm, len);
        return;
    }
    out.clear();
    for (size_t i = 0; i < len; ++i) {
        auto c = static_cast<unsigned char>(comm[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
}

std::string sanitize_comm(const char* comm, size_t max_len) {
    std::string out;
    sanitize_comm_into(out, comm, max_len);
    return out;
}

// Every member of Event is set below, on every record, or reset to its
// default: a field added to Event must be added here too, or a reused Event
// would carry the previous record's value into the next.
static_assert(sizeof(Event) == 536, "Event changed: set or reset the new field in EventDecoder::decode");

EventDecoder::EventDecoder() {
    std::memset(raw_, 0, sizeof(raw_));
    for (int& f : family_) f = -1;
    // An all-zero name is the empty name the strings hold already.
}

void EventDecoder::name(Slot slot, std::string& out, const char (&raw)[16]) {
    if (std::memcmp(raw_[slot], raw, sizeof(raw)) == 0) return;
    sanitize_comm_into(out, raw, sizeof(raw));
    std::memcpy(raw_[slot], raw, sizeof(raw));
}

void EventDecoder::addr(Slot slot, std::string& out, int family, const uint8_t (&raw)[16]) {
    if (family_[slot] == family && std::memcmp(raw_[slot], raw, sizeof(raw)) == 0) return;
    assign_addr(out, family, raw);
    family_[slot] = family;
    std::memcpy(raw_[slot], raw, sizeof(raw));
}

Event* EventDecoder::decode(const void* data, size_t size) {
    if (data == nullptr || size < sizeof(ts_event)) return nullptr;
    ts_event raw;
    std::memcpy(&raw, data, sizeof(raw));
    if (raw.kind >= TS_KIND_COUNT) return nullptr;

    Event& e = event_;
    e.kind = static_cast<EventKind>(raw.kind);
    e.ts_ns = raw.ts_ns;
    e.cookie = raw.cookie;
    e.cgroup_id = raw.cgroup_id;
    e.container.reset();  // the trace loop looks it up
    e.pid = raw.pid;
    e.tid = raw.tid;
    e.cur_pid = raw.cur_pid;
    e.netns = raw.netns;
    e.netns_cookie = raw.netns_cookie;
    name(kComm, e.comm, raw.comm);
    name(kCurComm, e.cur_comm, raw.cur_comm);
    name(kCurThread, e.cur_thread, raw.cur_thread);
    // Assigned only when it changes: most records keep the previous
    // one's. Compared as strings (sizes first, then bytes), not with a
    // literal, which costs a strlen.
    static const std::string kCurrent = "current", kOwner = "owner", kListener = "listener",
                             kUnknown = "unknown";
    const std::string* attribution = &kCurrent;
    if (raw.flags & TS_F_OWNER) {
        attribution = &kOwner;
    } else if (raw.flags & TS_F_LISTENER) {
        attribution = &kListener;
    } else if (raw.flags & TS_F_UNKNOWN) {
        attribution = &kUnknown;
    }
    if (e.attribution != *attribution) e.attribution = *attribution;
    e.irq = raw.flags & TS_F_IRQ;
    e.no_socket = raw.flags & TS_F_NO_SOCKET;
    e.minisock = raw.flags & TS_F_MINISOCK;
    if (e.kind != EventKind::Signal) {
        e.family = raw.family;
        addr(kLocal, e.local.addr, raw.family, raw.saddr);
        e.local.port = raw.sport;
        addr(kRemote, e.remote.addr, raw.family, raw.daddr);
        e.remote.port = raw.dport;
    } else {
        e.family = 0;
        e.local.addr.clear();
        e.local.port = 0;
        e.remote.addr.clear();
        e.remote.port = 0;
        family_[kLocal] = family_[kRemote] = -1;
    }

    // The kind-specific fields: back to their defaults, then this kind's.
    e.old_state = 0;
    e.new_state = 0;
    e.prev_state_ns.reset();
    e.close_stats.reset();
    e.state = 0;
    e.reason.reset();
    e.err.reset();
    e.error = 0;
    e.signal = 0;
    e.target_pid = 0;
    e.signal_result = 0;
    e.ret = 0;
    e.msg_flags = 0;
    e.dir = TS_DIR_TX;
    e.tcp_flags = 0;
    e.payload_len = 0;
    e.ifindex = 0;
    e.seq = 0;
    e.ack_seq = 0;
    e.drop_reason.clear();
    e.drop_reason_code = 0;
    static const std::string kKfreeSkb = "kfree_skb";
    if (e.drop_seen_by != kKfreeSkb) e.drop_seen_by = kKfreeSkb;
    e.drop_count = 1;
    e.accept_queue.reset();
    e.accept_backlog.reset();

    switch (e.kind) {
    case EventKind::State:
        e.old_state = raw.state.old_state;
        e.new_state = raw.state.new_state;
        if (raw.flags & TS_F_PREV_TIME) e.prev_state_ns = raw.prev_state_ns;
        if (raw.flags & TS_F_CLOSE_STATS) {
            CloseStats stats;
            stats.bytes_acked = raw.bytes_acked;
            stats.bytes_received = raw.bytes_received;
            stats.total_retrans = static_cast<uint32_t>(raw.state.total_retrans);
            stats.fin_received = (raw.flags & TS_F_FIN_RECEIVED) != 0;
            if (raw.flags & TS_F_RTT) {
                stats.srtt_us = raw.srtt_us;
                stats.min_rtt_us = raw.min_rtt_us;
                stats.rto_us = raw.rto_us;
                stats.snd_cwnd = raw.snd_cwnd;
            }
            e.close_stats = stats;
        }
        break;
    case EventKind::ResetSent:
    case EventKind::ResetReceived:
        e.state = raw.reset.state;
        if (raw.flags & TS_F_REASON) e.reason = raw.reset.reason;
        break;
    case EventKind::Retransmit:
        e.state = raw.retransmit.state;
        if (raw.flags & TS_F_RETRANS_ERR) e.err = raw.retransmit.err;
        break;
    case EventKind::SockError:
        e.error = raw.sock_error.err;
        break;
    case EventKind::Signal:
        e.signal = raw.signal.sig;
        e.target_pid = static_cast<uint32_t>(raw.signal.target_pid);
        e.signal_result = raw.signal.result;
        break;
    case EventKind::Send:
    case EventKind::Recv:
        e.ret = raw.length.ret;
        e.msg_flags = raw.length.msg_flags;
        break;
    case EventKind::Packet:
        e.dir = raw.packet.dir;
        e.tcp_flags = static_cast<uint8_t>(raw.packet.tcp_flags);
        e.payload_len = raw.packet.payload_len;
        e.ifindex = raw.packet.ifindex;
        e.seq = raw.seq;
        e.ack_seq = raw.ack_seq;
        break;
    case EventKind::Drop:
        e.drop_reason_code = raw.drop.reason;
        e.dir = (raw.flags & TS_F_DROP_RX) ? TS_DIR_RX : TS_DIR_TX;
        e.tcp_flags = static_cast<uint8_t>(raw.drop.tcp_flags);
        e.payload_len = raw.drop.payload_len;
        e.ifindex = raw.drop.ifindex;
        e.seq = raw.seq;
        e.ack_seq = raw.ack_seq;
        break;
    }
    return &e;
}

std::optional<Event> decode_event(const void* data, size_t size) {
    EventDecoder decoder;
    Event* e = decoder.decode(data, size);
    if (!e) return std::nullopt;
    return std::move(*e);
}

}  // namespace tcpscope
