/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between the XDP programs and every user-space reader and
 * writer of their maps: map names, key and value layouts, the verdict
 * reasons and the pin layout.  Included by BPF code and by user code, so it
 * uses only fixed-width UAPI types.
 *
 * Byte order: fields marked "host" are in CPU order, fields marked "net" are
 * in network order exactly as on the wire.
 */
#ifndef XDP_MCAST_KERN_USER_H
#define XDP_MCAST_KERN_USER_H

#include <linux/types.h>
#include <linux/bpf.h>

/* Pin layout under the pin directory (default below, or $XDP_MCAST_PIN_PATH,
 * or --pin-path).  Maps are pinned by libbpf under their own names. */
#define XM_PIN_DEFAULT		"/sys/fs/bpf/xdp-mcast"
#define XM_PIN_ENV		"XDP_MCAST_PIN_PATH"
#define XM_PIN_PROG		"prog_xdp_mcast"
#define XM_PIN_TC_PROG		"prog_tc_mcast"
#define XM_PIN_LINK_FMT		"link_xdp_%u"	/* %u = ifindex */
#define XM_PIN_EGRESS_PROG	"prog_xdp_egress"	/* the devmap egress program */

#define XM_MAP_IFACES		"xm_ifaces"
#define XM_MAP_REASONS		"xm_reasons"
#define XM_MAP_FLOWS		"xm_flows"
#define XM_MAP_GLOBAL		"xm_global"
#define XM_MAP_FLOW_CACHE	"xm_flow_cache"
#define XM_MAP_CLOCK		"xm_clock"
#define XM_MAP_EGRESS_CACHE	"xm_egress_cache"
#define XM_MAP_CTRL_RING	"xm_ctrl_ring"
#define XM_MAP_MEMBERS		"xm_members"
#define XM_MAP_MEMBER_SRC	"xm_member_src"
#define XM_MAP_SNOOP_CTR	"xm_snoop_ctr"
#define XM_MAP_CONFIG		"xm_config"
#define XM_MAP_BOUNDARY		"xm_boundary"
#define XM_MAP_RULE_GRP		"xm_rule_grp"
#define XM_MAP_RULE_SRC		"xm_rule_src"
#define XM_MAP_POL_HITS		"xm_pol_hits"
#define XM_MAP_POL_DESC		"xm_pol_desc"
#define XM_MAP_FWD		"xm_fwd"
#define XM_MAP_FWD_WILD		"xm_fwd_wild"
#define XM_MAP_FWD_PORTS	"xm_fwd_ports"

/* Sizes.  Slot 0 of the interface table is reserved for frames seen on an
 * interface the loader did not register (a program attached by hand). */
#define XM_MAX_IFACES		256
#define XM_REASON_SLOTS		32	/* room for the reasons later issues add */
#define XM_FLOWS_DEFAULT	65536
#define XM_IFINDEX_DEFAULT	16384	/* xm_ifaces entries: highest ifindex + 1 */
#define XM_FLOW_CACHE_SLOTS	256	/* per CPU, a power of two */
#define XM_VLAN_MAX_DEPTH	2	/* 802.1Q and 802.1ad (QinQ) */
#define XM_IPV6_EXT_MAX		8	/* extension headers walked before "malformed" */

#define XM_AF_INET		2	/* AF_INET, without pulling in libc */
#define XM_AF_INET6		10	/* AF_INET6 */

/*
 * Every multicast frame gets exactly one reason, and the reason decides the
 * verdict.  X(enum suffix, name shown to operators, XDP verdict).  The order
 * is ABI (it indexes xm_reasons): append only.
 */
#define XM_REASONS(X)						\
	X(FORWARD,	"forward",	XDP_PASS)		\
	X(LINK_LOCAL,	"link_local",	XDP_PASS)		\
	X(NODE_LOCAL,	"node_local",	XDP_DROP)		\
	X(IGMP,		"igmp",		XDP_PASS)		\
	X(MLD,		"mld",		XDP_PASS)		\
	X(TTL_EXPIRED,	"ttl_expired",	XDP_PASS)		\
	X(MALFORMED,	"malformed",	XDP_DROP)		\
	X(BAD_SOURCE,	"bad_source",	XDP_DROP)		\
	X(MAC_MISMATCH,	"mac_mismatch",	XDP_DROP)		\
	X(FRAGMENT,	"fragment",	XDP_PASS)		\
	X(BOUNDARY,	"boundary",	XDP_DROP)		\
	X(TTL_THRESHOLD, "ttl_threshold", XDP_DROP)		\
	X(POLICY,	"policy",	XDP_DROP)		\
	X(POLICY_AUDIT,	"policy_audit",	XDP_PASS)		\
	X(RPF_FAIL,	"rpf_fail",	XDP_DROP)		\
	X(ACCELERATED,	"accelerated",	XDP_REDIRECT)		\
	X(NO_OIF,	"no_oif",	XDP_DROP)

#define XM_REASON_ENUM(id, name, verdict) XM_R_##id,
enum xm_reason {
	XM_REASONS(XM_REASON_ENUM)
	XM_R_COUNT
};
#undef XM_REASON_ENUM
_Static_assert(XM_R_COUNT <= XM_REASON_SLOTS, "reason table full");

/* Global per-CPU counters (xm_global, PERCPU_ARRAY indexed by this enum). */
#define XM_GLOBALS(X)						\
	X(FLOWS_CREATED,	"flows_created")		\
	X(FLOW_INSERT_FAILED,	"flow_insert_failed")		\
	X(UNREGISTERED_IFACE,	"unregistered_iface")	\
	X(CTRL_CAPTURED,	"ctrl_captured")		\
	X(CTRL_RING_FULL,	"ctrl_ring_full")

#define XM_GLOBAL_ENUM(id, name) XM_G_##id,
enum xm_global {
	XM_GLOBALS(XM_GLOBAL_ENUM)
	XM_G_COUNT
};
#undef XM_GLOBAL_ENUM
#define XM_GLOBAL_SLOTS		16
_Static_assert(XM_G_COUNT <= XM_GLOBAL_SLOTS, "global counter table full");

/* Per-interface forwarding mode.  FILTER leaves the forwarding to the
 * kernel; ACCELERATE replicates what arrives on the interface and matches
 * a forwarding entry (docs/accelerate.md). */
enum xm_fwd_mode {
	XM_FWD_FILTER = 0,
	XM_FWD_ACCELERATE = 1,
};

/* The proxy role of an interface (igmpproxy's words), for the routes the
 * daemon derives from memberships. */
enum xm_fwd_role {
	XM_ROLE_NONE = 0,
	XM_ROLE_UPSTREAM = 1,
	XM_ROLE_DOWNSTREAM = 2,
};

/* How the program is attached, recorded for `status`. */
enum xm_attach_mode {
	XM_ATTACH_NATIVE = 0,
	XM_ATTACH_SKB = 1,
};

/* Per-interface policy of one generation (see "Scope policy" below). */
struct xm_ifpol {
	__u8  ttl_threshold;	/* leave only with TTL before decrement > this */
	__u8  flags;		/* XM_IFPOL_* */
	__u16 pad0;
	__u32 pad1;
};
_Static_assert(sizeof(struct xm_ifpol) == 8, "xm_ifpol layout");
#define XM_IFPOL_BOUNDARY	0x1	/* has boundaries: look them up */
#define XM_IFPOL_RULES_IN	0x2	/* has rules of its own, inbound */
#define XM_IFPOL_RULES_OUT	0x4	/* has rules of its own, outbound */

/* xm_ifaces: ARRAY indexed by ifindex (host), sized by the loader
 * (--max-ifindex).  An entry with slot 0 is an interface nobody registered. */
struct xm_iface {
	__u32 slot;		/* host: row of xm_reasons, 1..XM_MAX_IFACES-1 */
	__u16 egress_vlan;	/* host: 802.1Q id the accelerator sends with, 0 none */
	__u8  fwd_role;		/* enum xm_fwd_role */
	__u8  pad0;
	__u8  attach_mode;	/* enum xm_attach_mode */
	__u8  fwd_mode;		/* enum xm_fwd_mode */
	__u8  mac[6];		/* the interface's MAC: source of accelerated copies */
	char  name[16];		/* IFNAMSIZ, NUL-terminated, at load time */
	struct xm_ifpol pol[2];	/* policy by generation */
};
_Static_assert(sizeof(struct xm_iface) == 48, "xm_iface layout");

/* Direction of a decision: ingress is the XDP program, egress the TC
 * program (and the accelerator's devmap program). */
enum xm_dir {
	XM_DIR_IN = 0,
	XM_DIR_OUT = 1,
};

/* xm_reasons: PERCPU_ARRAY of 2 * XM_MAX_IFACES * XM_REASON_SLOTS counters,
 * index XM_REASON_INDEX(dir, slot, reason).  xm_global uses the same value. */
#define XM_REASON_INDEX(dir, slot, r) \
	(((dir) * XM_MAX_IFACES + (slot)) * XM_REASON_SLOTS + (r))
struct xm_counter {
	__u64 packets;		/* host */
	__u64 bytes;		/* host: whole frame from the Ethernet header, no FCS */
};
_Static_assert(sizeof(struct xm_counter) == 16, "xm_counter layout");

/* xm_flows: LRU_PERCPU_HASH, struct xm_flow_key -> struct xm_flow. */
struct xm_flow_key {
	__u32 ifindex;		/* host: ingress interface */
	__u16 vlan;		/* host: innermost VLAN id, 0 when untagged */
	__u8  family;		/* XM_AF_INET or XM_AF_INET6 */
	__u8  pad;		/* 0 */
	__be32 group[4];	/* net: IPv4 in group[0], rest 0 */
	__be32 source[4];	/* net: IPv4 in source[0], rest 0 */
};
_Static_assert(sizeof(struct xm_flow_key) == 40, "xm_flow_key layout");

struct xm_flow {
	__u64 packets;		/* host */
	__u64 bytes;		/* host: whole frames, as xm_counter */
	__u64 first_seen_ns;	/* host: CLOCK_MONOTONIC (coarse), 0 = not on this CPU */
	__u64 last_seen_ns;	/* host: CLOCK_MONOTONIC (coarse) */
	__u32 last_reason;	/* host: enum xm_reason of the newest frame */
	__u32 reason_mask;	/* host: bit r set when reason r was seen */
	__u32 pol_epoch;	/* host: epoch of the cached decision, 0 none */
	__u32 pol_reason;	/* host: the ingress decision, XM_R_FORWARD if allowed */
	__u32 pol_hit;		/* host: xm_pol_hits index + 1, 0 none */
	__u32 pad;
	__u64 copies;		/* host: copies the accelerator sent: for each
				 * accelerated frame, the ports of the set it
				 * was redirected to (before any egress drop) */
};
_Static_assert(sizeof(struct xm_flow) == 64, "xm_flow layout");

/*
 * xm_egress_cache: PERCPU_ARRAY of XM_FLOW_CACHE_SLOTS, direct-mapped: the
 * TC egress program's table lookups (boundary and rules, all but the TTL
 * threshold) for (interface, group, source), valid for one policy epoch.
 */
struct xm_egress_slot {
	__u32 ifindex;		/* host */
	__u32 epoch;		/* host: 0 = empty */
	__be32 group[4];	/* net, IPv4-mapped */
	__be32 source[4];	/* net, IPv4-mapped */
	__u32 boundary_hit;	/* host: as struct pol_lookup */
	__u32 rule_reason;
	__u32 rule_hit;
	__u32 pad;
};
_Static_assert(sizeof(struct xm_egress_slot) == 56, "xm_egress_slot layout");

/* xm_clock: PERCPU_ARRAY of one; the coarse clock read once per tick. */
struct xm_clock {
	__u64 jiffies;
	__u64 ns;
};

/*
 * Scope policy.  Every policy map is keyed by a generation bit; the data
 * path reads xm_config.epoch once per packet and looks up only entries of
 * generation epoch & 1.  A reload writes the other generation, bumps the
 * epoch in one update, then clears the old generation: a packet sees the
 * old policy or the new one, never a mix.
 */
#define XM_POLICY_DEFAULT	131072	/* LPM entries per map, both generations */
#define XM_POL_HITS_DEFAULT	(2 * XM_POLICY_DEFAULT)

/* xm_config: ARRAY of one. */
struct xm_config {
	__u32 epoch;		/* host: bumped by every policy switch */
	__u32 flags;		/* host: XM_CFG_* */
	__u32 nhits;		/* host: entries of xm_pol_desc in use, this epoch */
	__u32 fwd_epoch;	/* host: bumped after every change of the
				 * forwarding entries (xm_fwd, xm_fwd_wild,
				 * xm_fwd_ports, XM_CFG_FWD_WILD), which makes
				 * the copies in the flow caches stale */
};
_Static_assert(sizeof(struct xm_config) == 16, "xm_config layout");
#define XM_CFG_POLICY	0x1	/* a policy is installed: look it up */
#define XM_CFG_SNOOP	0x2	/* a daemon reads xm_ctrl_ring: copy IGMP and MLD */
#define XM_CFG_RULES_OUT_ANY 0x8 /* the policy of this epoch has outbound
				  * rules for any interface */

/*
 * LPM keys.  IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d) so one
 * trie holds both families.  The fixed fields before the address are
 * always matched in full: prefixlen = XM_LPM_*_FIXED_BITS + address bits.
 */
#define XM_LPM_V4_BITS		96	/* the ::ffff: part of a mapped address */

/* xm_boundary and xm_rule_grp: LPM_TRIE. */
struct xm_lpm_group_key {
	__u32 prefixlen;	/* host */
	__u8  gen;		/* 0 or 1 */
	__u8  dir;		/* enum xm_dir; 0 in xm_boundary (both ways) */
	__u16 pad;		/* 0 */
	__u32 ifindex;		/* host; 0 = the rules for any interface */
	__be32 group[4];	/* net, IPv4-mapped */
};
_Static_assert(sizeof(struct xm_lpm_group_key) == 28, "xm_lpm_group_key layout");
#define XM_LPM_GROUP_FIXED_BITS	64

/* xm_rule_grp value: the node whose sources decide. */
struct xm_rule_node {
	__u32 node;		/* host: key of xm_rule_src */
};

/* xm_rule_src: LPM_TRIE. */
struct xm_lpm_source_key {
	__u32 prefixlen;	/* host */
	__u32 node;		/* host */
	__be32 source[4];	/* net, IPv4-mapped */
};
_Static_assert(sizeof(struct xm_lpm_source_key) == 24, "xm_lpm_source_key layout");
#define XM_LPM_SOURCE_FIXED_BITS 32

/* Value of xm_boundary and xm_rule_src: what to do and where to count it. */
struct xm_pol_action {
	__u32 hit;		/* host: index in xm_pol_hits */
	__u8  deny;		/* 1 drop, 0 allow */
	__u8  audit;		/* 1: count as policy_audit, do not drop */
	__u16 pad;
};
_Static_assert(sizeof(struct xm_pol_action) == 8, "xm_pol_action layout");

/*
 * xm_pol_hits (PERCPU_ARRAY of struct xm_counter) and xm_pol_desc (ARRAY,
 * written and read by user space only) share an index: generation g uses
 * indexes from g * (size / 2) on.  The description says what each counter
 * counts, so any reader can show the policy without the config file.
 */
enum xm_pol_kind {
	XM_POL_UNUSED = 0,
	XM_POL_RULE = 1,
	XM_POL_BOUNDARY = 2,
};

struct xm_pol_desc {
	__u8  kind;		/* enum xm_pol_kind */
	__u8  dir;		/* enum xm_dir; rules only */
	__u8  deny;
	__u8  audit;
	__u32 ifindex;		/* host; 0 = any interface */
	__u8  group_family;	/* XM_AF_* */
	__u8  group_len;
	__u8  source_family;	/* 0 = any source */
	__u8  source_len;
	__u32 line;		/* host: line in the file that defined it */
	__be32 group[4];	/* net; IPv4 in group[0] */
	__be32 source[4];	/* net; IPv4 in source[0] */
};
_Static_assert(sizeof(struct xm_pol_desc) == 48, "xm_pol_desc layout");

/*
 * IGMP and MLD snooping.  The XDP program copies every IGMP and MLD message
 * it passes into xm_ctrl_ring (RINGBUF) while XM_CFG_SNOOP is set; a full
 * ring loses the copy, never the packet, and counts ctrl_ring_full.
 */
#define XM_CTRL_RING_DEFAULT	(1 << 20)	/* bytes */
#define XM_CTRL_CAPTURE		1504		/* bytes from the IP header on */
#define XM_MEMBERS_DEFAULT	131072		/* groups per router, all interfaces */
#define XM_MEMBER_SRC_DEFAULT	262144		/* source records, all groups */

struct xm_ctrl_event {
	__u64 ts_ns;		/* host: bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u32 ifindex;		/* host: where it arrived */
	__u16 vlan;		/* host: innermost VLAN id, 0 untagged */
	__u8  family;		/* XM_AF_* */
	__u8  pad;
	__u16 len;		/* host: bytes in data */
	__u16 frame_len;	/* host: bytes from the IP header to the frame's end */
	__u8  smac[6];		/* the sender's MAC */
	__u8  pad1[6];
	__u8  data[XM_CTRL_CAPTURE];	/* net: the IP packet, cut at len */
};
_Static_assert(sizeof(struct xm_ctrl_event) == 32 + XM_CTRL_CAPTURE, "xm_ctrl_event layout");

/* Membership, as the daemon learns it: written by user space, read by the
 * accelerator and the readers. */
enum xm_filter_mode {
	XM_FILTER_INCLUDE = 1,
	XM_FILTER_EXCLUDE = 2,
};

/* xm_members: HASH, struct xm_member_key -> struct xm_member. */
struct xm_member_key {
	__u32 ifindex;		/* host */
	__u16 vlan;		/* host */
	__u8  family;		/* XM_AF_* */
	__u8  pad;
	__be32 group[4];	/* net; IPv4 in group[0] */
};
_Static_assert(sizeof(struct xm_member_key) == 24, "xm_member_key layout");

struct xm_member {
	__u8  filter_mode;	/* enum xm_filter_mode */
	__u8  compat;		/* version in force: IGMP 1-3, MLD 1-2 */
	__u8  flags;		/* XM_MEMBER_* */
	__u8  pad;
	__u32 nsources;		/* host: entries in xm_member_src */
	__u64 expires_ns;	/* host: CLOCK_MONOTONIC; 0 = never */
	__be32 last_reporter[4];	/* net */
	__u64 src_expires_ns;	/* host: the timer of every source whose
				 * expires_ns is XM_SRC_EXPIRES_GROUP */
};
_Static_assert(sizeof(struct xm_member) == 40, "xm_member layout");
#define XM_MEMBER_STATIC	0x1	/* configured, never expires */

/* xm_member_src: HASH, (group key, source) -> struct xm_member_src.  In
 * INCLUDE mode the listed sources are wanted; in EXCLUDE mode the sources
 * with forward = 0 are not.  A source refreshed with the group's latest
 * report has expires_ns XM_SRC_EXPIRES_GROUP and its timer in the group's
 * src_expires_ns: a report refreshing 64 sources rewrites one row, not 65
 * (docs/snooping.md). */
struct xm_member_src_key {
	struct xm_member_key g;
	__be32 source[4];	/* net */
};
_Static_assert(sizeof(struct xm_member_src_key) == 40, "xm_member_src_key layout");

struct xm_member_src {
	__u64 expires_ns;	/* host: CLOCK_MONOTONIC; 0 = never or not running */
	__u8  forward;		/* 1: traffic from this source is wanted */
	__u8  pad[7];
};
_Static_assert(sizeof(struct xm_member_src) == 16, "xm_member_src layout");
#define XM_SRC_EXPIRES_GROUP	(~0ULL)	/* expires_ns: see xm_member.src_expires_ns */

/* xm_snoop_ctr: ARRAY of __u64, written by the daemon only: row slot of
 * XM_SNOOP_SLOTS snooping counters per interface (userspace/snoop_ctr.h
 * names them). */
#define XM_SNOOP_SLOTS		64

/*
 * The accelerator's forwarding entries (docs/accelerate.md).  An entry
 * says where a (source, group) arrives and where it goes:
 *
 *   xm_fwd       HASH, struct xm_fwd_key -> struct xm_fwd_entry: exact
 *                (S,G) entries, and (*,G) entries with source all zero.
 *   xm_fwd_wild  LPM_TRIE, struct xm_fwd_lpm_key -> struct xm_fwd_entry:
 *                routes with a group or source prefix (smcroute's
 *                `group 225.1.2.0/24`), looked up only when xm_fwd has no
 *                entry and XM_CFG_FWD_WILD is set.
 *   xm_fwd_ports ARRAY_OF_MAPS of DEVMAP_HASH, index
 *                entry.ports * XM_FWD_TIERS + tier: the outgoing
 *                interfaces.  Entries with equal outgoing sets share them.
 *
 * Lookup order: (S,G) in xm_fwd, (*,G) in xm_fwd, then xm_fwd_wild (the
 * longest group prefix, then the longest source prefix).  User space
 * keeps a (*,G) whose G also has wildcard source routes in xm_fwd_wild,
 * so the order never hides a more specific route.
 *
 * TTL thresholds of the outgoing interfaces (ipmr's ttls[vif]): the
 * distinct thresholds of an entry, ascending, are thr[0..ntiers-1]; inner
 * map `tier` holds the interfaces whose threshold is <= thr[tier].  A
 * packet with TTL t uses the highest tier with thr[tier] < t.  At most
 * XM_FWD_TIERS distinct thresholds per entry.
 */
#define XM_FWD_DEFAULT		65536	/* entries in xm_fwd (--routes) */
#define XM_FWD_WILD_DEFAULT	4096	/* entries in xm_fwd_wild */
#define XM_FWD_TIERS		4
#define XM_FWD_PORT_SETS_DEFAULT 16384	/* distinct outgoing sets */
#define XM_FWD_PORTS_MAX	64	/* interfaces in one outgoing set */

struct xm_fwd_key {
	__u8  family;		/* XM_AF_* */
	__u8  pad[3];		/* 0 */
	__be32 group[4];	/* net; IPv4 in group[0], rest 0 */
	__be32 source[4];	/* net; all 0 for (*,G) */
};
_Static_assert(sizeof(struct xm_fwd_key) == 36, "xm_fwd_key layout");

/* xm_fwd_wild: addresses IPv4-mapped as in the policy tries; prefixlen
 * counts group bits (128 for one group) plus source bits after them. */
struct xm_fwd_lpm_key {
	__u32 prefixlen;	/* host */
	__be32 group[4];	/* net, IPv4-mapped */
	__be32 source[4];	/* net, IPv4-mapped */
};
_Static_assert(sizeof(struct xm_fwd_lpm_key) == 36, "xm_fwd_lpm_key layout");

struct xm_fwd_entry {
	__u32 iif;		/* host: ifindex the traffic must arrive on */
	__u16 iif_vlan;		/* host: ... with this innermost VLAN id, 0 untagged */
	__u8  ntiers;		/* host: 0 = no outgoing interface: drop (no_oif) */
	__u8  flags;		/* XM_FWD_F_* */
	__u32 ports;		/* host: port set, row of xm_fwd_ports */
	__u8  thr[XM_FWD_TIERS];	/* ascending distinct TTL thresholds */
	__u8  nports[XM_FWD_TIERS];	/* host: interfaces in each tier's set */
};
_Static_assert(sizeof(struct xm_fwd_entry) == 20, "xm_fwd_entry layout");
#define XM_FWD_F_KERNEL	0x1	/* leave to the kernel (a listener on the router) */
/* The other bits are for user space (xdp-mcast routes); the data path
 * reads XM_FWD_F_KERNEL only. */
#define XM_FWD_F_LISTENER	0x2	/* the router listens to the group on iif */
#define XM_FWD_F_ORIGIN_SHIFT	4	/* bits 4-5: the route's origin, 1 + */
#define XM_FWD_F_ORIGIN_MASK	0x30	/* enum xm_mroute_origin; 0 unknown */

#define XM_CFG_FWD_WILD	0x4	/* xm_config: xm_fwd_wild has entries */

/*
 * xm_flow_cache: PERCPU_ARRAY of XM_FLOW_CACHE_SLOTS, a direct-mapped
 * write-back cache in front of xm_flows.  A frame whose flow sits in its
 * slot is counted there (no hash lookup); the slot's counts are added to
 * xm_flows when the slot changes flow or on the first frame of a new clock
 * tick.  Readers add the pending counts of every slot to xm_flows.  The
 * slot also caches the flow's ingress policy decision for one policy
 * epoch and, on an accelerating interface, its forwarding entry for one
 * forwarding epoch (xm_config.fwd_epoch).  (Defined here, after the
 * forwarding entry it holds.)
 */
struct xm_flow_slot {
	struct xm_flow_key key;
	__u64 packets;		/* host: not yet in xm_flows */
	__u64 bytes;		/* host */
	__u64 last_seen_ns;	/* host: as xm_flow */
	__u64 flushed_jiffies;	/* host: tick of the last write-back */
	__u32 last_reason;	/* host */
	__u32 reason_mask;	/* host: reasons pending */
	__u32 valid;		/* host: 1 when key is a flow */
	__u32 pol_epoch;	/* host: epoch the decision below is for, 0 none */
	__u32 pol_reason;	/* host: enum xm_reason, XM_R_FORWARD if allowed */
	__u32 pol_hit;		/* host: xm_pol_hits index + 1, 0 none */
	__u64 copies;		/* host: not yet in xm_flows */
	__u32 fwd_epoch;	/* host: forwarding epoch of the entry below, 0 none */
	__u32 fwd_found;	/* host: 1 when the flow has an entry then */
	struct xm_fwd_entry fwd;	/* the flow's entry in that epoch */
	__u32 pad;
};
_Static_assert(sizeof(struct xm_flow_slot) == 136, "xm_flow_slot layout");

#endif /* XDP_MCAST_KERN_USER_H */
