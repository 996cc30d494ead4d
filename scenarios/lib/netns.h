// Network namespaces: the stage every scenario plays on.
//
// Loopback scenarios call enter_private_netns() first: a namespace of their
// own (fixed ports never clash, per-namespace counters such as `nstat` stay
// theirs), which vanishes with the last process in it.
//
// Scenarios that need a peer that can vanish or reboot use TwoHosts: two named
// namespaces joined by a veth pair, with addresses 10.200.<subnet>.1 (client)
// and .2 (server) that exist only inside them, and static ARP entries for
// each other (see TwoHosts::add_link).
//
// NAMING CONTRACT WITH THE RUNNER: every named namespace is
//     tsc-<pid>-<role>     (pid = the scenario program's pid, e.g. tsc-4242-server)
// and every veth end lives only inside such a namespace (tsc-<pid>-c,
// tsc-<pid>-s). The scenario deletes them on every path out it can see
// (normal exit, failure, SIGINT/SIGTERM/SIGHUP, its own watchdog). If it is
// SIGKILLed, the runner deletes leftovers: `ip netns del` every name with the
// prefix "tsc-<pid>-" of the scenario it ran (or "tsc-" for all of them);
// the veth pairs go with their namespaces.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

namespace scen {

class Reporter;

constexpr char kNetnsPrefix[] = "tsc-";

// unshare(CLONE_NEWNET) and bring lo up. Call first, before any fork, so that
// client and server share the new namespace.
void enter_private_netns();

// "tsc-<getpid()>-<role>".
std::string netns_name(const std::string& role);

// Runs `ip args...` and waits for it; throws SetupError unless it exits 0.
// With a reporter, the command is reported as the step "ip <args>".
void ip(const std::vector<std::string>& args, Reporter* r = nullptr);

void netns_add(const std::string& name, Reporter* r = nullptr);
void netns_del(const std::string& name, Reporter* r = nullptr);
// setns() into a named namespace (in a forked client or server).
void enter_netns(const std::string& name);

class TwoHosts {
public:
    explicit TwoHosts(int subnet);
    TwoHosts(const TwoHosts&) = delete;
    TwoHosts& operator=(const TwoHosts&) = delete;
    // Deletes both namespaces. The server and client processes (and with them
    // their sockets) must be gone by then: a socket left in FIN_WAIT1 would
    // keep a deleted namespace alive for minutes.
    ~TwoHosts();

    const std::string& client_ns() const { return client_ns_; }
    const std::string& server_ns() const { return server_ns_; }
    sockaddr_in client_addr(uint16_t port) const;
    sockaddr_in server_addr(uint16_t port) const;
    const std::string& server_dev() const { return server_dev_; }

    // `ip -n <server> link set <dev> down`: the server stops answering.
    void server_link_down(Reporter& r);
    // The server host reboots: its namespace is deleted and made again with
    // the same address and no sockets. Kill the server process first.
    void reboot_server(Reporter& r);
    // Deletes both namespaces now (also done by the destructor).
    void remove();

private:
    void add_link(Reporter* r);
    void wait_link_gone(const std::string& ns, const std::string& dev);

    std::string client_ns_, server_ns_, client_dev_, server_dev_, client_ip_, server_ip_;
    std::string client_mac_, server_mac_;
    bool present_ = false;
};

}  // namespace scen
