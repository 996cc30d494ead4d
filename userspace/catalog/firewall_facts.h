// What the firewall scenarios (firewall-drop, firewall-reject) look for in
// common: a client's SYNs toward a port an nftables rule guards, the drops
// that met them, and the rule's own counter that the scenario read.
#pragma once

#include <string>
#include <vector>

#include "facts.h"

namespace tcpscope {

// The scenario's read of the rule's counter (scen::nft_counter_packets):
// ret is the packets the rule counted.
inline const StepMatch kNftCounter{StepOp::Command, "nft counter"};

// A packet or drop event's source and destination, "addr:port". Packet
// and drop events carry the local end first: the sender's on the way out,
// the receiver's on the way in.
std::string segment_source(const Event& e);
std::string segment_destination(const Event& e);

// What happened to the SYNs of one connect() while it ran.
struct SynExchange {
    std::string from;                  // the client's endpoint, "" when unknown
    std::vector<const Event*> syns;    // SYNs that left the client for the connect's address
    std::vector<const Event*> drops;   // drops of those SYNs (any reason)
    std::vector<const Event*> syn_acks;  // SYN-ACKs that left the address for the client
    std::vector<const Event*> rsts;      // RST segments that left the address for the client
};
SynExchange syn_exchange(const FactContext& c, const Step& connect);

// The drops with reason NETFILTER_DROP of segments toward `destination`
// up to `until_ns`: what the rule's counter counted, seen by tcpscope.
std::vector<const Event*> netfilter_drops_to(const FactContext& c, const std::string& destination,
                                             uint64_t until_ns);

// No RST anywhere in the run: no tcp_send_reset, no tcp_receive_reset, no
// RST segment.
FactResult nobody_reset(const FactContext& c);

}  // namespace tcpscope
