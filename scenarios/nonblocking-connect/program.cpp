// nonblocking-connect: connect() on a non-blocking socket, to a listener and
// to a closed port.
//
// connect() returns -1 EINPROGRESS every time, even on loopback where the
// handshake finishes within microseconds. poll() reports writable;
// getsockopt(SO_ERROR) then says how it ended: 0 for the listener; for the
// closed port the RST (NO_SOCKET) has moved the socket SYN_SENT -> CLOSE and
// SO_ERROR is ECONNREFUSED, once (reading it clears it). A second connect()
// on that socket then fails with ECONNABORTED.
#include "scenario.h"

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in listening_port = scen::ipv4("127.0.0.1", 5000);
        const sockaddr_in closed_port = scen::ipv4("127.0.0.1", 5001);
        scen::Channel listening("server listening"), done("client done");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, listening_port);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            done.wait();
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();

            int ok = r.socket_tcp();
            r.set_nonblocking(ok);
            r.connect(ok, listening_port);  // -1 EINPROGRESS
            r.poll(ok, POLLOUT, 2000);      // 1, POLLOUT
            r.so_error(ok);                 // 0

            int refused = r.socket_tcp();
            r.set_nonblocking(refused);
            r.connect(refused, closed_port);  // -1 EINPROGRESS
            r.poll(refused, POLLOUT, 2000);   // 1, POLLOUT|POLLERR|POLLHUP
            r.so_error(refused);              // ECONNREFUSED
            r.so_error(refused);              // 0: read once, cleared
            r.connect(refused, closed_port);  // -1 ECONNABORTED
            return 0;
        });

        scen::reap_child(client);
        done.notify();
        scen::reap_child(server);
    });
}
