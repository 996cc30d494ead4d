#include "tcp_setup.h"

#include "errors.h"
#include "socket_info.h"

#include <sys/socket.h>

namespace scen {

int tcp_listener(Reporter& r, const sockaddr_in& addr, const ListenOptions& opt) {
    int fd = r.socket_tcp();
    if (opt.reuseaddr && r.setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1) < 0)
        fail_errno("setsockopt SO_REUSEADDR");
    if (opt.rcvbuf && r.setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", opt.rcvbuf) < 0)
        fail_errno("setsockopt SO_RCVBUF");
    if (r.bind(fd, addr) < 0) fail_errno("bind " + to_string(addr));
    if (r.listen(fd, opt.backlog) < 0) fail_errno("listen");
    return fd;
}

int tcp_connect(Reporter& r, const sockaddr_in& to, const ConnectOptions& opt) {
    int fd = r.socket_tcp();
    if (opt.sndbuf && r.setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", opt.sndbuf) < 0)
        fail_errno("setsockopt SO_SNDBUF");
    if (opt.rcvbuf && r.setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", opt.rcvbuf) < 0)
        fail_errno("setsockopt SO_RCVBUF");
    if (r.connect(fd, to) < 0) fail_errno("connect " + to_string(to));
    return fd;
}

}  // namespace scen
