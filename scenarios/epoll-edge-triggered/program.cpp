// epoll-edge-triggered: an EPOLLET reader that reads less than what arrived
// is never woken again for the rest.
//
// The server registers its accepted socket twice, in two epoll instances:
// "et" (EPOLLIN|EPOLLET) and "lt" (EPOLLIN, level-triggered). The client
// sends 4 KiB in one send() and then nothing. The server waits on et, reads
// 1 KiB, waits on et again (200 ms: nothing, though 3 KiB wait, as Recv-Q
// shows), then drains the rest through lt, 1 KiB per wait.
// Expected (Linux 6.18): et reports IN once; its second wait times out;
// lt reports IN on every wait until the queue is empty, then times out.
#include "scenario.h"

#include <sys/epoll.h>

#include <vector>

int main() {
    return scen::run_scenario([] {
        scen::enter_private_netns();
        const sockaddr_in server_addr = scen::ipv4("127.0.0.1", 5000);
        scen::Channel listening("server listening"), registered("server registered"),
            sent("client sent"), done("server done"), finished("client closed");
        constexpr size_t kSent = 4096, kChunk = 1024;

        pid_t server = scen::spawn([&] {
            scen::Reporter r("server");
            int lfd = scen::tcp_listener(r, server_addr);
            listening.notify();
            int fd = r.accept(lfd);
            if (fd < 0) scen::fail_errno("accept");
            const sockaddr_in peer = *scen::peer_addr(fd);
            scen::Epoll et = scen::epoll_instance("et"), lt = scen::epoll_instance("lt");
            if (r.epoll_add(et, fd, EPOLLIN | EPOLLET) < 0) scen::fail_errno("epoll_ctl et");
            if (r.epoll_add(lt, fd, EPOLLIN) < 0) scen::fail_errno("epoll_ctl lt");
            registered.notify();
            sent.wait();

            std::vector<char> buf(kChunk);
            r.epoll_wait(et, 1, 1000);        // 1: IN, the edge of the 4 KiB arriving
            r.recv(fd, buf.data(), kChunk);   // 1024
            r.epoll_wait(et, 1, 200);         // 0: no new edge, 3 KiB still queued
            r.sock_diag(server_addr, peer);   // Recv-Q 3072
            // Level-triggered: readable as long as anything is queued.
            for (size_t i = 0; i < kSent / kChunk; ++i) {
                if (r.epoll_wait(lt, 1, 200) <= 0) break;
                r.recv(fd, buf.data(), kChunk);
            }
            r.sock_diag(server_addr, peer);   // Recv-Q 0
            done.notify();
            finished.wait();  // the client closes first: one orderly FIN each way
            return 0;
        });

        pid_t client = scen::spawn([&] {
            scen::Reporter r("client");
            listening.wait();
            int fd = scen::tcp_connect(r, server_addr);
            registered.wait();
            std::vector<char> data(kSent, 'x');
            r.send_buf(fd, data.data(), data.size());  // one segment on loopback
            sent.notify();
            done.wait();
            r.close(fd);
            finished.notify();
            return 0;
        });

        scen::reap_child(server);
        scen::reap_child(client);
    });
}
