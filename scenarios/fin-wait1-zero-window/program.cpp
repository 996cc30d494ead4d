// fin-wait1-zero-window: close() while the peer's window is shut.
//
// The receiver never reads; both buffers are small. The sender fills them
// (non-blocking, until EAGAIN) and closes. Its socket goes
// ESTABLISHED -> FIN_WAIT1 and stays there: the FIN waits behind the unsent
// data (Send-Q = unsent bytes + 1 for the FIN), zero-window probes go out with
// doubling gaps (sock_diag: timer "persist", retrans = probes sent), and no
// FIN reaches the wire. Watched for ~6 s.
//
// Cleanup (after the last observation): the receiver closes with its data
// unread, which sends a RST and ends the sender's orphan. Without it, the
// orphan would keep probing (and keep the namespace alive) for a minute.
#include "scenario.h"

#include <netinet/tcp.h>

#include <vector>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), accepted("server accepted"),
            observed("client observed");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            scen::ListenOptions opt;
            opt.rcvbuf = 4096;
            int lfd = scen::tcp_listener(r, server_addr, opt);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            accepted.notify();
            observed.wait(30000);
            r.close(fd);  // cleanup: unread data, so a RST ends the sender's orphan
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            scen::ConnectOptions opt;
            opt.sndbuf = 4096;
            int fd = scen::tcp_connect(r, server_addr, opt);
            const sockaddr_in local = *scen::local_addr(fd);
            // Bounds the orphan's zero-window probing (to 15 s) should this run
            // be interrupted before the cleanup RST; the observation ends at ~6 s.
            r.setsockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", 15000);
            accepted.wait();
            r.set_nonblocking(fd);
            std::vector<char> chunk(65536, 'z');
            for (int i = 0; i < 64; ++i)
                if (r.send_buf(fd, chunk.data(), chunk.size()) < 0) break;  // until EAGAIN
            scen::sleep_ms(300);
            r.sock_diag(local, server_addr);  // ESTABLISHED, Send-Q = unsent, persist timer
            r.sock_diag(server_addr, local);  // receiver: Recv-Q full
            r.close(fd);
            for (int wait_ms : {100, 900, 2000, 3000}) {
                scen::sleep_ms(wait_ms);
                r.sock_diag(local, server_addr);  // FIN_WAIT1, Send-Q + 1, probes growing
            }
            observed.notify();
            scen::sleep_ms(100);
            r.sock_diag(local, server_addr);  // gone after the receiver's RST
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
    });
}
