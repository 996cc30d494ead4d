// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel side of tcpscope: BTF tracepoints (tp_btf) on the TCP state machine,
 * resets, retransmits, socket errors, SIGPIPE, and (opt-in) send/recv results
 * and packets at the device. tp_btf needs no tracefs and hands us typed
 * pointers: their fields are read directly (a load the verifier guards, at a
 * CO-RE relocated offset). BPF_CORE_READ remains where a pointer is not
 * typed for what we read (inet_sport of a struct sock, skb data).
 *
 * Where a tracepoint's arguments changed between kernel versions there is
 * one program per prototype (a program that reads an argument the kernel's
 * prototype lacks is refused at load); the loader picks the one that
 * matches the running kernel's BTF and turns the others' autoload off:
 *   tcp_send_reset      (sk, skb) before 6.10, (sk, skb, reason) from 6.10
 *   tcp_retransmit_skb  (sk, skb) before 6.17, (sk, skb, err) from 6.17
 *   kfree_skb           (skb, location, reason) before 6.11, then rx_sk too
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpscope.h"
#include "owners.h"
#include "cgroup_subtree.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
#define SIGPIPE 13
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_FIN_WAIT2 5
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LAST_ACK 9
#define TCP_LISTEN 10
#define TCP_CLOSING 11
#define TCP_NEW_SYN_RECV 12

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct ts_filter filter = {};
/* The kernel has sock_send_length (6.3+): a SIGPIPE under --port/--addr
 * waits for it (see signal_event). Without it, such a SIGPIPE cannot be
 * judged and is left out. */
const volatile bool sigpipe_waits_for_send = false;
/* Bytes waiting in the ring buffer before a record wakes the reader;
 * 0 wakes it for every record. */
const volatile __u64 wakeup_bytes = 0;

/* `tcpscope metrics`: count into the m_* arrays below instead of sending
 * records. Every filter and the attribution still decide, exactly as for
 * a record: counting happens where a record would be submitted. */
const volatile bool metrics_mode = false;
/* Metrics mode with --labels: counters go to m_series, by label. */
const volatile __u32 label_mask = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Events lost, by reason (TS_LOST_*) then event kind: key = reason *
 * TS_KIND_COUNT + kind. Per CPU so that counting never contends; by kind
 * so that a test can account for one kind exactly. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_LOST_REASONS * TS_KIND_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Metrics mode's counters, per CPU so that counting never contends; a
 * scrape sums the CPUs. Keys are documented in tcpscope.h. */
#define TS_COUNTER_ARRAY(name, slots)                 \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, slots);           \
		__type(key, __u32);                   \
		__type(value, __u64);                 \
	} name SEC(".maps")

/* old state * TS_STATE_SLOTS + new state */
TS_COUNTER_ARRAY(m_transitions, TS_STATE_SLOTS * TS_STATE_SLOTS);
/* reason slot * TS_STATE_SLOTS + state */
TS_COUNTER_ARRAY(m_resets_sent, TS_REASON_SLOTS * TS_STATE_SLOTS);
TS_COUNTER_ARRAY(m_resets_received, TS_STATE_SLOTS);
TS_COUNTER_ARRAY(m_retransmits, TS_STATE_SLOTS);
TS_COUNTER_ARRAY(m_socket_errors, TS_ERRNO_SLOTS);
TS_COUNTER_ARRAY(m_sigpipe, TS_SIGNAL_RESULT_SLOTS);
TS_COUNTER_ARRAY(m_drops, TS_DROP_REASON_SLOTS);
/* histogram * TS_BUCKET_SLOTS + bucket (not cumulative) */
TS_COUNTER_ARRAY(m_hist_buckets, TS_HIST_COUNT * TS_BUCKET_SLOTS);
/* histogram: the sum of its observations, in ns, 128 bits (tcpscope.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_HIST_COUNT);
	__type(key, __u32);
	__type(value, struct ts_sum128);
} m_hist_sum_ns SEC(".maps");

static __always_inline void count_in(void *map, __u32 key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		*v += n;
}

/* --labels: one series per (family, slot, labels), at most --max-series of
 * them (the loader sizes the map); what finds the map full is counted in
 * m_series_dropped, never lost silently. Userspace deletes the series that
 * stayed idle (--series-idle), so the space a burst of series took frees
 * up again. BPF_F_NO_PREALLOC: memory for the series that exist, not for
 * the cap times every CPU; and a deleted series' value is freed after an
 * RCU grace period, so an increment racing with its deletion lands in
 * that value, never in a series made meanwhile. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct ts_series_key);
	__type(value, __u64);
} m_series SEC(".maps");

TS_COUNTER_ARRAY(m_series_dropped, 1);

static __always_inline void add_series(const struct ts_event *e, __u32 family, __u32 slot,
				       __u64 n)
{
	struct ts_series_key k = {};
	__u64 *v;

	k.family = family;
	k.slot = slot;
	if (label_mask & TS_LABEL_NETNS)
		k.netns = e->netns;
	if (label_mask & TS_LABEL_PORT)
		k.port = e->service_port;
	if (label_mask & TS_LABEL_COMM)
		__builtin_memcpy(k.comm, e->comm, TS_COMM_LEN);
	if (label_mask & TS_LABEL_CONTAINER)
		k.cgroup_id = e->cgroup_id;
	v = bpf_map_lookup_elem(&m_series, &k);
	if (v) {
		*v += n;
		return;
	}
	if (bpf_map_update_elem(&m_series, &k, &n, BPF_NOEXIST) == 0)
		return;
	/* Another CPU may have made it meanwhile; else the map is full. */
	v = bpf_map_lookup_elem(&m_series, &k);
	if (v)
		*v += n;
	else
		count_in(&m_series_dropped, 0, 1);
}

static __always_inline void count_series(const struct ts_event *e, __u32 family, __u32 slot)
{
	add_series(e, family, slot, 1);
}

/* A counter: its array without labels, its series with them. */
#define COUNT(e, family, map, slot)                          \
	do {                                                 \
		if (label_mask)                              \
			count_series(e, family, slot);       \
		else                                         \
			count_in(map, slot, 1);              \
	} while (0)

static __always_inline void observe(__u32 hist, __u64 ns)
{
	count_in(&m_hist_buckets, hist * TS_BUCKET_SLOTS + ts_duration_bucket(ns), 1);
	__u32 key = hist;
	struct ts_sum128 *sum = bpf_map_lookup_elem(&m_hist_sum_ns, &key);

	if (sum)
		ts_sum128_add(sum, ns);
}

/* The kernel's tick rate, for icsk_rto (jiffies): set by the loader from
 * the kernel's config (/boot/config-*, /proc/config.gz). Not a __kconfig
 * extern: libbpf refuses to load an object with one when neither file
 * exists (containers, minimal images); here that only leaves rto_us 0. */
const volatile __u32 kernel_hz = 0;

/* The RTT state of a tcp_sock as it closes, what `ss -ti` shows of a live
 * one (tcp_get_info): the same fields on 6.1, 6.12 and 6.18, read with
 * CO-RE so that their offsets follow the running kernel. */
static __always_inline void read_rtt(const struct sock *sk, struct ts_event *e)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
	__u32 hz = kernel_hz;

	/* srtt_us is kept times 8 (tcp_rtt_estimator). */
	e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	/* rtt_min is a windowed min filter; s[0] holds the minimum, ~0 until
	 * the first sample (tcp_init_sock), which ss leaves out: 0 here. */
	e->min_rtt_us = BPF_CORE_READ(tp, rtt_min.s[0].v);
	if (e->min_rtt_us == ~0u)
		e->min_rtt_us = 0;
	e->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
	if (hz)
		e->rto_us = (__u32)((__u64)BPF_CORE_READ(icsk, icsk_rto) * 1000000 / hz);
	e->flags |= TS_F_RTT;
}

/* Metrics mode: a connection's smoothed RTT at its end, into the RTT
 * histogram; by label into the series when --labels asks (the port label is
 * e->service_port). Bucketed as the durations are, the RTT taken as ns. */
static __always_inline void observe_rtt(const struct ts_event *e, __u32 srtt_us)
{
	__u64 ns = (__u64)srtt_us * 1000;

	if (label_mask) {
		add_series(e, TS_FAM_RTT, ts_duration_bucket(ns), 1);
		add_series(e, TS_FAM_RTT, TS_RTT_SUM_SLOT, srtt_us);
		return;
	}
	observe(TS_HIST_RTT, ns);
}

static __always_inline __u32 state_slot(__s32 state)
{
	return state >= 0 && state < TS_STATE_SLOTS ? (__u32)state : 0;
}

static __always_inline __u32 drop_slot(__s32 reason)
{
	return reason >= 0 && reason < TS_DROP_REASON_SLOTS ? (__u32)reason
							     : TS_DROP_REASON_SLOTS - 1;
}

/* Metrics mode's stand-in for sending a record: the event, filtered and
 * attributed, is added to its counters. */
static __always_inline void count_event(const struct ts_event *e)
{
	__u32 reason;
	__s32 old;

	switch (e->kind) {
	case TS_KIND_STATE:
		COUNT(e, TS_FAM_TRANSITIONS, &m_transitions,
		      state_slot(e->state.old_state) * TS_STATE_SLOTS +
			      state_slot(e->state.new_state));
		if (!(e->flags & TS_F_PREV_TIME))
			break;
		old = e->state.old_state;
		if (old == TCP_SYN_SENT && e->state.new_state == TCP_ESTABLISHED)
			observe(TS_HIST_CONNECT, e->prev_state_ns);
		else if (old == TCP_SYN_RECV && e->state.new_state == TCP_ESTABLISHED)
			observe(TS_HIST_ACCEPT, e->prev_state_ns);
		else if (old == TCP_FIN_WAIT1)
			observe(TS_HIST_FIN_WAIT1, e->prev_state_ns);
		else if (old == TCP_FIN_WAIT2)
			observe(TS_HIST_FIN_WAIT2, e->prev_state_ns);
		else if (old == TCP_CLOSE_WAIT)
			observe(TS_HIST_CLOSE_WAIT, e->prev_state_ns);
		else if (old == TCP_LAST_ACK)
			observe(TS_HIST_LAST_ACK, e->prev_state_ns);
		break;
	case TS_KIND_RESET_SENT:
		reason = TS_REASON_NOT_REPORTED;
		if ((e->flags & TS_F_REASON) && e->reset.reason >= 0 &&
		    e->reset.reason < TS_REASON_NOT_REPORTED)
			reason = e->reset.reason;
		COUNT(e, TS_FAM_RESETS_SENT, &m_resets_sent,
		      reason * TS_STATE_SLOTS + state_slot(e->reset.state));
		break;
	case TS_KIND_RESET_RECEIVED:
		COUNT(e, TS_FAM_RESETS_RECEIVED, &m_resets_received, state_slot(e->reset.state));
		break;
	case TS_KIND_RETRANSMIT:
		/* Only the retransmits that left, as TcpRetransSegs counts them
		 * (and as kernels before 6.17 report them). */
		if (!(e->flags & TS_F_RETRANS_ERR) || e->retransmit.err == 0)
			COUNT(e, TS_FAM_RETRANSMITS, &m_retransmits, state_slot(e->retransmit.state));
		break;
	case TS_KIND_SOCK_ERROR:
		COUNT(e, TS_FAM_SOCKET_ERRORS, &m_socket_errors,
		      e->sock_error.err > 0 && e->sock_error.err < TS_ERRNO_SLOTS
			      ? (__u32)e->sock_error.err
			      : TS_ERRNO_SLOTS - 1);
		break;
	case TS_KIND_SIGNAL:
		COUNT(e, TS_FAM_SIGPIPE, &m_sigpipe,
		      e->signal.result >= 0 && e->signal.result < TS_SIGNAL_RESULT_SLOTS
			      ? (__u32)e->signal.result
			      : TS_SIGNAL_RESULT_SLOTS - 1);
		break;
	case TS_KIND_DROP:
		COUNT(e, TS_FAM_DROPS, &m_drops, drop_slot(e->drop.reason));
		break;
	}
}

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

/* A socket's lock is "owned" while a task holds it through lock_sock():
 * its own syscalls, and the backlog it processes on release. Packets and
 * timers that find it owned are deferred to that task. So an event on an
 * owned socket runs in the owner's process context; one on an unowned
 * socket runs in softirq, possibly inside an unrelated task's syscall. */
static __always_inline bool sock_owned_by_user(const struct sock *sk)
{
	return sk->sk_lock.owned != 0;
}

static __always_inline bool kind_enabled(__u32 kind)
{
	return filter.kind_mask & (1u << kind);
}

static __always_inline void count_lost(__u32 reason, __u32 kind)
{
	__u32 key = reason * TS_KIND_COUNT + kind;
	__u64 *n = bpf_map_lookup_elem(&lost, &key);

	if (n)
		*n += 1;
}

/* A network namespace by inode (what `ip netns identify`, `lsns` and
 * /proc/PID/ns/net show) and by cookie (SO_NETNS_COOKIE): an inode is
 * reused by a later namespace once this one is gone, a cookie never. */
static __always_inline void fill_netns(struct ts_event *e, const struct net *net)
{
	e->netns = net->ns.inum;
	e->netns_cookie = net->net_cookie;
}

/* Fill family, ports and addresses from the socket's common part, which
 * full, request and timewait sockets all share. */
static __always_inline void fill_tuple_sk(struct ts_event *e, const struct sock *sk,
					 bool full_sock)
{
	e->family = sk->__sk_common.skc_family;
	/* skc_num is the local port while the socket is bound, and a plain
	 * load. A full socket's skc_num is cleared when it is unhashed,
	 * before the move to CLOSE is reported; inet_sport survives (tcpstates
	 * reads it too), but only a probe read reaches it. Mini-sockets have
	 * no inet_sock part, but keep skc_num. */
	e->sport = sk->__sk_common.skc_num;
	if (full_sock && !e->sport)
		e->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	fill_netns(e, sk->__sk_common.skc_net.net);
	if (e->family == AF_INET) {
		__u32 s = sk->__sk_common.skc_rcv_saddr;
		__u32 d = sk->__sk_common.skc_daddr;
		__builtin_memcpy(e->saddr, &s, 4);
		__builtin_memcpy(e->daddr, &d, 4);
	} else {
		__builtin_memcpy(e->saddr, sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(e->daddr, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
	}
}

/* Tuple from an IPv4/IPv6 + TCP header at skb's network header. With
 * from_receiver set, the packet's destination is the local side. The TCP
 * header goes to th_out when asked for, and a packet's or a drop's record
 * gets the payload's length (kind: the record's, a constant at each call,
 * so the choice costs nothing at run time). */
static __always_inline int fill_tuple_skb(struct ts_event *e, __u32 kind,
					  const struct sk_buff *skb, bool from_receiver,
					  struct tcphdr *th_out)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u8 version = 0;
	__u32 l3len = 0, l3hdr = 0;
	struct tcphdr th;

	if (bpf_probe_read_kernel(&version, 1, head + nh))
		return -1;
	version >>= 4;
	if (version == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) || ip.protocol != IPPROTO_TCP)
			return -1;
		e->family = AF_INET;
		l3hdr = ip.ihl * 4;
		l3len = bpf_ntohs(ip.tot_len);
		__builtin_memcpy(from_receiver ? e->daddr : e->saddr, &ip.saddr, 4);
		__builtin_memcpy(from_receiver ? e->saddr : e->daddr, &ip.daddr, 4);
	} else if (version == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.nexthdr != IPPROTO_TCP)
			return -1;
		e->family = AF_INET6;
		l3hdr = sizeof(ip6);
		l3len = sizeof(ip6) + bpf_ntohs(ip6.payload_len);
		__builtin_memcpy(from_receiver ? e->daddr : e->saddr, &ip6.saddr, 16);
		__builtin_memcpy(from_receiver ? e->saddr : e->daddr, &ip6.daddr, 16);
	} else {
		return -1;
	}
	/* A whole TCP header, or not a segment we can describe: a packet too
	 * short for one (the kernel drops it as PKT_TOO_SMALL) would have
	 * its flags and length read past its end. tot_len 0 is IPv4 BIG TCP:
	 * the length is the skb's, not checked here. */
	if (l3len && l3len < l3hdr + sizeof(th))
		return -1;
	if (bpf_probe_read_kernel(&th, sizeof(th), head + nh + l3hdr) || th.doff < 5)
		return -1;
	if (from_receiver) {
		e->sport = bpf_ntohs(th.dest);
		e->dport = bpf_ntohs(th.source);
	} else {
		e->sport = bpf_ntohs(th.source);
		e->dport = bpf_ntohs(th.dest);
	}
	if (th_out)
		*th_out = th;
	/* payload = IP length - IP header - TCP header; GSO packets carry
	 * their whole super-segment here, which is what the stack sent. */
	__s32 payload_len = (__s32)l3len - (__s32)l3hdr - (__s32)th.doff * 4;

	if (kind == TS_KIND_PACKET)
		e->packet.payload_len = payload_len;
	else if (kind == TS_KIND_DROP)
		e->drop.payload_len = payload_len;
	return 0;
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

/* Set by the loader once the pass over the tasks' files is done: from then
 * on a socket met without an owner looks for one the pass found. */
bool older_pass_done = false;
/* In ts_sock_info.owner_flags, the kernel side's own: the owners found at
 * start were looked up for this socket (once is enough). */
#define TS_F_OLDER_CHECKED (1u << 31)

/* This socket's storage, created zeroed when missing if create is set
 * (NULL when absent, or when the kernel could not allocate it). A value
 * made for another socket is one the kernel copied from the listener
 * into this child at clone time (BPF_F_CLONE): the listener's owner is
 * kept, as the child's owner until its own owner touches it, and the
 * rest (the listener's state times) dropped. */
static __always_inline void adopt_older_owner(struct ts_sock_info *si, const struct sock *sk);
static __always_inline void forget_older_listener(const struct sock *sk);

/* The socket's inode number (what /proc/PID/fd links name), 0 while it
 * has none (a child not accepted yet). */
static __always_inline __u64 sock_inode(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
}

static __always_inline struct ts_sock_info *sock_storage(const struct sock *sk, bool create)
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
	if (!si->tgid && !(si->owner_flags & TS_F_OLDER_CHECKED) && older_pass_done)
		adopt_older_owner(si, sk);
	return si;
}

/* Remember the running task as the socket's owner: we run in process
 * context on its behalf. */
static __always_inline struct ts_sock_info *remember_owner(const struct ts_event *e,
							    const struct sock *sk)
{
	struct ts_sock_info *si = sock_storage(sk, true);

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
 * socket's storage (NULL only if the kernel could not allocate it). */
static __always_inline struct ts_sock_info *attribute(struct ts_event *e, const struct sock *sk,
						      bool owner_context)
{
	struct ts_sock_info *si;

	if (owner_context && !(e->flags & TS_F_IRQ))
		return remember_owner(e, sk);
	si = sock_storage(sk, true);
	if (si && si->tgid)
		set_owner_from(e, si);
	else if (e->flags & TS_F_IRQ)
		set_unknown(e);
	return si;
}

static __always_inline void submit(const struct ts_event *tmpl)
{
	struct ts_event *e;

	if (metrics_mode) {
		count_event(tmpl);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_lost(TS_LOST_RINGBUF_FULL, tmpl->kind);
		return;
	}
	__builtin_memcpy(e, tmpl, sizeof(*e));
	/* Waking the reader for every record costs more than the record;
	 * it polls on a short timer instead and is woken early only when the
	 * buffer fills past the threshold the loader set. That wakeup must be
	 * forced: a submit with flags 0 wakes the reader only when it has
	 * consumed everything before this record (kernel/bpf/ringbuf.c,
	 * bpf_ringbuf_commit: cons_pos == rec_pos), which past the threshold
	 * is never the case, so the reader slept until its timer while the
	 * buffer filled. A forced wakeup while one is already pending costs
	 * the kernel one failed claim of its irq_work. */
	if (!wakeup_bytes)
		bpf_ringbuf_submit(e, 0);
	else if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	else
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

/* Per-CPU scratch records: struct ts_event is too large for comfort on
 * the 512-byte BPF stack next to the headers we parse. One record per
 * nesting level: a program running in process context (a close, a recv)
 * can be interrupted, and the softirq run at the interrupt's exit can run
 * another of our programs on the same CPU (a packet, a state change). With
 * a single record the inner event overwrote the outer one, which then
 * went out as a copy of the inner: one event lost, uncounted, and one
 * doubled. Process, softirq, hardirq and NMI make four levels at most. */
#define TS_NEST 4

struct scratch_area {
	__u32 depth;  /* programs of ours running on this CPU right now */
	__u32 pad;
	struct ts_event ev[TS_NEST];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_area);
} scratch SEC(".maps");

/* Runs `call` with `slot`, this CPU's scratch record for the current
 * nesting level. The depth is restored on the way out: whatever ran nested
 * in between has restored it too. A level past the last is an event of
 * `kind` never seen: counted as such, never silent. */
#define WITH_SLOT(kind, call)                                                   \
	do {                                                                    \
		__u32 zero_ = 0;                                                \
		struct scratch_area *area_ = bpf_map_lookup_elem(&scratch, &zero_); \
		if (area_) {                                                    \
			__u32 depth_ = area_->depth;                            \
			if (depth_ < TS_NEST) {                                 \
				struct ts_event *slot = &area_->ev[depth_];     \
				area_->depth = depth_ + 1;                      \
				call;                                           \
				area_->depth = depth_;                          \
			} else {                                                \
				count_lost(TS_LOST_NESTED, kind);               \
			}                                                       \
		}                                                               \
	} while (0)

static __always_inline struct ts_event *new_event(struct ts_event *e, __u32 kind)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	fill_current(e);
	return e;
}

/* The socket's cookie: read when the kernel has made it already (a plain
 * load), made by the helper the first time. */
static __always_inline __u64 sock_cookie(const struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;

	return cookie ? cookie : bpf_get_socket_cookie((struct sock *)sk);
}

/* Common path for events about a full socket. */
static __always_inline struct ts_event *sock_event(struct ts_event *slot, __u32 kind,
						   const struct sock *sk,
						   bool owner_context, bool always_process,
						   struct ts_sock_info **sip)
{
	struct ts_event *e;
	struct ts_sock_info *si = NULL;
	bool remember;

	e = new_event(slot, kind);
	fill_tuple_sk(e, sk, true);
	/* sendmsg/recvmsg report after releasing the lock, but in the
	 * caller's context: always_process says so. */
	if (!always_process && !sock_owned_by_user(sk))
		e->flags |= TS_F_IRQ;
	/* What attribution remembers is not the filters' business: a socket
	 * (or listener) the filters drop may own events they keep, such as a
	 * listener on 0.0.0.0 under --addr and its accepted children. So the
	 * owner is remembered first; only then do the filters decide. Events
	 * that are not in their owner's context do no more work than before
	 * when they are dropped. */
	remember = owner_context && !(e->flags & TS_F_IRQ);
	if (remember)
		si = remember_owner(e, sk);
	if (!tuple_passes(e))
		return NULL;
	e->cookie = sock_cookie(sk);
	if (!remember)
		si = attribute(e, sk, false);
	if (sip)
		*sip = si;
	if (!process_passes(e->pid, e->comm, e->flags))
		return NULL;
	learn_scope_netns(e);
	if (metrics_mode && si)
		e->service_port = si->service_port;
	return e;
}

/* Emits a LISTEN -> SYN_RECV transition held back in si, now that the
 * child socket has its peer's address and port and its own cookie. It keeps
 * the time and running task of the moment it happened. */
static __always_inline void flush_pending_syn_recv(struct ts_event *slot, const struct sock *sk,
						   struct ts_sock_info *si)
{
	struct ts_event *e = new_event(slot, TS_KIND_STATE);

	fill_tuple_sk(e, sk, true);
	e->ts_ns = si->pending_ts;
	e->pid = e->cur_pid = si->pending_pid;
	e->tid = si->pending_tid;
	e->cgroup_id = si->pending_cgroup_id;
	__builtin_memcpy(e->cur_comm, si->pending_comm, TS_COMM_LEN);
	__builtin_memcpy(e->comm, si->pending_comm, TS_COMM_LEN);
	__builtin_memcpy(e->cur_thread, si->pending_thread, TS_COMM_LEN);
	e->flags = si->pending_flags;  /* TS_F_IRQ, TS_F_IN_CGROUP of that task */
	si->pending_ts = 0;
	if (!tuple_passes(e))
		return;
	e->cookie = sock_cookie(sk);
	si = attribute(e, sk, false);
	if (!process_passes(e->pid, e->comm, e->flags))
		return;
	if (metrics_mode && si)
		e->service_port = si->service_port;
	e->state.old_state = TCP_LISTEN;
	e->state.new_state = TCP_SYN_RECV;
	submit(e);
}

static __always_inline int set_state(struct ts_event *slot, const struct sock *sk, int oldstate,
				     int newstate)
{
	struct ts_sock_info *si = NULL;
	struct ts_event *e;
	__u64 now;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* A child held back at LISTEN -> SYN_RECV (below) leaves SYN_RECV next. */
	if (oldstate == TCP_SYN_RECV && kind_enabled(TS_KIND_STATE)) {
		si = sock_storage(sk, false);
		if (si && si->pending_ts)
			flush_pending_syn_recv(slot, sk, si);
	}
	/* Before 6.13 or so (6.1 and 6.12 at least) the kernel reports a
	 * child's LISTEN -> SYN_RECV while cloning it from the listener: it
	 * has no peer address or port yet and still carries the listener's
	 * cookie, which the kernel replaces right after. Such an event would
	 * name the listener. Keep it until the child's next transition, when
	 * its tuple and cookie are its own. It is held before any filter:
	 * the tuple it has now is the listener's, not the one to judge;
	 * flush_pending_syn_recv filters it with its own. */
	if (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV &&
	    sk->__sk_common.skc_dport == 0 && kind_enabled(TS_KIND_STATE)) {
		e = new_event(slot, TS_KIND_STATE);
		si = sock_storage(sk, true);
		if (!si)
			return 0;
		/* The running task's, not an owner's: flush attributes. */
		si->state_ts = e->ts_ns;
		si->pending_ts = e->ts_ns;
		si->pending_pid = e->cur_pid;
		si->pending_tid = e->tid;
		si->pending_cgroup_id = e->cgroup_id;
		si->pending_flags = (sock_owned_by_user(sk) ? 0 : TS_F_IRQ) |
				    (e->flags & TS_F_IN_CGROUP);
		__builtin_memcpy(si->pending_comm, e->cur_comm, TS_COMM_LEN);
		__builtin_memcpy(si->pending_thread, e->cur_thread, TS_COMM_LEN);
		return 0;
	}
	/* Even with state events off we keep the per-socket entry, because
	 * other kinds use it for attribution. A transition made by the
	 * owning task itself (connect, listen, close, shutdown) tells us who
	 * owns the socket; a listener's owner passes to its children when
	 * the kernel clones them. */
	if (oldstate == TCP_LISTEN && newstate == TCP_CLOSE && older_pass_done)
		forget_older_listener(sk);
	/* The last close of a socket runs in whichever task drops the last
	 * reference to its file, and that need not be the owner: a process
	 * reading /proc/PID/fdinfo (lsof, a monitoring agent, grep) holds a
	 * reference for a moment, and when the owner's close() comes then, the
	 * FIN leaves from the reader's fput. A closing transition names the
	 * owner already known (the running task stays in cur_*), and teaches
	 * nothing. Nor do the moves only a received segment makes (FIN_WAIT2,
	 * CLOSING, TIME_WAIT): in process context they run from the socket's
	 * backlog as whoever holds its lock releases it, that same closer
	 * (seen on 6.12 under qemu: the peer's ACK of the FIN, queued while the
	 * closer held the lock). Any other transition made in process context
	 * teaches. */
	bool teaches = true;
	if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK || newstate == TCP_CLOSE ||
	    newstate == TCP_FIN_WAIT2 || newstate == TCP_CLOSING || newstate == TCP_TIME_WAIT) {
		struct ts_sock_info *known = sock_storage(sk, false);

		if (known && known->tgid)
			teaches = false;
	}
	e = sock_event(slot, TS_KIND_STATE, sk, teaches, false, &si);
	if (!e)
		return 0;
	now = e->ts_ns;
	e->state.old_state = oldstate;
	e->state.new_state = newstate;
	if (si) {
		if (metrics_mode) {
			if (newstate == TCP_SYN_SENT)
				si->service_port = e->dport;
			else if (newstate == TCP_LISTEN)
				si->service_port = e->sport;
			e->service_port = si->service_port;
		}
		if (si->state_ts) {
			e->prev_state_ns = now - si->state_ts;
			e->flags |= TS_F_PREV_TIME;
		}
		si->state_ts = now;
		/* A connection's lifetime, for metrics: from ESTABLISHED to
		 * CLOSE, whatever closing states lie between. */
		if (metrics_mode) {
			if (newstate == TCP_ESTABLISHED) {
				si->established_ts = now;
			} else if (newstate == TCP_CLOSE && si->established_ts) {
				observe(TS_HIST_CONNECTION, now - si->established_ts);
				observe_rtt(e, BPF_CORE_READ((const struct tcp_sock *)sk,
							     srtt_us) >> 3);
				si->established_ts = 0;
			}
		}
	}
	if (!kind_enabled(TS_KIND_STATE))
		return 0;
	/* What the connection moved, for its story: read as it closes,
	 * before the socket is freed (tcp_disconnect clears the counters,
	 * but only after this transition). A listener moved nothing. */
	if (newstate == TCP_CLOSE && oldstate != TCP_LISTEN && !metrics_mode) {
		const struct tcp_sock *tp = (const struct tcp_sock *)sk;

		e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
		e->bytes_received = BPF_CORE_READ(tp, bytes_received);
		e->state.total_retrans = (__s32)BPF_CORE_READ(tp, total_retrans);
		e->flags |= TS_F_CLOSE_STATS;
		read_rtt(sk, e);
		/* tcp_fin() sets SOCK_DONE: the FIN is in bytes_received. */
		if (sk->__sk_common.skc_flags &
		    (1ul << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
			e->flags |= TS_F_FIN_RECEIVED;
	}
	submit(e);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_set_state, const struct sock *sk, int oldstate, int newstate)
{
	WITH_SLOT(TS_KIND_STATE, set_state(slot, sk, oldstate, newstate));
	return 0;
}

/* A RST this host sends. sk: the socket that sends it (a full socket, or
 * from 6.10 a timewait or request mini-socket, or NULL when no socket
 * exists); skb: the segment it answers (NULL for an active reset). Both may
 * be NULL, and 6.12's verifier insists on the checks. */
static __always_inline int send_reset(struct ts_event *slot, const struct sock *sk,
				      const struct sk_buff *skb, bool has_reason, int reason)
{
	struct ts_event *e;

	if (!kind_enabled(TS_KIND_RESET_SENT))
		return 0;
	if (sk) {
		__u8 st = sk->__sk_common.skc_state;

		if (st == TCP_TIME_WAIT || st == TCP_NEW_SYN_RECV) {
			/* A mini-socket: only its common part may be read, and
			 * its cookie is not the full socket's. It belongs to no
			 * process: a timewait socket outlives its owner's close,
			 * a request socket has none yet. */
			e = new_event(slot, TS_KIND_RESET_SENT);
			fill_tuple_sk(e, sk, false);
			e->flags |= TS_F_MINISOCK | TS_F_IRQ;
			if (!tuple_passes(e) || !ownerless_passes(e))
				return 0;
			set_unknown(e);
			/* A timewait socket stands in for FIN_WAIT2 (an orphan
			 * whose peer has not closed) as well as TIME_WAIT; its
			 * substate says which, as sock_diag and ss report it. */
			if (st == TCP_TIME_WAIT)
				st = BPF_CORE_READ((const struct inet_timewait_sock *)sk, tw_substate);
		} else {
			e = sock_event(slot, TS_KIND_RESET_SENT, sk, false, false, NULL);
			if (!e)
				return 0;
		}
		e->reset.state = st;
	} else {
		/* No socket: the RST answers skb, so skb's destination is us. */
		if (!skb)
			return 0;
		e = new_event(slot, TS_KIND_RESET_SENT);
		if (fill_tuple_skb(e, TS_KIND_RESET_SENT, skb, true, NULL))
			return 0;
		e->flags |= TS_F_NO_SOCKET | TS_F_IRQ;
		e->reset.state = TCP_CLOSE;
		struct net_device *dev = BPF_CORE_READ(skb, dev);

		if (dev) {
			e->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
			e->netns_cookie = BPF_CORE_READ(dev, nd_net.net, net_cookie);
		}
		if (!tuple_passes(e) || !ownerless_passes(e))
			return 0;
		set_unknown(e);
		/* No port label (service_port stays 0): the port such a RST answers is
		 * whatever a scanner chose, and one scan would make a series
		 * per closed port. The reason (NO_SOCKET) says what it was. */
	}
	if (has_reason) {
		e->reset.reason = reason;
		e->flags |= TS_F_REASON;
	}
	submit(e);
	return 0;
}

/* Before 6.10: tcp_send_reset(sk, skb), only for RSTs sent by a full
 * socket; no reason. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(handle_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	WITH_SLOT(TS_KIND_RESET_SENT, send_reset(slot, sk, skb, false, 0));
	return 0;
}

/* 6.10+: tcp_send_reset(sk, skb, reason), also for RSTs sent with no socket
 * or by a mini-socket. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(handle_send_reset_reason, const struct sock *sk, const struct sk_buff *skb,
	     int reason)
{
	WITH_SLOT(TS_KIND_RESET_SENT, send_reset(slot, sk, skb, true, reason));
	return 0;
}

static __always_inline int receive_reset(struct ts_event *slot, const struct sock *sk)
{
	struct ts_event *e;

	if (!kind_enabled(TS_KIND_RESET_RECEIVED))
		return 0;
	e = sock_event(slot, TS_KIND_RESET_RECEIVED, sk, false, false, NULL);
	if (!e)
		return 0;
	e->reset.state = sk->__sk_common.skc_state;
	submit(e);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(handle_receive_reset, struct sock *sk)
{
	WITH_SLOT(TS_KIND_RESET_RECEIVED, receive_reset(slot, sk));
	return 0;
}

static __always_inline int retransmit(struct ts_event *slot, const struct sock *sk, bool has_err,
				      int err)
{
	struct ts_event *e;

	if (!kind_enabled(TS_KIND_RETRANSMIT))
		return 0;
	e = sock_event(slot, TS_KIND_RETRANSMIT, sk, false, false, NULL);
	if (!e)
		return 0;
	e->retransmit.state = sk->__sk_common.skc_state;
	if (has_err) {
		e->retransmit.err = err;
		e->flags |= TS_F_RETRANS_ERR;
	}
	submit(e);
	return 0;
}

/* Before 6.17: tcp_retransmit_skb(sk, skb), for retransmits that were sent. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(handle_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	WITH_SLOT(TS_KIND_RETRANSMIT, retransmit(slot, sk, false, 0));
	return 0;
}

/* 6.17+: tcp_retransmit_skb(sk, skb, err), for every attempt. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(handle_retransmit_err, const struct sock *sk, const struct sk_buff *skb, int err)
{
	WITH_SLOT(TS_KIND_RETRANSMIT, retransmit(slot, sk, true, err));
	return 0;
}

static __always_inline int error_report(struct ts_event *slot, const struct sock *sk)
{
	struct ts_event *e;

	if (!kind_enabled(TS_KIND_SOCK_ERROR))
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* tcp_disconnect() reports even when no error is pending (sk_err 0):
	 * a wake-up, not an error the application can see. */
	int err = sk->sk_err;
	if (!err)
		return 0;
	/* tcp_disconnect() (an abortive close: SO_LINGER 0, or unread data)
	 * sets ECONNRESET on the closing socket itself after wiping its peer
	 * and local address. The application has already let go of it and
	 * never reads that error; the peer's ECONNRESET is the one it sees. */
	if (sk->__sk_common.skc_state == TCP_CLOSE && sk->__sk_common.skc_dport == 0)
		return 0;
	e = sock_event(slot, TS_KIND_SOCK_ERROR, sk, false, false, NULL);
	if (!e)
		return 0;
	e->sock_error.err = err;
	submit(e);
	return 0;
}

SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(handle_error_report, const struct sock *sk)
{
	WITH_SLOT(TS_KIND_SOCK_ERROR, error_report(slot, sk));
	return 0;
}

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

/* A full socket (not a timewait or request mini-socket, whose other
 * fields do not exist) of TCP's own: the kernel's control socket, which
 * sends RSTs and timewait ACKs, is a raw one. */
static __always_inline bool packet_full_tcp_sock(const struct sock *sk)
{
	__u8 st = sk->__sk_common.skc_state;

	if (st == TCP_TIME_WAIT || st == TCP_NEW_SYN_RECV)
		return false;
	return sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP;
}

/* A packet names its socket's owner, and never teaches it: the task that
 * sends a segment need not be the socket's owner even while the owner
 * holds the socket's lock (a shared qdisc dequeues whatever is queued, and
 * NET_TX softirq runs inside any task). An owner learned here would then
 * name every later event of the socket. So an owner known from the
 * owner's own calls (or the listener, or the start) is named; with none,
 * the packet names nobody. */
static __always_inline void packet_owner(struct ts_event *e, const struct sock *sk)
{
	struct ts_sock_info *si = sock_storage(sk, true);

	if (si && si->tgid)
		set_owner_from(e, si);
	else
		set_unknown(e);
}

static __always_inline int packet_event(struct ts_event *slot, const struct sk_buff *skb,
					const struct net_device *dev, __u32 dir)
{
	struct ts_event *e;
	struct tcphdr th;

	e = new_event(slot, TS_KIND_PACKET);
	if (fill_tuple_skb(e, TS_KIND_PACKET, skb, dir == TS_DIR_RX, &th))
		return 0;
	e->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	e->netns_cookie = BPF_CORE_READ(dev, nd_net.net, net_cookie);
	if (!tuple_passes(e))
		return 0;
	/* The packet belongs to skb->sk, not to whoever is running: an ACK
	 * or a retransmit leaves in softirq or on a timer, often inside an
	 * unrelated task's syscall. A full TCP socket has an owner (see
	 * packet_owner: named, never learned here). Anything else (a SYN-ACK's request socket, a
	 * timewait ACK, a RST from the kernel's control socket, a packet with
	 * no socket) belongs to no process and leaves in softirq. */
	const struct sock *sk = skb->sk;

	if (sk && packet_full_tcp_sock(sk)) {
		if (!sock_owned_by_user(sk))
			e->flags |= TS_F_IRQ;
		packet_owner(e, sk);
		if (!process_passes(e->pid, e->comm, e->flags))
			return 0;
	} else {
		e->flags |= TS_F_IRQ;
		if (!ownerless_passes(e))
			return 0;
		set_unknown(e);
	}
	e->packet.dir = dir;
	e->packet.tcp_flags = ((__u8 *)&th)[13];
	e->packet.ifindex = BPF_CORE_READ(dev, ifindex);
	e->seq = bpf_ntohl(th.seq);
	e->ack_seq = bpf_ntohl(th.ack_seq);
	submit(e);
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(handle_dev_xmit, const struct sk_buff *skb, const struct net_device *dev)
{
	WITH_SLOT(TS_KIND_PACKET, packet_event(slot, skb, dev, TS_DIR_TX));
	return 0;
}

/* ------------------------------------------------------------------
 * Drops: skb:kfree_skb, the kernel freeing a packet it did not deliver,
 * with its reason (enum skb_drop_reason, numbered differently per kernel:
 * the loader hands us this kernel's values and names the rest from BTF).
 * Normal frees go to consume_skb, which we do not trace. The hook fires
 * for every protocol, so what is not TCP is left at the first reads.
 */

/* enum skb_drop_reason's values on the running kernel, from its BTF: the
 * value that is no drop (SKB_CONSUMED), and the frees that lose nothing on
 * the network, left out unless --all-drops: NOT_SPECIFIED (every free the
 * kernel has not given a reason yet, including unread data freed at close
 * and duplicates), QUEUE_PURGE and SOCKET_CLOSE (a socket's own queues
 * emptied as it closes: its FIN, the data its application never read).
 * On a busy host they are most of the tracepoint's traffic. ~0: absent. */
#define TS_QUIET_DROP_REASONS 3
const volatile __u32 drop_reason_consumed = 0xffffffff;
const volatile __u32 drop_reasons_quiet[TS_QUIET_DROP_REASONS] = {0xffffffff, 0xffffffff, 0xffffffff};
/* --all-drops */
const volatile bool all_drops = false;

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* rx_sk: the socket the packet was being delivered to, from 6.11 (NULL on
 * older kernels, where skb->sk is the only socket we can know of: set on
 * receive by early demux for an established connection, and on transmit). */
static __always_inline int drop_event(struct ts_event *slot, const struct sk_buff *skb,
				      __u32 reason, const struct sock *rx_sk)
{
	struct ts_event *e;
	struct tcphdr th;
	const struct sock *sk;
	const struct net_device *dev;
	__u16 proto;
	bool rx;

	if (reason == 0 || reason == drop_reason_consumed)
		return 0;
	if (!all_drops && (reason == drop_reasons_quiet[0] || reason == drop_reasons_quiet[1] ||
			   reason == drop_reasons_quiet[2]))
		return 0;
	proto = bpf_ntohs(skb->protocol);
	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return 0;
	/* No network header yet: nothing we could read as IP. */
	if (skb->network_header == (__u16)~0U)
		return 0;
	e = new_event(slot, TS_KIND_DROP);
	/* A segment that came in has its input interface set (skb_iif, set on
	 * receive); one made here and dropped on its way out has none. */
	rx = skb->skb_iif != 0;
	if (fill_tuple_skb(e, TS_KIND_DROP, skb, rx, &th))
		return 0;
	sk = rx_sk ? rx_sk : skb->sk;
	dev = skb->dev;
	if (dev) {
		e->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		e->netns_cookie = BPF_CORE_READ(dev, nd_net.net, net_cookie);
	} else if (sk) {
		fill_netns(e, sk->__sk_common.skc_net.net);
	}
	if (!tuple_passes(e))
		return 0;
	/* As for packets (packet_owner): a drop names its socket's owner when
	 * one is known, and never teaches it: it runs in softirq or inside
	 * whatever task sent. */
	if (sk && packet_full_tcp_sock(sk)) {
		struct ts_sock_info *si = sock_storage(sk, false);

		if (!sock_owned_by_user(sk))
			e->flags |= TS_F_IRQ;
		/* The cookie the kernel made already (our own events on the
		 * socket made it; a plain load): the verifier will not hand a
		 * pointer read from an skb to the helper that makes one. */
		e->cookie = sk->__sk_common.skc_cookie.counter;
		if (si && si->tgid) {
			set_owner_from(e, si);
			if (metrics_mode)
				e->service_port = si->service_port;
		} else {
			set_unknown(e);
		}
		if (!process_passes(e->pid, e->comm, e->flags))
			return 0;
	} else {
		/* No full socket (none yet, a request or timewait mini-socket):
		 * as a RST sent with no socket, it names nobody. */
		e->flags |= TS_F_IRQ | TS_F_NO_SOCKET;
		if (!ownerless_passes(e))
			return 0;
		set_unknown(e);
	}
	if (rx)
		e->flags |= TS_F_DROP_RX;
	e->drop.reason = reason;
	e->drop.tcp_flags = ((__u8 *)&th)[13];
	e->seq = bpf_ntohl(th.seq);
	e->ack_seq = bpf_ntohl(th.ack_seq);
	/* Records only: the counters have no use for the device. */
	if (!metrics_mode)
		e->drop.ifindex = dev ? BPF_CORE_READ(dev, ifindex) : 0;
	submit(e);
	return 0;
}

/* (skb, location, reason) from 5.17 to 6.10 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(handle_kfree_skb, const struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	WITH_SLOT(TS_KIND_DROP, drop_event(slot, skb, reason, NULL));
	return 0;
}

/* (skb, location, reason, rx_sk) from 6.11 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(handle_kfree_skb_rx_sk, const struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason, const struct sock *rx_sk)
{
	WITH_SLOT(TS_KIND_DROP, drop_event(slot, skb, reason, rx_sk));
	return 0;
}

/* ------------------------------------------------------------------
 * Owners of the sockets older than the tracer.
 *
 * The programs above learn a socket's owner when it acts on the socket in
 * process context. A socket made earlier, by a server already running, has
 * had no such moment: its events in softirq (a SYN on its listener, a FIN
 * from the peer) would name nobody. So at start the loader runs the
 * iterator below once over every task, reading its descriptor table. It
 * takes no reference on any file (the application's close() stays the last
 * one), needs no ptrace right, and sees global tgids and the socket itself.
 *
 * The iterator cannot write the socket's storage: the socket it reads from
 * a descriptor table is no pointer the verifier trusts (6.12+ refuses even
 * bpf_sock_from_file's to bpf_sk_storage_get). So it records the owner by the socket's inode (with
 * its address, to tell a later socket given the same number), the programs
 * above adopt that record the first time they meet the socket
 * (sock_storage), and the sock_diag reader reads it for a socket they have
 * not met (owners.h). A child its listener accepts later has no file yet: it
 * adopts its older listener's owner through the listener's namespace and
 * port, as the kernel's copy of a listener's storage would have given it.
 * ------------------------------------------------------------------ */

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
