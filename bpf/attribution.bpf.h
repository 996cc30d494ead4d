/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who an event names. The running task, when the event runs in the
 * socket's owner's context (its own call); else the owner remembered in
 * the socket's local storage (seen in such a call before, copied from the
 * listener, or found at start: older_owners.bpf.h); else, in softirq,
 * nobody. The running task is always kept beside it (cur_*).
 *
 * Part of tcpscope.bpf.c (one BPF object): needs filters.bpf.h and
 * older_owners.bpf.h.
 */
#ifndef TCPSCOPE_ATTRIBUTION_BPF_H
#define TCPSCOPE_ATTRIBUTION_BPF_H

/* Socket-local storage (struct ts_sock_info): the kernel keeps it in the
 * socket itself and frees it with the socket, so it needs no bound, no
 * eviction and no program on socket destruction, and a lookup is a pointer
 * walk instead of a hash. BPF_F_CLONE: when a listener clones a child for a
 * new connection, the kernel copies the listener's value into the child,
 * so the child knows its listener's owner with no map of ours keyed by
 * port (which would mix up SO_REUSEPORT listeners, addresses and reused
 * namespace inodes). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct ts_sock_info);
} socks SEC(".maps");

/* Who is running. One helper call for the task, then plain loads: on this
 * hardware every call and return costs tens of nanoseconds (return-stack
 * mitigations), and the pid, cgroup and comm helpers would be three more. */
static __always_inline void fill_current(struct ts_event *e)
{
	struct task_struct *t = bpf_get_current_task_btf();

	e->ts_ns = bpf_ktime_get_ns();
	e->pid = t->tgid;
	e->tid = t->pid;
	e->cur_pid = e->pid;
	/* What bpf_get_current_cgroup_id() returns: the cgroup v2 id. */
	e->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
	if (filter.cgroup_id && cgroup_in_filter(t->cgroups->dfl_cgrp))
		e->flags |= TS_F_IN_CGROUP;
	/* The process's name is its thread-group leader's; the thread's own
	 * (a pool worker's "tokio-runtime-w") is kept beside it. */
	__builtin_memcpy(e->cur_comm, t->group_leader->comm, sizeof(e->cur_comm));
	__builtin_memcpy(e->comm, e->cur_comm, sizeof(e->comm));
	__builtin_memcpy(e->cur_thread, t->comm, sizeof(e->cur_thread));
}

static __always_inline void set_owner_from(struct ts_event *e, const struct ts_sock_info *si)
{
	if (si->tgid == e->cur_pid)
		return;
	e->pid = si->tgid;
	e->tid = si->tid;
	e->cgroup_id = si->cgroup_id;
	__builtin_memcpy(e->comm, si->comm, TS_COMM_LEN);
	e->flags &= ~TS_F_IN_CGROUP;
	e->flags |= (si->owner_flags & TS_F_IN_CGROUP) |
		    (si->owner_from == TS_OWNER_LISTENER ? TS_F_LISTENER : TS_F_OWNER);
}

/* An event in softirq on a socket whose owner we never learned (made
 * before the tracer started, or its storage could not be allocated): the
 * running task is a bystander, so the event names nobody. Process filters
 * cannot match it. */
static __always_inline void set_unknown(struct ts_event *e)
{
	e->pid = 0;
	e->tid = 0;
	e->cgroup_id = 0;
	__builtin_memset(e->comm, 0, TS_COMM_LEN);
	e->flags &= ~TS_F_IN_CGROUP;
	e->flags |= TS_F_UNKNOWN;
}

/* This socket's storage, created zeroed when missing if create is set
 * (NULL when absent, or when the kernel could not allocate it). A value
 * made for another socket is one the kernel copied from the listener
 * into this child at clone time (BPF_F_CLONE): the listener's owner is
 * kept, as the child's owner until its own owner touches it, and the
 * rest (the listener's state times) dropped. */

static __always_inline struct ts_sock_info *sock_storage_of(const struct sock *sk, bool create,
							   bool adopt)
{
	struct ts_sock_info *si;

	si = bpf_sk_storage_get(&socks, (struct sock *)sk, NULL,
				create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	if (!si)
		return si;
	if (si->sk != (__u64)sk) {
		if (si->sk != 0) {
			si->owner_from = si->tgid ? TS_OWNER_LISTENER : TS_OWNER_NONE;
			si->state_ts = 0;
			si->pending_ts = 0;
		}
		si->sk = (__u64)sk;
	}
	if (adopt && !si->tgid && !(si->owner_flags & TS_F_OLDER_CHECKED) && older_pass_done)
		adopt_older_owner(si, sk);
	return si;
}

static __always_inline struct ts_sock_info *sock_storage(const struct sock *sk, bool create)
{
	return sock_storage_of(sk, create, true);
}

/* Remember the running task as the socket's owner: we run in process
 * context on its behalf. */
static __always_inline struct ts_sock_info *remember_owner(const struct ts_event *e,
							    const struct sock *sk)
{
	/* The running task becomes the owner here, so an owner the start
	 * found would be overwritten at once: not looked up (that was a hash
	 * lookup for every socket made after the start, found in none). */
	struct ts_sock_info *si = sock_storage_of(sk, true, false);

	if (si) {
		si->tgid = e->cur_pid;
		si->tid = e->tid;
		si->cgroup_id = e->cgroup_id;
		si->owner_from = TS_OWNER_SEEN;
		si->owner_flags = e->flags & TS_F_IN_CGROUP;
		__builtin_memcpy(si->comm, e->cur_comm, TS_COMM_LEN);
	}
	return si;
}

/* Remember the owner when we run in process context on its behalf; when
 * we do not, attribute the event to the remembered owner (seen, seeded at
 * start, or the listener's), or (in softirq) to nobody. Returns the
 * socket's storage (NULL only if the kernel could not allocate it).
 * attribute_known does the second half with the storage already looked
 * up (sock_storage), which saves a helper call. */
static __always_inline struct ts_sock_info *attribute_known(struct ts_event *e,
							    struct ts_sock_info *si)
{
	if (si && si->tgid)
		set_owner_from(e, si);
	else if (e->flags & TS_F_IRQ)
		set_unknown(e);
	return si;
}

static __always_inline struct ts_sock_info *attribute(struct ts_event *e, const struct sock *sk,
						      bool owner_context)
{
	if (owner_context && !(e->flags & TS_F_IRQ))
		return remember_owner(e, sk);
	return attribute_known(e, sock_storage(sk, true));
}

#endif /* TCPSCOPE_ATTRIBUTION_BPF_H */
