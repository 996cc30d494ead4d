// send-buffer-full: what a non-blocking send() does when the peer stops reading.
//
// The server accepts and never reads. The client sends 64 KiB chunks,
// non-blocking: full counts, then a short count (a few when ACKs free room
// between calls), then -1 EAGAIN. The
// receiver's Recv-Q is full (it advertises a zero window) and the sender's
// Send-Q holds the rest. On loopback the send buffer auto-grows to ~4 MB:
// getsockopt(SO_SNDBUF) shows it, and sock_diag gives both queues (the
// netstat Send-Q and Recv-Q).
#include "scenario.h"

#include <sys/socket.h>

#include <vector>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), accepted("server accepted"), done("client done");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            accepted.notify();
            done.wait();
            r.getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF");
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            const sockaddr_in local = *scen::local_addr(fd);
            accepted.wait();
            r.set_nonblocking(fd);
            r.getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");
            std::vector<char> chunk(65536, 'b');
            for (int i = 0; i < 1024; ++i)  // 64 MiB at most: far more than any buffer
                if (r.send_buf(fd, chunk.data(), chunk.size()) < 0) break;  // EAGAIN
            scen::sleep_ms(100);
            r.getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");  // grown
            // The two looks are two calls, and a zero-window probe between
            // them can move bytes from the Send-Q to the Recv-Q (seen under
            // qemu). Send-Q only falls and Recv-Q only grows while neither
            // application acts, so a second pair equal to the first proves
            // nothing moved across the first; else look again (the facts
            // judge the last pair).
            for (int look = 0; look < 20; ++look) {
                const scen::DiagResult sender = r.sock_diag(local, server_addr);  // Send-Q
                const scen::DiagResult receiver = r.sock_diag(server_addr, local);  // Recv-Q, full
                scen::DiagResult sender_again, receiver_again;
                if (scen::sock_diag_query(local, server_addr, &sender_again) == 0 &&
                    scen::sock_diag_query(server_addr, local, &receiver_again) == 0 &&
                    sender_again.send_q == sender.send_q && receiver_again.recv_q == receiver.recv_q) {
                    break;
                }
                scen::sleep_ms(5);
            }
            scen::sleep_ms(100);
            // Not EAGAIN again: after the EAGAIN the send buffer auto-grew
            // (SO_SNDBUF above), so one more chunk fits.
            r.send_buf(fd, chunk.data(), chunk.size());
            done.notify();
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
    });
}
