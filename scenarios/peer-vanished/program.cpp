// peer-vanished: the peer's link goes down mid-connection.
//
// Client and server live in namespaces tsc-<pid>-client / -server joined by a
// veth pair (10.200.1.1 <-> 10.200.1.2). After the handshake the server's
// link goes down; the client, with TCP_USER_TIMEOUT = 4 s, sends one byte:
// send() = 1 (queued), the segment is retransmitted with growing gaps
// (sock_diag: timer "retransmit", retrans rising), and after the user timeout
// the connection is aborted: the blocked recv() fails with ETIMEDOUT and the
// socket is CLOSE (sock_diag finds nothing). The client then reads its
// namespace's counters (it is alone there, so they count from 0): the
// kernel's own account of its timeouts, retransmits and the abort, against
// which the facts check what the tracepoints reported.
//
// The server sets SO_LINGER {1,0} on its connection so that, when it exits,
// the socket is aborted at once instead of lingering as an orphan that would
// keep its deleted namespace alive.
#include "scenario.h"

#include <netinet/tcp.h>

int main() {
    return scen::run_scenario([] {
        scen::TwoHosts hosts(1);
        const sockaddr_in server_addr = hosts.server_addr(5000);
        constexpr int kUserTimeoutMs = 4000;
        scen::Channel listening("server listening"), accepted("server accepted"),
            connected("client connected"), link_down("server link down"), quit("server may exit");

        pid_t server = scen::spawn([&] {
            scen::enter_netns(hosts.server_ns());
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            r.set_linger(fd, true, 0);
            accepted.notify();
            quit.wait(30000);
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::enter_netns(hosts.client_ns());
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            const sockaddr_in local = *scen::local_addr(fd);
            r.setsockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", kUserTimeoutMs);
            accepted.wait();
            connected.notify();
            link_down.wait();
            r.send(fd, "x");  // 1: queued; it will never be acknowledged
            scen::sleep_ms(1500);
            r.sock_diag(local, server_addr);  // ESTABLISHED, retransmitting
            char buf[64];
            r.recv(fd, buf, sizeof(buf));     // blocks until the user timeout: ETIMEDOUT
            r.sock_diag(local, server_addr);  // nothing: CLOSE
            const uint64_t start = scen::mono_ns();
            scen::Info counters = scen::net_counters(
                {"TCPTimeouts", "RetransSegs", "TCPAbortOnTimeout", "TCPLossProbes", "TCPRetransFail"});
            r.note(scen::Call(tcpscope::StepOp::Other, "read /proc/net/netstat and /proc/net/snmp",
                              "namespace counters"),
                   0, 0, start, scen::mono_ns(), counters);
            return 0;
        });

        connected.wait();
        scen::Reporter server_side("server");
        hosts.server_link_down(server_side);
        link_down.notify();
        scen::reap_child(client);
        quit.notify();
        scen::reap_child(server);
        hosts.remove();
    });
}
