#include "listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdlib>

namespace tcpscope {

bool parse_listen_address(const std::string& text, ListenAddress* out, std::string* error) {
    const std::string form =
        "must be ADDRESS:PORT with a numeric address, e.g. 127.0.0.1:19979, [::1]:19979 or "
        "0.0.0.0:19979, and a port from 1 to 65535";
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
        *error = form;
        return false;
    }
    std::string host = text.substr(0, colon);
    std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::atoi(port.c_str()) < 1 || std::atoi(port.c_str()) > 65535) {
        *error = form;
        return false;
    }
    if (host.empty()) host = "127.0.0.1";
    bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    in_addr v4{};
    in6_addr v6{};
    ListenAddress a;
    if (!bracketed && inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        a.loopback = (ntohl(v4.s_addr) >> 24) == 127;
    } else if (bracketed && inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        a.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
    } else {
        *error = form;
        return false;
    }
    a.host = host;
    a.port = static_cast<uint16_t>(std::atoi(port.c_str()));
    *out = a;
    return true;
}

std::string listen_address_text(const ListenAddress& a) {
    bool v6 = a.host.find(':') != std::string::npos;
    return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

}  // namespace tcpscope
