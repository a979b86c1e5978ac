/* SPDX-License-Identifier: GPL-2.0-only
 *
 * One reading of everything the observers show (mcast-top, the Prometheus
 * metrics): interfaces with their reason and snooping counters, the flows,
 * the global counters and the memberships.  Per-CPU values come summed.
 */
#ifndef XM_SNAPSHOT_H
#define XM_SNAPSHOT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "walk.h"
#include "ifaces.h"
#include "pins.h"
#include "stats.h"
#include "xdp_mcast_kern_user.h"

/* A group with members, as a slot of xm_snapshot.group_slots: its key in
 * the slot, so a lookup reads one slot. */
struct xm_group_slot {
	__be32 group[4];
	uint8_t family;		/* 0: an empty slot */
	uint8_t pad[3];
	uint32_t first;		/* where its memberships start in by_group */
	int32_t fixed;		/* the memberships that want any source, when
				 * none of them lists sources; else -1 */
};

struct xm_member_entry {
	struct xm_member_key key;
	struct xm_member m;
	uint32_t first_src, nsrc;	/* its sources: srcs[first_src..+nsrc) */
};

struct xm_member_src_entry {
	struct xm_member_src_key key;
	struct xm_member_src v;
};

struct xm_snap_iface {
	struct xm_iface_entry e;
	char name[IF_NAMESIZE];
	struct xm_counter reasons[2][XM_REASON_SLOTS];	/* by enum xm_dir */
	uint64_t snoop[XM_SNOOP_SLOTS];			/* 0 without a daemon */
};

struct xm_snapshot {
	uint64_t t_ns;			/* CLOCK_MONOTONIC, when read */
	struct xm_snap_iface *ifs;	/* by ifindex */
	int nifs;
	/* In the table's order, not sorted: the reader's memory, valid until
	 * its next snapshot of the flows (xm_walk_flows()). */
	const struct xm_flow_entry *flows;
	int nflows;
	uint64_t globals[XM_G_COUNT];
	struct xm_member_entry *members;	/* sorted: ifindex, vlan, family, group */
	int nmembers;
	uint32_t *by_group;		/* members indexes by family, group */
	struct xm_group_slot *group_slots;	/* hash table of the groups with
						 * members; NULL: none */
	uint32_t group_slots_size;	/* a power of two */
	struct xm_member_src_entry *srcs;	/* sorted the same, then source */
	int nsrcs;
	uint32_t flows_max, members_max, member_src_max;
};

/* The sorted order of a hash table's keys, kept between reads. */
struct xm_order {
	void *keys;		/* the last read's, in the table's order */
	uint32_t n;
	uint32_t *perm;		/* perm[i]: where the i-th smallest key is */
};

/*
 * The sorted order of n keys of ksz bytes read from a hash table, into
 * o->perm.  While no key comes or goes, a hash table lists its keys in the
 * same order: when they equal the last call's, byte for byte and in that
 * order, its order is kept (*same set) and nothing is sorted.  Returns 0
 * or -ENOMEM (o is then empty).
 */
int xm_order_sort(struct xm_order *o, const void *keys, uint32_t n, size_t ksz,
		  int (*cmp)(const void *, const void *), bool *same);
void xm_order_free(struct xm_order *o);

/* The pinned maps a snapshot is read from; -1 for those that are absent. */
struct xm_reader {
	struct xm_state st;
	int members_fd, member_src_fd, snoop_fd;
	int fwd_fd, fwd_wild_fd, fwd_ports_fd;	/* the accelerator's entries */
	struct xm_walker *walk;		/* reads flows and memberships */
	int ncpu;
	/* Kept between snapshots: the memberships and their sources
	 * sorted, and the memberships by group. */
	struct xm_order members_order, srcs_order;
	uint32_t *by_group;
	bool by_group_ok;		/* by_group is members_order's */
};

/* -ENOENT when nothing is loaded under pin_dir. */
int xm_reader_open(struct xm_reader *r, const char *pin_dir);
void xm_reader_close(struct xm_reader *r);

/* What to read besides the interfaces and global counters. */
#define XM_SNAP_FLOWS	0x1
#define XM_SNAP_MEMBERS	0x2
#define XM_SNAP_ALL	0x3

int xm_snapshot_take(struct xm_reader *r, unsigned int what, struct xm_snapshot *s);
void xm_snapshot_free(struct xm_snapshot *s);

/* The snapshot's interface of this ifindex, or NULL. */
const struct xm_snap_iface *xm_snap_iface(const struct xm_snapshot *s, uint32_t ifindex);

/*
 * Whether membership m wants traffic of flow key k (same family and group,
 * any VLAN): INCLUDE with the source forwarded, or EXCLUDE without the
 * source blocked.  Sources of m are s->srcs[m->first_src..].
 */
bool xm_member_wants(const struct xm_snapshot *s, const struct xm_member_entry *m,
		     const struct xm_flow_key *k);

/* How many memberships (interface and VLAN) want flow k: its group found
 * in group_slots (a binary search in by_group without them). */
int xm_members_of_flow(const struct xm_snapshot *s, const struct xm_flow_key *k);

/* A hash of a group, for the tables keyed by group. */
uint64_t xm_group_hash(uint8_t family, const __be32 *group);

/* The same group: family and address equal. */
bool xm_same_group(uint8_t fa, const __be32 *a, uint8_t fb, const __be32 *b);

/*
 * The outgoing interfaces of the accelerator's forwarding entry for flow k,
 * looked up as the data path does ((S,G), (*,G), then the prefixes): every
 * port of its set (all TTL tiers), into ifindex[0..max), sorted.  Returns
 * their count (0: an entry with none, or one left to the kernel), -ENOENT
 * without an entry, or another negative errno.
 */
int xm_fwd_ports_of_flow(const struct xm_reader *r, const struct xm_flow_key *k,
			 uint32_t *ifindex, int max);

/* Memberships in the order every reader shows them: interface, VLAN,
 * family, group. */
int xm_member_key_cmp(const struct xm_member_key *a, const struct xm_member_key *b);

#endif
