#include "filter_options.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // Linux 5.14; older libc headers lack it
#endif

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

bool cgroup_id_of(const std::string& path, uint64_t* id, std::string* error) {
    struct statfs fs {};
    struct stat st {};
    if (statfs(path.c_str(), &fs) != 0 || stat(path.c_str(), &st) != 0) {
        *error = "--cgroup: cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
        *error = "--cgroup: '" + path + "' is not a cgroup v2 directory";
        return false;
    }
    *id = st.st_ino;
    return true;
}

bool cgroup_level_of(const std::string& path, uint32_t* level, std::string* error) {
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) == nullptr) {
        *error = "--cgroup: cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    // Climb while the parent is still the same cgroup2 mount: each step is
    // one level. The mount's root is the first directory whose parent is
    // another file system (or itself).
    std::string dir = resolved;
    uint32_t depth = 0;
    struct stat here {};
    if (stat(dir.c_str(), &here) != 0) {
        *error = "--cgroup: cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    while (dir != "/") {
        std::string parent = dir.substr(0, dir.rfind('/'));
        if (parent.empty()) parent = "/";
        struct statfs fs {};
        struct stat up {};
        if (statfs(parent.c_str(), &fs) != 0 || stat(parent.c_str(), &up) != 0 ||
            fs.f_type != CGROUP2_SUPER_MAGIC || up.st_dev != here.st_dev) {
            break;
        }
        ++depth;
        dir = parent;
        here = up;
    }
    *level = depth;
    return true;
}

uint64_t netns_cookie_of(const std::string& path, std::string* error) {
    uint64_t cookie = 0;
    std::string failure;
    // Entering a namespace changes the calling thread's only: a thread of
    // our own does it and ends, and nothing else of the process moves.
    std::thread worker([&] {
        if (!path.empty()) {
            int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (ns < 0) {
                failure = "cannot open '" + path + "': " + std::strerror(errno);
                return;
            }
            int rc = setns(ns, CLONE_NEWNET);
            int saved = errno;
            close(ns);
            if (rc != 0) {
                failure = "'" + path + "' is not a network namespace we can enter: " +
                          std::strerror(saved);
                return;
            }
        }
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            failure = std::string("cannot make a socket to read the namespace cookie: ") +
                      std::strerror(errno);
            return;
        }
        socklen_t len = sizeof(cookie);
        if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
            failure = std::string("SO_NETNS_COOKIE: ") + std::strerror(errno) +
                      " (Linux 5.14 added it)";
            cookie = 0;
        }
        close(s);
    });
    worker.join();
    if (cookie == 0 && error) *error = failure;
    return cookie;
}

bool parse_netns(const std::string& text, NetnsSpec* spec, std::string* error) {
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
        // A namespace file, or a name `ip netns` made.
        std::string path = text;
        if (text.find('/') == std::string::npos) path = "/run/netns/" + text;
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) {
            if (errno == ENOENT) {
                *error = "--netns: '" + text + "' is not an inode, a cookie:N, or a namespace file (" +
                         path + ": " + std::strerror(errno) + ")";
            } else {
                *error = "--netns: cannot open '" + path + "': " + std::strerror(errno);
            }
            return false;
        }
        std::string why;
        result.cookie = netns_cookie_of(path, &why);
        if (result.cookie == 0) {
            *error = "--netns: " + why;
            return false;
        }
        result.inode = static_cast<uint32_t>(st.st_ino);
    }
    *spec = result;
    return true;
}

bool build_filter(const FilterOptions& options, ts_filter* filter, std::string* error) {
    ts_filter f{};
    f.pid = static_cast<__u32>(options.pid);
    if (!options.netns.empty()) {
        NetnsSpec ns;
        if (!parse_netns(options.netns, &ns, error)) return false;
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
        if (!cgroup_id_of(options.cgroup, &id, error)) return false;
        if (!cgroup_level_of(options.cgroup, &level, error)) return false;
        f.cgroup_id = id;
        f.cgroup_level = level;
    }
    *filter = f;
    return true;
}

}  // namespace tcpscope
