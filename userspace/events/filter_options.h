// Parsing of the user's filter options into the kernel's filter record.
// Pure functions: every error is returned as text that names the option.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <linux/types.h>

#include "tcpscope.h"

namespace tcpscope {

struct FilterOptions {
    int64_t pid = 0;  // signed so that CLI11 rejects "-5" instead of wrapping it
    std::string comm;
    std::string ports;    // "80,443"
    std::string addr;     // "127.0.0.1" or "::1"
    // An inode ("4026531840"), a cookie ("cookie:3"), or a namespace file
    // (/run/netns/NAME, /proc/PID/ns/net) or a name under /run/netns.
    std::string netns;
    std::string cgroup;   // cgroup v2 directory: it and everything below it
    // A container ID or its prefix: its cgroup becomes `cgroup`
    // (resolve_filter_container(), which reads the cgroup tree).
    std::string container;
    std::string events = "state,reset,retransmit,error,signal,drop";
    // --all-drops: also the drops that lose nothing on the network
    // (NOT_SPECIFIED, a socket's queues emptied at close; docs/drops.md).
    bool all_drops = false;
};

// Parses "state,reset,..." into a kind mask. "reset" means both directions.
bool parse_event_kinds(const std::string& text, uint32_t* mask, std::string* error);

// Parses "80,443" (1-65535, at most TS_MAX_PORTS).
bool parse_ports(const std::string& text, std::vector<uint16_t>* ports, std::string* error);

// Parses an IPv4 or IPv6 address into family and 16 bytes.
bool parse_address(const std::string& text, uint16_t* family, uint8_t out[16], std::string* error);

// A cgroup v2 directory's inode number is its cgroup id; its level is its
// depth below the cgroup2 mount's root (the root is 0), which is where the
// kernel keeps it among a descendant's ancestors.
bool cgroup_id_of(const std::string& path, uint64_t* id, std::string* error);
bool cgroup_level_of(const std::string& path, uint32_t* level, std::string* error);

// A network namespace as --netns names it. Inode numbers are reused once a
// namespace is gone; cookies never are. A namespace file gives both (the
// cookie read by a thread that enters it); a bare inode gives no cookie.
struct NetnsSpec {
    uint32_t inode = 0;
    uint64_t cookie = 0;
};
bool parse_netns(const std::string& text, NetnsSpec* spec, std::string* error);

// The cookie of the network namespace at path (entered by a short-lived
// thread), or of the caller's own when path is empty. 0 with an error.
uint64_t netns_cookie_of(const std::string& path, std::string* error);

// Everything above into one filter record.
bool build_filter(const FilterOptions& options, ts_filter* filter, std::string* error);

// The event kind names accepted by --events.
std::vector<std::string> event_kind_options();

}  // namespace tcpscope
