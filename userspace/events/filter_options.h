// Parsing of the user's filter options into the kernel's filter record.
// Pure functions: every error is returned as text that names the option.
// What an option names on the host (a cgroup directory, a namespace file)
// is looked up by the kernel layer (host_filter.h), handed in as HostLookups.
#pragma once

#include <cstdint>
#include <functional>
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

// A network namespace as --netns names it. Inode numbers are reused once a
// namespace is gone; cookies never are. A namespace file gives both (the
// cookie read by a thread that enters it); a bare inode gives no cookie.
struct NetnsSpec {
    uint32_t inode = 0;
    uint64_t cookie = 0;
};

// The lookups on the host that some options need, made by the kernel layer
// (host_lookups() in host_filter.h). Unset: such an option is refused.
struct HostLookups {
    // --cgroup DIR: its cgroup id and level.
    std::function<bool(const std::string& path, uint64_t* id, uint32_t* level, std::string* error)> cgroup;
    // --netns as a file at path (`text` as given): its inode and cookie.
    std::function<bool(const std::string& text, const std::string& path, NetnsSpec* spec, std::string* error)>
        netns_file;
};

// The inode and cookie forms here; a file or a name under /run/netns
// through host.netns_file.
bool parse_netns(const std::string& text, NetnsSpec* spec, std::string* error, const HostLookups& host = {});

// Everything above into one filter record (--cgroup through host.cgroup).
bool build_filter(const FilterOptions& options, ts_filter* filter, std::string* error,
                  const HostLookups& host = {});

// The event kind names accepted by --events.
std::vector<std::string> event_kind_options();

}  // namespace tcpscope
