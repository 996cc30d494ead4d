/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The application's side: what each sendmsg/recvmsg on a TCP socket
 * returned (sock_send_length, sock_recv_length, 6.3+), and SIGPIPE, which a
 * send on a closed connection raises (signal_generate). A signal has no
 * socket; under a --port/--addr filter its send's record, right after on
 * the same thread, decides for it.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs events.bpf.h.
 */
#ifndef TCPSCOPE_SEND_RECV_BPF_H
#define TCPSCOPE_SEND_RECV_BPF_H

/* The kernel has sock_send_length (6.3+): a SIGPIPE under --port/--addr
 * waits for it (see signal_event). Without it, such a SIGPIPE cannot be
 * judged and is left out. */
const volatile bool sigpipe_waits_for_send = false;

/* A SIGPIPE held back, by thread, while a --port/--addr filter is set: a
 * signal has no socket, but SIGPIPE comes from a send on one, reported by
 * sock_send_length right after on the same thread. That send's socket
 * decides, and lends the signal its tuple. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ts_event);
} pending_signals SEC(".maps");

static __always_inline int signal_event(struct ts_event *slot, int sig,
					const struct task_struct *task, int result)
{
	struct ts_event *e;

	if (sig != SIGPIPE || !kind_enabled(TS_KIND_SIGNAL))
		return 0;
	e = new_event(slot, TS_KIND_SIGNAL);
	e->signal.sig = sig;
	e->signal.target_pid = task->tgid;
	e->signal.result = result;
	fill_netns(e, task->nsproxy->net_ns);
	/* The process concerned is the target, which for SIGPIPE is the
	 * sender itself: every filter looks at the target (its namespace,
	 * pid, name, cgroup). The running task may be another process
	 * (kill(2)). */
	if (!netns_passes(e))
		return 0;
	if (filter.pid && (__u32)e->signal.target_pid != filter.pid)
		return 0;
	if (filter.cgroup_id || filter.has_comm) {
		char comm[TS_COMM_LEN];
		__u32 flags = 0;

		__builtin_memcpy(comm, task->group_leader->comm, TS_COMM_LEN);
		if (filter.cgroup_id && cgroup_in_filter(task->cgroups->dfl_cgrp))
			flags = TS_F_IN_CGROUP;
		if (!process_passes(e->signal.target_pid, comm, flags))
			return 0;
	}
	/* A signal has no socket for --port or --addr to judge. A SIGPIPE
	 * raised by a send is followed, on the same thread, by that send's
	 * sock_send_length: hold it there until the socket is known. */
	if (filter.nports || filter.addr_family) {
		__u32 tid = e->tid;

		if (sigpipe_waits_for_send && task->pid == tid)
			bpf_map_update_elem(&pending_signals, &tid, e, BPF_ANY);
		return 0;
	}
	submit(e);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(handle_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	if (sig != SIGPIPE)
		return 0;
	WITH_SLOT(TS_KIND_SIGNAL, signal_event(slot, sig, task, result));
	return 0;
}

/* The SIGPIPE held back for this thread's send (see signal_event): it goes
 * out, with the send's socket tuple, if that socket passes the filters. */
static __always_inline void release_pending_signal(const struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ts_event *pe = bpf_map_lookup_elem(&pending_signals, &tid);

	if (!pe)
		return;
	fill_tuple_sk(pe, sk, true);
	/* A SIGPIPE sent by kill(2) is followed by no send of its own: a
	 * later send long after is not its cause. The send that raised one
	 * returns within microseconds. */
	if (bpf_ktime_get_ns() - pe->ts_ns < 10000000ull && tuple_passes(pe)) {
		pe->cookie = sock_cookie(sk);
		submit(pe);
	}
	bpf_map_delete_elem(&pending_signals, &tid);
}

static __always_inline int length_event(struct ts_event *slot, __u32 kind, const struct sock *sk,
					int ret, int flags)
{
	struct ts_event *e;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (kind == TS_KIND_SEND && kind_enabled(TS_KIND_SIGNAL) &&
	    (filter.nports || filter.addr_family))
		release_pending_signal(sk);
	if (!kind_enabled(kind))
		return 0;
	/* sendmsg/recvmsg run in the caller's context: it owns the socket. */
	e = sock_event(slot, kind, sk, true, true, NULL);
	if (!e)
		return 0;
	e->length.ret = ret;
	e->length.msg_flags = flags;
	submit(e);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(handle_send_length, struct sock *sk, int ret, int flags)
{
	WITH_SLOT(TS_KIND_SEND, length_event(slot, TS_KIND_SEND, sk, ret, flags));
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(handle_recv_length, struct sock *sk, int ret, int flags)
{
	WITH_SLOT(TS_KIND_RECV, length_event(slot, TS_KIND_RECV, sk, ret, flags));
	return 0;
}

#endif /* TCPSCOPE_SEND_RECV_BPF_H */
