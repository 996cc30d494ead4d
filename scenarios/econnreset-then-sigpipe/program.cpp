// econnreset-then-sigpipe: a RST on an ESTABLISHED socket, then two sends,
// with SIGPIPE at its default action.
//
// The client's bytes reach the server, which closes without reading them:
// RST (TCP_ABORT_ON_CLOSE). The RST hits the client in ESTABLISHED, so its
// error is ECONNRESET: the first send fails with ECONNRESET and raises no
// SIGPIPE. The next send fails with EPIPE, raises SIGPIPE, and the default
// action kills the client (reported by its parent as wait(client)).
#include "scenario.h"

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), sent("client sent"), closed("server closed"),
            done("client done");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            const sockaddr_in peer = *scen::peer_addr(fd);
            sent.wait();
            scen::sleep_ms(100);
            r.sock_diag(server_addr, peer);  // Recv-Q = 5, unread
            r.close(fd);                     // RST
            closed.notify();
            done.wait();
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            r.send(fd, "hello");
            sent.notify();
            closed.wait();
            scen::sleep_ms(100);
            r.send(fd, "x");  // -1 ECONNRESET, no SIGPIPE
            scen::sleep_ms(50);
            r.send(fd, "x");  // EPIPE + SIGPIPE: the process dies here
            return 0;
        });

        scen::wait_child(client, "client");
        done.notify();
        scen::reap_child(server);
    });
}
