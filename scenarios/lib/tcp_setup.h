// Stage building shared by the scenarios: a listener, a connected client.
// Each call is still reported as a step (the timeline shows where sockets
// come from), but a failure here is a broken stage, not a finding, so it
// throws SetupError instead of being returned.
#pragma once

#include "steps.h"

#include <netinet/in.h>

namespace scen {

struct ListenOptions {
    bool reuseaddr = false;  // setsockopt(SO_REUSEADDR 1) before bind
    int rcvbuf = 0;          // setsockopt(SO_RCVBUF n) before listen, inherited by accepted sockets; 0 = default
    int backlog = 8;
};

// socket, [setsockopt], bind, listen.
int tcp_listener(Reporter& r, const sockaddr_in& addr, const ListenOptions& opt = {});

struct ConnectOptions {
    int sndbuf = 0;  // setsockopt(SO_SNDBUF n) before connect; 0 = default
    int rcvbuf = 0;  // setsockopt(SO_RCVBUF n) before connect; 0 = default
};

// socket, [setsockopt], connect (blocking).
int tcp_connect(Reporter& r, const sockaddr_in& to, const ConnectOptions& opt = {});

}  // namespace scen
