// time-wait: the side that closes first ends in TIME_WAIT, and holds its port.
//
// Twice: the client sends, the server reads, the server closes first, the
// client reads EOF and closes. The server then closes its listener and tries
// to bind the port again while the TIME_WAIT mini-socket lasts (sock_diag
// shows it: no tracepoint reports the transition to TIME_WAIT).
//   round 1, port 5000: the original listener had no SO_REUSEADDR; a new bind
//     fails with EADDRINUSE, with or without SO_REUSEADDR on the new socket;
//   round 2, port 5001: the original listener had SO_REUSEADDR (the accepted
//     socket, and so its mini-socket, inherit it); a new bind with
//     SO_REUSEADDR succeeds, one without it still fails.
#include "scenario.h"

#include <sys/socket.h>
#include <unistd.h>

namespace {

void round(uint16_t port, bool original_reuse) {
    const sockaddr_in server_addr = scen::ipv4("127.0.0.1", port);
    scen::Channel listening("server listening"), closed("server closed"), client_done("client closed");

    pid_t server = scen::spawn([&] {
        scen::Reporter r("server");
        scen::ListenOptions opt;
        opt.reuseaddr = original_reuse;
        int lfd = scen::tcp_listener(r, server_addr, opt);
        listening.notify();
        int fd = r.accept(lfd);
        if (fd < 0) scen::fail_errno("accept");
        const sockaddr_in peer = *scen::peer_addr(fd);
        char buf[64];
        r.recv(fd, buf, sizeof(buf));  // "ping"
        r.close(fd);                   // first to close: FIN_WAIT1 -> FIN_WAIT2
        closed.notify();
        client_done.wait();
        r.close(lfd);  // only the TIME_WAIT mini-socket holds the port now
        scen::sleep_ms(50);
        r.sock_diag(server_addr, peer);  // TIME_WAIT, timer timewait

        int plain = r.socket_tcp();
        r.bind(plain, server_addr);  // EADDRINUSE
        ::close(plain);

        int reuse = r.socket_tcp();
        r.setsockopt_int(reuse, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
        r.bind(reuse, server_addr);  // EADDRINUSE unless the original had SO_REUSEADDR
        ::close(reuse);
        return 0;
    });

    pid_t client = scen::spawn([&] {
        scen::Reporter r("client");
        listening.wait();
        int fd = scen::tcp_connect(r, server_addr);
        r.send(fd, "ping");
        closed.wait();
        char buf[64];
        r.recv(fd, buf, sizeof(buf));  // 0: EOF, the client is in CLOSE_WAIT
        sockaddr_in me{};
        socklen_t len = sizeof(me);
        getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len);
        r.close(fd);                   // LAST_ACK -> CLOSE
        // Until the server has taken the FIN: the client's socket leaves
        // LAST_ACK with its ACK. Now and then the FIN reaches the server's
        // full socket just as it became the timewait mini-socket (dropped,
        // TCP_CLOSE: the mini-socket stays in FIN_WAIT2) and only the FIN's
        // retransmit 200 ms later brings it to TIME_WAIT.
        for (int i = 0; i < 200; ++i) {
            scen::DiagResult d;
            if (scen::sock_diag_query(me, server_addr, &d) == 0 && !d.found) break;
            scen::sleep_ms(10);
        }
        scen::sleep_ms(50);
        client_done.notify();
        return 0;
    });

    scen::reap_child(client);
    scen::reap_child(server);
}

}  // namespace

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        round(5000, false);
        round(5001, true);
    });
}
