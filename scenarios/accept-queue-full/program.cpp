// accept-queue-full: a listener with backlog 1 that accepts late; four
// clients connect at once.
//
// Two connections fill the queue of backlog 1 (the kernel's test is "more
// than the backlog"); the other clients' SYNs are dropped and retransmitted
// after 1 s, then 3 s. The server accepts one connection after 0.5 s and
// the rest after 2.5 s, so the connects take ~0, ~1 s and ~3 s. The kernel's
// drop tracepoint sees none of those drops: tcpscope counts them from the
// listener's own counter. The program reads its namespace's counters
// (ListenOverflows, ListenDrops, TCPSynRetrans) once every connection is
// accepted, and keeps the listener open two seconds more, so that a look
// of tcpscope's (one a second) sees the final count.
#include <fstream>
#include <sstream>
#include <vector>

#include "scenario.h"

namespace {

constexpr int kClients = 4;

// The namespace's TcpExt counters (this process's namespace: the
// scenario's own, so they count from 0).
scen::Info netstat_counters() {
    std::ifstream in("/proc/self/net/netstat");
    std::string names, values;
    scen::Info out = scen::Info::object();
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("TcpExt:", 0) != 0) continue;
        std::istringstream n(names), v(values);
        std::string name, value;
        n >> name;
        v >> value;
        while (n >> name && v >> value) {
            if (name == "ListenOverflows" || name == "ListenDrops" || name == "TCPSynRetrans") {
                out[name] = std::stoull(value);
            }
        }
    }
    return out;
}

}  // namespace

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 8080);
        scen::Channel listening("server listening"), accepted("server accepted all"),
            counted("counters read");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            scen::ListenOptions opt;
            opt.backlog = 1;
            int lfd = scen::tcp_listener(r, server_addr, opt);
            listening.notify();
            std::vector<int> fds;
            scen::sleep_ms(500);
            fds.push_back(r.accept(lfd));  // room for one more: the next retransmitted SYN gets in
            scen::sleep_ms(2000);
            while (static_cast<int>(fds.size()) < kClients) fds.push_back(r.accept(lfd));
            scen::sleep_ms(200);  // the last handshakes are over: the counters stop
            const uint64_t now = scen::mono_ns();
            r.note(scen::Call(tcpscope::StepOp::Other, "read /proc/net/netstat (TcpExt)"), 0, 0, now,
                   now, netstat_counters());
            for (int i = 0; i < kClients; ++i) accepted.notify();
            counted.notify();
            scen::sleep_ms(2000);  // a look at the listener with its final count
            return 0;
        });

        listening.wait();
        std::vector<pid_t> clients;
        for (int i = 0; i < kClients; ++i) {
            clients.push_back(scen::spawn([&] {
                scen::Reporter r("client");
                int fd = r.socket_tcp();
                r.connect(fd, server_addr);  // ~0, ~1 s or ~3 s
                accepted.wait();
                return 0;
            }));
        }
        for (pid_t c : clients) scen::reap_child(c);
        counted.wait();
        scen::reap_child(server);
    });
}
