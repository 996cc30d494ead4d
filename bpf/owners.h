/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The owners of the sockets older than the tracer, as the iterator over
 * the tasks' files records them (learn_owners in older_owners.bpf.h), by
 * socket inode: the programs adopt a record into the socket's storage when
 * they first meet the socket, and the sock_diag reader reads one for a
 * socket they have not met yet (an idle CLOSE_WAIT leak). Fixed-width
 * types and explicit padding: the C++ side reads it as is.
 */
#ifndef TCPSCOPE_OWNERS_H
#define TCPSCOPE_OWNERS_H

#include "tcpscope.h"

struct ts_older_owner {
	__u64 sk;           /* the socket's address: a later socket given the
			     * same inode number is not this one */
	__u64 cgroup_id;
	__u32 tgid;         /* lowest tgid of the processes holding it */
	__u32 owner_flags;  /* TS_F_IN_CGROUP */
	__u32 service_port; /* a listener's own port, else 0 */
	__u32 pad;
	char comm[TS_COMM_LEN]; /* the process's name (thread-group leader's) */
};

#endif /* TCPSCOPE_OWNERS_H */
