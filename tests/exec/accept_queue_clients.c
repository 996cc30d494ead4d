/* A listener with backlog 1 on 127.0.0.1:PORT and four clients that
 * connect to it at once (blocking connects, in child processes): two fill
 * its accept queue, the others' SYNs are dropped and retransmitted after
 * 1 s (then 3 s). Once every client has gone to connect, the server
 * accepts one connection after 0.3 s and the rest after 2 s more, so some
 * connects take about 0 s and some 1 s or more. No reporting of its own:
 * `tcpscope exec` and strace say what happened.
 *
 * Usage: accept_queue_clients PORT   (exit 0 when every connect succeeded)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kClients = 4 };

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr*)&addr, sizeof(addr)) != 0 || listen(lfd, 1) != 0) {
        perror("listener");
        return 1;
    }
    int going[2], done[2];  /* clients -> server: "connecting"; server -> clients: EOF ends them */
    if (pipe(going) != 0 || pipe(done) != 0) return 1;
    pid_t kids[kClients];
    for (int i = 0; i < kClients; ++i) {
        kids[i] = fork();
        if (kids[i] < 0) return 1;
        if (kids[i] == 0) {
            close(lfd);
            close(going[0]);
            close(done[1]);
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (write(going[1], "c", 1) != 1) _exit(1);
            if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) {
                perror("connect");
                _exit(1);
            }
            char c;
            while (read(done[0], &c, 1) > 0) {
            }
            close(fd);
            _exit(0);
        }
    }
    close(going[1]);
    close(done[0]);
    char c;
    for (int n = 0; n < kClients && read(going[0], &c, 1) == 1; ++n) {
    }
    sleep_ms(300);  /* every SYN sent: two queued, two dropped */
    int accepted[kClients];
    accepted[0] = accept(lfd, NULL, NULL);
    sleep_ms(2000);  /* the next retransmitted SYN gets the room */
    for (int i = 1; i < kClients; ++i) accepted[i] = accept(lfd, NULL, NULL);
    close(done[1]);
    int ok = 1;
    for (int i = 0; i < kClients; ++i) {
        int status = 0;
        ok &= waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        ok &= accepted[i] >= 0;
        if (accepted[i] >= 0) close(accepted[i]);
    }
    close(lfd);
    return ok ? 0 : 1;
}
