// Builds connection stories from a stream of events, live or recorded.
//
// A story is complete some time after its socket's move to CLOSE: the
// error the application reads and its SIGPIPE can come after it (a RST
// in CLOSE_WAIT sets EPIPE at once, but SIGPIPE only comes with the next
// write), and a RST the socket sends as it aborts is reported after its
// move to CLOSE. So a closed connection waits `grace_ns` (of the events'
// clock) for those, then is handed out and forgotten. A socket seen only
// in LISTEN is no connection and is dropped at once.
//
// Memory is bounded: at most `max_open` connections are followed, closed
// ones in their grace included. Past that, a closed connection is handed
// out before its grace ends (counted in cut_short()), or else the open one
// idle longest is dropped (counted in evicted()), as a connection whose
// CLOSE was lost would otherwise be kept forever. A dropped connection's
// later events start a story marked partial.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "connection_story.h"
#include "tuple_index.h"

namespace tcpscope {

struct StoryOptions {
    uint64_t grace_ns = 1000000000ull;  // wait after CLOSE for late errors, RSTs, SIGPIPE
    size_t max_open = 65536;
    // When the trace began (the events' clock), 0 when unknown: a
    // connection not seen opening was there then, so it lasted at least
    // from then.
    uint64_t trace_start_ns = 0;
    // The ephemeral port range (net.ipv4.ip_local_port_range): the role of
    // a connection not seen opening is read from its ports.
    uint16_t ephemeral_low = 32768;
    uint16_t ephemeral_high = 60999;
};

class StoryBuilder {
public:
    // reasons: the kernel's RST reason names, to tell an abortive close
    // (TCP_ABORT_ON_CLOSE, TCP_STATE, ...) from other RSTs sent.
    StoryBuilder(const ResetReasons& reasons, StoryOptions options = {})
        : reasons_(reasons), options_(options) {}

    void add(const Event& event);
    // Stories whose grace has passed by now_ns (CLOCK_MONOTONIC, the
    // events' clock), oldest end first.
    std::vector<ConnectionStory> take_complete(uint64_t now_ns);
    // Every closed connection, grace or not (the end of the trace).
    std::vector<ConnectionStory> take_closed();

    size_t open_connections() const { return conns_.size(); }
    // Visits each connection followed and not closed (listeners aside), as
    // its story stands so far: what `top` counts as active.
    void for_each_open(const std::function<void(const ConnectionStory&)>& visit) const;
    uint64_t evicted() const { return evicted_; }
    uint64_t cut_short() const { return cut_short_; }

private:
    struct Conn {
        ConnectionStory story;
        // Its segments the peer's socket here dropped that no retransmit
        // of its has followed yet.
        uint32_t peer_drops_pending = 0;
        bool closed = false;
        bool listener = false;
        uint64_t last_ts = 0;
        bool process_close = false;  // its move to CLOSE ran in its owner's context
        bool owner_named = false;    // by its own owner, not the listener's
        bool rst_sent = false;
        uint64_t rst_sent_ts = 0;
        int rst_sent_state = 0;
        std::optional<int> rst_sent_reason;
        bool rst_received = false;
        uint64_t rst_received_ts = 0;
        int rst_received_state = 0;
        int close_from = 0;  // the state it left for CLOSE
        std::list<uint64_t>::iterator idle;  // its place in idle_, while open
        bool syn_acked = false;  // SYN_SENT -> ESTABLISHED: our SYN is in bytes_acked
        bool fin_acked = false;  // our FIN acknowledged: in bytes_acked
        bool fin_acked_at_close = false;  // out of CLOSING/LAST_ACK: acknowledged unless reset
        bool indexed = false;    // in by_tuple_, once both ports are known
        uint64_t tuple_hash = 0;  // its key there
    };
    Conn* find_or_add(const Event& e);
    void on_state(Conn& c, const Event& e);
    void on_signal(const Event& e);
    void finish(Conn& c);
    void forget(uint64_t cookie);
    void on_listener_drop(const Event& e);
    void join_syn_drop(ConnectionStory& s) const;
    void make_room();
    void on_drop(const Event& e);
    void index_tuple(Conn& c);
    void unindex(const Conn& c);
    // The connection followed whose addresses are these, if any.
    std::unordered_map<uint64_t, Conn>::iterator find_by_tuple(int family, const Endpoint& local,
                                                               const Endpoint& remote);
    void hand_out(std::unordered_map<uint64_t, Conn>::iterator it);
    static void remember(std::unordered_set<uint64_t>& set, std::deque<uint64_t>& order,
                         uint64_t cookie);

    const ResetReasons& reasons_;
    StoryOptions options_;
    std::unordered_map<uint64_t, Conn> conns_;
    // Open connections by their addresses, for the drops that name no
    // socket (a SYN dropped before any socket took it): one entry per
    // connection in conns_, gone with it. Keyed by a hash of the addresses
    // (a lookup checks the connection's own), not by their text: a
    // connection then costs no string here, where an IPv6 pair took two.
    TupleIndex by_tuple_;
    // Open connections, the one idle longest first: what the bound drops
    // (O(1) per event and per eviction). Closed ones leave it.
    std::list<uint64_t> idle_;
    // Closed connections in order of their CLOSE: (end_ns, cookie).
    std::deque<std::pair<uint64_t, uint64_t>> closing_;
    // Cookies whose story was handed out: their late events are not a new
    // connection. Bounded, oldest first out.
    std::unordered_set<uint64_t> done_;
    std::deque<uint64_t> done_order_;
    // Cookies dropped at the bound: their later events make a partial
    // story. Bounded the same way.
    std::unordered_set<uint64_t> evicted_cookies_;
    std::deque<uint64_t> evicted_order_;
    // Closed connections handed out early to make room, for the next
    // take_complete().
    std::vector<ConnectionStory> ready_;
    // Recent accept-queue overflows (drop events a listener's counter
    // gave), oldest first, for the slow connects they explain. Bounded.
    struct QueueDrop {
        uint64_t ts_ns = 0;
        uint32_t netns = 0;
        int family = 0;
        Endpoint listener;
        uint32_t backlog = 0;
    };
    std::deque<QueueDrop> queue_drops_;
    uint64_t evicted_ = 0;
    uint64_t cut_short_ = 0;
};

}  // namespace tcpscope
