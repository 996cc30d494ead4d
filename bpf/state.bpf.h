/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TCP state machine: sock:inet_sock_set_state, every state change of
 * a TCP socket. Beside the record, the socket's storage keeps when its
 * state was entered (the time spent in the previous one), and a change
 * into CLOSE carries what the connection moved and its RTT as it closes.
 * In metrics mode the same changes make the duration histograms.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs events.bpf.h.
 */
#ifndef TCPSCOPE_STATE_BPF_H
#define TCPSCOPE_STATE_BPF_H

/* The kernel's tick rate, for icsk_rto (jiffies): set by the loader from
 * the kernel's config (/boot/config-*, /proc/config.gz). Not a __kconfig
 * extern: libbpf refuses to load an object with one when neither file
 * exists (containers, minimal images); here that only leaves rto_us 0. */
const volatile __u32 kernel_hz = 0;

/* The RTT state of a tcp_sock as it closes, what `ss -ti` shows of a live
 * one (tcp_get_info): the same fields on 6.1, 6.12 and 6.18, their offsets
 * relocated by CO-RE to the running kernel's. */
static __always_inline void read_rtt(const struct tcp_sock *tp, struct ts_event *e)
{
	__u32 hz = kernel_hz;

	/* srtt_us is kept times 8 (tcp_rtt_estimator). */
	e->srtt_us = tp->srtt_us >> 3;
	/* rtt_min is a windowed min filter; s[0] holds the minimum, ~0 until
	 * the first sample (tcp_init_sock), which ss leaves out: 0 here. */
	e->min_rtt_us = tp->rtt_min.s[0].v;
	if (e->min_rtt_us == ~0u)
		e->min_rtt_us = 0;
	e->snd_cwnd = tp->snd_cwnd;
	if (hz)
		e->rto_us = (__u32)((__u64)tp->inet_conn.icsk_rto * 1000000 / hz);
	e->flags |= TS_F_RTT;
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
	if (!metrics_mode)
		e->cookie = sock_cookie(sk);  /* for records only, as in sock_event */
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
		/* Handed to sock_event, which attributes with it. */
		if (known)
			si = known;
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
		/* The socket as a tcp_sock in one helper call; its fields are
		 * then plain loads, which the verifier guards. Reading each with
		 * BPF_CORE_READ was a probe-read call per field: seven calls at
		 * every close, about 1.4 calls an event on serial churn (two
		 * closes in ten events), at some 58 ns a call on our VMs. A full
		 * TCP socket is what this tracepoint reports, so NULL is not
		 * expected; it would only leave the stats out. */
		const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

		if (tp) {
			e->bytes_acked = tp->bytes_acked;
			e->bytes_received = tp->bytes_received;
			e->state.total_retrans = (__s32)tp->total_retrans;
			e->flags |= TS_F_CLOSE_STATS;
			read_rtt(tp, e);
		}
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

#endif /* TCPSCOPE_STATE_BPF_H */
