/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Segments: each TCP packet a device sends (net_dev_start_xmit, opt-in),
 * and each TCP segment the kernel drops (kfree_skb), with its reason. Both
 * read the segment's own headers for the tuple and flags, and name their
 * socket's owner without ever learning one: they run in softirq or in
 * whatever task happens to send.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs events.bpf.h.
 */
#ifndef TCPSCOPE_PACKETS_BPF_H
#define TCPSCOPE_PACKETS_BPF_H

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

#endif /* TCPSCOPE_PACKETS_BPF_H */
