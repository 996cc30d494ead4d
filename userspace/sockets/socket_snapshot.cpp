#include "socket_snapshot.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

namespace tcpscope {
namespace {

bool address_matches(const Endpoint& end, int family, const ts_filter& f) {
    uint8_t bytes[16] = {};
    if (family == AF_INET) {
        if (inet_pton(AF_INET, end.addr.c_str(), bytes) != 1) return false;
        return f.addr_family == AF_INET && std::memcmp(bytes, f.addr, 4) == 0;
    }
    if (inet_pton(AF_INET6, end.addr.c_str(), bytes) != 1) return false;
    if (f.addr_family == AF_INET6) return std::memcmp(bytes, f.addr, 16) == 0;
    // ::ffff:a.b.c.d is the IPv4 peer of a dual-stack socket.
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes, mapped, 12) == 0 && std::memcmp(bytes + 12, f.addr, 4) == 0;
}

}  // namespace

bool socket_passes(const SocketRecord& s, const ts_filter& f) {
    if (f.nports) {
        bool hit = false;
        for (size_t i = 0; i < f.nports && i < TS_MAX_PORTS; ++i) {
            hit |= s.local.port == f.ports[i] || s.remote.port == f.ports[i];
        }
        if (!hit) return false;
    }
    if (f.addr_family && !address_matches(s.local, s.family, f) &&
        !address_matches(s.remote, s.family, f)) {
        return false;
    }
    if (f.pid && s.pid != f.pid) return false;
    if (f.has_comm && (s.pid == 0 || std::strncmp(s.comm.c_str(), reinterpret_cast<const char*>(f.comm),
                                                  TS_COMM_LEN) != 0)) {
        return false;
    }
    if (f.cgroup_id && !s.in_cgroup) return false;
    return true;
}

}  // namespace tcpscope
