/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The record layout of `tcpscope exec`'s syscall capture (syscalls.bpf.c),
 * shared with the C++ decoder. Fixed-width types and explicit padding only:
 * the C++ side static_asserts the size.
 */
#ifndef TCPSCOPE_SYSCALLS_H
#define TCPSCOPE_SYSCALLS_H

#define TS_CALL_COMM_LEN 16
#define TS_CALL_ADDR_LEN 28   /* sizeof(struct sockaddr_in6) */
#define TS_CALL_MAX_READY 8   /* sockets reported per readiness call */

/* Why the capture lost something (the index of its lost map). Never
 * silent: each is counted, and the loader adds them to the losses. */
enum ts_call_lost_reason {
	TS_CALL_LOST_RINGBUF_FULL = 0,  /* a call: no room in the ring buffer */
	TS_CALL_LOST_INFLIGHT_FULL = 1, /* a call: the map of calls in flight was full */
	TS_CALL_LOST_TRACED_FULL = 2,   /* a process forked by a traced one: the map
					 * of traced processes was full, so none of
					 * its calls is captured */
	TS_CALL_LOST_REASONS = 3,
};

/* One socket a readiness call (poll, select, epoll_wait) reported ready. */
struct ts_ready {
	__s32 fd;
	__u32 events;  /* poll's bits: IN 0x1, OUT 0x4, ERR 0x8, HUP 0x10, RDHUP 0x2000 */
	__u64 cookie;  /* 0: not a TCP socket, or its cookie not made yet */
	__u64 sk;      /* the socket's kernel address (see ts_call.sk) */
};

/* One system call of a traced process, emitted when it returns. */
struct ts_call {
	__u64 start_ns;  /* bpf_ktime_get_ns at entry */
	__u64 end_ns;    /* at exit */
	__s64 ret;
	__u64 args[6];
	/* The socket the call acted on (fd argument, or the fd socket() and
	 * accept() returned): its cookie, read from the socket itself (0 until
	 * someone asked for it: SO_COOKIE, or tcpscope's own TCP programs),
	 * and its kernel address, which names the socket for as long as it
	 * lives, so userspace can give the cookie learned later to the calls
	 * made before it existed. Both 0 when the fd is not a TCP socket. */
	__u64 cookie;
	__u64 sk;
	__u32 tgid;
	__u32 tid;
	__u32 nr;        /* x86_64 syscall number */
	__u32 netns;     /* inode of the socket's network namespace */
	__u16 family;    /* the socket's: AF_INET, AF_INET6 */
	__u16 lport;     /* host order */
	__u16 rport;
	__u16 addr_len;  /* bytes of addr that are valid */
	__u8 laddr[16];  /* v4 in the first 4 bytes */
	__u8 raddr[16];
	__u8 addr[TS_CALL_ADDR_LEN];  /* bind/connect: the sockaddr passed */
	__s32 optval;    /* setsockopt/getsockopt: the int value (at exit for get) */
	__u32 optval_valid;
	__u32 nready;    /* entries of ready[] filled */
	__u32 pad[2];
	/* accept/accept4: the connection handed out (sk, cookie as above);
	 * the listener is in sk/cookie. */
	__u64 new_sk;
	__u64 new_cookie;
	struct ts_ready ready[TS_CALL_MAX_READY];
	char comm[TS_CALL_COMM_LEN];
};

#endif
