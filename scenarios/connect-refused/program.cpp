// connect-refused: connect() to a port nobody listens on.
//
// The SYN is answered by a RST sent with no socket at all (reason NO_SOCKET);
// the client goes SYN_SENT -> CLOSE and connect() fails with ECONNREFUSED.
#include "scenario.h"

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in closed_port = scen::ipv4("127.0.0.1", 5999);
        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            int fd = r.socket_tcp();
            r.connect(fd, closed_port);  // -1 ECONNREFUSED
            r.so_error(fd);              // 0: connect() already consumed the error
            return 0;
        });
        scen::reap_child(client);
    });
}
