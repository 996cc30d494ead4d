// tcpscope_churn: loopback TCP connection churn, the load of the benchmark
// (tests/bench/run_bench.py).
//
// Each connection: the client connects, sends 1 byte, the server answers 1
// byte and closes first; the client reads until EOF (or the reset) and then
// closes. In --mode close the server's close is orderly (FIN: the TIME_WAIT
// is on the server side, so client ports are free for reuse at once); in
// --mode rst the server aborts with SO_LINGER {1, 0} (RST, no TIME_WAIT).
//
// --single-thread runs client and server in one thread, one step after the
// other: connect, accept, the client writes 1 byte, the server reads it and
// closes, the client reads EOF and closes. No thread ever waits for another
// to be scheduled, so it reaches the highest connection rate (about 30,000
// a second on our 2-core machines, against about 5,600 for the threaded
// form): the load that shows whether a tracer keeps up.
//
// --mode syn is not a connection at all: SYNs crafted on a raw IPv4 socket,
// sent to 127.0.0.1:--port as fast as one thread can (sendmmsg, 64 at a
// time), the load of the benchmark's drop flood. run_bench.py runs it in a
// namespace of its own (--no-netns inside `ip netns exec`) whose nftables
// rule drops every SYN to that port in the input hook: each one is freed by
// kfree_skb with NETFILTER_DROP, and nothing else happens (no socket, no
// state, no RST). Without such a rule the SYNs would reach TCP, which
// answers each with a RST: not a drop flood.
//
// By default the whole thing runs in a private network namespace (needs
// root): TIME_WAIT sockets and counters stay out of the host's, and they are
// gone when the process exits. The result is one JSON object on stdout.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

enum class Mode { Close, Rst, Syn };

struct Options {
    Mode mode = Mode::Close;
    uint64_t connections = 50000;
    unsigned clients = 1;
    bool single_thread = false;
    bool netns = true;
    // --mode syn: where the SYNs go; else the first server's port (0: any).
    uint16_t port = 0;
    bool report_leftover = false;
};

void usage(FILE* f) {
    std::fprintf(f,
                 "usage: tcpscope_churn [--mode close|rst|syn] [--connections N] [--clients N]\n"
                 "                      [--single-thread] [--no-netns] [--port P] [--report-leftover]\n"
                 "  --mode close      the server closes first with FIN (default)\n"
                 "  --mode rst        the server closes first with RST (SO_LINGER {1,0})\n"
                 "  --mode syn        no connections: N SYNs from a raw socket to 127.0.0.1:P\n"
                 "                    (--port), for a firewall rule to drop (needs root)\n"
                 "  --connections N   connections in all, split over the clients (default 50000);\n"
                 "                    with --mode syn, the SYNs to send\n"
                 "  --port P          --mode syn: the destination port; else the first server's\n"
                 "                    port, P + 1 the second's... (default: any free port), for an\n"
                 "                    observer that can only filter by port (perf)\n"
                 "  --clients N       client threads, each with its own server thread (default 1)\n"
                 "  --single-thread   client and server in one thread, step by step (--mode close:\n"
                 "                    the client writes 1 byte, the server reads it and closes)\n"
                 "  --no-netns        stay in the current network namespace (no root needed)\n"
                 "  --report-leftover at the end, the sockets of its namespace neither in TIME_WAIT\n"
                 "                    nor listening, by state, once they stayed 1 s (the kernel's\n"
                 "                    /proc/net/tcp): \"leftover\":{\"CLOSE_WAIT\":1,...}\n"
                 "Prints {\"mode\":...,\"connections\":N,\"elapsed_s\":S,\"conn_per_s\":R,...}.\n");
}

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "tcpscope_churn: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

double now_s() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool parse_u64(const char* s, uint64_t* out) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0) return false;
    *out = v;
    return true;
}

bool parse_args(int argc, char** argv, Options* o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char** v) {
            if (i + 1 >= argc) return false;
            *v = argv[++i];
            return true;
        };
        const char* v = nullptr;
        uint64_t n = 0;
        if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        } else if (a == "--mode") {
            if (!value(&v)) return false;
            if (std::strcmp(v, "close") == 0) {
                o->mode = Mode::Close;
            } else if (std::strcmp(v, "rst") == 0) {
                o->mode = Mode::Rst;
            } else if (std::strcmp(v, "syn") == 0) {
                o->mode = Mode::Syn;
            } else {
                return false;
            }
        } else if (a == "--connections") {
            if (!value(&v) || !parse_u64(v, &n)) return false;
            o->connections = n;
        } else if (a == "--clients") {
            if (!value(&v) || !parse_u64(v, &n) || n > 64) return false;
            o->clients = static_cast<unsigned>(n);
        } else if (a == "--single-thread") {
            o->single_thread = true;
        } else if (a == "--no-netns") {
            o->netns = false;
        } else if (a == "--report-leftover") {
            o->report_leftover = true;
        } else if (a == "--port") {
            if (!value(&v) || !parse_u64(v, &n) || n > 65535) return false;
            o->port = static_cast<uint16_t>(n);
        } else {
            return false;
        }
    }
    return o->mode != Mode::Syn || o->port != 0;
}

void write_sysctl(const char* path, const char* value) {
    // Best effort: a missing knob only makes the run less tidy.
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = write(fd, value, std::strlen(value));
    (void)n;
    close(fd);
}

// A private network namespace with lo up. Must run before any thread starts:
// unshare() moves only the calling thread, threads created later inherit it.
void enter_private_netns() {
    if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET) (run as root, or --no-netns)");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) die("SIOCGIFFLAGS lo");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) die("SIOCSIFFLAGS lo up");
    close(fd);
    // Per-namespace knobs (they read the opener's namespace): the server's
    // TIME_WAIT sockets must all fit, and clients may reuse TIME_WAIT ports.
    write_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets", "1048576");
    write_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse", "1");
    write_sysctl("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
}

// The namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): unlike its inode,
// never given to another namespace, so a soak can tell this run's events
// from those of a later namespace that took the same inode. 0 when unknown.
unsigned long long netns_cookie() {
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    unsigned long long cookie = 0;
    socklen_t len = sizeof(cookie);
    if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) cookie = 0;
    close(fd);
    return cookie;
}

unsigned long netns_inode() {
    struct stat st {};
    if (stat("/proc/self/ns/net", &st) != 0) return 0;
    return static_cast<unsigned long>(st.st_ino);
}

struct Pair {
    int listen_fd = -1;
    struct sockaddr_in addr {};
    uint64_t connections = 0;
    std::atomic<uint64_t> errors{0};
    std::string first_error;
};

void note_error(Pair& p, const char* what) {
    if (p.errors.fetch_add(1) == 0) p.first_error = std::string(what) + ": " + std::strerror(errno);
}

void server_loop(Pair& p, Mode mode) {
    const struct linger abort_close {1, 0};
    for (uint64_t i = 0; i < p.connections; ++i) {
        int fd = accept4(p.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) {
                --i;
                continue;
            }
            note_error(p, "accept");
            return;
        }
        char b = 0;
        ssize_t n = read(fd, &b, 1);
        if (n != 1) {
            note_error(p, "server read");
        } else if (write(fd, &b, 1) != 1) {
            note_error(p, "server write");
        }
        if (mode == Mode::Rst &&
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close)) != 0) {
            note_error(p, "SO_LINGER");
        }
        close(fd);
    }
}

void client_loop(Pair& p) {
    for (uint64_t i = 0; i < p.connections; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            note_error(p, "socket");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, reinterpret_cast<const struct sockaddr*>(&p.addr), sizeof(p.addr)) != 0) {
            note_error(p, "connect");
            close(fd);
            // The server is waiting in accept() for this connection:
            // without it the run cannot finish, so stop here.
            return;
        }
        char b = 'x';
        if (write(fd, &b, 1) != 1) note_error(p, "client write");
        if (read(fd, &b, 1) != 1) note_error(p, "client read");
        // Wait for the server's close (EOF, or ECONNRESET in rst mode), so
        // the server is always the first to close.
        for (;;) {
            ssize_t n = read(fd, &b, 1);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) break;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                note_error(p, "client read (waiting for the close)");
                break;
            }
        }
        close(fd);
    }
}

// Client and server in this one thread: every step runs as soon as the
// previous one returned. On loopback the handshake completes inside
// connect(), so accept() finds the connection waiting; the server's close
// sends its FIN (or RST) inside close(), so the client's read finds it.
void single_thread_loop(Pair& p, Mode mode) {
    const struct linger abort_close {1, 0};
    for (uint64_t i = 0; i < p.connections; ++i) {
        int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cfd < 0) {
            note_error(p, "socket");
            return;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(cfd, reinterpret_cast<const struct sockaddr*>(&p.addr), sizeof(p.addr)) != 0) {
            note_error(p, "connect");
            close(cfd);
            return;
        }
        int sfd = accept4(p.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (sfd < 0) {
            note_error(p, "accept");
            close(cfd);
            return;
        }
        char b = 'x';
        if (write(cfd, &b, 1) != 1) note_error(p, "client write");
        if (read(sfd, &b, 1) != 1) note_error(p, "server read");
        if (mode == Mode::Rst &&
            setsockopt(sfd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close)) != 0) {
            note_error(p, "SO_LINGER");
        }
        close(sfd);
        for (;;) {
            ssize_t n = read(cfd, &b, 1);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) break;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                note_error(p, "client read (waiting for the close)");
                break;
            }
        }
        close(cfd);
    }
}

// --mode syn: SYNs, no connections. Each is a bare 20-byte TCP header with
// only SYN set, from 127.0.0.1 (a source port that walks 1024..65535, so no
// two in a row look alike) to 127.0.0.1:port, on a raw socket: the kernel
// adds the IPv4 header, loopback hands the packet to its own input path
// inside the send, and the namespace's firewall drops it there.
uint16_t fold_checksum(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

struct SynHeader {  // struct tcphdr without the bit fields
    uint16_t source, dest;
    uint32_t seq, ack_seq;
    uint8_t data_offset;  // header length in 32-bit words, in the high nibble
    uint8_t flags;
    uint16_t window, check, urg_ptr;
};
static_assert(sizeof(SynHeader) == 20, "a TCP header without options");

void fill_syn(SynHeader* h, uint16_t sport, uint16_t dport, uint32_t seq) {
    const uint8_t kSyn = 0x02;
    std::memset(h, 0, sizeof(*h));
    h->source = htons(sport);
    h->dest = htons(dport);
    h->seq = htonl(seq);
    h->data_offset = 5 << 4;
    h->flags = kSyn;
    h->window = htons(65535);
    // The checksum over the pseudo-header (both addresses 127.0.0.1, the
    // protocol and the length) and the header itself: the firewall drops
    // the SYN before TCP would check it, but a wrong one would make it a
    // different packet than a client's.
    uint32_t sum = 0;
    const uint32_t loopback = htonl(INADDR_LOOPBACK);
    const auto* a = reinterpret_cast<const uint16_t*>(&loopback);
    sum += 2u * (a[0] + a[1]);
    sum += htons(IPPROTO_TCP);
    sum += htons(sizeof(*h));
    const auto* w = reinterpret_cast<const uint16_t*>(h);
    for (size_t i = 0; i < sizeof(*h) / 2; ++i) sum += w[i];
    h->check = fold_checksum(sum);
}

void syn_flood(Pair& p, uint16_t port) {
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        note_error(p, "socket(SOCK_RAW) (run as root)");
        return;
    }
    // Bound and connected to 127.0.0.1: the source the checksum assumes,
    // and sendmmsg needs no address per message.
    struct sockaddr_in lo {};
    lo.sin_family = AF_INET;
    lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<struct sockaddr*>(&lo), sizeof(lo)) != 0 ||
        connect(fd, reinterpret_cast<struct sockaddr*>(&lo), sizeof(lo)) != 0) {
        note_error(p, "bind/connect the raw socket to 127.0.0.1");
        close(fd);
        return;
    }
    constexpr unsigned kBatch = 64;
    SynHeader headers[kBatch];
    struct iovec iov[kBatch];
    struct mmsghdr msgs[kBatch];
    uint64_t sent = 0;
    while (sent < p.connections) {
        const unsigned n = static_cast<unsigned>(std::min<uint64_t>(kBatch, p.connections - sent));
        for (unsigned i = 0; i < n; ++i) {
            const uint64_t k = sent + i;
            fill_syn(&headers[i], static_cast<uint16_t>(1024 + k % 64512), port,
                     static_cast<uint32_t>(k));
            iov[i] = {&headers[i], sizeof(headers[i])};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r = sendmmsg(fd, msgs, n, 0);
        if (r < 0) {
            if (errno == EINTR || errno == ENOBUFS) continue;
            note_error(p, "sendmmsg");
            break;
        }
        sent += static_cast<uint64_t>(r);
    }
    close(fd);
}

}  // namespace

namespace {

int run_syn_flood(const Options& o) {
    Pair p;
    p.connections = o.connections;
    double start = now_s();
    syn_flood(p, o.port);
    double elapsed = now_s() - start;
    std::printf(
        "{\"mode\":\"syn\",\"port\":%u,\"connections\":%llu,\"netns\":%s,\"netns_inode\":%lu,"
        "\"netns_cookie\":%llu,\"elapsed_s\":%.6f,\"conn_per_s\":%.1f,\"errors\":%llu}\n",
        o.port, static_cast<unsigned long long>(o.connections), o.netns ? "true" : "false",
        netns_inode(), netns_cookie(), elapsed,
        elapsed > 0 ? static_cast<double>(o.connections) / elapsed : 0.0,
        static_cast<unsigned long long>(p.errors.load()));
    std::fflush(stdout);
    if (p.errors.load()) {
        std::fprintf(stderr, "tcpscope_churn: %s\n", p.first_error.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

// The sockets this thread's network namespace still holds, neither in
// TIME_WAIT nor listening, by state, as the kernel lists them in
// /proc/net/tcp and tcp6 (its own listing, no descriptor touched): what a
// run left behind. Looked at again every 50 ms for up to 1 s, so that a
// close still on its way is not counted. A JSON object.
std::string leftover_sockets() {
    static const char* const kStates[] = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
                                          "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
                                          "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
                                          "NEW_SYN_RECV"};
    constexpr unsigned kTimeWait = 6, kListen = 10, kStateCount = 13;
    unsigned counts[kStateCount] = {};
    for (int look = 0; look < 20; ++look) {
        std::fill(std::begin(counts), std::end(counts), 0u);
        unsigned total = 0;
        for (const char* path : {"/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"}) {
            FILE* f = std::fopen(path, "r");
            if (f == nullptr) continue;
            char line[512];
            bool header = true;
            while (std::fgets(line, sizeof(line), f) != nullptr) {
                unsigned st = 0;
                if (header) {
                    header = false;
                    continue;
                }
                // "  sl  local_address rem_address   st ..."
                if (std::sscanf(line, "%*s %*s %*s %x", &st) != 1) continue;
                if (st == kTimeWait || st == kListen) continue;
                ++counts[st < kStateCount ? st : 0];
                ++total;
            }
            std::fclose(f);
        }
        if (total == 0) break;
        usleep(50000);
    }
    std::string out = "{";
    for (unsigned st = 0; st < kStateCount; ++st) {
        if (counts[st] == 0) continue;
        if (out.size() > 1) out += ",";
        out += "\"" + std::string(kStates[st]) + "\":" + std::to_string(counts[st]);
    }
    return out + "}";
}

int main(int argc, char** argv) {
    Options o;
    if (!parse_args(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (o.netns) enter_private_netns();

    if (o.mode == Mode::Syn) return run_syn_flood(o);

    std::vector<Pair> pairs(o.clients);
    for (unsigned c = 0; c < o.clients; ++c) {
        Pair& p = pairs[c];
        p.connections = o.connections / o.clients + (c < o.connections % o.clients ? 1 : 0);
        p.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (p.listen_fd < 0) die("socket");
        int one = 1;
        setsockopt(p.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        p.addr.sin_family = AF_INET;
        p.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        p.addr.sin_port = o.port ? htons(static_cast<uint16_t>(o.port + c)) : 0;
        if (bind(p.listen_fd, reinterpret_cast<struct sockaddr*>(&p.addr), sizeof(p.addr)) != 0)
            die("bind");
        socklen_t len = sizeof(p.addr);
        if (getsockname(p.listen_fd, reinterpret_cast<struct sockaddr*>(&p.addr), &len) != 0)
            die("getsockname");
        if (listen(p.listen_fd, 4096) != 0) die("listen");
    }

    std::vector<std::thread> threads;
    double start = now_s();
    for (auto& p : pairs) {
        if (o.single_thread) {
            threads.emplace_back(single_thread_loop, std::ref(p), o.mode);
        } else {
            threads.emplace_back(server_loop, std::ref(p), o.mode);
            threads.emplace_back(client_loop, std::ref(p));
        }
    }
    for (auto& t : threads) t.join();
    double elapsed = now_s() - start;

    uint64_t errors = 0;
    std::string first_error;
    for (auto& p : pairs) {
        errors += p.errors.load();
        if (first_error.empty()) first_error = p.first_error;
        close(p.listen_fd);
    }
    // Only in a namespace of its own: another's sockets are not the run's.
    const std::string leftover =
        o.report_leftover && o.netns ? ",\"leftover\":" + leftover_sockets() : "";
    std::printf(
        "{\"mode\":\"%s\",\"connections\":%llu,\"clients\":%u,\"single_thread\":%s,"
        "\"netns\":%s,\"netns_inode\":%lu,\"netns_cookie\":%llu,"
        "\"elapsed_s\":%.6f,\"conn_per_s\":%.1f,\"errors\":%llu%s}\n",
        o.mode == Mode::Close ? "close" : "rst", static_cast<unsigned long long>(o.connections),
        o.clients, o.single_thread ? "true" : "false", o.netns ? "true" : "false", netns_inode(),
        netns_cookie(),
        elapsed,
        elapsed > 0 ? static_cast<double>(o.connections) / elapsed : 0.0,
        static_cast<unsigned long long>(errors), leftover.c_str());
    std::fflush(stdout);
    if (errors) {
        std::fprintf(stderr, "tcpscope_churn: %llu errors, first: %s\n",
                     static_cast<unsigned long long>(errors), first_error.c_str());
        return 1;
    }
    return 0;
}
