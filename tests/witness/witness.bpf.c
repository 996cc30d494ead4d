// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Controls for tcpscope's counts: programs of a few lines, with no code of
 * tcpscope's, on the tracepoints tcpscope counts from. Each counts, on the
 * whole host, what perf counts beside it (bpf_witness.h says how they are
 * read against each other). When perf counts a firing the control did not
 * see, the kernel ran no BPF program on that firing, and no program of
 * tcpscope's could have counted it; when the control saw it and tcpscope did
 * not, the miss is tcpscope's. The loader attaches one of them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* What to count: the drop reason (witness_kfree_skb), or the port either
 * end of a socket has (witness_set_state). */
const volatile __u32 reason_wanted = 0;
const volatile __u16 port_wanted = 0;

/* Firings counted; atomic, as an interrupt may nest one firing in another
 * on a CPU. */
__u64 fired = 0;

SEC("tp_btf/kfree_skb")
int BPF_PROG(witness_kfree_skb, const struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	if (reason == reason_wanted)
		__sync_fetch_and_add(&fired, 1);
	return 0;
}

/* As perf's filter "sport == P || dport == P" on sock:inet_sock_set_state:
 * the fields the tracepoint records, inet_sport and skc_dport. (Matching
 * the bound port, skc_num, instead missed one transition a connection on
 * the server's side.) */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(witness_set_state, const struct sock *sk, int oldstate, int newstate)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;

	if (bpf_ntohs(BPF_CORE_READ(inet, inet_sport)) == port_wanted ||
	    bpf_ntohs(sk->__sk_common.skc_dport) == port_wanted)
		__sync_fetch_and_add(&fired, 1);
	return 0;
}
