/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's constants the programs compare against: address families,
 * TCP states, the socket type and protocol, SIGPIPE. Fixed by the kernel's
 * ABI, so plain values; vmlinux.h has some of them as enum constants and
 * lacks the rest (the kernel's own #defines), so they are spelled once here.
 *
 * Part of tcpscope.bpf.c (one BPF object): included there, first.
 */
#ifndef TCPSCOPE_KERNEL_DEFS_BPF_H
#define TCPSCOPE_KERNEL_DEFS_BPF_H

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

#endif /* TCPSCOPE_KERNEL_DEFS_BPF_H */
