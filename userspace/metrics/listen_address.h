// --listen ADDR:PORT: where `tcpscope metrics` serves.
#pragma once

#include <cstdint>
#include <string>

namespace tcpscope {

// The default port: not in Prometheus's list of default port allocations.
constexpr uint16_t kDefaultMetricsPort = 9979;

struct ListenAddress {
    std::string host;  // a numeric IPv4 or IPv6 address, without brackets
    uint16_t port = 0;
    bool loopback = false;
};

// "127.0.0.1:9979", "[::1]:9979", "0.0.0.0:9979", "[::]:9979", or ":9979"
// (loopback). Host names are refused: an exporter's address should not
// depend on the resolver. False with *error in words.
bool parse_listen_address(const std::string& text, ListenAddress* out, std::string* error);

// "127.0.0.1:9979" or "[::1]:9979".
std::string listen_address_text(const ListenAddress& a);

}  // namespace tcpscope
