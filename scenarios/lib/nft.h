// nftables rules in the scenario's own network namespace (the firewall
// scenarios). The table lives in the namespace the program runs in, made by
// enter_private_netns(), and goes with it: nothing is left on the host.
//
// Needs Debian's `nftables` (the `nft` program) and CAP_NET_ADMIN in the
// namespace: the scenarios that use it run with the Namespaces privilege.
#pragma once

#include <cstdint>
#include <string>

namespace scen {

class Reporter;

// Runs `nft -f -` with `script` on its standard input and reports it as the
// step "nft -f - <first line>" (op command, arg "nft add"). Throws
// SetupError when nft is missing ("install nftables") or refuses the script.
void nft_apply(const std::string& script, Reporter& r);

// The packets counted by the `counter` of the rules of `table` (family
// inet), read with `nft -j list table inet <table>`: the kernel's own count
// of what the rule matched, the ground truth the facts compare the drop
// events with. Reported as the step "nft -j list table inet <table>" (op
// command, arg "nft counter", ret = the packets, info.counter_packets and
// info.counter_bytes). Throws SetupError when nft fails or the table has
// no counter.
int64_t nft_counter_packets(const std::string& table, Reporter& r);

}  // namespace scen
