/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Owners of the sockets older than the tracer.
 *
 * The programs learn a socket's owner when it acts on the socket in
 * process context (attribution.bpf.h). A socket made earlier, by a server
 * already running, has had no such moment: its events in softirq (a SYN on
 * its listener, a FIN from the peer) would name nobody. So at start the
 * loader runs the iterator below once over every task, reading its
 * descriptor table. It takes no reference on any file (the application's
 * close() stays the last one), needs no ptrace right, and sees global
 * tgids and the socket itself.
 *
 * The iterator cannot write the socket's storage: the socket it reads from
 * a descriptor table is no pointer the verifier trusts (6.12+ refuses even
 * bpf_sock_from_file's to bpf_sk_storage_get). So it records the owner by
 * the socket's inode (with its address, to tell a later socket given the
 * same number), the programs adopt that record the first time they meet
 * the socket (sock_storage), and the sock_diag reader reads it for a socket
 * they have not met (owners.h). A child its listener accepts later has no
 * file yet: it adopts its older listener's owner through the listener's
 * namespace and port, as the kernel's copy of a listener's storage would
 * have given it.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs filters.bpf.h. Included
 * before attribution.bpf.h, whose sock_storage adopts what the pass found.
 */
#ifndef TCPSCOPE_OLDER_OWNERS_BPF_H
#define TCPSCOPE_OLDER_OWNERS_BPF_H

/* Set by the loader once the pass over the tasks' files is done: from then
 * on a socket met without an owner looks for one the pass found. */
bool older_pass_done = false;
/* In ts_sock_info.owner_flags, the kernel side's own: the owners found at
 * start were looked up for this socket (once is enough). */
#define TS_F_OLDER_CHECKED (1u << 31)

/* The socket's inode number (what /proc/PID/fd links name), 0 while it
 * has none (a child not accepted yet). */
static __always_inline __u64 sock_inode(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
}

struct older_listener_key {
	__u32 netns;        /* inode */
	__u32 port;
};

/* Owners found by the pass, by socket inode; an entry goes once adopted.
 * Not preallocated: memory for the sockets there are, at most 256 Ki. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 18);
	__type(key, __u64);
	__type(value, struct ts_older_owner);
} older_socks SEC(".maps");

/* Older listeners, by namespace and port, for the children they accept. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 14);
	__type(key, struct older_listener_key);
	__type(value, struct ts_older_owner);
} older_listeners SEC(".maps");

struct ts_owner_counts owner_counts = {};

static __always_inline void owner_into(struct ts_sock_info *si, const struct ts_older_owner *o,
				       __u32 from)
{
	si->tgid = o->tgid;
	si->tid = o->tgid;
	si->cgroup_id = o->cgroup_id;
	si->owner_flags = o->owner_flags;
	__builtin_memcpy(si->comm, o->comm, TS_COMM_LEN);
	si->owner_from = from;
	if (o->service_port)
		si->service_port = o->service_port;
}

/* A socket the programs meet without an owner: the pass may have found it
 * (or, for a child not accepted yet, its listener). Looked up once. */
static __always_inline void adopt_older_owner(struct ts_sock_info *si, const struct sock *sk)
{
	__u64 key = sock_inode(sk);
	struct ts_older_owner *o;

	si->owner_flags |= TS_F_OLDER_CHECKED;
	if (key) {
		o = bpf_map_lookup_elem(&older_socks, &key);
		if (o && o->sk == (__u64)sk) {
			owner_into(si, o, TS_OWNER_SEEDED);
			bpf_map_delete_elem(&older_socks, &key);
		}
		return;
	}
	/* No file: a child its listener has not handed out yet. */
	struct older_listener_key lk = {
		.netns = sk->__sk_common.skc_net.net->ns.inum,
		.port = sk->__sk_common.skc_num,
	};
	o = bpf_map_lookup_elem(&older_listeners, &lk);
	if (o && o->tgid)
		owner_into(si, o, TS_OWNER_LISTENER);
}

/* An older listener that closes: its port may be another's next. */
static __always_inline void forget_older_listener(const struct sock *sk)
{
	struct older_listener_key lk = {
		.netns = sk->__sk_common.skc_net.net->ns.inum,
		.port = sk->__sk_common.skc_num,
	};
	struct ts_older_owner *o = bpf_map_lookup_elem(&older_listeners, &lk);

	if (o && o->sk == (__u64)sk)
		bpf_map_delete_elem(&older_listeners, &lk);
}

#define TS_S_IFMT 0170000
#define TS_S_IFSOCK 0140000

/* One process's walk over its descriptor table (bpf_loop's context). */
struct fd_walk {
	struct file **fds;
	struct ts_older_owner owner; /* the process's part, filled once */
};

/* Records the owner of the socket behind one descriptor, if it is a TCP
 * socket worth recording. Every read is a probe read of a pointer the
 * table holds: no reference is taken on the file, so the application's
 * close() stays the last one, whenever it comes. */
static __always_inline void record_socket(struct fd_walk *w, struct file *file)
{
	struct ts_older_owner o = w->owner, *known;
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct socket *sock;
	struct sock *sk;
	__u64 key;

	if (!inode || (BPF_CORE_READ(inode, i_mode) & TS_S_IFMT) != TS_S_IFSOCK)
		return;
	sock = BPF_CORE_READ(file, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk)
		return;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return;
	if (BPF_CORE_READ(sk, sk_type) != SOCK_STREAM || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	/* Not connected nor listening (new, or closed): its owner's next
	 * move (connect, listen) is in process context and teaches it. */
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_CLOSE)
		return;
	__u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (filter.netns_cookie || filter.netns) {
		struct ts_event probe = {};

		probe.netns = netns;
		probe.netns_cookie = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
		if (!netns_passes(&probe))
			return;
	}
	o.sk = (__u64)sk;
	/* A listener's service port is its own; its children get it too. */
	if (state == TCP_LISTEN)
		o.service_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	key = BPF_CORE_READ(inode, i_ino);
	known = bpf_map_lookup_elem(&older_socks, &key);
	if (known) {
		/* Seen in another process already (a socket inherited across
		 * fork): the lowest tgid, usually the parent that made it. */
		if (o.tgid >= known->tgid)
			return;
		*known = o;
	} else {
		owner_counts.sockets++;
		if (bpf_map_update_elem(&older_socks, &key, &o, BPF_NOEXIST)) {
			owner_counts.failed++;
			return;
		}
		owner_counts.seeded++;
	}
	if (!o.service_port)
		return;
	struct older_listener_key lk = {
		.netns = netns,
		.port = o.service_port,
	};
	known = bpf_map_lookup_elem(&older_listeners, &lk);
	if (!known) {
		bpf_map_update_elem(&older_listeners, &lk, &o, BPF_NOEXIST);
	} else if (known->sk == o.sk) {
		if (o.tgid < known->tgid)
			*known = o;
	} else if (known->tgid != o.tgid) {
		/* SO_REUSEPORT listeners (or one per address) of several
		 * processes on this port: a child's listener is not known. */
		known->tgid = 0;
	}
}

static long visit_fd(__u64 i, void *ctx)
{
	struct fd_walk *w = ctx;
	struct file *file = NULL;

	if (bpf_probe_read_kernel(&file, sizeof(file), &w->fds[i]) == 0 && file)
		record_socket(w, file);
	return 0;
}

/* The iterator over tasks, not over their files: iter/task_file takes a
 * reference on each file while the program looks at it, and a close() by
 * the application in that moment would leave the socket to tcpscope's
 * release (a listener still in LISTEN, its port not free). Here the
 * descriptor table is read under RCU, as /proc does, and nothing is
 * pinned. */
SEC("iter/task")
int learn_owners(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct fd_walk w = {};
	struct files_struct *files;
	struct fdtable *fdt;
	char tick = 0;
	__u32 max_fds;

	if (!task)
		return 0;
	/* One byte per task: a read of N bytes returns after N tasks, and
	 * the loader drains the ring buffer between reads, so no event is
	 * lost while owners are learned, however many tasks the host has. */
	bpf_seq_write(seq, &tick, 1);
	if (filter.pid && task->tgid != filter.pid)
		return 0;
	files = task->files;
	if (!files)
		return 0;
	/* Threads share their leader's table (CLONE_FILES): walk it once. */
	if (task->pid != task->tgid && files == task->group_leader->files)
		return 0;
	fdt = BPF_CORE_READ(files, fdt);
	if (!fdt)
		return 0;
	max_fds = BPF_CORE_READ(fdt, max_fds);
	w.fds = BPF_CORE_READ(fdt, fd);
	if (!w.fds)
		return 0;
	w.owner.tgid = task->tgid;
	w.owner.cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	if (filter.cgroup_id && cgroup_in_filter(task->cgroups->dfl_cgrp))
		w.owner.owner_flags = TS_F_IN_CGROUP;
	__builtin_memcpy(w.owner.comm, task->group_leader->comm, TS_COMM_LEN);
	/* bpf_loop's bound; a table that large is beyond nr_open's default. */
	if (max_fds > (1u << 23))
		max_fds = 1u << 23;
	bpf_loop(max_fds, visit_fd, &w, 0);
	return 0;
}

#endif /* TCPSCOPE_OLDER_OWNERS_BPF_H */
