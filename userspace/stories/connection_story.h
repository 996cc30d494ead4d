// A connection's story: who owned it, what it moved, how long it spent in
// each state, who closed first and how it ended, built from the kernel's
// events about one socket (by cookie). Pure: fed recorded or live events.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event.h"
#include "names.h"

namespace tcpscope {

enum class Role { Unknown, Client, Server };

// How the connection ended (JSON "end").
enum class Ending {
    Fin,            // orderly: FINs both ways
    ResetSent,      // this side sent a RST for a reason other than its own close
    ResetReceived,  // a RST arrived
    Timeout,        // retransmissions (or SYNs) until ETIMEDOUT
    Refused,        // the SYN drew a RST: ECONNREFUSED
    Aborted,        // closed with unread data, or SO_LINGER 0: RST instead of FIN
    Unknown,        // CLOSE with nothing that says why (an event lost, or a
                    // connect given up before an answer)
};

// Who sent the first FIN (JSON "closed_first").
enum class Closer { Neither, Local, Peer };

const char* role_name(Role role);
const char* ending_name(Ending ending);
const char* closer_name(Closer closer);

// Time spent in one state the connection passed through.
struct StateSpan {
    int state = 0;
    std::optional<uint64_t> ns;  // unknown when tcpscope did not see it begin
};

struct ConnectionStory {
    uint64_t cookie = 0;
    // The socket's owner, as the kernel side attributed its events (the
    // owner, not the interrupted task); pid 0 and "" when never known.
    uint32_t pid = 0;
    std::string comm;
    std::string attribution = "unknown";
    // The owner's container and pod (docs/containers.md); null for none.
    std::shared_ptr<const ContainerIdentity> container;
    Role role = Role::Unknown;
    // Not seen opening: the role is read from the ports (the ephemeral one
    // is the client's), or stays unknown when both or neither are.
    bool role_from_ports = false;
    int family = 0;
    Endpoint local;
    Endpoint remote;
    uint32_t netns = 0;
    uint64_t netns_cookie = 0;

    // When it began (its move to SYN_SENT or SYN_RECV); unknown for a
    // connection older than the trace, whose duration is then at least
    // end_ns - first_seen_ns.
    std::optional<uint64_t> start_ns;
    uint64_t first_seen_ns = 0;
    // Older than the trace: the trace's start, a lower bound of its start
    // (0: first_seen_ns is the bound).
    uint64_t known_since_ns = 0;
    uint64_t end_ns = 0;  // its move to CLOSE
    bool established = false;
    std::vector<StateSpan> states;

    // From the tcp_sock at CLOSE; unknown when the kernel did not say.
    std::optional<CloseStats> stats;
    // Data bytes: stats' counts without the SYN and FINs the kernel counts
    // in them (an acknowledged SYN of a client and FIN of ours in
    // bytes_acked, a received FIN in bytes_received). For a client older
    // than the trace, whose SYN was not seen acknowledged, bytes_sent may
    // count it.
    std::optional<uint64_t> bytes_sent;
    std::optional<uint64_t> bytes_received;
    uint32_t retransmits_seen = 0;  // retransmit events, when those are traced
    // Its segments the kernel dropped on this host (drop events, joined by
    // socket or, for a SYN no socket took yet, by addresses); of them its
    // SYNs; the reasons in order of first appearance ("NETFILTER_DROP").
    uint32_t drops_seen = 0;
    uint32_t syn_drops = 0;
    std::vector<std::string> drop_reasons;
    // Its retransmits that followed a drop of what it sent, by the peer's
    // socket on this host on the way in (loopback, a namespace): each
    // retransmit is joined to the drop before it that it repairs. The
    // reasons of those drops, in order of first appearance.
    uint32_t retransmits_after_drop = 0;
    std::vector<std::string> peer_drop_reasons;
    // Followed again after the bound dropped it once (StoryOptions::max_open):
    // what happened before its eviction is missing from this story.
    bool partial = false;

    Closer closed_first = Closer::Neither;
    Ending ending = Ending::Unknown;
    // The RST that ended it: its reason (sent, 6.10+) and the state it
    // was sent or received in.
    std::optional<int> reset_reason;
    std::optional<int> reset_state;
    std::vector<int> errors;  // socket errors, in order (positive errno)
    // A client whose connect waited for SYN retransmits while the listener
    // it connected to dropped SYNs with its accept queue full (a `drop`
    // event seen_by "listener" on this host): what made the connect slow.
    struct SynDropped {
        uint64_t connect_ns = 0;  // its time in SYN_SENT
        Endpoint listener;
        int family = 0;
        uint32_t backlog = 0;
    };
    std::optional<SynDropped> syn_dropped;
    uint32_t sigpipes = 0;

    uint64_t duration_ns() const {
        return end_ns - (start_ns ? *start_ns : known_since_ns ? known_since_ns : first_seen_ns);
    }
    bool duration_known() const { return start_ns.has_value(); }
};

// A short cause in words, e.g. "peer closed, then our write drew a RST
// from its timewait socket: EPIPE".
std::string story_cause(const ConnectionStory& story, const ResetReasons& reasons);

}  // namespace tcpscope
