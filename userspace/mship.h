/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Group membership as a multicast router keeps it: IGMPv3 (RFC 3376 6 and
 * 7.3) and MLDv2 (RFC 3810 7 and 8.3), with their older versions, per link,
 * and the querier of each link.
 *
 * A link is one (ifindex, VLAN) pair: each VLAN is its own broadcast domain
 * with its own querier.  State is kept per (link, family, group).
 *
 * Nothing here sends, reads a clock or touches a map.  The caller feeds
 * parsed messages (xm_ctrl_parse()) and the time, and is told through
 * callbacks:
 *  - ACTIONS, queries to send now (general, group-specific,
 *    group-and-source-specific), with the version and every field to use;
 *    retransmissions are scheduled here and come as further actions;
 *  - CHANGES, one per group per call at most (however many records of a
 *    report touched it): created, changed (with what changed) or deleted,
 *    with the whole state, to mirror into maps.
 *
 * Time is a monotonic clock in milliseconds that the caller passes in;
 * it must not go backwards, and 0 is taken as 1.  Every entry point first
 * runs what fell due, so xm_mship_tick() only has to be called by
 * xm_mship_next_deadline():
 *
 *	for (;;) {
 *		poll(..., ms_until(xm_mship_next_deadline(m)));
 *		now = monotonic_ms();
 *		while (ring buffer has a message)
 *			if (!xm_ctrl_parse(...)) xm_mship_input(m, &msg, now);
 *		xm_mship_tick(m, now);
 *	}
 *
 * Callbacks must not call back into the functions that change state
 * (input, tick, iface_*, static_*); the read functions are fine.
 *
 * Memory, on 64-bit: a group is a 128-byte record in its own allocation,
 * plus a 16-byte slot in the timer heap and about one 8-byte hash bucket;
 * measured with glibc, 176 bytes a group all included, 17.6 MB for 100000
 * groups.  A source is a struct xm_mship_source (32 bytes) in its group's
 * array, sorted by address, which starts at 4, doubles as it fills and
 * halves when a quarter full: 36 bytes a source measured at 4 a group.
 * A group with no source (the common EXCLUDE({}) of IGMPv2 hosts) has no
 * array at all.
 */
#ifndef XM_MSHIP_H
#define XM_MSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl.h"

/* Defaults of RFC 3376 8 and RFC 3810 9. */
#define XM_MSHIP_RV_DEFAULT		2
#define XM_MSHIP_QI_MS_DEFAULT		125000
#define XM_MSHIP_QRI_MS_DEFAULT		10000
#define XM_MSHIP_LMQI_MS_DEFAULT	1000
/* Ours: enough for a large link, small enough that one noisy link cannot
 * take the whole table. */
#define XM_MSHIP_MAX_GROUPS_DEFAULT	16384
#define XM_MSHIP_MAX_SOURCES_DEFAULT	256
#define XM_MSHIP_MAX_SOURCES_LIMIT	65535	/* a group's count is 16 bits */

/* Sources in one query action: what fits a 1500-byte frame (IPv4 with the
 * router alert: (1500 - 24 - 12) / 4; IPv6 with hop-by-hop:
 * (1500 - 48 - 28) / 16).  Longer lists come as several actions. */
#define XM_IGMP_QUERY_MAX_SOURCES	366
#define XM_MLD_QUERY_MAX_SOURCES	89

/* Timer values: 0 is "not running", this is "never expires" (static). */
#define XM_MSHIP_FOREVER		UINT64_MAX

enum xm_querier_mode {
	XM_QUERIER_OFF,		/* never query; follow the querier heard */
	XM_QUERIER_ON,		/* always query, whoever else does */
	XM_QUERIER_AUTO,	/* RFC 3376 6.6.2: the lowest address queries */
};

/* Per link.  xm_mship_cfg_default() fills in the RFC defaults. */
struct xm_mship_cfg {
	uint8_t igmp_version;	/* 0 = IGMP off; 1..3: our queries, and the
				 * highest version a group may run in */
	uint8_t mld_version;	/* 0 = MLD off; 1..2 */
	uint8_t querier;	/* enum xm_querier_mode */
	bool fast_leave;	/* one host per link: leaves act at once */
	bool require_router_alert;
	bool require_ttl1;
	uint8_t robustness;	/* >= 1 */
	uint8_t lmqc;		/* Last Member Query Count; 0 = robustness */
	uint8_t startup_query_count;	/* 0 = robustness */
	uint32_t query_interval_ms;	/* >= 1000 */
	uint32_t query_response_ms;	/* >= 100, below the query interval */
	uint32_t lmqi_ms;		/* Last Member Query Interval, >= 100 */
	uint32_t startup_query_interval_ms;	/* 0 = query interval / 4 */
	uint32_t max_groups;	/* groups on the link, both families */
	uint32_t max_sources;	/* per group, <= XM_MSHIP_MAX_SOURCES_LIMIT */
	__be32 addr4[4];	/* net: our IPv4 address in [0]; 0 = none */
	__be32 addr6[4];	/* net: our IPv6 link-local address; 0 = none */
};

/* Groups are found by this.  It is struct xm_member_key (the key of
 * xm_members) field for field, so a memcpy turns one into the other. */
struct xm_mship_key {
	uint32_t ifindex;	/* host */
	uint16_t vlan;		/* host: 0 when untagged */
	uint8_t family;		/* XM_AF_INET or XM_AF_INET6 */
	uint8_t pad;		/* 0 */
	__be32 group[4];	/* net: IPv4 in group[0], the rest 0 */
};
#define XM_MSHIP_SAME_FIELD(f)							\
	_Static_assert(offsetof(struct xm_mship_key, f) ==			\
		       offsetof(struct xm_member_key, f) &&			\
		       sizeof(((struct xm_mship_key *)0)->f) ==			\
		       sizeof(((struct xm_member_key *)0)->f), "xm_mship_key." #f)
XM_MSHIP_SAME_FIELD(ifindex);
XM_MSHIP_SAME_FIELD(vlan);
XM_MSHIP_SAME_FIELD(family);
XM_MSHIP_SAME_FIELD(pad);
XM_MSHIP_SAME_FIELD(group);
#undef XM_MSHIP_SAME_FIELD
_Static_assert(sizeof(struct xm_mship_key) == sizeof(struct xm_member_key),
	       "xm_mship_key layout");

enum xm_mship_mode {
	XM_MSHIP_INCLUDE = 0,
	XM_MSHIP_EXCLUDE = 1,
};

/*
 * A source of a group.  A source is forwarded exactly when its timer is
 * running (not 0): in INCLUDE mode every listed source is; in EXCLUDE mode
 * the stopped ones are the blocked list ("Y" in RFC 3376 6.2.1) and every
 * unlisted source is forwarded too.
 */
struct xm_mship_source {
	__be32 addr[4];		/* net */
	uint64_t timer;		/* expiry, ms; 0 stopped; XM_MSHIP_FOREVER static */
	uint8_t rexmit;		/* group-and-source queries still to send */
	uint8_t flags;		/* XM_MSHIP_SRC_* */
};
#define XM_MSHIP_SRC_STATIC	0x1

/* A group as read or as changed.  src points into the state: valid until
 * the next call that changes state. */
struct xm_mship_group_view {
	struct xm_mship_key key;
	uint8_t mode;		/* enum xm_mship_mode */
	uint8_t compat;		/* version in force: IGMP 1..3, MLD 1..2 */
	bool is_static;		/* a static (*,G) join */
	uint8_t queries_left;	/* group-specific queries still to send */
	uint64_t timer;		/* group timer: 0 in INCLUDE, FOREVER static */
	uint64_t older_host[2];	/* v1 / IGMPv2 host present until; 0 none */
	__be32 reporter[4];	/* net: source of the last report, 0 none */
	uint64_t last_report;	/* ms, 0 none */
	uint32_t nsrc;
	const struct xm_mship_source *src;	/* sorted by address */
};

enum xm_mship_change_kind {
	XM_MSHIP_CREATED,
	XM_MSHIP_CHANGED,
	XM_MSHIP_DELETED,	/* only the key of g is meaningful */
};

/* What a CHANGED group changed.  Forwarding changed when MODE or SOURCES
 * is set; the rest only moves timers or labels. */
#define XM_MSHIP_CH_MODE	0x01	/* filter mode */
#define XM_MSHIP_CH_SOURCES	0x02	/* added, deleted, blocked, unblocked */
#define XM_MSHIP_CH_COMPAT	0x04	/* compatibility version */
#define XM_MSHIP_CH_TIMERS	0x08	/* a group or source timer moved */
#define XM_MSHIP_CH_REPORTER	0x10	/* the last reporter */
#define XM_MSHIP_CH_FORWARDING	(XM_MSHIP_CH_MODE | XM_MSHIP_CH_SOURCES)
#define XM_MSHIP_CH_ALL		0x1f

struct xm_mship_change {
	uint8_t kind;		/* enum xm_mship_change_kind */
	uint8_t what;		/* XM_MSHIP_CH_*; XM_MSHIP_CH_ALL for CREATED */
	struct xm_mship_group_view g;
};

enum xm_mship_action_kind {
	XM_MSHIP_QUERY_GENERAL,
	XM_MSHIP_QUERY_GROUP,
	XM_MSHIP_QUERY_GROUP_SOURCE,
};

/* A query to send now on (ifindex, vlan).  Everything the packet needs. */
struct xm_mship_action {
	uint8_t kind;		/* enum xm_mship_action_kind */
	uint8_t family;
	uint8_t version;	/* IGMP 1..3 / MLD 1..2: the query's form */
	bool s_flag;		/* v3/MLDv2: suppress router-side processing */
	uint8_t qrv;		/* v3/MLDv2: 0 when the robustness is above 7 */
	uint8_t remaining;	/* transmissions of this query still scheduled */
	uint16_t vlan;
	uint32_t ifindex;
	uint32_t max_resp_ms;	/* to encode: IGMPv2 1/10 s, v3 xm_code8_encode(),
				 * MLDv1 ms, MLDv2 xm_code16_encode() */
	uint32_t qqi_s;		/* v3/MLDv2: to encode with xm_code8_encode() */
	__be32 src[4];		/* net: our address, the IP source */
	__be32 group[4];	/* net: 0 for a general query */
	uint32_t nsrc;
	const __be32 (*sources)[4];	/* valid during the callback */
};

struct xm_mship_ops {
	void (*change)(void *ctx, const struct xm_mship_change *c);
	void (*action)(void *ctx, const struct xm_mship_action *a);
	/* The policy (boundaries, filters): joins to a group it forbids are
	 * ignored and counted.  NULL forbids nothing. */
	bool (*forbidden)(void *ctx, const struct xm_mship_key *key);
	void *ctx;
};

/* Counted per link. */
#define XM_MSHIP_COUNTERS(X)						\
	X(GROUPS_REFUSED,	"groups_refused")	/* max_groups */	\
	X(SOURCES_REFUSED,	"sources_refused")	/* max_sources */	\
	X(FORBIDDEN,		"forbidden")		/* joins the policy refuses */ \
	X(LEAVE_IGNORED,	"leave_ignored")	/* IGMPv1 hosts present */ \
	X(BLOCK_IGNORED,	"block_ignored")	/* older hosts present */ \
	X(TO_EX_SOURCES_IGNORED, "to_ex_sources_ignored")	/* same */	\
	X(OLDER_QUERIER,	"older_querier")	/* query older than ours */ \
	X(QUERIER_LOST,		"querier_lost")		/* a lower one queries */ \
	X(GENERAL_QUERIES,	"general_queries")	/* sent */		\
	X(GROUP_QUERIES,	"group_queries")	/* sent */		\
	X(GROUP_SOURCE_QUERIES,	"group_source_queries")	/* sent */

#define XM_MSHIP_COUNTER_ENUM(id, name) XM_MSHIP_C_##id,
enum xm_mship_counter {
	XM_MSHIP_COUNTERS(XM_MSHIP_COUNTER_ENUM)
	XM_MSHIP_C_COUNT
};
#undef XM_MSHIP_COUNTER_ENUM

struct xm_mship_counters {
	uint64_t c[XM_MSHIP_C_COUNT];
	uint64_t skipped[XM_CTRL_SKIP_COUNT];	/* records the parser passed over */
};

/* The querier of a link and family, and the timers in force there. */
struct xm_mship_querier_view {
	bool querier;		/* we are */
	uint8_t version;	/* of the other querier's last query, 0 none */
	uint8_t startup_left;	/* startup queries still to send */
	uint8_t rv;		/* robustness in force (learned or ours) */
	uint32_t qi_ms;		/* query interval in force */
	__be32 addr[4];		/* net: the querier, us included; 0 none known */
	uint64_t other_present;	/* other-querier-present timer, 0 not running */
	uint64_t next_query;	/* our next general query, 0 none */
};

struct xm_mship;

void xm_mship_cfg_default(struct xm_mship_cfg *cfg);

/* seed keys the group hash: pass random bytes, so that hosts cannot aim
 * their groups at one bucket.  NULL ops: nothing is told. */
struct xm_mship *xm_mship_new(const struct xm_mship_ops *ops, uint64_t seed);
/* Frees everything; tells nothing. */
void xm_mship_free(struct xm_mship *m);

/*
 * Add a link, or change its configuration.  A link able to query starts as
 * querier with its startup queries.  Disabling a family deletes its groups;
 * lowering a limit refuses new state but keeps what is there.
 * 0, -EINVAL (cfg out of range), -ENOMEM.
 */
int xm_mship_iface_set(struct xm_mship *m, uint32_t ifindex, uint16_t vlan,
		       const struct xm_mship_cfg *cfg, uint64_t now);
/* Remove a link and its groups (changes are told).  0 or -ENOENT. */
int xm_mship_iface_del(struct xm_mship *m, uint32_t ifindex, uint16_t vlan, uint64_t now);

/*
 * A message parsed by xm_ctrl_parse().  Returns XM_CTRL_OK when it was used
 * (which includes a leave ignored because of IGMPv1 hosts: counted on the
 * link), or the reason the router ignores it, for the caller to count.
 */
enum xm_ctrl_reason xm_mship_input(struct xm_mship *m, const struct xm_ctrl_msg *msg,
				   uint64_t now);

/* When xm_mship_tick() has something to do: XM_MSHIP_FOREVER when nothing. */
uint64_t xm_mship_next_deadline(const struct xm_mship *m);
void xm_mship_tick(struct xm_mship *m, uint64_t now);

/*
 * Static memberships never expire: (*,G) when source is NULL (EXCLUDE mode,
 * no source blocked), else (S,G).  Reports for the group are still applied
 * around them; the policy callback is not asked.  Leaving unpins, as if the
 * static member had reported last now, then acts as a leave from a host
 * would: a query if we are the querier, at once with fast leave, else the
 * state runs out after GMI unless a host still reports.
 * 0, -ENODEV (no link, or the family is off), -EINVAL (not a multicast
 * group), -ENOSPC (a limit), -ENOMEM; leave: -ENOENT if not static.
 */
int xm_mship_static_join(struct xm_mship *m, const struct xm_mship_key *key,
			 const __be32 *source, uint64_t now);
int xm_mship_static_leave(struct xm_mship *m, const struct xm_mship_key *key,
			  const __be32 *source, uint64_t now);

/* Reading.  0, or -ENOENT. */
int xm_mship_group_get(const struct xm_mship *m, const struct xm_mship_key *key,
		       struct xm_mship_group_view *out);
/* Every group, in no order, until fn returns non-zero (which is returned). */
int xm_mship_foreach(const struct xm_mship *m,
		     int (*fn)(void *ctx, const struct xm_mship_group_view *g), void *ctx);
size_t xm_mship_ngroups(const struct xm_mship *m);
int xm_mship_querier_get(const struct xm_mship *m, uint32_t ifindex, uint16_t vlan,
			 uint8_t family, struct xm_mship_querier_view *out);
int xm_mship_counters_get(const struct xm_mship *m, uint32_t ifindex, uint16_t vlan,
			  struct xm_mship_counters *out);
const char *xm_mship_counter_name(enum xm_mship_counter c);

/*
 * Check every invariant of the state (modes, timers, source order, counts,
 * limits, the hash and the timer heap).  0, or -EUCLEAN with what is wrong
 * in why.  For the tests and the fuzzer: it walks everything.
 */
int xm_mship_check(const struct xm_mship *m, uint64_t now, char *why, size_t len);

#endif
