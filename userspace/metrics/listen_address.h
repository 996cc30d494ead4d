// --listen ADDR:PORT: where `tcpscope metrics` serves.
#pragma once

#include <cstdint>
#include <string>

namespace tcpscope {

// The default port: outside 9100-9999, the range of Prometheus's exporter port
// allocations, which is full (every port there belongs to some exporter).
constexpr uint16_t kDefaultMetricsPort = 19979;

struct ListenAddress {
    std::string host;  // a numeric IPv4 or IPv6 address, without brackets
    uint16_t port = 0;
    bool loopback = false;
};

// "127.0.0.1:19979", "[::1]:19979", "0.0.0.0:19979", "[::]:19979", or ":19979"
// (loopback). Host names are refused: an exporter's address should not
// depend on the resolver. False with *error in words.
bool parse_listen_address(const std::string& text, ListenAddress* out, std::string* error);

// "127.0.0.1:19979" or "[::1]:19979".
std::string listen_address_text(const ListenAddress& a);

}  // namespace tcpscope
