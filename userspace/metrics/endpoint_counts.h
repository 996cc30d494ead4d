// What the metrics endpoint turned away or cut off so far: counted by the
// server (serve/metrics_server.h), exported with tcpscope's own metrics
// (metric_families.h), so that an operator sees an endpoint under attack,
// or a scraper beyond a bound, instead of only failed scrapes.
#pragma once

#include <cstdint>

namespace tcpscope {

struct EndpointCounts {
    uint64_t refused_connections_limit = 0;  // beyond the connections allowed at once
    uint64_t refused_connections_peer = 0;   // beyond those allowed from one address
    uint64_t cut_deadline = 0;     // a request (or TLS handshake) past its deadline
    uint64_t cut_too_large = 0;    // a request past the size limit
    uint64_t cut_malformed = 0;    // a request httplib could not parse (answered 400)
    uint64_t cut_tls = 0;          // a TLS handshake that failed before its deadline
};

}  // namespace tcpscope
