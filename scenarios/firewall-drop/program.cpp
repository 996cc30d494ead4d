// firewall-drop: an nftables rule drops the SYNs to a listening port.
//
// In a namespace of its own, the program adds the table tsc_fw with one rule
// on the input hook, `tcp dport 5000 tcp flags syn counter drop`, starts a
// server listening on 127.0.0.1:5000, and a client connects with
// TCP_SYNCNT 2: the SYN and its retransmits are all dropped by netfilter
// before TCP sees them, and after 7 s (1 + 2 + 4) connect() gives up with
// ETIMEDOUT. How many retransmits fit in those 7 s depends on the kernel:
// from 6.7 the first net.ipv4.tcp_syn_linear_timeouts (4) of them wait 1 s
// each instead of doubling, so the program reads that sysctl (absent
// before 6.7: ENOENT) in its namespace and reports it for the facts. Then
// the program reads the rule's own counter (nft -j list table inet tsc_fw):
// the kernel's count of the SYNs it dropped. The table goes with the
// namespace.
#include "scenario.h"

#include <netinet/tcp.h>

#include <cerrno>
#include <fstream>

namespace {

constexpr char kTable[] = "tsc_fw";
constexpr int kSynRetries = 2;  // ETIMEDOUT at 7 s

// The namespace's net.ipv4.tcp_syn_linear_timeouts, as the step
// "read(/proc/sys/...)" with ret = its value, or -1 ENOENT on a kernel
// without it.
void report_syn_linear_timeouts(scen::Reporter& r) {
    const char* path = "/proc/sys/net/ipv4/tcp_syn_linear_timeouts";
    uint64_t start = scen::mono_ns();
    errno = 0;
    std::ifstream in(path);
    int err = in.good() ? 0 : (errno ? errno : ENOENT);
    long long value = -1;
    if (in.good() && !(in >> value)) {
        value = -1;
        err = EINVAL;
    }
    r.note({scen::StepOp::Other, std::string("read(") + path + ")", "tcp_syn_linear_timeouts"},
           value, err, start, scen::mono_ns());
}

}  // namespace

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Reporter runner("runner");
        report_syn_linear_timeouts(runner);
        scen::nft_apply(std::string("table inet ") + kTable +
                            " {\n"
                            "  chain input {\n"
                            "    type filter hook input priority filter; policy accept;\n"
                            "    tcp dport 5000 tcp flags syn counter drop\n"
                            "  }\n"
                            "}\n",
                        runner);
        scen::Channel listening("server listening"), quit("server may exit");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            scen::tcp_listener(r, server_addr);
            listening.notify();
            quit.wait(30000);
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = r.socket_tcp();
            r.setsockopt_int(fd, IPPROTO_TCP, TCP_SYNCNT, "TCP_SYNCNT", kSynRetries);
            r.connect(fd, server_addr);  // -1 ETIMEDOUT after 7 s
            r.close(fd);
            return 0;
        });

        scen::reap_child(client);
        scen::nft_counter_packets(kTable, runner);  // the SYNs the rule dropped
        quit.notify();
        scen::reap_child(server);
    });
}
