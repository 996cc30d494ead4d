// Decoded kernel events: what the C++ side works with after the raw ring
// buffer record has been size-checked and copied out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <linux/types.h>

#include "container_identity.h"
#include "tcpscope.h"

namespace tcpscope {

enum class EventKind : uint16_t {
    State = TS_KIND_STATE,
    ResetSent = TS_KIND_RESET_SENT,
    ResetReceived = TS_KIND_RESET_RECEIVED,
    Retransmit = TS_KIND_RETRANSMIT,
    SockError = TS_KIND_SOCK_ERROR,
    Signal = TS_KIND_SIGNAL,
    Send = TS_KIND_SEND,
    Recv = TS_KIND_RECV,
    Packet = TS_KIND_PACKET,
    Drop = TS_KIND_DROP,
};

// One endpoint address as printable text plus the raw bytes for joining.
struct Endpoint {
    std::string addr;  // "127.0.0.1", "::1"
    uint16_t port = 0;
    bool operator==(const Endpoint& o) const { return addr == o.addr && port == o.port; }
};

// What a connection moved, read from its tcp_sock as it closed (state
// events into CLOSE): bytes sent and acknowledged, bytes received, segments
// retransmitted.
struct CloseStats {
    uint64_t bytes_acked = 0;
    uint64_t bytes_received = 0;
    uint32_t total_retrans = 0;
    // The RTT state at CLOSE (tcp_sock): the smoothed and the minimum RTT
    // and the retransmission timeout in microseconds, the congestion window
    // in segments; 0 when the kernel did not say.
    uint32_t srtt_us = 0;
    uint32_t min_rtt_us = 0;
    uint32_t rto_us = 0;
    uint32_t snd_cwnd = 0;
    // The peer's FIN was received: the kernel counts it as one byte of
    // bytes_received (as it counts an acknowledged SYN or FIN of ours in
    // bytes_acked).
    bool fin_received = false;
    bool operator==(const CloseStats& o) const {
        return bytes_acked == o.bytes_acked && bytes_received == o.bytes_received &&
               total_retrans == o.total_retrans && srtt_us == o.srtt_us &&
               min_rtt_us == o.min_rtt_us && rto_us == o.rto_us && snd_cwnd == o.snd_cwnd &&
               fin_received == o.fin_received;
    }
};

struct Event {
    // Provided, so that Event() and std::in_place do not zero all ~550
    // bytes before the member initializers below run (value-initializing a
    // class whose constructor is implicit does): every member has one.
    // (The trace loop's EventDecoder keeps one and reuses it.)
    Event() {}

    EventKind kind = EventKind::State;
    uint64_t ts_ns = 0;
    uint64_t cookie = 0;
    uint64_t cgroup_id = 0;
    // The container and pod of cgroup_id, when it is in one: looked up in
    // userspace (the trace loop's ContainerResolver), shared by the events
    // of one cgroup. Null for no container or not looked up.
    std::shared_ptr<const ContainerIdentity> container;
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint32_t cur_pid = 0;
    uint32_t netns = 0;         // inode: reused once the namespace is gone
    uint64_t netns_cookie = 0;  // SO_NETNS_COOKIE: never reused
    // Process names are the thread-group leader's (what ps shows for the
    // process), sanitised to printable text.
    std::string comm;        // attributed process's name
    std::string cur_comm;    // running process's name (of cur_pid)
    std::string cur_thread;  // running thread's own name (prctl PR_SET_NAME)
    // How pid/comm were chosen: "current" (the running task), "owner" (the
    // socket's owner remembered from process context), "listener" (the
    // owner of the listening socket that accepted it) or "unknown" (in
    // softirq on a socket whose owner is not known: pid 0, comm empty).
    std::string attribution = "current";
    bool irq = false;       // fired outside process context
    bool no_socket = false; // RST sent with no socket
    bool minisock = false;  // timewait / request mini-socket
    int family = 0;         // AF_INET / AF_INET6
    Endpoint local;
    Endpoint remote;

    // Kind-specific fields.
    int old_state = 0;               // state
    int new_state = 0;               // state
    std::optional<uint64_t> prev_state_ns;  // state
    std::optional<CloseStats> close_stats;  // state into CLOSE
    int state = 0;                   // reset_*, retransmit: socket state
    std::optional<int> reason;       // reset_*: enum sk_rst_reason value
    std::optional<int> err;          // retransmit
    int error = 0;                   // sock_error: positive errno
    int signal = 0;                  // signal
    uint32_t target_pid = 0;         // signal
    int signal_result = 0;           // signal
    int64_t ret = 0;                 // send/recv
    int msg_flags = 0;               // send/recv
    int dir = TS_DIR_TX;             // packet
    uint8_t tcp_flags = 0;           // packet
    int payload_len = 0;             // packet
    int ifindex = 0;                 // packet
    uint32_t seq = 0;                // packet
    uint32_t ack_seq = 0;            // packet
    // drop (dir, tcp_flags, payload_len, ifindex, seq and ack_seq as for a
    // packet). The reason as the running kernel's BTF names enum
    // skb_drop_reason ("NETFILTER_DROP", without SKB_DROP_REASON_), set
    // by whoever decodes with that kernel's names at hand (TraceLoop); the
    // kernel's number beside it, which differs from kernel to kernel.
    std::string drop_reason;
    int drop_reason_code = 0;
    // Where the drop was seen: "kfree_skb" (the kernel's drop tracepoint:
    // one segment, the reason the kernel's) or "listener" (a listening
    // socket's own drop counter, sk_drops, rose between two looks through
    // sock_diag: `drop_count` segments, the reason ours, ACCEPT_QUEUE_FULL
    // or LISTEN_DROP, never a kernel enum name; see accept_queue.h).
    std::string drop_seen_by = "kfree_skb";
    uint64_t drop_count = 1;
    // The listener's accept queue at the look (sock_diag's idiag_rqueue)
    // and its backlog (idiag_wqueue); seen_by "listener" only.
    std::optional<uint32_t> accept_queue;
    std::optional<uint32_t> accept_backlog;

    bool is_socket_event() const { return kind != EventKind::Signal; }
};

// Copies and decodes one ring buffer record. Returns nothing when the
// record is too short or names an unknown kind: the caller counts it.
std::optional<Event> decode_event(const void* data, size_t size);

// The same for a stream of records (the trace loop's hot path): each record
// is decoded into the one Event the decoder keeps, which is valid until the
// next decode. A new Event per record cost its construction, a move and its
// destruction; a kept one keeps its strings' storage. And the process names
// and addresses are converted only when their raw bytes differ from the
// previous record's: a host's events come mostly from a few processes and
// addresses.
class EventDecoder {
public:
    EventDecoder();
    // Null when the record is too short or names an unknown kind. The
    // caller may fill in what the record does not carry (container,
    // drop_reason) but must leave the names and addresses as they are: the
    // next record keeps them when its raw bytes are the same.
    Event* decode(const void* data, size_t size);

private:
    // Which field a raw name or address is memoized for.
    enum Slot { kComm, kCurComm, kCurThread, kLocal, kRemote, kSlots };
    // Converts `raw` into `out` unless it is what the slot last converted.
    void name(Slot slot, std::string& out, const char (&raw)[16]);
    void addr(Slot slot, std::string& out, int family, const uint8_t (&raw)[16]);

    Event event_;
    // The raw bytes each slot's string was last made from, and for the
    // addresses their family (-1: nothing yet).
    uint8_t raw_[kSlots][16];
    int family_[kSlots];
};

// The JSON "type" of a kind: "state", "reset_sent", ...
const char* kind_name(EventKind kind);
std::optional<EventKind> kind_from_name(const std::string& name);

// A process name from the kernel holds whatever bytes the process chose;
// keep printable ASCII and escape everything else as \xNN.
std::string sanitize_comm(const char* comm, size_t max_len);
// The same into out, reusing its storage (the decoder's hot path).
void sanitize_comm_into(std::string& out, const char* comm, size_t max_len);

}  // namespace tcpscope
