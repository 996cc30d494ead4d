// zero-byte-send (the headline): what does send() of 0 bytes, then 1 byte,
// do on a connection the peer has closed?
//
// Server: accept, close at once. Client: SIGPIPE ignored, non-blocking, in
// CLOSE_WAIT; sends 0 bytes, then 1, then 1.
// Expected (Linux 6.18): send(0) = 0 with nothing on the wire; send(1) = 1,
// the byte goes out and the server's FIN_WAIT2 mini-socket answers RST
// (TCP_TIMEWAIT_SOCKET), the client goes CLOSE_WAIT -> CLOSE with error
// EPIPE; the next send = -1 EPIPE, SIGPIPE generated (and ignored).
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
            r.set_nonblocking(fd);
            const sockaddr_in local = *scen::local_addr(fd);
            closed.wait();
            scen::sleep_ms(100);  // the FIN arrives, the server's orphan becomes a mini-socket
            r.sock_diag(server_addr, local);  // server: FIN_WAIT2 mini-socket
            r.sock_diag(local, server_addr);  // client: CLOSE_WAIT

            r.send(fd, "");
            scen::sleep_ms(50);
            r.send(fd, "x");
            scen::sleep_ms(50);
            r.sock_diag(server_addr, local);  // the RST ended the mini-socket
            r.sock_diag(local, server_addr);  // the client socket is closed (unhashed)
            r.send(fd, "x");
            return 0;
        });

        scen::reap_child(client);
        done.notify();
        scen::reap_child(server);
    });
}
