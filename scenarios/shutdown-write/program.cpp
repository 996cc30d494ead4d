// shutdown-write: a half-close, and TIME_WAIT before close().
//
// The client sends a request, shutdown(SHUT_WR)s (ESTABLISHED -> FIN_WAIT1 ->
// FIN_WAIT2), and keeps reading. The server reads to EOF (CLOSE_WAIT),
// replies, and closes (LAST_ACK -> CLOSE). The client still reads the reply
// after its own FIN, then EOF; on the server's FIN its socket goes
// FIN_WAIT2 -> CLOSE and a TIME_WAIT mini-socket takes over, while the
// client's descriptor is still open (sock_diag shows TIME_WAIT before close()).
#include "scenario.h"

#include <sys/socket.h>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            char buf[64];
            for (int i = 0; i < 16; ++i)
                if (r.recv(fd, buf, sizeof(buf)) <= 0) break;  // the request, then EOF
            r.send(fd, "reply");
            r.close(fd);
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            const sockaddr_in local = *scen::local_addr(fd);
            r.send(fd, "request");
            r.shutdown(fd, SHUT_WR);
            char buf[64];
            for (int i = 0; i < 16; ++i)
                if (r.recv(fd, buf, sizeof(buf)) <= 0) break;  // "reply", then EOF
            scen::sleep_ms(50);
            r.sock_diag(local, server_addr);  // TIME_WAIT, the descriptor still open
            r.close(fd);
            r.sock_diag(local, server_addr);  // the same mini-socket: close() changed nothing
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
    });
}
