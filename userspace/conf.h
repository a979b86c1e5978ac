/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xdp-mcast.conf, the scope and filter policy (format: xdp-mcast.conf(5)).
 *
 * A load reads the file and everything it includes into a new struct
 * xm_conf and checks it as a whole.  Every mistake is reported as
 * FILE:LINE:COLUMN, up to XM_CONF_MAX_ERRORS of them, and a file with any
 * mistake yields no policy at all: *out is set only on success, so a daemon
 * keeps its running policy until it is handed a good one:
 *
 *	struct xm_conf *next;
 *	if (!xm_conf_load(path, &env, &next, &errs)) {
 *		xm_conf_free(running);
 *		running = next;
 *	}
 */
#ifndef XM_CONF_H
#define XM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xdp_mcast_kern_user.h"

#define XM_CONF_DEFAULT		"/etc/xdp-mcast.conf"
#define XM_CONF_MAX_DEPTH	8	/* include levels below the main file */
#define XM_CONF_MAX_ERRORS	20	/* messages kept; the rest are only counted */
#define XM_CONF_ERRLEN		512	/* one message, "FILE:LINE:COL: text" */
#define XM_CONF_LINE_MAX	4096	/* bytes in a line, without the newline */
#define XM_CONF_FILE_MAX	(16 << 20)	/* bytes in one file */
#define XM_IFNAMSIZ		16	/* the kernel's IFNAMSIZ, with the NUL */
#define XM_SCOPE_NAMSIZ		32	/* a scope name, with the NUL */

/* An address prefix.  Bits of addr beyond len are always 0, so two equal
 * prefixes are equal field by field. */
struct xm_prefix {
	uint8_t family;		/* XM_AF_INET, XM_AF_INET6; 0 = none */
	uint8_t len;		/* 0..32 or 0..128 */
	uint8_t pad[2];		/* 0 */
	__be32 addr[4];		/* net: IPv4 in addr[0], the rest 0 */
};

/* "ffff:...:ffff/128" with the NUL. */
#define XM_PREFIX_STRLEN	(46 + 4)

/* Where a statement came from; file points into the xm_conf's files. */
struct xm_conf_pos {
	const char *file;
	int line;		/* 1-based */
	int col;		/* 1-based byte column; a tab counts as one */
};

/* A scope defined in the file (the predefined ones are not listed). */
struct xm_conf_scope {
	char name[XM_SCOPE_NAMSIZ];
	struct xm_prefix *prefixes;	/* multicast prefixes, no duplicates */
	int nprefixes;
	struct xm_conf_pos pos;		/* of the name */
};

/*
 * One interface.  Every option holds what the file says, or "not given"
 * (-1, or false for the flags), so that printing gives back the file's
 * choices and not the defaults of the day.  The snooping options become a
 * struct xm_mship_cfg through xm_conf_phyint_mship_cfg(), which applies the
 * defaults; ctrl_rate is the daemon's, XM_CONF_CTRL_RATE_DEFAULT when not
 * given.  Times are milliseconds.
 */
struct xm_conf_phyint {
	char name[XM_IFNAMSIZ];
	int mode;		/* enum xm_attach_mode; -1 = not given */
	int ttl_threshold;	/* 0..255; -1 = not given */
	int igmp;		/* 0 off, 1..3; -1 = not given */
	int mld;		/* 0 off, 1..2; -1 = not given */
	int querier;		/* enum xm_querier_mode; -1 = not given */
	int robustness;		/* 1..7; -1 = not given */
	int query_interval_ms;	/* 1000..31744000; -1 = not given */
	int query_response_ms;	/* 100..25500, below the query interval in
				 * force; -1 = not given */
	int lmqi_ms;		/* 100..25500; -1 = not given */
	bool fast_leave;
	bool require_router_alert;
	int max_groups;		/* 1..INT_MAX; -1 = not given */
	int max_sources;	/* 0..XM_MSHIP_MAX_SOURCES_LIMIT; -1 = not given */
	int ctrl_rate;		/* messages a second, 0 = no limit; -1 = not given */
	int forwarding;		/* enum xm_fwd_mode; -1 = not given (filter) */
	bool upstream;		/* where traffic for downstream members comes from */
	bool downstream;	/* its members' groups are forwarded to it */
	struct xm_prefix *boundaries;	/* scopes expanded, no duplicates */
	int nboundaries;
	struct xm_conf_pos pos;		/* of the interface name */
};

/* Control messages a second a phyint accepts when ctrl-rate is not given. */
#define XM_CONF_CTRL_RATE_DEFAULT	1000

struct xm_conf_rule {
	uint8_t deny;		/* 0 allow, 1 deny */
	uint8_t dir;		/* enum xm_dir (the contract header) */
	uint8_t audit;		/* count under policy_audit, do not enforce */
	char iface[XM_IFNAMSIZ];	/* "" = any interface */
	struct xm_prefix group;		/* within 224.0.0.0/4 or ff00::/8 */
	struct xm_prefix source;	/* family 0 = any source */
	struct xm_conf_pos pos;		/* of "allow" or "deny" */
};

/* A static membership: join IFACE GROUP [source ADDR].  IFACE has a
 * phyint with the group's protocol on, outside its boundaries. */
struct xm_conf_join {
	char iface[XM_IFNAMSIZ];
	struct xm_prefix group;		/* one address (/32, /128), multicast,
					 * wider than link-local scope */
	struct xm_prefix source;	/* one unicast address of the group's
					 * family; family 0 = any source, (*,G) */
	struct xm_conf_pos pos;		/* of "join" */
};

/* The daemon's Prometheus endpoint: metrics listen ADDR:PORT, metrics
 * top-groups N.  Off unless listen is given. */
struct xm_conf_metrics {
	bool listen;		/* listen was given */
	uint8_t family;		/* XM_AF_INET, XM_AF_INET6 */
	__be32 addr[4];		/* net: IPv4 in addr[0]; all 0 = any address */
	uint16_t port;		/* host: 1..65535 */
	int top_groups;		/* 0..XM_CONF_TOP_GROUPS_MAX; -1 = not given */
	struct xm_conf_pos pos;	/* of the listen statement's "metrics" */
	struct xm_conf_pos top_pos;	/* of the top-groups one */
};
#define XM_CONF_TOP_GROUPS_MAX	1000
/* A static route, smcroute's mroute line:
 * mroute from IFACE [source PREFIX] group PREFIX to IFACE... */
#define XM_CONF_MROUTE_MAX_TO	32	/* the kernel's MAXVIFS */
struct xm_conf_mroute {
	char from[XM_IFNAMSIZ];
	struct xm_prefix source;	/* family 0 = any source, (*,G) */
	struct xm_prefix group;		/* multicast, wider than link scope */
	char to[XM_CONF_MROUTE_MAX_TO][XM_IFNAMSIZ];
	int nto;
	struct xm_conf_pos pos;		/* of "mroute" */
};

/* A policy.  Arrays keep the order of the file. */
struct xm_conf {
	struct xm_conf_scope *scopes;
	int nscopes;
	struct xm_conf_phyint *phyints;
	int nphyints;
	struct xm_conf_rule *rules;
	int nrules;
	struct xm_conf_join *joins;	/* no duplicates */
	int njoins;
	struct xm_conf_metrics metrics;
	struct xm_conf_mroute *mroutes;
	int nmroutes;
	char **files;		/* every file read, the main one first */
	int nfiles;
};

struct xm_conf_env {
	/* Whether an interface of this name exists; NULL accepts any valid
	 * name.  xm_conf_iface_exists() asks the kernel. */
	bool (*iface_exists)(const char *name, void *ctx);
	void *ctx;
	/* Make 'include' an error: for text from an untrusted source. */
	bool no_include;
};

struct xm_conf_errors {
	int count;		/* errors found, kept or not */
	char msg[XM_CONF_MAX_ERRORS][XM_CONF_ERRLEN];	/* the first ones */
};

/*
 * Read path (and what it includes) into a new policy.  Returns 0 and sets
 * *out, or returns a negative errno and leaves *out alone: -EINVAL when the
 * text has errors, the open() or read() error when path itself cannot be
 * read, -ENOMEM.  Every failure is described in errs (which may be NULL).
 * env may be NULL: every valid interface name is accepted.
 */
int xm_conf_load(const char *path, const struct xm_conf_env *env,
		 struct xm_conf **out, struct xm_conf_errors *errs);

/* The same from memory; name is used in messages, and relative includes
 * are taken from its directory.  text need not be NUL-terminated. */
int xm_conf_load_buffer(const char *name, const char *text, size_t len,
			const struct xm_conf_env *env, struct xm_conf **out,
			struct xm_conf_errors *errs);

/* Frees c and everything in it; NULL is fine. */
void xm_conf_free(struct xm_conf *c);

/* The policy as statements in canonical form, one per line: defined scopes,
 * then phyints with their scopes expanded, then rules, then joins.  What it
 * prints loads back into an equal policy.  The metrics line comes last. */
void xm_conf_print(const struct xm_conf *c, FILE *f);

/* Same scopes, phyints, rules and joins in the same order; positions and
 * file names are not compared. */
bool xm_conf_equal(const struct xm_conf *a, const struct xm_conf *b);

/* Same listen address and top-groups (positions are not compared). */
bool xm_conf_metrics_equal(const struct xm_conf_metrics *a, const struct xm_conf_metrics *b);

/* The snooping settings of a phyint: xm_mship_cfg_default(), then what the
 * file gives.  The addresses stay 0, for the daemon to fill in.  A phyint
 * that loaded always gives a cfg that xm_mship_iface_set() accepts. */
struct xm_mship_cfg;
void xm_conf_phyint_mship_cfg(const struct xm_conf_phyint *pi, struct xm_mship_cfg *out);

/* The kept messages, one per line, then how many were not kept. */
void xm_conf_errors_print(const struct xm_conf_errors *errs, FILE *f);

/* An iface_exists callback for the real system (if_nametoindex). */
bool xm_conf_iface_exists(const char *name, void *ctx);

/*
 * The rule that decides a packet, or NULL when none applies (the packet is
 * allowed).  Among the rules of direction dir whose interface is iface or
 * any, whose group contains group and whose source contains source (a rule
 * without a source contains every source), the most specific wins: the
 * longest group prefix, then the longest source prefix, then a rule naming
 * the interface over an 'any' rule.  Duplicates are refused at load, so
 * there is never a tie.  group and source are host prefixes (/32, /128);
 * source may be NULL when unknown, and then only rules without a source
 * apply.  The data path implements this; this is its reference.
 */
const struct xm_conf_rule *xm_policy_match(const struct xm_conf *c, int dir,
					   const char *iface,
					   const struct xm_prefix *group,
					   const struct xm_prefix *source);

/* "239.1.0.0/16", "ff05::/16", or a bare address meaning /32 or /128.
 * Returns 0, or -EINVAL with a one-line reason in why (which may be NULL),
 * e.g. "host bits set in 239.1.1.1/16; did you mean 239.1.0.0/16?". */
int xm_prefix_parse(const char *s, struct xm_prefix *p, char *why, size_t whylen);
/* Always "address/len". */
const char *xm_prefix_format(const struct xm_prefix *p, char *buf, size_t len);
/* inner lies within outer (same family, outer no longer than inner). */
bool xm_prefix_contains(const struct xm_prefix *outer, const struct xm_prefix *inner);
bool xm_prefix_equal(const struct xm_prefix *a, const struct xm_prefix *b);
/* Lies within 224.0.0.0/4 or ff00::/8. */
bool xm_prefix_is_multicast(const struct xm_prefix *p);

#endif
