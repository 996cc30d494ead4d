// peer-rebooted: the peer host reboots and comes back with no memory of the
// connection.
//
// Client and server live in namespaces tsc-<pid>-client / -server joined by a
// veth pair (10.200.2.1 <-> 10.200.2.2). After the handshake the "reboot":
// the server's link goes down (so nothing the dying server sends reaches the
// client), the server process is killed (its connection has SO_LINGER {1,0}:
// aborted at once, no orphan to keep the namespace alive), the server's
// namespace is deleted and made again with the same address and no sockets.
// Then the client sends: send(1) = 1; the new host answers RST (NO_SOCKET);
// the client goes ESTABLISHED -> CLOSE with error ECONNRESET; recv fails with
// ECONNRESET, then returns 0; a later send fails with EPIPE and raises SIGPIPE
// (ignored here so the client can report it).
#include "scenario.h"

#include <netinet/tcp.h>
#include <unistd.h>

int main() {
    return scen::run_scenario([] {
        scen::TwoHosts hosts(2);
        const sockaddr_in server_addr = hosts.server_addr(5000);
        scen::Channel listening("server listening"), accepted("server accepted"),
            connected("client connected"), rebooted("server rebooted");

        pid_t server = scen::spawn([&]() -> int {
            scen::enter_netns(hosts.server_ns());
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            r.set_linger(fd, true, 0);
            accepted.notify();
            for (;;) pause();  // until the "power cut" (SIGKILL)
        });

        pid_t client = scen::spawn([&] {
            scen::enter_netns(hosts.client_ns());
            scen::Reporter r("client");
            r.ignore_sigpipe();
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            const sockaddr_in local = *scen::local_addr(fd);
            // Bounds the run if the new host never answers.
            r.setsockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", 5000);
            accepted.wait();
            connected.notify();
            rebooted.wait();
            r.sock_diag(local, server_addr);  // still ESTABLISHED: nothing told the client
            r.send(fd, "x");                  // 1; the new host answers RST
            r.poll(fd, POLLIN, 3000);         // until the RST has arrived
            r.sock_diag(local, server_addr);  // nothing: CLOSE
            char buf[64];
            r.recv(fd, buf, sizeof(buf));  // -1 ECONNRESET
            r.recv(fd, buf, sizeof(buf));  // 0
            r.send(fd, "x");               // -1 EPIPE, SIGPIPE generated
            return 0;
        });

        connected.wait();
        scen::Reporter server_side("server");
        hosts.server_link_down(server_side);
        scen::kill_child(server, "server");
        scen::wait_child(server, "server");
        hosts.reboot_server(server_side);
        rebooted.notify();
        scen::reap_child(client);
        hosts.remove();
    });
}
