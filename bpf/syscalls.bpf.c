// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpscope exec`'s syscall capture: the socket calls of one process tree,
 * with arguments and results. Loaded and attached only by `exec`, and only
 * while its command runs: while a syscall tracepoint is attached every
 * syscall on the host takes the kernel's slow path, so the first thing each
 * program does is drop every process that is not ours (one hash lookup).
 *
 * Raw syscall tracepoints as BTF tracepoints (tp_btf/sys_enter, sys_exit):
 * no tracefs, no kprobes. The arguments are kept per thread at entry and
 * the record is emitted at exit, when the result is known.
 *
 * From a file descriptor to the socket: tracing programs may call
 * bpf_sock_from_file, but only with a `struct file *` the verifier trusts,
 * and the path from an fd number to its file (task->files->fdt->fd[fd])
 * goes through an array of pointers that the verifier hands back as a plain
 * number; bpf_rdonly_cast, which would turn it back into a typed pointer,
 * is missing from Debian's 6.1. So the walk is made with CO-RE probe reads
 * (6.1, 6.12 and 6.18 alike) down to the struct sock, and the call carries
 * the socket's kernel address and the cookie stored in the socket
 * (sk_cookie, 0 until something asks for it; tcpscope's TCP programs do on
 * their first event, SO_COOKIE does). Userspace gives a socket's cookie,
 * once seen, to the calls made on the same address before it.
 *
 * x86_64 syscall numbers (the project builds for x86 only).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "syscalls.h"
#include "cgroup_subtree.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define F_SETFL 4
#define EPOLLIN 0x001
#define MAX_SELECT_FDS 64

/* x86_64 numbers of the calls captured. */
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_poll 7
#define NR_select 23
#define NR_socket 41
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_shutdown 48
#define NR_bind 49
#define NR_listen 50
#define NR_setsockopt 54
#define NR_getsockopt 55
#define NR_fcntl 72
#define NR_epoll_wait 232
#define NR_pselect6 270
#define NR_ppoll 271
#define NR_epoll_pwait 281
#define NR_accept4 288

/* The traced processes (tgid -> 1): the command, filled in by userspace
 * before it is let run, and everything it forks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

/* Calls in flight, per thread: what sys_enter saw. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct ts_call);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} calls SEC(".maps");

/* What was lost, by reason (enum ts_call_lost_reason). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_CALL_LOST_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* A zeroed record to start from (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_call);
} scratch SEC(".maps");

static __always_inline void count_lost(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &reason);

	if (n)
		__sync_fetch_and_add(n, 1);  /* programs on one CPU nest */
}

/* The command's cgroup (v2 id and depth), set before load: every task in
 * it or below it is traced, whatever pid namespace it sees itself in and
 * however it came there. 0: the traced map decides (no cgroup v2). */
const volatile __u64 scope_cgroup_id = 0;
const volatile __u32 scope_cgroup_level = 0;

/* Whether cg is the scope's cgroup or below it. */
static __always_inline bool cgroup_in_scope(const struct cgroup *cg)
{
	return cgroup_in_subtree(cg, scope_cgroup_id, scope_cgroup_level);
}

static __always_inline bool is_traced(void)
{
	if (scope_cgroup_id) {
		struct task_struct *t = bpf_get_current_task_btf();
		return cgroup_in_scope(t->cgroups->dfl_cgrp);
	}
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

/* The TCP socket behind fd in the current task, by probe reads; NULL when
 * fd is not a socket, or not an AF_INET/AF_INET6 stream socket. */
static __always_inline struct sock *tcp_sock_of_fd(long fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt)
		return NULL;
	unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned long)fd >= max_fds)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return NULL;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP || BPF_CORE_READ(sk, sk_type) != SOCK_STREAM)
		return NULL;
	return sk;
}

static __always_inline __u64 cookie_of(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* The socket's identity and addresses into the record. */
static __always_inline void fill_socket(struct ts_call *c, struct sock *sk)
{
	c->sk = (__u64)sk;
	c->cookie = cookie_of(sk);
	c->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (c->family == AF_INET) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(c->laddr, &l, 4);
		__builtin_memcpy(c->raddr, &r, 4);
	} else {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr);
	}
}

/* Calls whose first argument is the socket's fd. */
static __always_inline bool takes_fd(__u32 nr)
{
	switch (nr) {
	case NR_read: case NR_write: case NR_close: case NR_connect: case NR_accept:
	case NR_sendto: case NR_recvfrom: case NR_sendmsg: case NR_recvmsg:
	case NR_shutdown: case NR_bind: case NR_listen: case NR_setsockopt:
	case NR_getsockopt: case NR_fcntl: case NR_accept4:
		return true;
	}
	return false;
}

static __always_inline bool is_readiness(__u32 nr)
{
	return nr == NR_poll || nr == NR_ppoll || nr == NR_select || nr == NR_pselect6 ||
	       nr == NR_epoll_wait || nr == NR_epoll_pwait;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(call_enter, struct pt_regs *regs, long id)
{
	if (!is_traced())
		return 0;
	__u32 nr = id;
	if (nr != NR_socket && !takes_fd(nr) && !is_readiness(nr))
		return 0;
	__u32 zero = 0;
	struct ts_call *c = bpf_map_lookup_elem(&scratch, &zero);
	if (!c)
		return 0;
	__builtin_memset(c, 0, sizeof(*c));
	c->nr = nr;
	c->args[0] = BPF_CORE_READ(regs, di);
	c->args[1] = BPF_CORE_READ(regs, si);
	c->args[2] = BPF_CORE_READ(regs, dx);
	c->args[3] = BPF_CORE_READ(regs, r10);
	c->args[4] = BPF_CORE_READ(regs, r8);
	c->args[5] = BPF_CORE_READ(regs, r9);

	if (nr == NR_socket) {
		/* Only TCP: socket(AF_INET/AF_INET6, SOCK_STREAM[|flags], 0 or 6). */
		if ((c->args[0] != AF_INET && c->args[0] != AF_INET6) || (c->args[1] & 0xf) != SOCK_STREAM ||
		    (c->args[2] != 0 && c->args[2] != IPPROTO_TCP))
			return 0;
	} else if (takes_fd(nr)) {
		struct sock *sk = tcp_sock_of_fd((long)(int)c->args[0]);
		if (!sk)
			return 0;  /* a file, a pipe, a UDP or unix socket: not ours */
		/* close: the socket is gone at exit, so it is read now. The
		 * others are read again at exit (connect and bind set the
		 * addresses, the cookie may have been made meanwhile). */
		fill_socket(c, sk);
		if (nr == NR_fcntl && c->args[1] != F_SETFL)
			return 0;
	}
	if (nr == NR_bind || nr == NR_connect) {
		/* A constant size (the verifier wants one); a sockaddr_in that
		 * ends at a page's end is read as the 16 bytes it has. */
		__u32 len = c->args[2];
		if (len > TS_CALL_ADDR_LEN)
			len = TS_CALL_ADDR_LEN;
		if (!bpf_probe_read_user(c->addr, TS_CALL_ADDR_LEN, (void *)c->args[1]) ||
		    (len <= 16 && !bpf_probe_read_user(c->addr, 16, (void *)c->args[1])))
			c->addr_len = len;
	}
	if (nr == NR_setsockopt && c->args[4] >= 4) {
		if (!bpf_probe_read_user(&c->optval, 4, (void *)c->args[3]))
			c->optval_valid = 1;
	}
	__u64 id_ = bpf_get_current_pid_tgid();
	c->tgid = id_ >> 32;
	c->tid = (__u32)id_;
	c->start_ns = bpf_ktime_get_ns();
	__u32 tid = c->tid;
	if (bpf_map_update_elem(&inflight, &tid, c, BPF_ANY))
		count_lost(TS_CALL_LOST_INFLIGHT_FULL);
	return 0;
}

/* poll/ppoll: the sockets among the pollfd entries that came back with
 * revents, the first TS_CALL_MAX_READY of them wherever they are in the
 * array. poll returns how many entries have revents, so the walk stops at
 * the last of those (or once the record is full); POLL_SCAN_MAX bounds it
 * (RLIMIT_NOFILE's usual hard limit is far below). bpf_loop (5.17+, in
 * Debian's 6.1) so that the verifier checks the body once, not per entry. */
#define POLL_SCAN_MAX (1u << 20)

struct poll_scan {
	struct ts_call *c;
	struct pollfd *fds;
	__u32 ready_left;  /* entries with revents not met yet */
	__u32 out;
};

static long poll_entry(__u32 i, void *ctx)
{
	struct poll_scan *scan = ctx;
	struct ts_call *c = scan->c;
	struct pollfd p = {};

	if (bpf_probe_read_user(&p, sizeof(p), &scan->fds[i]))
		return 1;
	if (!p.revents)
		return 0;
	struct sock *sk = tcp_sock_of_fd(p.fd);
	if (sk) {
		__u32 k = scan->out & (TS_CALL_MAX_READY - 1);
		c->ready[k].fd = p.fd;
		c->ready[k].events = (__u16)p.revents;
		c->ready[k].sk = (__u64)sk;
		c->ready[k].cookie = cookie_of(sk);
		scan->out++;
	}
	scan->ready_left--;
	return scan->ready_left == 0 || scan->out >= TS_CALL_MAX_READY;
}

static __always_inline void ready_from_poll(struct ts_call *c, long ret)
{
	struct poll_scan scan = {
		.c = c,
		.fds = (struct pollfd *)c->args[0],
		.ready_left = ret,
		.out = 0,
	};
	__u32 n = c->args[1];

	if (n > POLL_SCAN_MAX)
		n = POLL_SCAN_MAX;
	bpf_loop(n, poll_entry, &scan, 0);
	c->nready = scan.out < TS_CALL_MAX_READY ? scan.out : TS_CALL_MAX_READY;
}

/* select/pselect6: the first 64 descriptors of the read and write sets
 * as they came back (readable as IN, writable as OUT). */
static __always_inline void ready_from_select(struct ts_call *c)
{
	__u64 rset = 0, wset = 0;
	if (c->args[1])
		bpf_probe_read_user(&rset, sizeof(rset), (void *)c->args[1]);
	if (c->args[2])
		bpf_probe_read_user(&wset, sizeof(wset), (void *)c->args[2]);
	__u32 nfds = c->args[0];
	__u32 out = 0;
	for (__u32 fd = 0; fd < MAX_SELECT_FDS; fd++) {
		if (fd >= nfds || out >= TS_CALL_MAX_READY)
			break;
		__u32 ev = ((rset >> fd) & 1 ? 0x1 : 0) | ((wset >> fd) & 1 ? 0x4 : 0);
		if (!ev)
			continue;
		struct sock *sk = tcp_sock_of_fd(fd);
		if (!sk)
			continue;
		c->ready[out & (TS_CALL_MAX_READY - 1)].fd = fd;
		c->ready[out & (TS_CALL_MAX_READY - 1)].events = ev;
		c->ready[out & (TS_CALL_MAX_READY - 1)].sk = (__u64)sk;
		c->ready[out & (TS_CALL_MAX_READY - 1)].cookie = cookie_of(sk);
		out++;
	}
	c->nready = out;
}

/* epoll_wait/epoll_pwait: each event's data word read as the fd, which is
 * how most programs register a socket (ev.data.fd = fd); a data word that
 * is not a socket's fd gives no socket. */
static __always_inline void ready_from_epoll(struct ts_call *c, long ret)
{
	/* struct epoll_event is packed on x86_64: 4 bytes of events, 8 of data. */
	__u8 *events = (__u8 *)c->args[1];
	__u32 out = 0;
	for (__u32 i = 0; i < TS_CALL_MAX_READY; i++) {
		if (i >= ret)
			break;
		__u32 ev = 0;
		__u64 data = 0;
		if (bpf_probe_read_user(&ev, 4, events + i * 12) ||
		    bpf_probe_read_user(&data, 8, events + i * 12 + 4))
			break;
		struct sock *sk = tcp_sock_of_fd((int)data);
		c->ready[i].fd = (int)data;
		c->ready[i].events = ev;
		c->ready[i].sk = (__u64)sk;
		c->ready[i].cookie = sk ? cookie_of(sk) : 0;
		out++;
	}
	c->nready = out;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(call_exit, struct pt_regs *regs, long ret)
{
	if (!is_traced())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ts_call *c = bpf_map_lookup_elem(&inflight, &tid);
	if (!c)
		return 0;
	c->end_ns = bpf_ktime_get_ns();
	c->ret = ret;
	__u32 nr = c->nr;

	/* The socket a call returned, or the one it acted on as it is now. */
	if (nr == NR_socket) {
		struct sock *sk = ret >= 0 ? tcp_sock_of_fd(ret) : NULL;
		if (sk)
			fill_socket(c, sk);
	} else if (nr == NR_accept || nr == NR_accept4) {
		/* The listener stays the socket acted on; the connection handed
		 * out is named beside it. */
		struct sock *sk = ret >= 0 ? tcp_sock_of_fd(ret) : NULL;
		if (sk) {
			c->new_sk = (__u64)sk;
			c->new_cookie = cookie_of(sk);
		}
	} else if (nr != NR_close && takes_fd(nr)) {
		/* Addresses and cookie as they are after the call (connect and
		 * bind set them), unless the fd now names another socket. */
		struct sock *sk = tcp_sock_of_fd((long)(int)c->args[0]);
		if (sk && (__u64)sk == c->sk)
			fill_socket(c, sk);
	}
	if (nr == NR_getsockopt && ret == 0 && c->args[3]) {
		__u32 len = 0;
		if (!bpf_probe_read_user(&len, 4, (void *)c->args[4]) && len >= 4 &&
		    !bpf_probe_read_user(&c->optval, 4, (void *)c->args[3]))
			c->optval_valid = 1;
	}
	if (ret > 0) {
		if (nr == NR_poll || nr == NR_ppoll)
			ready_from_poll(c, ret);
		else if (nr == NR_select || nr == NR_pselect6)
			ready_from_select(c);
		else if (nr == NR_epoll_wait || nr == NR_epoll_pwait)
			ready_from_epoll(c, ret);
	}
	bpf_get_current_comm(c->comm, sizeof(c->comm));
	if (bpf_ringbuf_output(&calls, c, sizeof(*c), 0))
		count_lost(TS_CALL_LOST_RINGBUF_FULL);
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

/* The tree: a child of a traced process is traced from its first
 * instruction (the fork tracepoint runs before the child can). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(tree_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	if (!bpf_map_lookup_elem(&traced, &ptgid))
		return 0;
	__u32 ctgid = child->tgid;
	__u8 one = 1;
	if (bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY))
		count_lost(TS_CALL_LOST_TRACED_FULL);
	return 0;
}

/* A process whose last thread ends leaves the set, so a later process
 * given its pid is not traced. (signal->live is counted down before the
 * tracepoint fires, on 6.1 as on 6.18.) */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tree_exit, struct task_struct *p)
{
	__u32 tid = p->pid;
	bpf_map_delete_elem(&inflight, &tid);
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	__u32 tgid = p->tgid;
	bpf_map_delete_elem(&traced, &tgid);
	return 0;
}
