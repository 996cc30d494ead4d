// close-unread-data: close() with received bytes still unread.
//
// The client sends 5 bytes; the server never reads them and closes. Linux
// answers with a RST instead of a FIN (reason TCP_ABORT_ON_CLOSE): the closer
// goes ESTABLISHED -> CLOSE with no FIN_WAIT or TIME_WAIT (sock_diag finds
// nothing left), and the client's recv fails with ECONNRESET.
#include "scenario.h"

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), sent("client sent"), closed("server closed");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            const sockaddr_in peer = *scen::peer_addr(fd);
            sent.wait();
            scen::sleep_ms(100);             // the bytes are in the receive queue
            r.sock_diag(server_addr, peer);  // Recv-Q = 5
            r.close(fd);
            scen::sleep_ms(50);
            r.sock_diag(server_addr, peer);  // nothing: no FIN_WAIT, no TIME_WAIT
            closed.notify();
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            r.send(fd, "hello");
            sent.notify();
            closed.wait();
            char buf[64];
            r.recv(fd, buf, sizeof(buf));  // ECONNRESET
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
    });
}
