/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a record takes from a socket or a segment: its addresses, ports and
 * network namespace, the socket's cookie, and whether a task holds the
 * socket's lock (which says whether the event runs in its owner's context).
 * Reads only: nothing here decides or remembers.
 *
 * Part of tcpscope.bpf.c (one BPF object): needs kernel_defs.bpf.h, filters.bpf.h and
 * metrics.bpf.h (whether a call is worth making).
 */
#ifndef TCPSCOPE_SOCKETS_BPF_H
#define TCPSCOPE_SOCKETS_BPF_H

/* A socket's lock is "owned" while a task holds it through lock_sock():
 * its own syscalls, and the backlog it processes on release. Packets and
 * timers that find it owned are deferred to that task. So an event on an
 * owned socket runs in the owner's process context; one on an unowned
 * socket runs in softirq, possibly inside an unrelated task's syscall. */
static __always_inline bool sock_owned_by_user(const struct sock *sk)
{
	return sk->sk_lock.owned != 0;
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
	 * no inet_sock part, but keep skc_num. Metrics use the local port
	 * only to filter by it (their port label is the service port, kept
	 * from LISTEN or SYN_SENT), so without --port they save that call. */
	e->sport = sk->__sk_common.skc_num;
	if (full_sock && !e->sport && (!metrics_mode || filter.nports))
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

/* The socket's cookie: read when the kernel has made it already (a plain
 * load), made by the helper the first time. */
static __always_inline __u64 sock_cookie(const struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;

	return cookie ? cookie : bpf_get_socket_cookie((struct sock *)sk);
}

#endif /* TCPSCOPE_SOCKETS_BPF_H */
