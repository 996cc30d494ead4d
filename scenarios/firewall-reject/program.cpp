// firewall-reject: an nftables rule answers the SYNs to a listening port
// with a TCP reset.
//
// In a namespace of its own, the program adds the table tsc_fw with one rule
// on the input hook, `tcp dport 5000 tcp flags syn counter reject with tcp
// reset`, starts a server listening on 127.0.0.1:5000, and a client
// connects: netfilter drops the SYN and sends a RST in the listener's name
// (nf_send_reset), so connect() fails with ECONNREFUSED although a listener
// exists. Then the program reads the rule's counter. The table goes with the
// namespace.
#include "scenario.h"

namespace {

constexpr char kTable[] = "tsc_fw";

}  // namespace

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Reporter runner("runner");
        scen::nft_apply(std::string("table inet ") + kTable +
                            " {\n"
                            "  chain input {\n"
                            "    type filter hook input priority filter; policy accept;\n"
                            "    tcp dport 5000 tcp flags syn counter reject with tcp reset\n"
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
            r.connect(fd, server_addr);  // -1 ECONNREFUSED
            r.close(fd);
            return 0;
        });

        scen::reap_child(client);
        scen::nft_counter_packets(kTable, runner);  // the SYNs the rule rejected
        quit.notify();
        scen::reap_child(server);
    });
}
