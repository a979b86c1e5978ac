/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the data path's counters.  The per-CPU values are summed here, by
 * pure functions that the unit tests exercise without a kernel.
 */
#ifndef XM_STATS_H
#define XM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "walk_kern_user.h"	/* struct xm_flow_entry */
#include "xdp_mcast_kern_user.h"

extern const char *const xm_reason_names[XM_R_COUNT];
extern const char *const xm_global_names[XM_G_COUNT];

/* Sum ncpu per-CPU counters. */
struct xm_counter xm_counter_sum(const struct xm_counter *percpu, int ncpu);

/* Merge ncpu per-CPU copies of one flow: counts (packets, bytes, copies)
 * add up, first_seen is the
 * earliest non-zero one, last_seen the latest, last_reason comes from the
 * CPU that saw the flow last, the reason masks are OR-ed; a CPU without
 * packets is left out.  The policy fields are 0.  walk.bpf.c merges
 * the same way in the kernel. */
struct xm_flow xm_flow_merge(const struct xm_flow *percpu, int ncpu);

/* All flows, merged over CPUs and with what the per-CPU flow caches
 * (cache_fd, or -1) still hold, sorted by interface, family, group,
 * source.  *out is malloc'ed.  Returns the count or a negative errno.
 * While a flow receives traffic its counts may be off by the frames of
 * one clock tick that move from a cache to xm_flows during the read. */
int xm_read_flows(int flows_fd, int cache_fd, struct xm_flow_entry **out);

/* The same, in the table's order (not sorted): walk.c's fallback. */
int xm_read_flows_unsorted(int flows_fd, int cache_fd, struct xm_flow_entry **out);

/* Add what the per-CPU flow caches hold to v[0..*n) (any order): a flow
 * evicted from xm_flows while its counts waited in a cache is appended, so
 * v must have room for XM_FLOW_CACHE_SLOTS * ncpu more entries. */
int xm_flows_add_cache(int cache_fd, int ncpu, struct xm_flow_entry *v, size_t *n);

/* A hash of a flow key, for the tables that match flows between readings. */
uint64_t xm_flow_key_hash(const struct xm_flow_key *k);

/* Entries first..first+n of an array map (vsz bytes each: ncpu values of
 * a per-CPU array) into out: one batched lookup, or one key at a time
 * where the kernel has no batches for arrays.  0 or a negative errno. */
int xm_array_read(int fd, uint32_t first, uint32_t n, size_t vsz, void *out);

/* Counters of one interface slot in one direction (enum xm_dir): out[r]
 * for every reason slot. */
int xm_read_reasons(int reasons_fd, uint32_t dir, uint32_t slot,
		    struct xm_counter out[XM_REASON_SLOTS]);

/* Global counters, packets field only. */
int xm_read_globals(int global_fd, uint64_t out[XM_G_COUNT]);

/* Zero the counters of one interface slot, both directions (on assigning
 * it anew). */
int xm_clear_reasons(int reasons_fd, uint32_t slot);

int xm_flow_key_cmp(const struct xm_flow_key *a, const struct xm_flow_key *b);

#endif
