// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_mcast: classify IP multicast at the driver, give every multicast frame
 * one reason and one verdict, and count it per interface and per flow.
 *
 * Frames that are not IP multicast leave at once with XDP_PASS and are not
 * counted, so unicast costs what an empty program costs.  The order of the
 * checks (docs/design.md) decides which reason a frame with several faults
 * gets.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <linux/pkt_cls.h>

#include "xdp_mcast_kern_user.h"
#include "parsing_kern.h"
#include "policy_kern.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time settings, written through the skeleton's rodata. */
const volatile __u8 cfg_check_mac = 1;	/* drop frames whose MAC is not the group's */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XM_IFINDEX_DEFAULT);	/* the loader's --max-ifindex */
	__type(key, __u32);
	__type(value, struct xm_iface);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * XM_MAX_IFACES * XM_REASON_SLOTS);
	__type(key, __u32);
	__type(value, struct xm_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, XM_FLOWS_DEFAULT);	/* the loader's --flows resizes it */
	__type(key, struct xm_flow_key);
	__type(value, struct xm_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_GLOBAL_SLOTS);
	__type(key, __u32);
	__type(value, struct xm_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_global SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct xm_flow_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_flow_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_clock);
} xm_clock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct xm_egress_slot);
} xm_egress_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XM_CTRL_RING_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_ctrl_ring SEC(".maps");

/* Written by the daemon; declared here so the object creates and pins them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_MEMBERS_DEFAULT);
	__type(key, struct xm_member_key);
	__type(value, struct xm_member);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_members SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_MEMBER_SRC_DEFAULT);
	__type(key, struct xm_member_src_key);
	__type(value, struct xm_member_src);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_member_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XM_MAX_IFACES * XM_SNOOP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_snoop_ctr SEC(".maps");

/* The accelerator's forwarding entries (the contract header explains
 * them); written by the daemon's forwarding table (userspace/fwd.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_FWD_DEFAULT);	/* the loader's --routes */
	__type(key, struct xm_fwd_key);
	__type(value, struct xm_fwd_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_fwd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XM_FWD_WILD_DEFAULT);
	__type(key, struct xm_fwd_lpm_key);
	__type(value, struct xm_fwd_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_fwd_wild SEC(".maps");

/* The template of the inner maps: user space creates each one sized to
 * the interfaces it holds, since a broadcast walks every bucket. */
struct xm_fwd_devmap {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bpf_devmap_val));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XM_FWD_PORT_SETS_DEFAULT * XM_FWD_TIERS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct xm_fwd_devmap);
} xm_fwd_ports SEC(".maps");

#define XM_VERDICT_CASE(id, name, verdict) case XM_R_##id: return verdict;
static __always_inline int reason_verdict(enum xm_reason r)
{
	switch (r) {
	XM_REASONS(XM_VERDICT_CASE)
	default:
		return XDP_DROP;
	}
}

static __always_inline void global_inc(__u32 which)
{
	struct xm_counter *g = bpf_map_lookup_elem(&xm_global, &which);

	if (g)
		g->packets++;
}

/* The coarse clock, read from the kernel once per tick per CPU: jiffies
 * are a plain load, the clock helper is not. */
static __always_inline __u64 clock_now(__u64 jiffies)
{
	__u32 zero = 0;
	struct xm_clock *c = bpf_map_lookup_elem(&xm_clock, &zero);

	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != jiffies) {
		c->jiffies = jiffies;
		c->ns = bpf_ktime_get_coarse_ns();
	}
	return c->ns;
}

/*
 * Add packets to a flow's xm_flows entry f, looked up by the caller, or
 * create the entry when f is NULL.  pol, when given, is the flow's ingress
 * decision under epoch, kept in the entry so that a flow that lost its
 * cache slot does not walk the policy tables again.
 */
static __always_inline void flow_count(struct xm_flow *f, const struct xm_flow_key *key,
				       __u64 packets, __u64 bytes, __u64 copies, __u64 now,
				       __u32 last_reason, __u32 mask,
				       const struct pol_result *pol, __u32 epoch)
{
	if (f) {
		/* The entry may exist while this CPU's copy is still empty. */
		if (!f->first_seen_ns)
			f->first_seen_ns = now;
		f->packets += packets;
		f->bytes += bytes;
		f->copies += copies;
		f->last_seen_ns = now;
		f->last_reason = last_reason;
		f->reason_mask |= mask;
		return;
	}

	struct xm_flow nf = {
		.packets = packets,
		.bytes = bytes,
		.copies = copies,
		.first_seen_ns = now,
		.last_seen_ns = now,
		.last_reason = last_reason,
		.reason_mask = mask,
	};
	if (pol) {
		nf.pol_epoch = epoch;
		nf.pol_reason = pol->reason;
		nf.pol_hit = pol->hit;
	}
	if (bpf_map_update_elem(&xm_flows, key, &nf, BPF_NOEXIST) == 0)
		global_inc(XM_G_FLOWS_CREATED);
	else
		global_inc(XM_G_FLOW_INSERT_FAILED);
}

/* Write a slot's pending counts back to xm_flows. */
static __always_inline void slot_flush(struct xm_flow_slot *s, __u64 jiffies)
{
	if (s->packets)
		flow_count(bpf_map_lookup_elem(&xm_flows, &s->key), &s->key, s->packets,
			   s->bytes, s->copies, s->last_seen_ns, s->last_reason,
			   s->reason_mask, NULL, 0);
	s->packets = 0;
	s->bytes = 0;
	s->copies = 0;
	s->reason_mask = 0;
	s->flushed_jiffies = jiffies;
}

static __always_inline int key_equal(const struct xm_flow_key *a,
				     const struct xm_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) |
		(x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

static __always_inline __u32 key_slot(const struct xm_flow_key *k)
{
	__u32 h = k->ifindex ^ ((__u32)k->vlan << 16) ^
		  k->group[0] ^ k->group[3] ^ k->source[0] ^ k->source[3];

	h *= 0x9e3779b1u;
	return h >> (32 - 8);
}
_Static_assert(XM_FLOW_CACHE_SLOTS == 256, "key_slot() takes 8 bits");

/*
 * The flow's cache slot.  When it held another flow, that flow's counts
 * are written back and the slot is given to this one with nothing pending;
 * *fresh then tells the caller to count this frame in xm_flows directly,
 * so that a new flow is in the table from its first frame.
 */
static __always_inline struct xm_flow_slot *
flow_slot(const struct xm_flow_key *key, __u64 now, __u64 jiffies, int *fresh)
{
	__u32 idx = key_slot(key);
	struct xm_flow_slot *s = bpf_map_lookup_elem(&xm_flow_cache, &idx);

	*fresh = 1;
	if (!s)
		return NULL;
	if (s->valid && key_equal(&s->key, key)) {
		*fresh = 0;
		return s;
	}
	if (s->valid)
		slot_flush(s, jiffies);
	__builtin_memcpy(&s->key, key, sizeof(*key));
	s->valid = 1;
	s->pol_epoch = 0;
	s->fwd_epoch = 0;
	s->last_seen_ns = now;
	s->flushed_jiffies = jiffies;
	return s;
}

static __always_inline void slot_count(struct xm_flow_slot *s, __u64 len, __u64 copies,
				       __u64 now, __u64 jiffies, enum xm_reason r)
{
	s->packets++;
	s->bytes += len;
	s->copies += copies;
	s->last_seen_ns = now;
	s->last_reason = r;
	s->reason_mask |= 1U << r;
	if (s->flushed_jiffies != jiffies)
		slot_flush(s, jiffies);
}

static __always_inline void count_reason(__u32 dir, const struct xm_iface *ifc,
					 enum xm_reason r, __u64 len)
{
	struct xm_counter *ctr;
	__u32 slot = 0, idx;

	if (ifc && ifc->slot && ifc->slot < XM_MAX_IFACES)
		slot = ifc->slot;
	else
		global_inc(XM_G_UNREGISTERED_IFACE);
	idx = XM_REASON_INDEX(dir, slot, r);
	ctr = bpf_map_lookup_elem(&xm_reasons, &idx);
	if (ctr) {
		ctr->packets++;
		ctr->bytes += len;
	}
}

/* Reasons that leave the data to the policy: everything the router would
 * deliver or forward.  Control, link-local and dropped frames are not
 * policed. */
static __always_inline int policed(enum xm_reason r)
{
	return r == XM_R_FORWARD || r == XM_R_TTL_EXPIRED || r == XM_R_FRAGMENT;
}

static __always_inline void pol_addrs(struct pol_pkt *p, const struct xm_flow_key *key)
{
	if (key->family == XM_AF_INET) {
		map_v4(p->group, key->group[0]);
		map_v4(p->source, key->source[0]);
	} else {
		copy_v6(p->group, key->group);
		copy_v6(p->source, key->source);
	}
}

/* The ingress decision for a flow: from its cache slot s or its table
 * entry f when either holds one for this epoch, else from the tables, and
 * then kept in both. */
static __always_inline struct pol_result ingress_policy(const struct xm_flow_key *key,
							const struct xm_iface *ifc,
							struct xm_flow_slot *s,
							struct xm_flow *f, __u32 epoch)
{
	struct pol_pkt p = { .ifindex = key->ifindex, .dir = XM_DIR_IN };
	struct pol_result res;

	if (s && s->pol_epoch == epoch) {
		res.reason = s->pol_reason;
		res.hit = s->pol_hit;
		return res;
	}
	if (f && f->pol_epoch == epoch) {
		res.reason = f->pol_reason;
		res.hit = f->pol_hit;
	} else {
		pol_addrs(&p, key);
		res = policy_decide(&p, ifc, epoch);
		if (f) {
			f->pol_epoch = epoch;
			f->pol_reason = res.reason;
			f->pol_hit = res.hit;
		}
	}
	if (s) {
		s->pol_epoch = epoch;
		s->pol_reason = res.reason;
		s->pol_hit = res.hit;
	}
	return res;
}

/*
 * What the accelerator needs of a frame the classifier passed: where its
 * IP header is and whether it is plain enough to replicate here.  Anything
 * unusual is left to the kernel.
 */
struct accel_pkt {
	__u8 plain;	/* one VLAN tag at most, no IP options or extension
			 * headers, not a fragment, IPv4 checksum good */
	__u8 ttl;	/* TTL or hop limit as it arrived */
	__u16 vid;	/* innermost VLAN id, 0 untagged */
};

/* The forwarding entry of a flow: (S,G), (*,G), then the wildcard trie
 * when cfg_flags has XM_CFG_FWD_WILD. */
static __always_inline struct xm_fwd_entry *fwd_lookup(const struct xm_flow_key *key,
						       __u32 cfg_flags)
{
	struct xm_fwd_lpm_key lk = { .prefixlen = 256 };
	struct xm_fwd_key k = { .family = key->family };
	struct xm_fwd_entry *e;

	copy_v6(k.group, key->group);
	copy_v6(k.source, key->source);
	e = bpf_map_lookup_elem(&xm_fwd, &k);
	if (e)
		return e;
	__builtin_memset(k.source, 0, sizeof(k.source));
	e = bpf_map_lookup_elem(&xm_fwd, &k);
	if (e || !(cfg_flags & XM_CFG_FWD_WILD))
		return e;
	if (key->family == XM_AF_INET) {
		map_v4(lk.group, key->group[0]);
		map_v4(lk.source, key->source[0]);
	} else {
		copy_v6(lk.group, key->group);
		copy_v6(lk.source, key->source);
	}
	return bpf_map_lookup_elem(&xm_fwd_wild, &lk);
}

/*
 * The forwarding entry of a flow, NULL for none: from its cache slot s
 * when s holds it for the forwarding epoch in force, else from the maps,
 * and then kept in s.  User space bumps the epoch after it changes
 * entries, so a flow's next frame after the bump looks them up again.
 */
static __always_inline const struct xm_fwd_entry *
fwd_entry(const struct xm_flow_key *key, struct xm_flow_slot *s, const struct xm_config *cfg)
{
	struct xm_fwd_entry *e;
	__u32 epoch;

	if (!cfg || !s)
		return fwd_lookup(key, cfg ? cfg->flags : 0);
	epoch = cfg->fwd_epoch | 0x80000000u;	/* never 0, the empty slot's */
	if (s->fwd_epoch == epoch)
		return s->fwd_found ? &s->fwd : NULL;
	e = fwd_lookup(key, cfg->flags);
	s->fwd_epoch = epoch;
	s->fwd_found = e != NULL;
	if (e)
		__builtin_memcpy(&s->fwd, e, sizeof(s->fwd));
	return e;
}

/*
 * Replicate a frame the policy let in, on an interface in accelerate mode:
 * entry, incoming-interface check, TTL thresholds of the outgoing sets,
 * then one broadcast redirect.  Returns the frame's reason: accelerated
 * (the redirect is set up; *copies is the size of the set), rpf_fail,
 * no_oif, ttl_threshold, or r itself when the kernel is to have the frame.
 */
static __always_inline enum xm_reason accelerate(const struct accel_pkt *a,
						 const struct xm_flow_key *key,
						 struct xm_flow_slot *s,
						 const struct xm_config *cfg,
						 enum xm_reason r, __u64 *copies)
{
	const struct xm_fwd_entry *e;
	__u32 idx;
	void *ports;
	int tier = -1, i;

	if (!a->plain)
		return r;
	e = fwd_entry(key, s, cfg);
	if (!e || (e->flags & XM_FWD_F_KERNEL))
		return r;
	if (e->iif != key->ifindex || e->iif_vlan != a->vid)
		return XM_R_RPF_FAIL;
	if (!e->ntiers)
		return XM_R_NO_OIF;
#pragma unroll
	for (i = 0; i < XM_FWD_TIERS; i++)
		if (i < e->ntiers && e->thr[i] < a->ttl)
			tier = i;
	if (tier < 0)
		return XM_R_TTL_THRESHOLD;
	idx = e->ports * XM_FWD_TIERS + tier;
	ports = bpf_map_lookup_elem(&xm_fwd_ports, &idx);
	if (!ports)
		return r;
	*copies = e->nports[tier & (XM_FWD_TIERS - 1)];
	bpf_redirect_map(ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	return XM_R_ACCELERATED;
}

/* The one exit for multicast frames: police, replicate when the interface
 * accelerates, count the reason and the flow, return the reason's
 * verdict. */
static __always_inline int account(struct xdp_md *ctx, enum xm_reason r,
				   struct xm_flow_key *key, const struct accel_pkt *a)
{
	__u64 len = ctx->data_end - ctx->data;
	__u32 ifindex = ctx->ingress_ifindex, zero = 0;
	struct xm_iface *ifc = bpf_map_lookup_elem(&xm_ifaces, &ifindex);
	struct pol_result pol = { .reason = XM_R_FORWARD };
	struct xm_flow *f = NULL;
	struct xm_config *cfg;
	struct xm_flow_slot *s;
	__u64 jiffies, now, copies = 0;
	__u32 epoch = 0;
	int fresh;

	if (key) {
		jiffies = bpf_jiffies64();
		now = clock_now(jiffies);
		s = flow_slot(key, now, jiffies, &fresh);
		fresh |= !s;
		if (fresh)
			f = bpf_map_lookup_elem(&xm_flows, key);
		cfg = bpf_map_lookup_elem(&xm_config, &zero);
		if (policed(r))
			epoch = policy_epoch_of(cfg);
		if (epoch) {
			pol = ingress_policy(key, ifc, s, f, epoch);
			if (pol.reason != XM_R_FORWARD)
				r = pol.reason;
			policy_count_hit(pol.hit, len);
		}
		/* An audited frame is replicated like any other: its rule's
		 * counter has it, its reason becomes accelerated. */
		if (a && ifc && ifc->fwd_mode == XM_FWD_ACCELERATE &&
		    (r == XM_R_FORWARD || r == XM_R_POLICY_AUDIT))
			r = accelerate(a, key, s, cfg, r, &copies);
		if (fresh)
			flow_count(f, key, 1, len, copies, now, r, 1U << r, epoch ? &pol : NULL,
				   epoch);
		else
			slot_count(s, len, copies, now, jiffies, r);
	}
	count_reason(XM_DIR_IN, ifc, r, len);
	return reason_verdict(r);
}

/* 01:00:5e or 33:33: the frame was sent to an IP multicast MAC. */
static __always_inline int mac_is_ip_mcast(const struct ethhdr *eth)
{
	const __u8 *d = eth->h_dest;

	return (d[0] == 0x01 && d[1] == 0x00 && d[2] == 0x5e && !(d[3] & 0x80)) ||
	       (d[0] == 0x33 && d[1] == 0x33);
}

static __always_inline int mac_matches_v4(const struct ethhdr *eth, __be32 daddr)
{
	const __u8 *d = eth->h_dest;
	const __u8 *g = (const __u8 *)&daddr;

	return d[0] == 0x01 && d[1] == 0x00 && d[2] == 0x5e &&
	       d[3] == (g[1] & 0x7f) && d[4] == g[2] && d[5] == g[3];
}

static __always_inline int mac_matches_v6(const struct ethhdr *eth,
					  const struct in6_addr *daddr)
{
	const __u8 *d = eth->h_dest;

	return d[0] == 0x33 && d[1] == 0x33 &&
	       d[2] == daddr->s6_addr[12] && d[3] == daddr->s6_addr[13] &&
	       d[4] == daddr->s6_addr[14] && d[5] == daddr->s6_addr[15];
}

/* Sources a router never accepts multicast from (the kernel's
 * ip_route_input_mc rules): multicast, limited broadcast, loopback, and
 * 0.0.0.0/8 except towards 224.0.0.0/24. */
static __always_inline int bad_source_v4(__be32 saddr, int link_local)
{
	__u32 s = bpf_ntohl(saddr);

	if ((s & 0xf0000000) == 0xe0000000 || s == 0xffffffff ||
	    (s & 0xff000000) == 0x7f000000)
		return 1;
	return (s & 0xff000000) == 0 && !link_local;
}

static __always_inline enum xm_reason classify_ipv4(struct cursor *c,
						    const struct ethhdr *eth,
						    struct iphdr *iph)
{
	__u32 hlen = iph->ihl * 4;
	__u32 tot_len = bpf_ntohs(iph->tot_len);
	int link_local;

	if (iph->version != 4 || hlen < sizeof(*iph) ||
	    (void *)iph + hlen > c->end ||
	    tot_len < hlen || (void *)iph + tot_len > c->end)
		return XM_R_MALFORMED;
	c->pos = (void *)iph + hlen;

	if (cfg_check_mac && !mac_matches_v4(eth, iph->daddr))
		return XM_R_MAC_MISMATCH;
	if (iph->protocol == IPPROTO_IGMP)
		return XM_R_IGMP;
	link_local = (iph->daddr & bpf_htonl(0xffffff00)) == bpf_htonl(0xe0000000);
	if (bad_source_v4(iph->saddr, link_local))
		return XM_R_BAD_SOURCE;
	if (link_local)
		return XM_R_LINK_LOCAL;
	if (iph->frag_off & bpf_htons(0x1fff))
		return XM_R_FRAGMENT;
	if (iph->ttl <= 1)
		return XM_R_TTL_EXPIRED;
	return XM_R_FORWARD;
}

static __always_inline int ipv6_is_mld(__u8 type)
{
	return type == ICMPV6_MGM_QUERY || type == ICMPV6_MGM_REPORT ||
	       type == ICMPV6_MGM_REDUCTION || type == ICMPV6_MLD2_REPORT;
}

/* Multicast and loopback sources are never valid; the unspecified source
 * is, within the link (duplicate address detection sends from ::). */
static __always_inline int bad_source_v6(const struct in6_addr *s, int link_scope)
{
	__u32 w0 = s->in6_u.u6_addr32[0], w1 = s->in6_u.u6_addr32[1];
	__u32 w2 = s->in6_u.u6_addr32[2], w3 = s->in6_u.u6_addr32[3];

	if (s->s6_addr[0] == 0xff)
		return 1;
	if (w0 | w1 | w2)
		return 0;
	return w3 == bpf_htonl(1) || (w3 == 0 && !link_scope);
}

static __always_inline enum xm_reason classify_ipv6(struct cursor *c,
						    const struct ethhdr *eth,
						    struct ipv6hdr *ip6h)
{
	void *limit = (void *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len);
	__u8 nexthdr = ip6h->nexthdr;
	__u8 scope = ip6h->daddr.s6_addr[1] & 0x0f;
	enum ext_walk walk;
	int mld = 0;
	__u8 *type;

	if (ip6h->version != 6 || limit > c->end)
		return XM_R_MALFORMED;
	walk = parse_ipv6_ext(c, limit, &nexthdr);
	if (walk == EXT_TRUNCATED || walk == EXT_TOO_LONG)
		return XM_R_MALFORMED;
	if (walk == EXT_OK && nexthdr == IPPROTO_ICMPV6) {
		type = c->pos;
		if ((void *)(type + 1) > c->end || (void *)(type + 1) > limit)
			return XM_R_MALFORMED;
		mld = ipv6_is_mld(*type);
	}

	if (cfg_check_mac && !mac_matches_v6(eth, &ip6h->daddr))
		return XM_R_MAC_MISMATCH;
	if (mld)
		return XM_R_MLD;
	if (bad_source_v6(&ip6h->saddr, scope <= 2))
		return XM_R_BAD_SOURCE;
	if (scope <= 1)
		return XM_R_NODE_LOCAL;
	if (scope == 2)
		return XM_R_LINK_LOCAL;
	if (walk == EXT_NONFIRST_FRAG)
		return XM_R_FRAGMENT;
	if (ip6h->hop_limit <= 1)
		return XM_R_TTL_EXPIRED;
	return XM_R_FORWARD;
}

/*
 * The common case first: an untagged frame whose whole IP header is there
 * and whose destination is not multicast leaves after one load of the
 * ethertype and one of the address.  What it lets through is exactly what
 * the full parse below would pass uncounted.
 */
static __always_inline int unicast_fast_path(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		return (void *)(iph + 1) <= data_end &&
		       (iph->daddr & bpf_htonl(0xf0000000)) != bpf_htonl(0xe0000000);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		return (void *)(ip6h + 1) <= data_end && ip6h->daddr.s6_addr[0] != 0xff;
	}
	return 0;
}

/*
 * Copy an IGMP or MLD message, from its IP header on, for the snooping
 * daemon.  Only while a daemon reads the ring; a full ring loses the
 * copy, never the packet.
 */
static __always_inline void ctrl_capture(struct xdp_md *ctx, const struct ethhdr *eth,
					 void *l3, __u8 family, __u16 vid)
{
	__u32 zero = 0, off, frame_len;
	struct xm_config *cfg = bpf_map_lookup_elem(&xm_config, &zero);
	__u64 len;	/* 64 bits: a 32-bit copy would be checked, not the argument */
	struct xm_ctrl_event *ev;

	if (!cfg || !(cfg->flags & XM_CFG_SNOOP))
		return;
	off = l3 - (void *)(long)ctx->data;
	frame_len = ctx->data_end - ctx->data - off;
	len = frame_len > XM_CTRL_CAPTURE ? XM_CTRL_CAPTURE : frame_len;
	if (len < 1 || len > XM_CTRL_CAPTURE)
		return;
	ev = bpf_ringbuf_reserve(&xm_ctrl_ring, sizeof(*ev), 0);
	if (!ev) {
		global_inc(XM_G_CTRL_RING_FULL);
		return;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->ifindex = ctx->ingress_ifindex;
	ev->vlan = vid;
	ev->family = family;
	ev->pad = 0;
	ev->len = len;
	ev->frame_len = frame_len;
	__builtin_memcpy(ev->smac, eth->h_source, sizeof(ev->smac));
	/* Bounds the verifier can follow at the call: the barrier keeps the
	 * compiler from dropping a check it knows to be redundant. */
	asm volatile("" : "+r"(len));
	if (len < 1 || len > XM_CTRL_CAPTURE ||
	    bpf_xdp_load_bytes(ctx, off, ev->data, len)) {
		bpf_ringbuf_discard(ev, 0);
		return;
	}
	bpf_ringbuf_submit(ev, 0);
	global_inc(XM_G_CTRL_CAPTURED);
}

/* The IPv4 header checksum of a 20-byte header (the only kind the
 * accelerator replicates) adds up. */
static __always_inline int ipv4_csum_ok(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * The hop, made once on a frame the accelerator redirects, before the
 * copies are made: they are clones of it, and a redirected frame never
 * returns to the kernel.  TTL or hop limit minus one, the IPv4 checksum
 * updated incrementally (RFC 1624).  The accelerator took only plain
 * frames with a TTL of 2 or more.
 */
static __always_inline void ip_hop(void *l3, void *data_end, __u8 family)
{
	if (family == XM_AF_INET) {
		struct iphdr *iph = l3;
		__u32 check;

		if ((void *)(iph + 1) > data_end)
			return;
		/* TTL is the high byte of its 16-bit word: one less there is
		 * 0x0100 more in the one's complement sum. */
		check = iph->check;
		check += bpf_htons(0x0100);
		iph->check = (__u16)(check + (check >= 0xffff));
		iph->ttl--;
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return;
		ip6h->hop_limit--;
	}
}

/*
 * Everything but the unicast fast path.  Not inlined on purpose: the JIT
 * saves the registers a function uses in its prologue, and this keeps the
 * multicast path's registers out of the entry program that every unicast
 * frame runs.
 */
static __noinline int xdp_classify(struct xdp_md *ctx)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct accel_pkt a = { 0 };
	struct xm_flow_key key;
	struct ethhdr *eth = NULL;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	enum xm_reason r;
	void *l3;
	__u16 vid;
	int proto, tags, verdict;

	proto = parse_ethhdr(&c, &eth, &vid);
	if (proto == bpf_htons(ETH_P_IP)) {
		if (parse_iphdr(&c, &iph) < 0)
			goto truncated;
		if ((iph->daddr & bpf_htonl(0xf0000000)) != bpf_htonl(0xe0000000))
			return XDP_PASS;
		r = classify_ipv4(&c, eth, iph);
		if (r == XM_R_MALFORMED)
			return account(ctx, r, NULL, NULL);
		if (r == XM_R_IGMP)
			ctrl_capture(ctx, eth, iph, XM_AF_INET, vid);
		tags = (void *)iph - (void *)(eth + 1);	/* 4 bytes a tag */
		a.plain = tags <= 4 && iph->ihl == 5 &&
			  !(iph->frag_off & bpf_htons(0x3fff)) && ipv4_csum_ok(iph);
		a.ttl = iph->ttl;
		__builtin_memset(&key, 0, sizeof(key));
		key.family = XM_AF_INET;
		key.group[0] = iph->daddr;
		key.source[0] = iph->saddr;
		l3 = iph;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (parse_ip6hdr(&c, &ip6h) < 0)
			goto truncated;
		if (ip6h->daddr.s6_addr[0] != 0xff)
			return XDP_PASS;
		r = classify_ipv6(&c, eth, ip6h);
		if (r == XM_R_MALFORMED)
			return account(ctx, r, NULL, NULL);
		if (r == XM_R_MLD)
			ctrl_capture(ctx, eth, ip6h, XM_AF_INET6, vid);
		tags = (void *)ip6h - (void *)(eth + 1);
		a.plain = tags <= 4 && c.pos == (void *)(ip6h + 1);
		a.ttl = ip6h->hop_limit;
		__builtin_memset(&key, 0, sizeof(key));
		key.family = XM_AF_INET6;
		__builtin_memcpy(key.group, &ip6h->daddr, sizeof(key.group));
		__builtin_memcpy(key.source, &ip6h->saddr, sizeof(key.source));
		l3 = ip6h;
	} else if (proto < 0 && eth) {
		goto truncated;
	} else {
		return XDP_PASS;
	}
	key.ifindex = ctx->ingress_ifindex;
	key.vlan = vid;
	a.vid = vid;
	verdict = account(ctx, r, &key, &a);
	if (verdict == XDP_REDIRECT)
		ip_hop(l3, (void *)(long)ctx->data_end, key.family);
	return verdict;

truncated:
	/* Cut off before the destination address: judged by its MAC. */
	if (eth && mac_is_ip_mcast(eth))
		return account(ctx, XM_R_MALFORMED, NULL, NULL);
	return XDP_PASS;
}

SEC("xdp")
int xdp_mcast(struct xdp_md *ctx)
{
	if (unicast_fast_path((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	return xdp_classify(ctx);
}

/* The egress table lookups for (interface, group, source), from the
 * per-CPU cache when it holds them for this epoch. */
static __always_inline struct pol_lookup egress_lookup(const struct pol_pkt *p,
						       const struct xm_iface *ifc,
						       __u32 epoch)
{
	struct pol_lookup l = { .rule_reason = XM_R_FORWARD };
	struct xm_egress_slot *e;
	__u32 h, idx;

	if (!epoch)
		return l;
	h = p->ifindex ^ p->group[0] ^ p->group[3] ^ p->source[0] ^ p->source[3];
	idx = (h * 0x9e3779b1u) >> (32 - 8);
	e = bpf_map_lookup_elem(&xm_egress_cache, &idx);
	if (e && e->epoch == epoch && e->ifindex == p->ifindex &&
	    !((e->group[0] ^ p->group[0]) | (e->group[1] ^ p->group[1]) |
	      (e->group[2] ^ p->group[2]) | (e->group[3] ^ p->group[3]) |
	      (e->source[0] ^ p->source[0]) | (e->source[1] ^ p->source[1]) |
	      (e->source[2] ^ p->source[2]) | (e->source[3] ^ p->source[3]))) {
		l.boundary_hit = e->boundary_hit;
		l.rule_reason = e->rule_reason;
		l.rule_hit = e->rule_hit;
		return l;
	}
	l = policy_lookup(p, ifc, epoch);
	if (e) {
		e->ifindex = p->ifindex;
		e->epoch = epoch;
		copy_v6(e->group, p->group);
		copy_v6(e->source, p->source);
		e->boundary_hit = l.boundary_hit;
		e->rule_reason = l.rule_reason;
		e->rule_hit = l.rule_hit;
	}
	return l;
}

/*
 * Egress policy for what the kernel forwards (ipmr with smcroute, pimd,
 * FRR) and sends itself: attached on clsact egress of every configured
 * interface.  Control (IGMP, MLD) and link-scope groups are never policed.
 * The TTL the threshold is held against is the one before this hop's
 * decrement: forwarded packets (they have an ingress interface) were
 * already decremented by the kernel.
 */
static __noinline int tc_police(struct __sk_buff *skb)
{
	struct cursor c = {
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
	};
	__u32 epoch, ifindex = skb->ifindex;
	__u8 forwarded = skb->ingress_ifindex != 0;
	struct pol_pkt p = { .ifindex = ifindex, .dir = XM_DIR_OUT };
	struct ethhdr *eth = NULL;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	struct pol_lookup look;
	struct pol_result res;
	struct xm_iface *ifc;
	__u16 vid;
	int proto;

	proto = parse_ethhdr(&c, &eth, &vid);
	if (proto == bpf_htons(ETH_P_IP)) {
		if (parse_iphdr(&c, &iph) < 0 ||
		    (iph->daddr & bpf_htonl(0xf0000000)) != bpf_htonl(0xe0000000) ||
		    iph->protocol == IPPROTO_IGMP ||
		    (iph->daddr & bpf_htonl(0xffffff00)) == bpf_htonl(0xe0000000))
			return TC_ACT_OK;
		map_v4(p.group, iph->daddr);
		map_v4(p.source, iph->saddr);
		p.ttl = iph->ttl + forwarded;
		if (iph->ttl == 255)
			p.ttl = 255;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		__u8 nexthdr, *type;
		void *limit;

		if (parse_ip6hdr(&c, &ip6h) < 0 || ip6h->daddr.s6_addr[0] != 0xff ||
		    (ip6h->daddr.s6_addr[1] & 0x0f) <= 2)
			return TC_ACT_OK;
		nexthdr = ip6h->nexthdr;
		limit = (void *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len);
		if (parse_ipv6_ext(&c, limit, &nexthdr) == EXT_OK &&
		    nexthdr == IPPROTO_ICMPV6) {
			type = c.pos;
			if ((void *)(type + 1) <= c.end && ipv6_is_mld(*type))
				return TC_ACT_OK;
		}
		copy_v6(p.group, ip6h->daddr.in6_u.u6_addr32);
		copy_v6(p.source, ip6h->saddr.in6_u.u6_addr32);
		p.ttl = ip6h->hop_limit + forwarded;
		if (ip6h->hop_limit == 255)
			p.ttl = 255;
	} else {
		return TC_ACT_OK;
	}

	ifc = bpf_map_lookup_elem(&xm_ifaces, &ifindex);
	epoch = policy_epoch();
	look = egress_lookup(&p, ifc, epoch);
	res = policy_finish(&look, &p, ifc, epoch);
	policy_count_hit(res.hit, skb->len);
	count_reason(XM_DIR_OUT, ifc, res.reason, skb->len);
	return reason_verdict(res.reason) == XDP_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int tc_mcast_egress(struct __sk_buff *skb)
{
	if (unicast_fast_path((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	return tc_police(skb);
}

/*
 * The egress policy of one accelerated copy on interface ifc: the same
 * decision as tc_police, looked up only where there is something to look
 * up.  An interface without boundaries and without outbound rules (its own
 * or for any interface) has only its TTL threshold, held against the TTL
 * before this hop, which the ingress program already took off.  That TTL
 * is 2 at least (the accelerator leaves TTL 1 to the kernel), so a
 * threshold of 0 or 1, ipmr's default, never keeps a copy back.
 */
static __always_inline enum xm_reason egress_policy(void *l3, void *data_end, __be16 proto,
						    __u32 ifindex, const struct xm_iface *ifc,
						    const struct xm_config *cfg, __u64 len)
{
	struct pol_pkt p = { .ifindex = ifindex, .dir = XM_DIR_OUT };
	struct pol_lookup look = { .rule_reason = XM_R_FORWARD };
	__u32 epoch = policy_epoch_of(cfg);
	const struct xm_ifpol *ifp;
	struct pol_result res;
	int tables;

	if (!epoch)
		return XM_R_FORWARD;
	ifp = ifc ? &ifc->pol[epoch & 1] : NULL;
	tables = !ifp || (ifp->flags & (XM_IFPOL_BOUNDARY | XM_IFPOL_RULES_OUT)) ||
		 (cfg->flags & XM_CFG_RULES_OUT_ANY);
	if (!tables && ifp->ttl_threshold <= 1)
		return XM_R_FORWARD;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end)
			return XM_R_MALFORMED;
		p.ttl = iph->ttl + 1;
		if (tables) {
			map_v4(p.group, iph->daddr);
			map_v4(p.source, iph->saddr);
		}
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return XM_R_MALFORMED;
		p.ttl = ip6h->hop_limit + 1;
		if (tables) {
			copy_v6(p.group, ip6h->daddr.in6_u.u6_addr32);
			copy_v6(p.source, ip6h->saddr.in6_u.u6_addr32);
		}
	}
	if (tables)
		look = egress_lookup(&p, ifc, epoch);
	res = policy_finish(&look, &p, ifc, epoch);
	policy_count_hit(res.hit, len);
	return res.reason;
}

/*
 * The accelerator's egress, run by the devmap for each copy of a frame the
 * XDP program replicated (and already took the hop off), on the interface
 * the copy leaves by: that interface's egress policy, then its own MAC as
 * source and its VLAN tag.  Counted per interface as egress reasons.  The
 * XDP program let through only plain IPv4 or IPv6 frames with one tag at
 * most.  One function, no call: it runs once per copy.
 */
static __always_inline int egress_copy(struct xdp_md *ctx, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct xm_iface *ifc = bpf_map_lookup_elem(&xm_ifaces, &ifindex);
	__u64 len = data_end - data;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = NULL;
	struct xm_config *cfg;
	__u8 dmac[ETH_ALEN];
	__be16 proto, tci = 0;
	enum xm_reason r;
	__u32 zero = 0;
	__u16 want;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	proto = eth->h_proto;
	if (proto_is_vlan(proto)) {
		vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > data_end)
			return XDP_PASS;
		tci = vh->tci;
		proto = vh->encap_proto;
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;

	cfg = bpf_map_lookup_elem(&xm_config, &zero);
	r = egress_policy(vh ? (void *)(vh + 1) : (void *)(eth + 1), data_end, proto, ifindex,
			  ifc, cfg, len);
	if (reason_verdict(r) == XDP_DROP) {
		count_reason(XM_DIR_OUT, ifc, r, len);
		return XDP_DROP;
	}

	/* The tag this interface wants: rewritten in place, pushed or popped
	 * (the MAC addresses move with the start of the frame). */
	want = ifc ? ifc->egress_vlan : 0;
	if (vh && want) {
		vh->tci = (tci & bpf_htons(0xf000)) | bpf_htons(want & 0x0fff);
	} else if (vh || want) {
		__builtin_memcpy(dmac, eth->h_dest, ETH_ALEN);
		if (bpf_xdp_adjust_head(ctx, vh ? (int)sizeof(*vh) : -(int)sizeof(*vh)))
			return XDP_DROP;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		eth = data;
		if ((void *)(eth + 1) + sizeof(*vh) > data_end)
			return XDP_DROP;
		__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
		if (want) {
			vh = (void *)(eth + 1);
			eth->h_proto = bpf_htons(ETH_P_8021Q);
			vh->tci = bpf_htons(want & 0x0fff);
			vh->encap_proto = proto;
		} else {
			eth->h_proto = proto;
		}
		len = data_end - data;
	}
	if (ifc && (ifc->mac[0] | ifc->mac[1] | ifc->mac[2] |
		    ifc->mac[3] | ifc->mac[4] | ifc->mac[5]))
		__builtin_memcpy(eth->h_source, ifc->mac, ETH_ALEN);
	count_reason(XM_DIR_OUT, ifc, XM_R_ACCELERATED, len);
	return XDP_PASS;
}

SEC("xdp/devmap")
int xdp_mcast_egress(struct xdp_md *ctx)
{
	return egress_copy(ctx, ctx->egress_ifindex);
}

#ifdef XM_TEST_PROGS
/* The egress code under BPF_PROG_TEST_RUN, which runs no devmap program:
 * the interface comes from here. */
volatile __u32 test_egress_ifindex;

SEC("xdp")
int xdp_mcast_egress_test(struct xdp_md *ctx)
{
	return egress_copy(ctx, test_egress_ifindex);
}
#endif
