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
 *
 * One object, one skeleton: the loader and the tests know its programs,
 * maps and variables by name. The code is split by concern into the
 * headers below, each included once, in this order: each needs only what
 * comes before it.
 *   kernel_defs.bpf.h   the kernel's constants we compare against
 *   filters.bpf.h       what the user asked to see (.rodata filter, scope)
 *   metrics.bpf.h       metrics mode: counters instead of records
 *   sockets.bpf.h       what a record reads of a socket or a segment
 *   older_owners.bpf.h  owners of the sockets older than the tracer (iter/task)
 *   attribution.bpf.h   who an event names: socket storage, owners
 *   events.bpf.h        a record's way out: scratch slots, ring buffer, losses
 *   state.bpf.h         inet_sock_set_state
 *   tcp_events.bpf.h    resets sent and received, retransmits, socket errors
 *   send_recv.bpf.h     send/recv results and SIGPIPE
 *   packets.bpf.h       packets at the device and drops (kfree_skb)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpscope.h"
#include "owners.h"
#include "cgroup_subtree.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "kernel_defs.bpf.h"
#include "filters.bpf.h"
#include "metrics.bpf.h"
#include "sockets.bpf.h"
#include "older_owners.bpf.h"
#include "attribution.bpf.h"
#include "events.bpf.h"
#include "state.bpf.h"
#include "tcp_events.bpf.h"
#include "send_recv.bpf.h"
#include "packets.bpf.h"
