// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's floor: empty programs on the tracepoints where tcpscope
 * spends its time: inet_sock_set_state (the connection loads) and
 * kfree_skb (the drop flood). What bpf_stats reports for one is what any
 * program costs there, the run-time accounting itself included; tcpscope's
 * own cost per run is its figure minus this one. The loader attaches one
 * of them at a time (tcpscope_floor [set_state|kfree_skb|...]).
 *
 * Beside the empty programs, for tests/bench/state_cost.py, one that makes
 * a single helper call (what a call costs), and three that only keep a
 * timestamp per socket, each its own way: what per-socket state costs at
 * all, before anything else a program does. tcpscope keeps its
 * state (owner, state times, service port) in socket storage;
 * set_state_storage does the same with a 24-byte value (BPF_F_CLONE, as
 * tcpscope's: a listener's value is copied into each child), and
 * set_state_hash keeps it in a preallocated hash keyed by the socket's
 * address, made at the first state change and deleted at CLOSE, and
 * set_state_table in a direct-mapped table (below).
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

/* What each variant keeps per socket: a state time, a connection start
 * and a port, as tcpscope's metrics need for their histograms and label. */
struct state_value {
	__u64 state_ts;
	__u64 established_ts;
	__u32 service_port;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct state_value);
} state_storage SEC(".maps");

/* Sized for the sockets a benchmark round has at once (TIME_WAIT is a
 * mini-socket, out of this map). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, __u64);
	__type(value, struct state_value);
} state_hash SEC(".maps");

#define TCP_ESTABLISHED 1
#define TCP_CLOSE 7

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_storage, const struct sock *sk, int oldstate, int newstate)
{
	struct state_value *v = bpf_sk_storage_get(&state_storage, (struct sock *)sk, NULL,
						   BPF_SK_STORAGE_GET_F_CREATE);
	__u64 now = bpf_ktime_get_ns();

	if (!v)
		return 0;
	v->state_ts = now;
	if (newstate == TCP_ESTABLISHED)
		v->established_ts = now;
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_hash, const struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	struct state_value *v;

	if (newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&state_hash, &key);
		return 0;
	}
	v = bpf_map_lookup_elem(&state_hash, &key);
	if (!v) {
		struct state_value fresh = {.state_ts = now};

		bpf_map_update_elem(&state_hash, &key, &fresh, BPF_NOEXIST);
		return 0;
	}
	v->state_ts = now;
	if (newstate == TCP_ESTABLISHED)
		v->established_ts = now;
	return 0;
}

/* A direct-mapped table: the socket's cookie hashed to one slot of an
 * array, the cookie kept as a tag. An array lookup is inlined by the
 * verifier (no helper call); nothing is allocated or freed. A socket whose
 * slot another live socket holds takes it over (the other's times are
 * lost): what a real table would have to count. */
#define TABLE_SLOTS (1 << 16)
struct table_value {
	__u64 cookie;
	struct state_value v;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TABLE_SLOTS);
	__type(key, __u32);
	__type(value, struct table_value);
} state_table SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_table, const struct sock *sk, int oldstate, int newstate)
{
	/* The verifier allows no arithmetic on a socket pointer: the key is
	 * the socket's cookie (a plain load once the kernel made it; the
	 * helper makes it the first time), Fibonacci-hashed to a slot. */
	__u64 cookie = sk->__sk_common.skc_cookie.counter;
	if (!cookie)
		cookie = bpf_get_socket_cookie((struct sock *)sk);
	__u32 key = (__u32)((cookie * 0x9E3779B97F4A7C15ull) >> 48);
	__u64 now = bpf_ktime_get_ns();
	struct table_value *t = bpf_map_lookup_elem(&state_table, &key);

	if (!t)
		return 0;
	if (t->cookie != cookie) {
		t->cookie = cookie;
		t->v.established_ts = 0;
	}
	t->v.state_ts = now;
	if (newstate == TCP_ESTABLISHED)
		t->v.established_ts = now;
	else if (newstate == TCP_CLOSE)
		t->cookie = 0;
	return 0;
}

/* One helper call and nothing else: what a call costs on this machine. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_ktime, const struct sock *sk, int oldstate, int newstate)
{
	return bpf_ktime_get_ns() == 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(floor_kfree_skb, const struct sk_buff *skb, void *location)
{
	return 0;
}
