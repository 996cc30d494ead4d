// sigpipe-default: zero-byte-send with SIGPIPE at its default action.
//
// The client sends 0 bytes, 1 byte (answered by a RST from the server's
// mini-socket, error EPIPE), then 1 byte again: that send raises SIGPIPE and
// the default action kills the client, so its last step is never reported.
// The scenario program (the client's parent) reports wait(client) with
// term_signal 13 (exit status 141 in a shell).
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
            done.wait();
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            r.set_nonblocking(fd);
            closed.wait();
            scen::sleep_ms(100);  // the FIN arrives: CLOSE_WAIT
            r.send(fd, "");
            scen::sleep_ms(50);
            r.send(fd, "x");
            scen::sleep_ms(50);
            r.send(fd, "x");  // SIGPIPE: the process dies here
            return 0;
        });

        scen::wait_child(client, "client");
        done.notify();
        scen::reap_child(server);
    });
}
