// rst-before-accept: the client aborts before the server calls accept().
//
// The client connects (the handshake completes in the kernel, the connection
// waits in the accept queue), sets SO_LINGER {1,0} and closes: a RST. The
// books say accept() then fails with ECONNABORTED; Linux returns the
// connection, and the first recv() on it fails with ECONNRESET.
//
// Before accept() the server asks select() about the listener, as the lab
// note did: readable once the handshake is done, and still readable after
// the RST, because the reset connection stays in the accept queue.
#include "scenario.h"

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), connected("client connected"),
            selected("server selected"), aborted("client aborted");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            connected.wait();
            r.select_readable(lfd, 1000);  // 1: a connection waits in the queue
            selected.notify();
            aborted.wait();
            scen::sleep_ms(100);  // the RST has reached the queued connection
            r.select_readable(lfd, 1000);  // still 1
            int fd = r.accept(lfd);  // succeeds on Linux
            if (fd < 0) return 0;    // the textbook answer; reported, nothing more to do
            char buf[64];
            r.recv(fd, buf, sizeof(buf));  // ECONNRESET
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            connected.notify();
            selected.wait();
            r.set_linger(fd, true, 0);
            r.close(fd);  // RST
            aborted.notify();
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
    });
}
