// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's floor: an empty program on the tracepoint where tcpscope
 * spends most of its time (inet_sock_set_state). What bpf_stats reports for
 * it is what any program costs there, the run-time accounting itself
 * included; tcpscope's own cost per run is its figure minus this one.
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
