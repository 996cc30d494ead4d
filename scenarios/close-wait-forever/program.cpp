// close-wait-forever: the peer closed, this side never calls close().
//
// The server sets TCP_LINGER2 to 3 s and closes. Its socket goes
// FIN_WAIT1 -> FIN_WAIT2 -> CLOSE at once: the orphan becomes a FIN_WAIT2
// mini-socket with a 3 s timer (sock_diag shows it). The client's recv
// returns 0 (EOF) again and again; after TCP_LINGER2 the mini-socket is gone
// with no event at all (sock_diag finds nothing), while the client stays in
// CLOSE_WAIT.
#include "scenario.h"

#include <netinet/tcp.h>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        constexpr int kLinger2 = 3;
        scen::Channel listening("server listening"), closed("server closed"), done("client done");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            r.setsockopt_int(fd, IPPROTO_TCP, TCP_LINGER2, "TCP_LINGER2", kLinger2);
            r.close(fd);
            closed.notify();
            done.wait();
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            const sockaddr_in local = *scen::local_addr(fd);
            closed.wait();
            scen::sleep_ms(100);
            char buf[64];
            r.recv(fd, buf, sizeof(buf));     // 0: EOF
            r.sock_diag(server_addr, local);  // FIN_WAIT2 mini-socket, timer ~3 s
            r.sock_diag(local, server_addr);  // CLOSE_WAIT
            scen::sleep_ms(1000);
            r.recv(fd, buf, sizeof(buf));  // 0 again
            r.sock_diag(server_addr, local);
            scen::sleep_ms(kLinger2 * 1000);  // past TCP_LINGER2
            r.recv(fd, buf, sizeof(buf));     // still 0
            r.sock_diag(server_addr, local);  // nothing: the mini-socket expired silently
            r.sock_diag(local, server_addr);  // still CLOSE_WAIT: close() never called
            return 0;
        });

        scen::reap_child(client);
        done.notify();
        scen::reap_child(server);
    });
}
