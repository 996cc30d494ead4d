/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the user asked to see: the filters the loader sets in .rodata before
 * load (kinds, namespace, ports, addresses, process, cgroup) and the scope
 * of `exec` and `run` (its namespaces, learned as the traced processes use
 * them). Pure decisions on a record being built: every program asks the
 * same questions in the same words, so an event is kept or left out alike
 * whichever hook saw it, and counted (metrics mode) exactly when a record
 * would have been sent.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs kernel_defs.bpf.h.
 */
#ifndef TCPSCOPE_FILTERS_BPF_H
#define TCPSCOPE_FILTERS_BPF_H

/* Set by the loader before load: struct ts_filter in tcpscope.h. */
const volatile struct ts_filter filter = {};

static __always_inline bool kind_enabled(__u32 kind)
{
	return filter.kind_mask & (1u << kind);
}

static __always_inline bool addr_matches(const __u8 *a)
{
	if (filter.addr_family == AF_INET)
		return *(__u32 *)a == *(const volatile __u32 *)filter.addr;
	for (int i = 0; i < 16; i++)
		if (a[i] != filter.addr[i])
			return false;
	return true;
}

/* An IPv4 peer of a dual-stack (AF_INET6, bound to ::) socket appears as
 * ::ffff:a.b.c.d. An IPv4 --addr matches it: it is the same host. */
static __always_inline bool v4_mapped_matches(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff) &&
	       w[3] == *(const volatile __u32 *)filter.addr;
}

/* The namespace filter: by cookie when the user named the namespace by
 * path or cookie, else by inode. */
static __always_inline bool netns_passes(const struct ts_event *e)
{
	bool same;

	if (filter.netns_cookie)
		same = e->netns_cookie == filter.netns_cookie;
	else if (filter.netns)
		same = e->netns == filter.netns;
	else
		return true;
	return filter.netns_exclude ? !same : same;
}

/* Socket-side filters: namespace, ports, addresses. */
static __always_inline bool tuple_passes(const struct ts_event *e)
{
	if (!netns_passes(e))
		return false;
	if (filter.nports) {
		bool hit = false;

		for (int i = 0; i < TS_MAX_PORTS; i++) {
			if (i >= filter.nports)
				break;
			if (e->sport == filter.ports[i] || e->dport == filter.ports[i])
				hit = true;
		}
		if (!hit)
			return false;
	}
	if (filter.addr_family) {
		if (e->family == filter.addr_family) {
			if (!addr_matches(e->saddr) && !addr_matches(e->daddr))
				return false;
		} else if (filter.addr_family == AF_INET && e->family == AF_INET6) {
			if (!v4_mapped_matches(e->saddr) && !v4_mapped_matches(e->daddr))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* Whether cgroup cg is the --cgroup one or below it. */
static __always_inline bool cgroup_in_filter(const struct cgroup *cg)
{
	return cgroup_in_subtree(cg, filter.cgroup_id, filter.cgroup_level);
}

/* Process-side filters, applied to the attributed process (whose
 * TS_F_IN_CGROUP bit was set when it was chosen). */
static __always_inline bool process_passes(__u32 tgid, const char *comm, __u32 flags)
{
	if (filter.pid && tgid != filter.pid)
		return false;
	if (filter.cgroup_id && !(flags & TS_F_IN_CGROUP))
		return false;
	if (filter.has_comm) {
		for (int i = 0; i < TS_COMM_LEN; i++) {
			if (comm[i] != filter.comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	return true;
}

/* The scope of `exec` and `run` (filter.scope): the network namespaces, by
 * cookie, where a process of the --cgroup tree has had an event of a socket
 * of its own (learned below), and those the loader added (the namespaces a
 * scenario makes, as it makes them). Cookies, not inodes: an inode is
 * reused once its namespace is gone. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_SCOPE_NETNS_MAX);
	__type(key, __u64);
	__type(value, __u8);
} scope_netns SEC(".maps");

/* An event of the --cgroup tree's own: its namespace joins the scope. */
static __always_inline void learn_scope_netns(const struct ts_event *e)
{
	__u64 cookie = e->netns_cookie;
	__u8 one = 1;

	if (!filter.scope || !(e->flags & TS_F_IN_CGROUP) || !cookie)
		return;
	if (!bpf_map_lookup_elem(&scope_netns, &cookie))
		bpf_map_update_elem(&scope_netns, &cookie, &one, BPF_NOEXIST);
}

/* A RST sent by a timewait mini-socket or with no socket at all, or a
 * packet of no full socket, belongs to no process: the running task is a
 * bystander. Process filters cannot match such events, so with any process
 * filter set they are left out, unless a scope is set: then they pass in
 * the scope's namespaces, and when they ran on a task of the --cgroup tree
 * (whose TS_F_IN_CGROUP fill_current set: a loopback or veth peer's answer
 * is handled in softirq on the sender's own task, before the loader can
 * have added a namespace just made). */
static __always_inline bool ownerless_passes(const struct ts_event *e)
{
	__u64 cookie = e->netns_cookie;

	if (!filter.pid && !filter.cgroup_id && !filter.has_comm)
		return true;
	if (!filter.scope)
		return false;
	if (e->flags & TS_F_IN_CGROUP)
		return true;
	return cookie && bpf_map_lookup_elem(&scope_netns, &cookie);
}

#endif /* TCPSCOPE_FILTERS_BPF_H */
