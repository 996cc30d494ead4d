// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's floor: empty programs on the tracepoints where tcpscope
 * spends its time: inet_sock_set_state (the connection loads) and
 * kfree_skb (the drop flood). What bpf_stats reports for one is what any
 * program costs there, the run-time accounting itself included; tcpscope's
 * own cost per run is its figure minus this one. The loader attaches one
 * of them at a time (tcpscope_floor [set_state|kfree_skb]).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(floor_kfree_skb, const struct sk_buff *skb, void *location)
{
	return 0;
}
