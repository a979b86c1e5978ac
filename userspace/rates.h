/* SPDX-License-Identifier: GPL-2.0-only
 *
 * Rates from counters: pure functions over two readings of summed per-CPU
 * counters and the CLOCK_MONOTONIC interval between them, and the flow
 * tracker mcast-top keeps between refreshes.  Nothing here reads a map, so
 * the unit tests drive it with made-up snapshots.
 *
 * Averages over 2, 10 and 40 s are taken as iftop takes them: the tracker
 * keeps each flow's counters at checkpoints XM_HIST_STEP_NS apart, and the
 * average over W seconds is the rate between the newest checkpoint at least
 * W old and now (so it covers between W and W + 2 s; less while the
 * tracker has not run that long).
 */
#ifndef XM_RATES_H
#define XM_RATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "xdp_mcast_kern_user.h"

struct xm_rate {
	double pps;		/* packets per second */
	double bps;		/* bits per second */
	bool reset;		/* the counter went down: counted from zero */
};

/*
 * The rate of a counter read as then and, dt_ns later, as now.  A counter
 * that went down was reset in between (its flow evicted and created anew, a
 * CPU's share gone, the map re-created): what now holds is taken as counted
 * since then, the lower bound, never a negative or a wrapped-around rate.
 * dt_ns 0 gives 0.
 */
struct xm_rate xm_rate(struct xm_counter then, struct xm_counter now, uint64_t dt_ns);

/* Windows of the averages, in seconds, and their count. */
#define XM_WINDOWS		3
extern const unsigned int xm_window_sec[XM_WINDOWS];	/* 2, 10, 40 */

#define XM_HIST_STEP_NS		2000000000ull	/* between checkpoints */
#define XM_HIST_SLOTS		31		/* a minute of them, and now */
#define XM_HIST_ABSENT		UINT64_MAX	/* packets: flow unknown then */

/* Flags of a tracked flow. */
#define XM_TF_NEW	0x1	/* appeared within XM_NEW_NS, after the first refresh */
#define XM_TF_STALE	0x2	/* no packet for the stale time */
#define XM_NEW_NS	5000000000ull

struct xm_tracked {
	struct xm_flow_key key;
	struct xm_flow flow;		/* merged over CPUs, this refresh */
	struct xm_rate avg[XM_WINDOWS];	/* over xm_window_sec[] */
	struct xm_rate last;		/* since the previous refresh */
	double copies_pps;		/* flow.copies a second, since the previous
					 * refresh (0 in the first) */
	struct xm_counter prev;		/* at the previous refresh */
	uint64_t prev_copies;		/* flow.copies then */
	uint64_t appeared_ns;		/* when the tracker first saw it; 0: at
					 * its first reading */
	uint32_t hist;			/* its checkpoints: pool index */
	uint32_t flags;			/* XM_TF_* */
};

struct xm_tracker {
	struct xm_tracked *v;		/* in the order of the latest reading */
	size_t n, cap;
	uint32_t *order;		/* v's indexes sorted by key (xm_flow_key_cmp) */
	struct xm_tracked *spare;	/* the next reading goes here */
	size_t spare_cap;
	/* Matching a reading to v: flows mostly come in the same order as
	 * last time; the others are found in a hash table of v's keys, built
	 * only when needed.  Scratch, kept between updates. */
	uint32_t *index, index_size;	/* open addressing, UINT32_MAX empty */
	uint32_t *old2new, *fresh, *spare_order;
	size_t scratch_cap;
	/* Checkpoints: counters of every flow at ck_t[], a ring of
	 * XM_HIST_SLOTS; ck_head is the newest, ck_count how many hold one.
	 * pool[k][f->hist] is flow f at checkpoint k: one array a checkpoint,
	 * so a refresh reads each window's checkpoint for every flow from
	 * one dense array. */
	struct xm_counter *pool[XM_HIST_SLOTS];
	uint32_t pool_n, pool_cap;
	uint32_t *free_slots;
	uint32_t nfree;
	uint64_t ck_t[XM_HIST_SLOTS];
	int ck_head, ck_count;
	uint64_t now_ns;		/* of the latest update */
	uint64_t prev_ns;		/* of the one before; 0: none */
	uint64_t stale_ns;		/* idle this long: stale */
	unsigned int updates;
};

void xm_tracker_init(struct xm_tracker *t, uint64_t stale_ns);
void xm_tracker_free(struct xm_tracker *t);

/*
 * Take a new reading: cur[0..n) in any order (each key once), read at now_ns
 * (CLOCK_MONOTONIC).  Flows missing from cur were evicted and are
 * forgotten; flows new to the tracker start with no history.  Then every
 * rate of every flow is computed, and t->order sorts them by key.  Costs
 * O(n) when the reading comes in the order of the previous one (a hash
 * table's order changes only where flows came and went), plus sorting the
 * new flows.  Returns 0 or -ENOMEM (the tracker is then empty and starts
 * over).
 */
int xm_tracker_update(struct xm_tracker *t, const struct xm_flow_entry *cur, size_t n,
		      uint64_t now_ns);

/*
 * The rate of one flow over each of the last nslots checkpoint intervals,
 * oldest first, into out[] (0 where the flow was unknown).  Returns how
 * many intervals there are (at most nslots, at most XM_HIST_SLOTS - 1).
 * Adding up several flows' series gives a group's.
 */
int xm_tracker_series(const struct xm_tracker *t, const struct xm_tracked *f,
		      struct xm_rate *out, int nslots);

#endif
