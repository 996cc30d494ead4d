/* A textbook TCP server, as the classic books write one: socket, bind,
 * listen, then a select() loop over the listener and its clients. It has
 * no reporting of its own: `tcpscope exec` must see its calls by itself.
 * It serves one client: reads one message, then closes the connection
 * and the listener and exits (the client writes after that).
 * Usage: textbook_server PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) die("socket");
    int on = 1;
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) die("setsockopt");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("bind");
    if (listen(lfd, 5) < 0) die("listen");

    int client = -1;
    for (;;) {
        fd_set rset;
        FD_ZERO(&rset);
        FD_SET(lfd, &rset);
        int maxfd = lfd;
        if (client >= 0) { FD_SET(client, &rset); if (client > maxfd) maxfd = client; }
        int n = select(maxfd + 1, &rset, NULL, NULL, NULL);
        if (n < 0) die("select");
        if (FD_ISSET(lfd, &rset) && client < 0) {
            client = accept(lfd, NULL, NULL);
            if (client < 0) die("accept");
            continue;
        }
        if (client >= 0 && FD_ISSET(client, &rset)) {
            char buf[128];
            ssize_t got = read(client, buf, sizeof(buf));
            if (got < 0) die("read");
            close(client);  /* done with it: the client's next write finds us gone */
            close(lfd);
            return 0;
        }
    }
}
