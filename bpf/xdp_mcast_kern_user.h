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
#define XM_PIN_LINK_FMT		"link_xdp_%u"	/* %u = ifindex */

#define XM_MAP_IFACES		"xm_ifaces"
#define XM_MAP_REASONS		"xm_reasons"
#define XM_MAP_FLOWS		"xm_flows"
#define XM_MAP_GLOBAL		"xm_global"

/* Sizes.  Slot 0 of the interface table is reserved for frames seen on an
 * interface the loader did not register (a program attached by hand). */
#define XM_MAX_IFACES		256
#define XM_REASON_SLOTS		32	/* room for the reasons later issues add */
#define XM_FLOWS_DEFAULT	65536
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
	X(FRAGMENT,	"fragment",	XDP_PASS)

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
	X(UNREGISTERED_IFACE,	"unregistered_iface")

#define XM_GLOBAL_ENUM(id, name) XM_G_##id,
enum xm_global {
	XM_GLOBALS(XM_GLOBAL_ENUM)
	XM_G_COUNT
};
#undef XM_GLOBAL_ENUM
#define XM_GLOBAL_SLOTS		16
_Static_assert(XM_G_COUNT <= XM_GLOBAL_SLOTS, "global counter table full");

/* Per-interface forwarding mode (issue: accelerator).  FILTER leaves the
 * forwarding to the kernel. */
enum xm_fwd_mode {
	XM_FWD_FILTER = 0,
	XM_FWD_ACCELERATE = 1,
};

/* How the program is attached, recorded for `status`. */
enum xm_attach_mode {
	XM_ATTACH_NATIVE = 0,
	XM_ATTACH_SKB = 1,
};

/* xm_ifaces: HASH, key __u32 ifindex (host) -> struct xm_iface. */
struct xm_iface {
	__u32 slot;		/* host: row of xm_reasons, 1..XM_MAX_IFACES-1 */
	__u32 flags;		/* host: reserved, 0 */
	__u8  attach_mode;	/* enum xm_attach_mode */
	__u8  fwd_mode;		/* enum xm_fwd_mode */
	__u8  ttl_threshold;	/* forward out only if TTL > this; 0 = none */
	__u8  pad0;
	__u32 pad1;
	char  name[16];		/* IFNAMSIZ, NUL-terminated, at load time */
};
_Static_assert(sizeof(struct xm_iface) == 32, "xm_iface layout");

/* xm_reasons: PERCPU_ARRAY of XM_MAX_IFACES * XM_REASON_SLOTS counters,
 * index slot * XM_REASON_SLOTS + reason.  xm_global uses the same value. */
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
};
_Static_assert(sizeof(struct xm_flow) == 40, "xm_flow layout");

#endif /* XDP_MCAST_KERN_USER_H */
