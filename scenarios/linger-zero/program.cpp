// linger-zero: SO_LINGER {1, 0}, then close() with data still queued.
//
// The server never reads and has a small receive buffer, so the client's
// non-blocking sends fill its send queue (Send-Q) until EAGAIN. The client
// then sets SO_LINGER {1,0} and closes: a RST at once (reason TCP_STATE on
// 6.18), the queued data discarded, no TIME_WAIT (sock_diag finds nothing).
// The server's reads return what had already arrived, then ECONNRESET.
#include "scenario.h"

#include <vector>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), closed("client closed");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            scen::ListenOptions opt;
            opt.rcvbuf = 4096;
            int lfd = scen::tcp_listener(r, server_addr, opt);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            closed.wait();
            scen::sleep_ms(50);
            std::vector<char> buf(65536);
            for (int i = 0; i < 64; ++i)  // what arrived before the RST, then the error
                if (r.recv(fd, buf.data(), buf.size()) <= 0) break;
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            scen::ConnectOptions opt;
            opt.sndbuf = 4096;
            int fd = scen::tcp_connect(r, server_addr, opt);
            const sockaddr_in local = *scen::local_addr(fd);
            r.set_nonblocking(fd);
            std::vector<char> chunk(65536, 'q');
            for (int i = 0; i < 64; ++i)
                if (r.send_buf(fd, chunk.data(), chunk.size()) < 0) break;  // until EAGAIN
            scen::sleep_ms(50);
            r.sock_diag(local, server_addr);  // Send-Q: data still queued
            r.set_linger(fd, true, 0);
            r.close(fd);
            scen::sleep_ms(50);
            r.sock_diag(local, server_addr);  // nothing: no TIME_WAIT
            closed.notify();
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
    });
}
