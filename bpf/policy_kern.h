/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scope-policy decision, shared by every program that forwards or
 * polices multicast: the XDP ingress program, the TC egress program and
 * the accelerator's devmap egress program.  One implementation, so that
 * whoever forwards, the policy holds.
 *
 * Order, for a data packet (not link-local, not IGMP/MLD) on interface X
 * in direction dir:
 *   1. the group lies in a boundary of X               -> boundary (drop)
 *   2. out only: TTL before decrement <= X's threshold  -> ttl_threshold (drop)
 *   3. the most specific filter rule (docs/policy.md)  -> policy (drop) or
 *      policy_audit (pass, counted), or allowed
 * Boundaries apply in both directions, so a boundary group never enters
 * nor leaves X.
 */
#ifndef XDP_MCAST_POLICY_KERN_H
#define XDP_MCAST_POLICY_KERN_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_mcast_kern_user.h"

/* Map sizes are set by the loader before load (--policy-size). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XM_POLICY_DEFAULT);
	__type(key, struct xm_lpm_group_key);
	__type(value, struct xm_pol_action);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_boundary SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XM_POLICY_DEFAULT);
	__type(key, struct xm_lpm_group_key);
	__type(value, struct xm_rule_node);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_rule_grp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XM_POLICY_DEFAULT);
	__type(key, struct xm_lpm_source_key);
	__type(value, struct xm_pol_action);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_rule_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_POL_HITS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xm_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_pol_hits SEC(".maps");

/* Read by user space only; declared here so the object creates and pins it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XM_POL_HITS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xm_pol_desc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_pol_desc SEC(".maps");

/* The packet as the policy sees it. */
struct pol_pkt {
	__u32 ifindex;
	__u8  dir;		/* enum xm_dir */
	__u8  ttl;		/* before this hop's decrement */
	__be32 group[4];	/* IPv4-mapped */
	__be32 source[4];	/* IPv4-mapped */
};

/* The outcome: a reason (XM_R_FORWARD when allowed) and the policy
 * counter to add the packet to, hit = 0 for none (stored as index + 1). */
struct pol_result {
	__u32 reason;
	__u32 hit;
};

/* The epoch in force by xm_config's value cfg, 0 when no policy is
 * installed (nothing to look up). */
static __always_inline __u32 policy_epoch_of(const struct xm_config *cfg)
{
	if (!cfg || !(cfg->flags & XM_CFG_POLICY))
		return 0;
	return cfg->epoch | 0x80000000u;	/* never 0 while a policy is on */
}

static __always_inline __u32 policy_epoch(void)
{
	__u32 zero = 0;

	return policy_epoch_of(bpf_map_lookup_elem(&xm_config, &zero));
}

static __always_inline void map_v4(__be32 out[4], __be32 addr)
{
	out[0] = 0;
	out[1] = 0;
	out[2] = bpf_htonl(0x0000ffff);
	out[3] = addr;
}

static __always_inline void copy_v6(__be32 out[4], const __be32 *addr)
{
	out[0] = addr[0];
	out[1] = addr[1];
	out[2] = addr[2];
	out[3] = addr[3];
}

static __always_inline struct xm_pol_action *
rule_lookup(const struct pol_pkt *p, __u8 gen, __u32 ifindex)
{
	struct xm_lpm_group_key gk = {
		.prefixlen = XM_LPM_GROUP_FIXED_BITS + 128,
		.gen = gen,
		.dir = p->dir,
		.ifindex = ifindex,
	};
	struct xm_lpm_source_key sk = {
		.prefixlen = XM_LPM_SOURCE_FIXED_BITS + 128,
	};
	struct xm_rule_node *node;

	copy_v6(gk.group, p->group);
	node = bpf_map_lookup_elem(&xm_rule_grp, &gk);
	if (!node)
		return NULL;
	sk.node = node->node;
	copy_v6(sk.source, p->source);
	return bpf_map_lookup_elem(&xm_rule_src, &sk);
}

/* What the tables say about (interface, direction, group, source): all of
 * the decision but the TTL threshold, so it can be cached per flow. */
struct pol_lookup {
	__u32 boundary_hit;	/* xm_pol_hits index + 1 of the boundary, 0 none */
	__u32 rule_reason;	/* XM_R_FORWARD, XM_R_POLICY or XM_R_POLICY_AUDIT */
	__u32 rule_hit;		/* xm_pol_hits index + 1 of the rule, 0 none */
};

static __always_inline struct pol_lookup policy_lookup(const struct pol_pkt *p,
						       const struct xm_iface *ifc,
						       __u32 epoch)
{
	struct pol_lookup l = { .rule_reason = XM_R_FORWARD };
	const struct xm_ifpol *ifp = NULL;
	struct xm_pol_action *act;
	__u8 gen = epoch & 1, rules_flag;

	if (!epoch)
		return l;
	if (ifc)
		ifp = &ifc->pol[gen];
	if (ifp && (ifp->flags & XM_IFPOL_BOUNDARY)) {
		struct xm_lpm_group_key bk = {
			.prefixlen = XM_LPM_GROUP_FIXED_BITS + 128,
			.gen = gen,
			.ifindex = p->ifindex,
		};

		copy_v6(bk.group, p->group);
		act = bpf_map_lookup_elem(&xm_boundary, &bk);
		if (act) {
			l.boundary_hit = act->hit + 1;
			return l;	/* nothing after a boundary matters */
		}
	}

	/* An interface with rules of its own has the 'any' rules merged into
	 * its tables; the others use the 'any' tables (ifindex 0). */
	rules_flag = p->dir == XM_DIR_IN ? XM_IFPOL_RULES_IN : XM_IFPOL_RULES_OUT;
	act = rule_lookup(p, gen, ifp && (ifp->flags & rules_flag) ? p->ifindex : 0);
	if (act) {
		l.rule_hit = act->hit + 1;
		if (act->audit)		/* counted, never enforced */
			l.rule_reason = XM_R_POLICY_AUDIT;
		else if (act->deny)
			l.rule_reason = XM_R_POLICY;
	}
	return l;
}

/* The decision from a lookup and this packet's TTL. */
static __always_inline struct pol_result policy_finish(const struct pol_lookup *l,
						       const struct pol_pkt *p,
						       const struct xm_iface *ifc,
						       __u32 epoch)
{
	struct pol_result res = { .reason = XM_R_FORWARD, .hit = 0 };

	if (!epoch)
		return res;
	if (l->boundary_hit) {
		res.reason = XM_R_BOUNDARY;
		res.hit = l->boundary_hit;
	} else if (p->dir == XM_DIR_OUT && ifc && p->ttl <= ifc->pol[epoch & 1].ttl_threshold) {
		res.reason = XM_R_TTL_THRESHOLD;
	} else {
		res.reason = l->rule_reason;
		res.hit = l->rule_hit;
	}
	return res;
}

/* Decide for one packet on interface ifc (its xm_ifaces entry, or NULL)
 * under the policy of epoch (from policy_epoch()). */
static __always_inline struct pol_result policy_decide(const struct pol_pkt *p,
						       const struct xm_iface *ifc,
						       __u32 epoch)
{
	struct pol_lookup l = policy_lookup(p, ifc, epoch);

	return policy_finish(&l, p, ifc, epoch);
}

static __always_inline void policy_count_hit(__u32 hit, __u64 len)
{
	struct xm_counter *c;
	__u32 idx;

	if (!hit)
		return;
	idx = hit - 1;
	c = bpf_map_lookup_elem(&xm_pol_hits, &idx);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

#endif /* XDP_MCAST_POLICY_KERN_H */
