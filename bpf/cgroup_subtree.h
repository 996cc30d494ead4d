/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Whether a cgroup (v2) is a given one or below it, as systemd slices and
 * Kubernetes pods nest: its ancestor at the given cgroup's depth is that
 * cgroup. Shared by the TCP programs (--cgroup, and exec's scope) and
 * exec's syscall capture. Include after vmlinux.h and bpf_core_read.h.
 */
#ifndef TCPSCOPE_CGROUP_SUBTREE_H
#define TCPSCOPE_CGROUP_SUBTREE_H

/* cgroup->ancestors[] is a flexible array (Linux 6.1+) indexed by depth; a
 * variable index into it is read with a probe read. */
static __always_inline bool cgroup_in_subtree(const struct cgroup *cg, __u64 root_id,
					      __u32 root_level)
{
	struct cgroup *ancestor = NULL;

	if (cg->kn->id == root_id)
		return true;
	if (cg->level <= (int)root_level || root_level > 4096)
		return false;
	__u64 slot = (__u64)cg + bpf_core_field_offset(struct cgroup, ancestors) +
		     (__u64)root_level * sizeof(ancestor);
	if (bpf_probe_read_kernel(&ancestor, sizeof(ancestor), (const void *)slot) || !ancestor)
		return false;
	return BPF_CORE_READ(ancestor, kn, id) == root_id;
}

#endif /* TCPSCOPE_CGROUP_SUBTREE_H */
