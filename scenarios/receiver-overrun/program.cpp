// receiver-overrun: a receiver that shrinks its buffer and stops reading.
//
// The server accepts, then sets SO_RCVBUF to 1 (the kernel raises it to
// its minimum, about 2.3 KB) and does not read for 1.5 s; the client
// (TCP_NODELAY) sends 8 x 1000 bytes at once. The window the server had
// already offered is about 64 KiB, and Linux does not take an offered
// window back, so the client's segments keep coming while the receive
// queue has no memory for them: the kernel prunes the queue, then drops
// the segment (PROTO_MEM).
// The client hears nothing, retransmits on its timer's backoff, and each
// retransmit is dropped again until the reader reads; then one is taken.
// The reader reads until it has every byte, checks them, and both close.
// The program reads its namespace's counters at the end: the kernel's own
// count of those drops and retransmits.
#include "scenario.h"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <vector>

namespace {

constexpr int kSends = 8;
constexpr size_t kChunk = 1000;
constexpr size_t kTotal = kSends * kChunk;
constexpr int kStallMs = 1500;  // the reader does not read: copies resent at ~0.2, 0.4, 0.85, 1.7 s

// The bytes the client sends: not printable, so that the recv steps do not
// carry them (info.data), and never the same at two nearby offsets.
char byte_at(size_t i) { return static_cast<char>((i * 7 + i / 251) % 256); }

// The counters that tell what the receiver did with the segments: the
// queue's drops (in order, out of order), its pruning, the window's
// drops (6.12+ advertise a zero window when memory is short), the
// retransmits, and the copies of data already received (DelayedACKLost).
// A name the kernel does not have is left out.
const std::vector<std::string> kCounters = {
    "TCPRcvQDrop", "TCPOFODrop",        "PruneCalled",  "RcvPruned",    "TCPZeroWindowDrop",
    "BeyondWindow", "TCPBacklogDrop",   "TCPLossProbes", "RetransSegs", "DelayedACKLost",
};

}  // namespace

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 8080);
        scen::Channel listening("server listening"), shrunk("server's buffer shrunk"),
            read_all("server read everything");

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            // After the handshake: the window offered in it stays offered.
            r.setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", 1);
            r.getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF");
            shrunk.notify();
            scen::sleep_ms(kStallMs);
            std::vector<char> got;
            std::vector<char> buf(kTotal);
            while (got.size() < kTotal) {
                long long n = r.recv(fd, buf.data(), buf.size());
                if (n <= 0) break;
                got.insert(got.end(), buf.begin(), buf.begin() + n);
            }
            // How many bytes arrived as the client sent them, from the start.
            size_t same = 0;
            while (same < got.size() && got[same] == byte_at(same)) ++same;
            const uint64_t now = scen::mono_ns();
            r.note(scen::Call(tcpscope::StepOp::Other, "compare the bytes received with those sent",
                              "bytes in order"),
                   static_cast<long long>(same), 0, now, now,
                   scen::Info{{"received", got.size()}, {"sent", kTotal}});
            read_all.notify();
            r.recv(fd, buf.data(), buf.size());  // 0: the client's FIN
            r.close(fd);
            r.close(lfd);
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            // Each send its own segment, as the data comes (no Nagle).
            r.setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
            std::vector<char> data(kTotal);
            for (size_t i = 0; i < kTotal; ++i) data[i] = byte_at(i);
            shrunk.wait();
            for (int i = 0; i < kSends; ++i) r.send_buf(fd, data.data() + i * kChunk, kChunk);
            read_all.wait();
            r.close(fd);
            return 0;
        });

        scen::reap_child(client);
        scen::reap_child(server);
        // Both sockets are closed (the client's in TIME_WAIT): nothing more
        // is dropped or retransmitted.
        scen::Reporter r("runner");
        const uint64_t start = scen::mono_ns();
        scen::Info counters = scen::net_counters(kCounters);
        r.note(scen::Call(tcpscope::StepOp::Other, "read /proc/net/netstat and /proc/net/snmp",
                          "namespace counters"),
               0, 0, start, scen::mono_ns(), counters);
    });
}
