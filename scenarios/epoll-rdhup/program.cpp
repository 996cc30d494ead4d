// epoll-rdhup: data and the peer's FIN reported in one edge-triggered
// wake-up, and no wake-up after a partial read.
//
// The server registers its accepted socket with EPOLLIN|EPOLLET|EPOLLRDHUP.
// The client sends 100 bytes and closes. The server waits (one wake-up: IN
// and RDHUP together), reads 50 bytes, and waits again.
// Expected (Linux 6.18): IN|RDHUP (0x2001) once; the second wait times out
// although 50 bytes and the EOF are still there (sock_diag: CLOSE_WAIT,
// Recv-Q 51, the FIN counting as one): a reader that waits for the next event to see the EOF waits
// forever. Reading on returns the 50 bytes, then 0.
#include "scenario.h"

#include <sys/epoll.h>

#include <string>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), registered("server registered"),
            closed("client closed");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            const sockaddr_in peer = *scen::peer_addr(fd);
            scen::Epoll ep = scen::epoll_instance("ep");
            if (r.epoll_add(ep, fd, EPOLLIN | EPOLLET | EPOLLRDHUP) < 0) scen::fail_errno("epoll_ctl");
            registered.notify();
            closed.wait();
            scen::sleep_ms(100);  // the data and the FIN have both arrived

            char buf[100];
            r.epoll_wait(ep, 1, 1000);       // 1: IN|RDHUP
            r.recv(fd, buf, 50);             // 50 of the 100
            r.epoll_wait(ep, 1, 200);        // 0: no new edge
            r.sock_diag(server_addr, peer);  // CLOSE_WAIT, Recv-Q 51 (the FIN counts one)
            r.recv(fd, buf, 50);             // the other 50
            r.recv(fd, buf, 50);             // 0: the EOF was there all along
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            registered.wait();
            r.send(fd, std::string(100, 'a'));
            r.close(fd);  // FIN right behind the data
            closed.notify();
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
    });
}
