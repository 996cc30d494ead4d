// poll-after-peer-close: what poll() reports on a connection whose peer has
// closed, before and after a write draws the peer's RST.
//
// Server: accept, close at once. Client (SIGPIPE ignored): poll, recv, send
// one byte, poll and recv again, send again.
// Expected (Linux 6.18): after the FIN, poll = IN|OUT|RDHUP: readable (recv
// will return 0) and still writable; recv = 0; the one-byte send = 1 and
// draws a RST from the server's FIN_WAIT2 mini-socket, which hits the
// client in CLOSE_WAIT (error EPIPE); poll then = IN|OUT|ERR|HUP|RDHUP, yet
// recv still returns 0, not ECONNRESET; the next send = -1 EPIPE.
#include "scenario.h"

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), closed("server closed"), done("client done");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            r.close(fd);
            closed.notify();
            done.wait();  // keep the listener until the client is through
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            r.ignore_sigpipe();
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            closed.wait();
            scen::sleep_ms(100);  // the FIN has arrived: CLOSE_WAIT
            const short asked = POLLIN | POLLOUT | POLLRDHUP;
            char buf[64];
            r.poll(fd, asked, 1000);  // IN|OUT|RDHUP
            r.recv(fd, buf, sizeof(buf));  // 0
            r.send(fd, "x");               // 1, and the peer answers RST
            scen::sleep_ms(50);
            r.poll(fd, asked, 1000);  // IN|OUT|ERR|HUP|RDHUP
            r.recv(fd, buf, sizeof(buf));  // still 0
            r.send(fd, "x");               // -1 EPIPE
            return 0;
        });

        scen::reap_child(client);
        done.notify();
        scen::reap_child(server);
    });
}
