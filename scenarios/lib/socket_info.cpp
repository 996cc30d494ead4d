#include "socket_info.h"

#include "errors.h"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace scen {

uint64_t socket_cookie(int fd) {
    uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0) return 0;
    return cookie;
}

std::optional<sockaddr_in> local_addr(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0 || a.sin_family != AF_INET)
        return std::nullopt;
    // An unbound socket answers 0.0.0.0:0, which names nothing.
    if (a.sin_port == 0) return std::nullopt;
    return a;
}

std::optional<sockaddr_in> peer_addr(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0 || a.sin_family != AF_INET)
        return std::nullopt;
    return a;
}

SocketInfo socket_info(int fd) {
    SocketInfo info;
    if (fd < 0) return info;
    info.cookie = socket_cookie(fd);
    if (auto a = local_addr(fd)) info.local = to_string(*a);
    if (auto a = peer_addr(fd)) info.remote = to_string(*a);
    return info;
}

sockaddr_in ipv4(const std::string& ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) fail("bad IPv4 address " + ip);
    return a;
}

std::string to_string(const sockaddr_in& addr) {
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(addr.sin_port));
}

}  // namespace scen
