/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one record layout shared by the BPF programs and the C++ loader.
 * Fixed-width types and explicit padding only: the C++ side static_asserts
 * the size and offsets, so a change here that breaks the ABI fails to build.
 */
#ifndef TCPSCOPE_H
#define TCPSCOPE_H

#define TS_COMM_LEN 16
#define TS_MAX_PORTS 8

/* Event kinds. Values are also bit positions in the kind mask. */
enum ts_kind {
	TS_KIND_STATE = 0,
	TS_KIND_RESET_SENT = 1,
	TS_KIND_RESET_RECEIVED = 2,
	TS_KIND_RETRANSMIT = 3,
	TS_KIND_SOCK_ERROR = 4,
	TS_KIND_SIGNAL = 5,
	TS_KIND_SEND = 6,
	TS_KIND_RECV = 7,
	TS_KIND_PACKET = 8,
	TS_KIND_DROP = 9,
	TS_KIND_COUNT = 10,
};

/* Why an event was lost in the kernel (the first index of the lost map). */
enum ts_lost_reason {
	/* No room in the ring buffer. */
	TS_LOST_RINGBUF_FULL = 0,
	/* Our programs already ran TS_NEST deep on that CPU (process,
	 * softirq, hardirq, NMI): no scratch record was left for a fifth. */
	TS_LOST_NESTED = 1,
	TS_LOST_REASONS = 2,
};

/* ts_event.flags */
enum ts_flags {
	/* pid/comm are the socket's owner, remembered from process context;
	 * the event itself ran in softirq or on another task (cur_pid). */
	TS_F_OWNER = 1u << 0,
	/* Owner is the listening socket's: an accepted child its owner has
	 * not touched yet (the kernel copied the listener's storage into it
	 * at clone time). */
	TS_F_LISTENER = 1u << 1,
	/* No socket: an RST answering a packet for which no socket exists, or
	 * a drop of a segment no full socket had taken. */
	TS_F_NO_SOCKET = 1u << 2,
	/* reset reason field is meaningful (kernel 6.10+). */
	TS_F_REASON = 1u << 3,
	/* retransmit err field is meaningful. */
	TS_F_RETRANS_ERR = 1u << 4,
	/* prev_state_ns is known. */
	TS_F_PREV_TIME = 1u << 5,
	/* The event ran outside process context (softirq, hard irq). */
	TS_F_IRQ = 1u << 6,
	/* The socket was a timewait or request mini-socket. */
	TS_F_MINISOCK = 1u << 7,
	/* Ran in softirq on a socket whose owner is not known (made before
	 * the tracer started): attributed to nobody, pid, tid, cgroup and
	 * comm are zero; the running task is only cur_pid. */
	TS_F_UNKNOWN = 1u << 8,
	/* Kernel-internal, for the filters: the attributed process is in the
	 * --cgroup tree. Userspace ignores it. */
	TS_F_IN_CGROUP = 1u << 9,
	/* A state event into CLOSE carries what the connection moved, read
	 * from the tcp_sock as it closes (as tcplife does): bytes_acked,
	 * bytes_received, and state.total_retrans. */
	TS_F_CLOSE_STATS = 1u << 10,
	/* With TS_F_CLOSE_STATS: the peer's FIN was received (SOCK_DONE),
	 * which the kernel counts as one byte of bytes_received. */
	TS_F_FIN_RECEIVED = 1u << 11,
	/* A state event into CLOSE carries the connection's RTT state at its
	 * end: srtt_us, min_rtt_us, rto_us, snd_cwnd (set with
	 * TS_F_CLOSE_STATS, on the same transitions). */
	TS_F_RTT = 1u << 12,
	/* A drop on the receive path (the segment came in on drop.ifindex);
	 * without it, the segment was on its way out (a qdisc, an output
	 * firewall rule). */
	TS_F_DROP_RX = 1u << 13,
};

/* How a socket's owner was learned (ts_sock_info.owner_from). */
enum ts_owner_from {
	TS_OWNER_NONE = 0,
	/* From process context: the owner's own call on the socket. */
	TS_OWNER_SEEN = 1,
	/* Copied from the listening socket at clone time (BPF_F_CLONE). */
	TS_OWNER_LISTENER = 2,
	/* Learned at start, for a socket older than the tracer: the
	 * iterator over the tasks' files (learn_owners) found its process. */
	TS_OWNER_SEEDED = 3,
};

/* What the kernel side remembers about a socket, in its socket-local
 * storage. Here rather than in the BPF file because sock_diag hands it to
 * the loader beside each socket (--stuck, the CLOSE_WAIT gauges). */
struct ts_sock_info {
	/* The socket this storage was made for. The kernel copies a
	 * listener's storage into each child it clones (BPF_F_CLONE): a
	 * value whose sk is not the socket's own is such a copy. */
	__u64 sk;
	__u64 pad_sk;
	__u64 state_ts;   /* when the current state was entered, 0 = unknown */
	__u64 cgroup_id;
	__u32 tgid;       /* 0 = owner not known yet */
	__u32 tid;
	char comm[TS_COMM_LEN]; /* the owner's process name (its thread-group leader's) */
	__u32 owner_from; /* enum ts_owner_from */
	__u32 owner_flags; /* TS_F_IN_CGROUP, computed when the owner was set */
	/* A LISTEN -> SYN_RECV transition held back until the child socket
	 * has its peer and cookie (see handle_set_state); 0 = none. What the
	 * event needs of the moment it happened: */
	__u64 pending_ts;
	__u64 pending_cgroup_id;
	__u32 pending_pid;
	__u32 pending_tid;
	__u32 pending_flags;
	__u32 pending_pad;
	char pending_comm[TS_COMM_LEN];   /* the running process's name */
	char pending_thread[TS_COMM_LEN]; /* the running thread's own name */
	/* Metrics mode: when the socket reached ESTABLISHED (0 = not yet or
	 * unknown), for the connection's lifetime at its move to CLOSE. */
	__u64 established_ts;
	/* The connection's service port, for the metrics' port label: the
	 * remote port of an outgoing connection (set at SYN_SENT), the local
	 * port of a listener (set at LISTEN), which the kernel copies into
	 * each child it accepts. Never the ephemeral side. 0 = not known. */
	__u32 service_port;
	__u32 pad_service;
};

/* Packet direction (packet events). */
enum ts_dir {
	TS_DIR_TX = 0,
	TS_DIR_RX = 1,
};

/* TCP header flag bits as on the wire (packet events). */
#define TS_TCP_FIN 0x01
#define TS_TCP_SYN 0x02
#define TS_TCP_RST 0x04
#define TS_TCP_PSH 0x08
#define TS_TCP_ACK 0x10
#define TS_TCP_URG 0x20
#define TS_TCP_ECE 0x40
#define TS_TCP_CWR 0x80

/*
 * The kind-specific part of a record (ts_event's union): one struct per
 * kind, named for what the kernel handed us. Signed where the kernel's
 * value is an int (a state, a negative errno). 16 bytes at most.
 */
struct ts_state_fields {           /* state */
	__s32 old_state;
	__s32 new_state;
	/* Into CLOSE with TS_F_CLOSE_STATS: segments retransmitted
	 * (tcp_sock.total_retrans). */
	__s32 total_retrans;
};

struct ts_reset_fields {           /* reset_sent, reset_received */
	/* The socket's state: a timewait mini-socket's own substate
	 * (FIN_WAIT2 or TIME_WAIT, as sock_diag reports it); CLOSE when
	 * there is no socket (TS_F_NO_SOCKET). */
	__s32 state;
	__s32 reason;      /* reset_sent with TS_F_REASON: enum sk_rst_reason */
};

struct ts_retransmit_fields {      /* retransmit */
	__s32 state;
	__s32 err;         /* with TS_F_RETRANS_ERR (6.17+): 0 = the segment left */
};

struct ts_sock_error_fields {      /* sock_error */
	__s32 err;         /* positive errno */
};

struct ts_signal_fields {          /* signal */
	__s32 sig;
	__s32 target_pid;  /* tgid */
	__s32 result;      /* the tracepoint's result: TRACE_SIGNAL_DELIVERED (0), _IGNORED, ... */
};

struct ts_length_fields {          /* send, recv (sock_{send,recv}_length) */
	__s32 ret;         /* bytes, or a negative errno */
	__s32 msg_flags;
};

struct ts_packet_fields {          /* packet */
	__s32 dir;         /* enum ts_dir */
	__s32 tcp_flags;   /* TS_TCP_* bits of the header */
	__s32 payload_len; /* bytes after the TCP header (a GSO packet's whole) */
	__s32 ifindex;     /* the device */
};

struct ts_drop_fields {            /* drop */
	__s32 reason;      /* enum skb_drop_reason, this kernel's value */
	__s32 tcp_flags;
	__s32 payload_len;
	__s32 ifindex;     /* the device (TS_F_DROP_RX: the one it came in on); 0 = none */
};

struct ts_event {
	__u64 ts_ns;         /* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u64 cookie;        /* socket cookie, 0 when there is no socket */
	__u64 cgroup_id;     /* cgroup of pid */
	__u64 prev_state_ns; /* state: time spent in old_state */
	__u64 netns_cookie;  /* network namespace cookie (SO_NETNS_COOKIE): never reused */
	__u32 pid;           /* attributed process (tgid): owner or current */
	__u32 tid;
	__u32 cur_pid;       /* task that was running when the tracepoint fired */
	__u32 netns;         /* network namespace inode (reused once the namespace is gone) */
	__u16 kind;          /* enum ts_kind */
	__u16 family;        /* AF_INET or AF_INET6 */
	__u16 sport;         /* local port, host order */
	__u16 dport;         /* remote port, host order */
	__u8 saddr[16];      /* local address (v4 in the first 4 bytes) */
	__u8 daddr[16];      /* remote address */
	__u32 flags;         /* enum ts_flags */
	/* What only this kind says: the member named after e->kind. */
	union {
		struct ts_state_fields state;
		struct ts_reset_fields reset;
		struct ts_retransmit_fields retransmit;
		struct ts_sock_error_fields sock_error;
		struct ts_signal_fields signal;
		struct ts_length_fields length;
		struct ts_packet_fields packet;
		struct ts_drop_fields drop;
	};
	/* Process names are the thread-group leader's comm, what ps and
	 * /proc/PID/comm show for the process: a thread may rename itself
	 * (pthread_setname_np), and a Java or tokio service runs its sockets
	 * in threads named after a pool. The thread's own name is cur_thread. */
	char comm[TS_COMM_LEN];     /* attributed process's name */
	char cur_comm[TS_COMM_LEN]; /* running process's name (of cur_pid) */
	__u32 seq;           /* packet, drop: sequence number (host order) */
	__u32 ack_seq;       /* packet, drop: acknowledgement number (host order) */
	/* Metrics mode only (records never carry it: 0): the connection's
	 * service port (ts_sock_info.service_port), the counters' port label.
	 * Never a port read from a segment: a port scan would make a series
	 * per port. */
	__u32 service_port;
	/* state into CLOSE (TS_F_CLOSE_STATS): tcp_sock.bytes_acked (bytes
	 * sent and acknowledged) and bytes_received, as the socket closes. */
	__u64 bytes_acked;
	__u64 bytes_received;
	/* The running thread's own name (its comm, which the thread may have
	 * set with prctl(PR_SET_NAME)); cur_comm is its process's. */
	char cur_thread[TS_COMM_LEN];
	/* State into CLOSE with TS_F_RTT: the connection's round trip as the
	 * kernel last estimated it, read from the tcp_sock as it closes (as
	 * `ss -ti` shows it on a live socket). 0 = no sample (no ACK of data
	 * was ever timed, e.g. a connect that never got its SYN-ACK). */
	__u32 srtt_us;       /* smoothed RTT, us (tcp_sock.srtt_us >> 3): ss rtt: */
	__u32 min_rtt_us;    /* windowed minimum RTT, us (tcp_sock.rtt_min): ss minrtt: */
	__u32 rto_us;        /* retransmission timeout, us (icsk_rto in jiffies,
			      * times 10^6 / HZ): ss rto:; 0 when HZ is unknown */
	__u32 snd_cwnd;      /* congestion window, segments: ss cwnd: */
};

/* The record is an ABI between the BPF object and the C++ decoder: both
 * compile these checks, so a change that moves a field fails on both sides
 * until both are updated. */
#ifdef __cplusplus
#define TS_LAYOUT_CHECK(cond, what) static_assert(cond, what)
#else
#define TS_LAYOUT_CHECK(cond, what) _Static_assert(cond, what)
#endif
#define TS_AT(member, off) \
	TS_LAYOUT_CHECK(__builtin_offsetof(struct ts_event, member) == (off), \
			"ts_event." #member " moved: update both sides")
TS_LAYOUT_CHECK(sizeof(struct ts_event) == 208, "ts_event size changed: update both sides");
TS_AT(kind, 56);
TS_AT(saddr, 64);
TS_AT(flags, 96);
TS_AT(state.old_state, 100);
TS_AT(state.new_state, 104);
TS_AT(state.total_retrans, 108);
TS_AT(reset.state, 100);
TS_AT(reset.reason, 104);
TS_AT(retransmit.state, 100);
TS_AT(retransmit.err, 104);
TS_AT(sock_error.err, 100);
TS_AT(signal.sig, 100);
TS_AT(signal.target_pid, 104);
TS_AT(signal.result, 108);
TS_AT(length.ret, 100);
TS_AT(length.msg_flags, 104);
TS_AT(packet.dir, 100);
TS_AT(packet.tcp_flags, 104);
TS_AT(packet.payload_len, 108);
TS_AT(packet.ifindex, 112);
TS_AT(drop.reason, 100);
TS_AT(drop.tcp_flags, 104);
TS_AT(drop.payload_len, 108);
TS_AT(drop.ifindex, 112);
TS_AT(comm, 116);
TS_AT(seq, 148);
TS_AT(service_port, 156);
TS_AT(bytes_acked, 160);
TS_AT(cur_thread, 176);
TS_AT(srtt_us, 192);
TS_AT(snd_cwnd, 204);
#undef TS_AT

/* What learning the owners of older sockets found (learn_owners, in .bss;
 * the loader reads it after the pass). */
struct ts_owner_counts {
	__u64 sockets;       /* TCP sockets found in some task's files (each once) */
	__u64 seeded;        /* whose owner was written */
	__u64 already_known; /* the kernel side had seen their owner itself */
	__u64 failed;        /* no storage could be had (allocation failed) */
};

/* Filters, set in .rodata before load. Zero means "no filter". */
struct ts_filter {
	__u32 pid;
	__u32 netns;         /* inode; ignored when netns_cookie is set */
	__u64 netns_cookie;
	__u64 cgroup_id;     /* this cgroup and everything below it */
	__u32 cgroup_level;  /* its depth: 0 is the root */
	__u32 pad0;
	__u32 kind_mask;     /* bit per enum ts_kind */
	__u16 ports[TS_MAX_PORTS]; /* match local or remote port */
	__u16 nports;
	__u16 addr_family;   /* 0: no address filter */
	__u8 addr[16];       /* match local or remote address */
	__u8 comm[TS_COMM_LEN];
	__u8 has_comm;
	__u8 netns_exclude;  /* 1: netns names the one namespace to skip */
	/* 1: `exec` and `run`: events of the --cgroup tree, and the ownerless
	 * ones (RSTs with no socket or from a mini-socket, packets of no full
	 * socket) of the scope's namespaces only (see scope_netns). */
	__u8 scope;
	__u8 pad[5];
};

/* How many network namespaces a scope holds (by cookie): a scenario makes
 * two or three, a command seldom more. */
#define TS_SCOPE_NETNS_MAX 64

/*
 * Metrics mode (`tcpscope metrics`): the programs count into per-CPU arrays
 * instead of sending records. Every array is indexed by small numbers the
 * kernel hands us (states, errnos, reset reasons), so a scrape reads a
 * fixed set of slots and no hash ever fills up.
 */
#define TS_STATE_SLOTS 16      /* TCP states are 1..12 */
#define TS_REASON_SLOTS 65     /* enum sk_rst_reason values 0..63, then "not reported" */
#define TS_REASON_NOT_REPORTED 64
#define TS_ERRNO_SLOTS 256     /* errno values; larger ones share the last slot */
#define TS_SIGNAL_RESULT_SLOTS 8
/* enum skb_drop_reason: 130 values on 6.18, fewer before; larger values
 * (the subsystems' own, reason | subsystem << 16) share the last slot. */
#define TS_DROP_REASON_SLOTS 256

/* Counter families, for the labelled series (--labels): a series is
 * (family, slot of that family's array, the chosen labels). */
enum ts_counter_family {
	TS_FAM_TRANSITIONS = 0,
	TS_FAM_RESETS_SENT = 1,
	TS_FAM_RESETS_RECEIVED = 2,
	TS_FAM_RETRANSMITS = 3,
	TS_FAM_SOCKET_ERRORS = 4,
	TS_FAM_SIGPIPE = 5,
	/* TCP segments the kernel dropped, slot = enum skb_drop_reason
	 * (TS_DROP_REASON_SLOTS). */
	TS_FAM_DROPS = 6,
	TS_FAM_COUNT = 7,
	/* Not a counter: the labelled RTT histogram (--labels), slot = bucket
	 * (0 .. TS_BUCKETS - 1, not cumulative), slot TS_RTT_SUM_SLOT = the sum
	 * of the observations in us. Its series share --max-series with the
	 * counters'. */
	TS_FAM_RTT = 7,
};

#define TS_RTT_SUM_SLOT TS_BUCKETS

/* --labels, a bit each (rodata label_mask). */
#define TS_LABEL_COMM (1u << 0)
#define TS_LABEL_NETNS (1u << 1)
#define TS_LABEL_PORT (1u << 2)
/* The attributed process's cgroup v2 id; userspace turns it into the
 * container's id, and merges the cgroups of one container. */
#define TS_LABEL_CONTAINER (1u << 3)

struct ts_series_key {
	__u32 family;        /* enum ts_counter_family */
	__u32 slot;          /* index in that family's array */
	__u64 netns;         /* inode, TS_LABEL_NETNS */
	__u32 port;          /* service port, TS_LABEL_PORT; 0 = not known */
	__u32 pad;
	char comm[TS_COMM_LEN]; /* the attributed process, TS_LABEL_COMM */
	__u64 cgroup_id;     /* the attributed process's, TS_LABEL_CONTAINER; 0 = not known */
};

/* Durations, one histogram each. */
enum ts_histogram {
	TS_HIST_CONNECT = 0,     /* SYN_SENT -> ESTABLISHED */
	TS_HIST_ACCEPT = 1,      /* SYN_RECV -> ESTABLISHED */
	TS_HIST_CONNECTION = 2,  /* ESTABLISHED ... -> CLOSE */
	TS_HIST_FIN_WAIT1 = 3,   /* time spent in each closing state */
	TS_HIST_FIN_WAIT2 = 4,
	TS_HIST_CLOSE_WAIT = 5,
	TS_HIST_LAST_ACK = 6,
	/* Not a duration of ours: the smoothed RTT (srtt_us, as ns) of each
	 * connection at its end (ESTABLISHED ... -> CLOSE, the connections of
	 * TS_HIST_CONNECTION); with --labels it goes to the series instead. */
	TS_HIST_RTT = 7,
	TS_HIST_COUNT = 8,
};

/* Histogram buckets: bucket k holds durations of at most 2^(13 + k) ns,
 * from 8.192 us (k = 0) to 2^42 ns = 73 min (k = 29); k = 30 is +Inf.
 * Powers of two so that the kernel finds the bucket with a bit scan. */
#define TS_BUCKET_MIN_SHIFT 13
#define TS_BUCKETS 31          /* 30 bounded buckets and +Inf */
#define TS_BUCKET_SLOTS 32     /* per histogram in the map */

/* The sum of a histogram's observations in ns, per CPU, as 128 bits: a
 * u64 of ns holds 584 years, which the connection-lifetime histogram
 * adds up in two days at 100,000 concurrent connections (by Little's law
 * its sum grows by the number of open connections every second). 128
 * bits hold 10^22 years of that. */
struct ts_sum128 {
	__u64 lo;
	__u64 hi;
};

static inline void ts_sum128_add(struct ts_sum128 *s, __u64 ns)
{
	/* Atomic, as metrics.bpf.h's counters: programs on one CPU nest. */
	__u64 before = __sync_fetch_and_add(&s->lo, ns);

	if (before + ns < before)  /* carried out of the low word */
		__sync_fetch_and_add(&s->hi, 1);
}

/* --max-series at most: the kernel memory of the series map is bounded by
 * this times (key + per-CPU value * CPUs + the hash's own overhead); see
 * the README's metrics section for the figure at 256 CPUs. */
#define TS_MAX_SERIES_CAP 16384

/* Position of the highest set bit, 1-based; 0 for 0. Branches only, no
 * loop, so the verifier sees a short straight path. */
static inline __u32 ts_fls64(__u64 x)
{
	__u32 n = 0;

	if (x >> 32) { n += 32; x >>= 32; }
	if (x >> 16) { n += 16; x >>= 16; }
	if (x >> 8) { n += 8; x >>= 8; }
	if (x >> 4) { n += 4; x >>= 4; }
	if (x >> 2) { n += 2; x >>= 2; }
	if (x >> 1) { n += 1; x >>= 1; }
	return n + (__u32)x;
}

/* The bucket of a duration: the smallest k with ns <= 2^(13 + k). */
static inline __u32 ts_duration_bucket(__u64 ns)
{
	__u32 ceil_log2 = ns > 1 ? ts_fls64(ns - 1) : 0;

	if (ceil_log2 <= TS_BUCKET_MIN_SHIFT)
		return 0;
	if (ceil_log2 - TS_BUCKET_MIN_SHIFT >= TS_BUCKETS - 1)
		return TS_BUCKETS - 1;
	return ceil_log2 - TS_BUCKET_MIN_SHIFT;
}

#endif /* TCPSCOPE_H */
