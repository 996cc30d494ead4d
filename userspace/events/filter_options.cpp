#include "filter_options.h"

#include <arpa/inet.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace tcpscope {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, sep)) parts.push_back(part);
    if (!text.empty() && text.back() == sep) parts.emplace_back();
    return parts;
}

struct KindOption {
    const char* name;
    uint32_t mask;
};

const KindOption kKindOptions[] = {
    {"state", 1u << TS_KIND_STATE},
    {"reset", (1u << TS_KIND_RESET_SENT) | (1u << TS_KIND_RESET_RECEIVED)},
    {"retransmit", 1u << TS_KIND_RETRANSMIT},
    {"error", 1u << TS_KIND_SOCK_ERROR},
    {"signal", 1u << TS_KIND_SIGNAL},
    {"send", 1u << TS_KIND_SEND},
    {"recv", 1u << TS_KIND_RECV},
    {"packet", 1u << TS_KIND_PACKET},
    {"drop", 1u << TS_KIND_DROP},
};

}  // namespace

std::vector<std::string> event_kind_options() {
    std::vector<std::string> names;
    for (const auto& k : kKindOptions) names.emplace_back(k.name);
    names.emplace_back("all");
    return names;
}

bool parse_event_kinds(const std::string& text, uint32_t* mask, std::string* error) {
    uint32_t result = 0;
    for (const auto& item : split(text, ',')) {
        if (item == "all") {
            result |= (1u << TS_KIND_COUNT) - 1;
            continue;
        }
        bool known = false;
        for (const auto& k : kKindOptions) {
            if (item == k.name) {
                result |= k.mask;
                known = true;
            }
        }
        if (!known) {
            std::string valid;
            for (const auto& n : event_kind_options()) valid += (valid.empty() ? "" : ",") + n;
            *error = "--events: unknown event kind '" + item + "' (valid: " + valid + ")";
            return false;
        }
    }
    if (result == 0) {
        *error = "--events: no event kind given";
        return false;
    }
    *mask = result;
    return true;
}

bool parse_ports(const std::string& text, std::vector<uint16_t>* ports, std::string* error) {
    std::vector<uint16_t> result;
    for (const auto& item : split(text, ',')) {
        bool digits = !item.empty() && item.size() <= 5 &&
                      item.find_first_not_of("0123456789") == std::string::npos;
        unsigned long value = digits ? std::stoul(item) : 0;
        if (!digits || value < 1 || value > 65535) {
            *error = "--port: '" + item + "' is not a port number (1-65535)";
            return false;
        }
        result.push_back(static_cast<uint16_t>(value));
    }
    if (result.empty()) {
        *error = "--port: no port given";
        return false;
    }
    if (result.size() > TS_MAX_PORTS) {
        *error = "--port: at most " + std::to_string(TS_MAX_PORTS) + " ports";
        return false;
    }
    *ports = std::move(result);
    return true;
}

bool parse_address(const std::string& text, uint16_t* family, uint8_t out[16], std::string* error) {
    std::memset(out, 0, 16);
    if (inet_pton(AF_INET, text.c_str(), out) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text.c_str(), out) == 1) {
        *family = AF_INET6;
        return true;
    }
    *error = "--addr: '" + text + "' is not an IPv4 or IPv6 address";
    return false;
}

bool parse_netns(const std::string& text, NetnsSpec* spec, std::string* error, const HostLookups& host) {
    auto whole = [](const std::string& digits, uint64_t max, uint64_t* out) {
        if (digits.empty() || digits.size() > 20 ||
            digits.find_first_not_of("0123456789") != std::string::npos) {
            return false;
        }
        errno = 0;
        unsigned long long v = std::strtoull(digits.c_str(), nullptr, 10);
        if (errno != 0 || v < 1 || v > max) return false;
        *out = v;
        return true;
    };
    NetnsSpec result;
    uint64_t value = 0;
    static const std::string kCookie = "cookie:";
    if (text.compare(0, kCookie.size(), kCookie) == 0) {
        if (!whole(text.substr(kCookie.size()), UINT64_MAX, &value)) {
            *error = "--netns: '" + text + "': a cookie is a whole number from 1 to " +
                     std::to_string(UINT64_MAX) + " (SO_NETNS_COOKIE)";
            return false;
        }
        result.cookie = value;
    } else if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        if (!whole(text, 0xffffffffu, &value)) {
            *error = "--netns: '" + text +
                     "' is not a namespace inode (a whole number from 1 to 4294967295)";
            return false;
        }
        result.inode = static_cast<uint32_t>(value);
    } else {
        // A namespace file, or a name `ip netns` made: the host's to look up.
        std::string path = text;
        if (text.find('/') == std::string::npos) path = "/run/netns/" + text;
        if (!host.netns_file) {
            *error = "--netns: '" + text + "' names a namespace file (" + path +
                     "), which only the host's lookups can open";
            return false;
        }
        if (!host.netns_file(text, path, &result, error)) return false;
    }
    *spec = result;
    return true;
}

bool build_filter(const FilterOptions& options, ts_filter* filter, std::string* error, const HostLookups& host) {
    ts_filter f{};
    f.pid = static_cast<__u32>(options.pid);
    if (!options.netns.empty()) {
        NetnsSpec ns;
        if (!parse_netns(options.netns, &ns, error, host)) return false;
        f.netns = ns.inode;
        f.netns_cookie = ns.cookie;
    }
    if (!parse_event_kinds(options.events, &f.kind_mask, error)) return false;
    if (!options.ports.empty()) {
        std::vector<uint16_t> ports;
        if (!parse_ports(options.ports, &ports, error)) return false;
        for (size_t i = 0; i < ports.size(); ++i) f.ports[i] = ports[i];
        f.nports = static_cast<__u16>(ports.size());
    }
    if (!options.addr.empty()) {
        if (!parse_address(options.addr, &f.addr_family, f.addr, error)) return false;
    }
    if (!options.comm.empty()) {
        if (options.comm.size() >= TS_COMM_LEN) {
            *error = "--comm: '" + options.comm + "' is longer than the kernel's " +
                     std::to_string(TS_COMM_LEN - 1) + "-character process names";
            return false;
        }
        std::memcpy(f.comm, options.comm.data(), options.comm.size());
        f.has_comm = 1;
    }
    if (!options.cgroup.empty()) {
        uint64_t id = 0;
        uint32_t level = 0;
        if (!host.cgroup) {
            *error = "--cgroup: '" + options.cgroup + "' is a directory, which only the host's lookups can open";
            return false;
        }
        if (!host.cgroup(options.cgroup, &id, &level, error)) return false;
        f.cgroup_id = id;
        f.cgroup_level = level;
    }
    *filter = f;
    return true;
}

}  // namespace tcpscope
