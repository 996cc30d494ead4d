/* A textbook TCP client: connects (retrying while the server is not yet
 * listening), writes a message, waits for the server to close (read
 * returns 0), then writes again, twice: the first write is accepted and
 * draws a RST from the server's closed socket, the second fails with
 * EPIPE (SIGPIPE ignored, as a careful client does). Between the two it
 * waits for the RST with poll() (ERR|HUP): on loopback the RST is usually
 * handled inside the first write, but under load softirq work can be
 * deferred past it.
 * Usage: textbook_client PORT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    int fd = -1;
    for (int attempt = 0; attempt < 500; attempt++) {  /* up to 5 s */
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) { perror("socket"); return 1; }
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) break;
        if (errno != ECONNREFUSED) { perror("connect"); return 1; }
        close(fd);
        fd = -1;
        struct timespec ten_ms = {0, 10 * 1000 * 1000};
        nanosleep(&ten_ms, NULL);
    }
    if (fd < 0) { fprintf(stderr, "server never listened\n"); return 1; }
    if (write(fd, "hello", 5) != 5) { perror("write"); return 1; }
    char buf[16];
    if (read(fd, buf, sizeof(buf)) != 0) { fprintf(stderr, "expected EOF\n"); return 1; }
    if (write(fd, "after", 5) != 5) { perror("first write after close"); return 1; }
    struct pollfd reset = {fd, 0, 0};  /* no events asked: ERR and HUP come anyway */
    if (poll(&reset, 1, 5000) != 1) { fprintf(stderr, "no RST within 5 s\n"); return 1; }
    if (write(fd, "again", 5) >= 0 || errno != EPIPE) {
        fprintf(stderr, "second write after close: expected EPIPE\n");
        return 1;
    }
    close(fd);
    return 0;
}
