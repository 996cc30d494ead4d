// server-killed: the server process is SIGKILLed while the client is blocked
// in recv().
//
// The kernel closes the dead server's socket: FIN, server FIN_WAIT1 ->
// FIN_WAIT2 -> CLOSE (a FIN_WAIT2 mini-socket remains). The client's recv
// returns 0 at once. Its first send(1) = 1, and the mini-socket answers RST
// (TCP_TIMEWAIT_SOCKET); the RST hits a CLOSE_WAIT socket, so the client's
// error is EPIPE, not ECONNRESET. Later sends fail with EPIPE and raise
// SIGPIPE (ignored here so the client can report them).
#include "scenario.h"

#include <unistd.h>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), accepted("server accepted"),
            receiving("client about to recv");

        pid_t server = scen::spawn([&]() -> int {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            accepted.notify();
            for (;;) pause();  // until SIGKILL
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            r.ignore_sigpipe();
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            const sockaddr_in local = *scen::local_addr(fd);
            accepted.wait();
            receiving.notify();
            char buf[64];
            r.recv(fd, buf, sizeof(buf));  // blocks; 0 once the killed server's FIN arrives
            scen::sleep_ms(50);
            r.sock_diag(server_addr, local);  // FIN_WAIT2 mini-socket
            r.send(fd, "x");                  // 1; the mini-socket answers RST
            scen::sleep_ms(50);
            r.so_error(fd);   // EPIPE (the RST hit CLOSE_WAIT)
            r.send(fd, "x");  // -1 EPIPE, SIGPIPE generated
            r.send(fd, "x");  // and again
            return 0;
        });

        receiving.wait();
        scen::sleep_ms(200);  // the client is blocked in recv()
        scen::kill_child(server, "server");
        scen::wait_child(server, "server");
        scen::reap_child(client);
    });
}
