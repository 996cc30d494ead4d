// The drops that hit one connection, from the events: a drop names the
// socket (its cookie) only when the kernel knew it; a SYN dropped before
// any socket took it (a firewall rule, a full queue) is joined by the
// connection's addresses instead, seen from either end (dropped on its
// way in at the peer, the local side is the peer's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "event.h"

namespace tcpscope {

struct ConnectionDrops {
    std::vector<const Event*> drops;  // in the events' order
    size_t syns = 0;                  // of them, SYNs (no ACK): the connect's own
    // "NETFILTER_DROP" when every drop had that reason, else
    // "NETFILTER_DROP, NO_SOCKET" in order of first appearance.
    std::string reasons;
};

// The drops of the connection whose socket is `cookie`, up to `until`
// (0: all). Its addresses are those its own events carry.
ConnectionDrops connection_drops(const std::vector<Event>& events, uint64_t cookie, uint64_t until);

// What a reason means, in a few words, for the reasons a user meets most;
// "" for the others (the name says enough).
std::string drop_reason_words(const std::string& reason);

// "4 SYNs dropped on this host (NETFILTER_DROP: a firewall rule)"; "" when none.
std::string drops_text(const ConnectionDrops& d);

}  // namespace tcpscope
