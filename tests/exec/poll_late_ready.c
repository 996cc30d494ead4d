/* A poll set whose one ready socket is its 10th entry: nine pipe read ends
 * that never become readable come first. `tcpscope exec` must report that
 * socket among the entries poll found ready, wherever it sits in the array
 * (tests/exec/exec_test.sh). Loopback, an ephemeral port; exits 0 when poll
 * reported the socket ready. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOT_READY 9

int main(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr*)&a, &len) != 0) {
        perror("listener");
        return 2;
    }
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (cfd < 0 || connect(cfd, (struct sockaddr*)&a, sizeof(a)) != 0) {
        perror("connect");
        return 2;
    }
    int sfd = accept(lfd, NULL, NULL);
    if (sfd < 0 || write(cfd, "x", 1) != 1) {
        perror("accept/write");
        return 2;
    }
    struct pollfd set[NOT_READY + 1];
    for (int i = 0; i < NOT_READY; i++) {
        int p[2];
        if (pipe(p) != 0) {
            perror("pipe");
            return 2;
        }
        set[i].fd = p[0];
        set[i].events = POLLIN;
    }
    set[NOT_READY].fd = sfd;
    set[NOT_READY].events = POLLIN;
    int n = poll(set, NOT_READY + 1, 5000);
    if (n != 1 || !(set[NOT_READY].revents & POLLIN)) {
        fprintf(stderr, "poll = %d, revents %#x\n", n, set[NOT_READY].revents);
        return 1;
    }
    printf("ready fd %d at entry %d\n", sfd, NOT_READY);
    return 0;
}
