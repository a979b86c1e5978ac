/* SPDX-License-Identifier: GPL-2.0-only
 *
 * mcast-top's model, without a terminal: read a snapshot, track the flows,
 * compute every rate, filter and sort the rows.  tools/mcast-top.c draws
 * it; bench/bench_top.c times one refresh.
 */
#ifndef XM_TOP_H
#define XM_TOP_H

#include <stdbool.h>
#include <stdint.h>

#include "rates.h"
#include "snapshot.h"

/* Sortable columns, in the order s and > cycle through them. */
#define TOP_COLUMNS(X)						\
	X(IFACE,	"iface")				\
	X(GROUP,	"group")				\
	X(SOURCE,	"source")				\
	X(PPS,		"pps")					\
	X(RATE2,	"2s")					\
	X(RATE10,	"10s")					\
	X(RATE40,	"40s")					\
	X(PACKETS,	"packets")				\
	X(BYTES,	"bytes")				\
	X(MEMBERS,	"members")				\
	X(COPIES,	"copies")				\
	X(IDLE,		"idle")

#define TOP_COL_ENUM(id, name) TOP_COL_##id,
enum top_col { TOP_COLUMNS(TOP_COL_ENUM) TOP_COL_COUNT };
#undef TOP_COL_ENUM
extern const char *const top_col_names[TOP_COL_COUNT];

/* One row of the flow table. */
struct top_row {
	const struct xm_tracked *f;
	const char *ifname;	/* points into the snapshot, or a static "?" */
	int members;		/* memberships that want the flow */
	double copies_pps;	/* f->copies_pps, when has_copies */
	bool has_copies;	/* it arrives on an interface in accelerate
				 * mode, or the accelerator copied it */
	int drop_reason;	/* enum xm_reason, -1 none */
};

/* An interface of the header, rates since the previous refresh. */
struct top_iface {
	const struct xm_snap_iface *si;
	struct xm_rate in, fwd, drop;
	struct xm_rate drops[XM_R_COUNT];	/* by reason, both directions */
	struct xm_rate sent;			/* egress: the accelerator's copies that left */
	struct xm_rate out_drop;		/* egress drops, every reason */
	struct xm_rate out_drops[XM_R_COUNT];	/* ... by reason */
};

struct top_filter {
	char text[64];		/* as typed; "" = none */
	bool is_prefix;		/* text parsed as an address prefix */
	uint8_t family, len;
	__be32 addr[4];
};

/* A group of the flows or of the memberships, a slot of top.gtab. */
struct top_group {
	__be32 group[4];
	uint8_t family;
	uint8_t flowed;		/* a flow of this refresh is sent to it */
	uint16_t pad;
	uint32_t gen;		/* in use when top.gtab_gen */
	int32_t members;	/* memberships wanting any of its sources; -1:
				 * it depends on the source */
};

struct top {
	struct xm_reader r;
	struct xm_tracker tr;
	struct xm_snapshot cur, prev;
	bool have_prev;
	int accelerating;		/* interfaces in accelerate mode */
	struct top_iface *ifs;
	int nifs;
	struct top_row **rows;		/* filtered and sorted; they point into
					 * sort_scratch until the next top_rows() */
	int nrows;
	size_t rows_cap;
	void *sort_scratch;		/* top_rows()'s radix sort */
	int groups;			/* distinct groups among the flows */
	int32_t *flow_members;		/* memberships wanting each flow, in
					 * the tracker's order */
	size_t flow_members_cap;
	struct top_group *gtab;		/* group_pass()'s hash table */
	uint32_t gtab_size, gtab_gen;
	/* The view's settings. */
	enum top_col sort;
	bool ascending;
	uint32_t only_ifindex;		/* 0: every interface */
	struct top_filter filter;
};

int top_open(struct top *t, const char *pin_dir, uint64_t stale_ns);
void top_close(struct top *t);

/* Read the maps and recompute everything. */
int top_refresh(struct top *t);
/* Recompute everything from t->cur (and t->prev when have_prev): what
 * top_refresh() does after its snapshot. */
int top_update(struct top *t);
/* Filter and sort the rows again (after a key changed the view). */
int top_rows(struct top *t);

/* "" clears the filter.  A prefix (239.1.0.0/16, ff05::/16) or an address
 * matches group or source; anything else matches an interface name
 * exactly or the start of the group or source as printed. */
void top_set_filter(struct top *t, const char *text);

/* A column by name (top_col_names), or -1. */
int top_col_by_name(const char *name);

/* A drop reason (a reason whose verdict is XDP_DROP). */
bool top_reason_drops(int reason);

#endif
