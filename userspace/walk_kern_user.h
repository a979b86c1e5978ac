/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The readers' walks of the flow and interface tables (walk.bpf.c, run by
 * walk.c): the records they write, one a map entry.  Included by the BPF
 * walks and by user code.
 */
#ifndef XM_WALK_KERN_USER_H
#define XM_WALK_KERN_USER_H

#include "xdp_mcast_kern_user.h"

/* One flow, its per-CPU values merged (stats.h, xm_flow_merge()). */
struct xm_flow_entry {
	struct xm_flow_key key;
	struct xm_flow flow;	/* merged over CPUs */
};
_Static_assert(sizeof(struct xm_flow_entry) == 104, "xm_flow_entry layout");

/* One registered interface (slot != 0) of xm_ifaces.  Records are a
 * multiple of 8 bytes: an array map stores its values 8-byte aligned, and
 * user space reads the mapped array as an array of records. */
struct xm_iface_rec {
	__u32 ifindex;
	struct xm_iface cfg;
	__u32 pad;
};
_Static_assert(sizeof(struct xm_iface_rec) == 56, "xm_iface_rec layout");

/* CPUs the flow walk merges at most (the verifier needs a bound). */
#define XM_WALK_MAX_CPUS	512

#endif
