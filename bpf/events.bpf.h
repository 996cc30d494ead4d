/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A record's way out. Each program builds its record in a per-CPU scratch
 * slot of its nesting level (WITH_SLOT, new_event; sock_event for the
 * common case of a full socket, filtered and attributed), then submit sends
 * it to the ring buffer, or in metrics mode counts it. What cannot go out
 * (a full ring buffer, nesting too deep) is counted in `lost`, never
 * silent.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs filters.bpf.h,
 * metrics.bpf.h, sockets.bpf.h and attribution.bpf.h.
 */
#ifndef TCPSCOPE_EVENTS_BPF_H
#define TCPSCOPE_EVENTS_BPF_H

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

/* Bytes waiting in the ring buffer before a record wakes the reader;
 * 0 wakes it for every record. */
const volatile __u64 wakeup_bytes = 0;

static __always_inline void count_lost(__u32 reason, __u32 kind)
{
	__u32 key = reason * TS_KIND_COUNT + kind;
	__u64 *n = bpf_map_lookup_elem(&lost, &key);

	if (n)
		__sync_fetch_and_add(n, 1);  /* atomic: see count_in (metrics.bpf.h) */
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
	/* Only records carry the cookie (the calls of `exec` read it from the
	 * socket later, made here): metrics count without it, one helper
	 * call fewer for every socket. */
	if (!metrics_mode)
		e->cookie = sock_cookie(sk);
	/* A caller that looked the socket's storage up already passes it in
	 * *sip: one helper call fewer (a closing transition's). */
	if (!remember)
		si = (sip && *sip) ? attribute_known(e, *sip) : attribute(e, sk, false);
	if (sip)
		*sip = si;
	if (!process_passes(e->pid, e->comm, e->flags))
		return NULL;
	learn_scope_netns(e);
	if (metrics_mode && si)
		e->service_port = si->service_port;
	return e;
}

/* What bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) returns, the bytes
 * written and not yet consumed, read without a helper call: the verifier
 * lets a program read its map's kernel structure (struct bpf_ringbuf_map,
 * then the ring's two positions, relocated by CO-RE on every kernel). The
 * helper reads the same two words. */
static __always_inline __u64 events_waiting(void)
{
	struct bpf_ringbuf *rb = ((struct bpf_ringbuf_map *)&events)->rb;

	return rb->producer_pos - rb->consumer_pos;
}

static __always_inline void submit(const struct ts_event *tmpl)
{
	__u64 flags;

	if (metrics_mode) {
		count_event(tmpl);
		return;
	}
	/* Waking the reader for every record costs more than the record;
	 * it polls on a short timer instead and is woken early only when the
	 * buffer fills past the threshold the loader set. That wakeup must be
	 * forced: a record sent with flags 0 wakes the reader only when it has
	 * consumed everything before this record (kernel/bpf/ringbuf.c,
	 * bpf_ringbuf_commit: cons_pos == rec_pos), which past the threshold
	 * is never the case, so the reader slept until its timer while the
	 * buffer filled. A forced wakeup while one is already pending costs
	 * the kernel one failed claim of its irq_work. */
	if (!wakeup_bytes)
		flags = 0;
	else if (events_waiting() < wakeup_bytes)
		flags = BPF_RB_NO_WAKEUP;
	else
		flags = BPF_RB_FORCE_WAKEUP;
	/* The record is built in the scratch slot, so one call copies it in:
	 * bpf_ringbuf_output reserves, copies and commits, where reserve, a
	 * copy and submit made two calls (each call and return costs tens of
	 * nanoseconds here: docs/benchmark.md). */
	if (bpf_ringbuf_output(&events, (void *)tmpl, sizeof(*tmpl), flags))
		count_lost(TS_LOST_RINGBUF_FULL, tmpl->kind);
}

#endif /* TCPSCOPE_EVENTS_BPF_H */
