/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The snooping counters the daemon publishes in xm_snoop_ctr, one row of
 * XM_SNOOP_SLOTS per interface slot: its own, then the state machine's,
 * then the parser's reasons for ignoring a message, then the records it
 * skipped.  The layout is shared by the daemon and every reader.
 */
#ifndef XM_SNOOP_CTR_H
#define XM_SNOOP_CTR_H

#include "ctrl.h"
#include "mship.h"
#include "xdp_mcast_kern_user.h"

#define XM_SNOOP_OWN(X)						\
	X(QUERIES_SEEN,		"queries_seen")			\
	X(REPORTS_V1,		"reports_v1")			\
	X(REPORTS_V2,		"reports_v2")			\
	X(REPORTS_V3,		"reports_v3")			\
	X(LEAVES,		"leaves")			\
	X(RATE_LIMITED,		"rate_limited")			\
	X(QUERIES_SENT,		"queries_sent")			\
	X(SEND_FAILED,		"send_failed")			\
	X(MAP_WRITE_FAILED,	"map_write_failed")

#define XM_SNOOP_OWN_ENUM(id, name) XM_SNOOP_##id,
enum xm_snoop_own {
	XM_SNOOP_OWN(XM_SNOOP_OWN_ENUM)
	XM_SNOOP_OWN_COUNT
};
#undef XM_SNOOP_OWN_ENUM

#define XM_SNOOP_BASE_MSHIP	16
#define XM_SNOOP_BASE_REASON	32
#define XM_SNOOP_BASE_SKIP	56

_Static_assert(XM_SNOOP_OWN_COUNT <= XM_SNOOP_BASE_MSHIP, "own counters");
_Static_assert(XM_SNOOP_BASE_MSHIP + XM_MSHIP_C_COUNT <= XM_SNOOP_BASE_REASON, "mship");
_Static_assert(XM_SNOOP_BASE_REASON + XM_CTRL_REASON_COUNT <= XM_SNOOP_BASE_SKIP, "reasons");
_Static_assert(XM_SNOOP_BASE_SKIP + XM_CTRL_SKIP_COUNT <= XM_SNOOP_SLOTS, "skips");

/* The name of counter i of a row, or NULL for an unused slot.  Parser
 * reasons read "ignored_<reason>", skipped records "skipped_<reason>". */
const char *xm_snoop_ctr_name(unsigned int i, char *buf, size_t len);

#endif
