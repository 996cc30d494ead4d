#include "netns.h"

#include "cleanup.h"
#include "errors.h"
#include "process.h"
#include "runner_scope.h"
#include "socket_info.h"
#include "steps.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace scen {

void enter_private_netns() {
    // Under `tcpscope run` the runner has made the namespace already and
    // taken away the right to make one (the program runs as nobody).
    const char* ready = std::getenv("TCPSCOPE_NETNS_READY");
    if (ready && std::strcmp(ready, "1") == 0) return;
    if (unshare(CLONE_NEWNET) < 0) fail_errno("unshare(CLONE_NEWNET) (needs root)");
    // A new namespace has lo down; 127.0.0.1 works only once it is up.
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket for SIOCSIFFLAGS");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        ::close(fd);
        fail_errno("SIOCGIFFLAGS lo");
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        ::close(fd);
        fail_errno("SIOCSIFFLAGS lo up");
    }
    ::close(fd);
}

std::string netns_name(const std::string& role) {
    return kNetnsPrefix + std::to_string(getpid()) + "-" + role;
}

namespace {

// Runs ip quietly; returns its exit status (or -1 if it could not run).
int run_ip(const std::vector<std::string>& args, bool quiet) {
    std::vector<char*> argv;
    std::string prog = "ip";
    argv.push_back(prog.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (quiet) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
            }
        }
        execvp("ip", argv.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// What an ip command does, without the names it does it to: "netns add",
// "addr add", and for links the direction they go, "link down" / "link up"
// (-n NAMESPACE is skipped). The facts match on this.
std::string object_and_verb(const std::vector<std::string>& args) {
    std::vector<std::string> words;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "-n") {
            ++i;
            continue;
        }
        words.push_back(args[i]);
    }
    if (words.empty()) return "";
    if (words[0] == "link" && (words.back() == "down" || words.back() == "up")) {
        return "link " + words.back();
    }
    return words.size() == 1 ? words[0] : words[0] + " " + words[1];
}

std::string join(const std::vector<std::string>& args) {
    std::string s = "ip";
    for (const auto& a : args) s += " " + a;
    return s;
}

}  // namespace

void ip(const std::vector<std::string>& args, Reporter* r) {
    uint64_t start = mono_ns();
    int status = run_ip(args, false);
    uint64_t end = mono_ns();
    if (r) r->note({StepOp::Command, join(args), object_and_verb(args)}, status, 0, start, end);
    if (status != 0) fail(join(args) + " failed (exit " + std::to_string(status) + ")");
}

void netns_add(const std::string& name, Reporter* r) {
    // A leftover of a previous program with the same pid would make add fail.
    run_ip({"netns", "del", name}, true);
    register_netns(name);
    ip({"netns", "add", name}, r);
    ask_runner_to_trace(name);
}

void netns_del(const std::string& name, Reporter* r) {
    ip({"netns", "del", name}, r);
    unregister_netns(name);
}

void enter_netns(const std::string& name) {
    std::string path = "/var/run/netns/" + name;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_errno("open " + path);
    if (setns(fd, CLONE_NEWNET) < 0) {
        ::close(fd);
        fail_errno("setns " + name);
    }
    ::close(fd);
}

TwoHosts::TwoHosts(int subnet) {
    std::string pid = std::to_string(getpid());
    client_ns_ = netns_name("client");
    server_ns_ = netns_name("server");
    // IFNAMSIZ: "tsc-" + up to 7 digits + "-c" fits in 15 characters.
    client_dev_ = kNetnsPrefix + pid + "-c";
    server_dev_ = kNetnsPrefix + pid + "-s";
    client_ip_ = "10.200." + std::to_string(subnet) + ".1";
    server_ip_ = "10.200." + std::to_string(subnet) + ".2";
    // Fixed, locally administered MACs: a rebooted server comes back with the
    // same one, like a real host with the same NIC.
    char mac[32];
    std::snprintf(mac, sizeof(mac), "02:00:0a:c8:%02x:01", subnet & 0xff);
    client_mac_ = mac;
    std::snprintf(mac, sizeof(mac), "02:00:0a:c8:%02x:02", subnet & 0xff);
    server_mac_ = mac;
    present_ = true;
    netns_add(client_ns_);
    netns_add(server_ns_);
    add_link(nullptr);
}

TwoHosts::~TwoHosts() {
    try {
        remove();
    } catch (...) {
        // Last resort: what `ip netns del` does, without ip.
        emergency_cleanup();
    }
}

void TwoHosts::remove() {
    if (!present_) return;
    present_ = false;
    // Processes first: their sockets die with them (the scenarios set
    // SO_LINGER {1,0} on the server side, so no orphan lingers on).
    kill_children();
    netns_del(client_ns_);
    netns_del(server_ns_);
}

sockaddr_in TwoHosts::client_addr(uint16_t port) const { return ipv4(client_ip_, port); }
sockaddr_in TwoHosts::server_addr(uint16_t port) const { return ipv4(server_ip_, port); }

void TwoHosts::add_link(Reporter* r) {
    // Both ends are created directly inside the namespaces: nothing of the
    // scenario ever appears in the namespace the program was started in.
    ip({"link", "add", client_dev_, "address", client_mac_, "netns", client_ns_, "type", "veth", "peer",
        "name", server_dev_, "address", server_mac_, "netns", server_ns_},
       r);
    ip({"-n", client_ns_, "addr", "add", client_ip_ + "/24", "dev", client_dev_}, r);
    ip({"-n", server_ns_, "addr", "add", server_ip_ + "/24", "dev", server_dev_}, r);
    ip({"-n", client_ns_, "link", "set", "lo", "up"}, r);
    ip({"-n", server_ns_, "link", "set", "lo", "up"}, r);
    ip({"-n", client_ns_, "link", "set", client_dev_, "up"}, r);
    ip({"-n", server_ns_, "link", "set", server_dev_, "up"}, r);
    // Static neighbour entries. Why: taking the server's end down also drops
    // the carrier of the client's end, which flushes its ARP entries; the
    // client's retransmissions would then trigger ARP, fail, and set the soft
    // error EHOSTUNREACH (reported instead of ETIMEDOUT). A peer that has
    // vanished behind a network stays silent; permanent entries keep it so.
    ip({"-n", client_ns_, "neigh", "replace", server_ip_, "lladdr", server_mac_, "dev", client_dev_,
        "nud", "permanent"},
       r);
    ip({"-n", server_ns_, "neigh", "replace", client_ip_, "lladdr", client_mac_, "dev", server_dev_,
        "nud", "permanent"},
       r);
}

void TwoHosts::server_link_down(Reporter& r) {
    ip({"-n", server_ns_, "link", "set", server_dev_, "down"}, &r);
}

void TwoHosts::wait_link_gone(const std::string& ns, const std::string& dev) {
    // Namespace teardown runs asynchronously in the kernel; the veth end in
    // the other namespace disappears a moment after `ip netns del` returns.
    for (int i = 0; i < 100; ++i) {
        if (run_ip({"-n", ns, "link", "show", dev}, true) != 0) return;
        sleep_ms(50);
    }
    fail("veth " + dev + " still present in " + ns + " after its peer's namespace was deleted");
}

void TwoHosts::reboot_server(Reporter& r) {
    netns_del(server_ns_, &r);
    wait_link_gone(client_ns_, client_dev_);
    netns_add(server_ns_, &r);
    add_link(&r);
}

}  // namespace scen
