// poll-after-reset: what poll() reports on a connection the peer reset, and
// what the reads after it return.
//
// The client's "hello" reaches the server unread; the server closes: RST
// (TCP_ABORT_ON_CLOSE), which hits the client in ESTABLISHED. The client
// (SIGPIPE ignored) polls, reads twice, writes.
// Expected (Linux 6.18): poll = IN|OUT|ERR|HUP|RDHUP; the first recv = -1
// ECONNRESET (the pending error, read and cleared), the second recv = 0;
// the write = -1 EPIPE.
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
            r.ignore_sigpipe();
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            r.send(fd, "hello");
            sent.notify();
            closed.wait();
            scen::sleep_ms(100);
            char buf[64];
            r.poll(fd, POLLIN | POLLOUT | POLLRDHUP, 1000);  // IN|OUT|ERR|HUP|RDHUP
            r.recv(fd, buf, sizeof(buf));                   // -1 ECONNRESET
            r.recv(fd, buf, sizeof(buf));                   // 0
            r.send(fd, "x");                                // -1 EPIPE
            return 0;
        });

        scen::reap_child(client);
        done.notify();
        scen::reap_child(server);
    });
}
