/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Metrics mode (`tcpscope metrics`): instead of sending a record, the
 * programs add the event to per-CPU counters and histograms (or, with
 * --labels, to a series keyed by its labels), which a scrape reads. Here:
 * the switch, the maps, and count_event, which stands in for sending at the
 * one place records are sent (submit, in events.bpf.h). Elsewhere the
 * programs test metrics_mode only where the two need different things of
 * an event: counting, the service port label and a connection's lifetime;
 * a record, what a closing connection moved and the device of a drop.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs kernel_defs.bpf.h.
 */
#ifndef TCPSCOPE_METRICS_BPF_H
#define TCPSCOPE_METRICS_BPF_H

/* `tcpscope metrics`: count into the m_* arrays below instead of sending
 * records. Every filter and the attribution still decide, exactly as for
 * a record: counting happens where a record would be submitted. */
const volatile bool metrics_mode = false;
/* Metrics mode with --labels: counters go to m_series, by label. */
const volatile __u32 label_mask = 0;

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

/* Atomic although the counters are per CPU: a program in process context
 * and one in a softirq that interrupts it on the same CPU count into the
 * same slots (a drop in a sender's own call, and the drops of the segments
 * a timer retransmits). With a plain `+=` (a load, an add and a store) an
 * interrupt between the load and the store loses every count it made. */
static __always_inline void count_in(void *map, __u32 key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, n);
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
		__sync_fetch_and_add(v, n);  /* as in count_in */
		return;
	}
	if (bpf_map_update_elem(&m_series, &k, &n, BPF_NOEXIST) == 0)
		return;
	/* Another CPU may have made it meanwhile; else the map is full. */
	v = bpf_map_lookup_elem(&m_series, &k);
	if (v)
		__sync_fetch_and_add(v, n);
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

#endif /* TCPSCOPE_METRICS_BPF_H */
