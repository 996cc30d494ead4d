/*
 * A client that connects the way most real clients do (curl, any client
 * with a timeout): non-blocking connect(), then learns how it ended in one
 * of three ways, and says what it saw on stdout. No reporting of its own
 * to tcpscope: `tcpscope exec` must find everything in the kernel.
 *
 *   so_error  getsockopt(SO_ERROR) until the attempt is over (on loopback
 *             the refusal is usually there at once; a few 10 ms naps if not)
 *   poll      poll(POLLOUT) once, nothing else
 *   epoll     epoll_wait on an EPOLLOUT registration (data.fd = the socket), nothing else
 *
 * With SYNCNT (TCP_SYNCNT) the SYN is retransmitted that many times before
 * the attempt times out: an address nobody answers makes a timeout.
 *
 * Prints "connect -1 EINPROGRESS", then "so_error ECONNREFUSED" or
 * "revents 0x1c"/"events 0x1c" (the bits as the call returned them).
 * Exit 0 when the attempt ended with an error handed over as asked, 1 when
 * it did not, 2 on a usage or setup error.
 *
 * Usage: nonblocking_client so_error|poll|epoll ADDRESS PORT [SYNCNT]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* The longest the attempt may take: a timeout with SYNCNT 1 needs about
 * 3 s (1 s, then 2 s of backoff); a loaded qemu machine gets room. */
#define WAIT_MS 30000

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s so_error|poll|epoll ADDRESS PORT [SYNCNT]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
	if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[2]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	if (argc > 4) {
		int syncnt = atoi(argv[4]);
		if (setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt)) < 0) {
			perror("setsockopt TCP_SYNCNT");
			return 2;
		}
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		perror("fcntl");
		return 2;
	}
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 || errno != EINPROGRESS) {
		printf("connect %s\n", errno == EINPROGRESS ? "0" : strerror(errno));
		return 1;
	}
	printf("connect -1 EINPROGRESS\n");
	fflush(stdout);

	int failed = 0;
	if (strcmp(mode, "so_error") == 0) {
		int err = 0;
		for (int waited = 0; waited < WAIT_MS; waited += 10) {
			socklen_t len = sizeof(err);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
				perror("getsockopt");
				return 2;
			}
			if (err != 0)
				break;
			usleep(10000);
		}
		printf("so_error %s\n", err ? strerrorname_np(err) : "0");
		failed = err != 0;
	} else if (strcmp(mode, "poll") == 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int n = poll(&p, 1, WAIT_MS);
		printf("poll %d revents 0x%x\n", n, (unsigned)p.revents);
		failed = n == 1 && (p.revents & (POLLERR | POLLHUP));
	} else if (strcmp(mode, "epoll") == 0) {
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("epoll");
			return 2;
		}
		struct epoll_event got = {0};
		int n = epoll_wait(ep, &got, 1, WAIT_MS);
		printf("epoll_wait %d events 0x%x fd %d\n", n, (unsigned)got.events, got.data.fd);
		failed = n == 1 && got.data.fd == fd && (got.events & (EPOLLERR | EPOLLHUP));
		close(ep);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	close(fd);
	return failed ? 0 : 1;
}
