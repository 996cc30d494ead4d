// Identity of a socket as steps report it: its SO_COOKIE (the key the tracer
// joins kernel events on) and its addresses. Read these before close(): once
// the descriptor is gone, so is any way to name the socket.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>

namespace scen {

struct SocketInfo {
    uint64_t cookie = 0;  // 0 when fd is not a socket
    std::string local;    // "127.0.0.1:5000", empty when unbound
    std::string remote;   // empty when not connected
};

SocketInfo socket_info(int fd);
uint64_t socket_cookie(int fd);

std::optional<sockaddr_in> local_addr(int fd);
std::optional<sockaddr_in> peer_addr(int fd);

// IPv4 socket address from dotted quad and host-order port; throws on a bad address.
sockaddr_in ipv4(const std::string& ip, uint16_t port);
// "127.0.0.1:5000"
std::string to_string(const sockaddr_in& addr);

}  // namespace scen
