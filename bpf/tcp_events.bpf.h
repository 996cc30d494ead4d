/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the TCP stack reports about a connection besides its state: RSTs
 * it sends (tcp_send_reset: from a full socket, a mini-socket, or none at
 * all) and receives (tcp_receive_reset), retransmits (tcp_retransmit_skb),
 * and errors set on the socket (inet_sk_error_report). One record each;
 * two programs where the tracepoint's arguments changed between kernels.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs events.bpf.h.
 */
#ifndef TCPSCOPE_TCP_EVENTS_BPF_H
#define TCPSCOPE_TCP_EVENTS_BPF_H

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
		/* No port label (service_port stays 0): the port such a RST
		 * answers is whatever a scanner chose, and one scan would make
		 * a series per closed port. The reason (NO_SOCKET) says what
		 * it was. */
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

#endif /* TCPSCOPE_TCP_EVENTS_BPF_H */
