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

#include "xdp_mcast_kern_user.h"
#include "parsing_kern.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time settings, written through the skeleton's rodata. */
const volatile __u8 cfg_check_mac = 1;	/* drop frames whose MAC is not the group's */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xm_iface);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xm_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_MAX_IFACES * XM_REASON_SLOTS);
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

static __always_inline void flow_account(struct xm_flow_key *key, __u64 len,
					 enum xm_reason r)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct xm_flow *f = bpf_map_lookup_elem(&xm_flows, key);

	if (f) {
		/* The entry may exist while this CPU's copy is still empty. */
		if (!f->first_seen_ns)
			f->first_seen_ns = now;
		f->packets++;
		f->bytes += len;
		f->last_seen_ns = now;
		f->last_reason = r;
		f->reason_mask |= 1U << r;
		return;
	}

	struct xm_flow nf = {
		.packets = 1,
		.bytes = len,
		.first_seen_ns = now,
		.last_seen_ns = now,
		.last_reason = r,
		.reason_mask = 1U << r,
	};
	if (bpf_map_update_elem(&xm_flows, key, &nf, BPF_NOEXIST) == 0)
		global_inc(XM_G_FLOWS_CREATED);
	else
		global_inc(XM_G_FLOW_INSERT_FAILED);
}

/* The one exit for multicast frames: count the reason, the flow, return the
 * reason's verdict. */
static __always_inline int account(struct xdp_md *ctx, enum xm_reason r,
				   struct xm_flow_key *key)
{
	__u64 len = ctx->data_end - ctx->data;
	__u32 ifindex = ctx->ingress_ifindex;
	struct xm_iface *ifc = bpf_map_lookup_elem(&xm_ifaces, &ifindex);
	struct xm_counter *ctr;
	__u32 idx = 0;

	if (ifc && ifc->slot < XM_MAX_IFACES)
		idx = ifc->slot * XM_REASON_SLOTS;
	else
		global_inc(XM_G_UNREGISTERED_IFACE);
	idx += r;
	ctr = bpf_map_lookup_elem(&xm_reasons, &idx);
	if (ctr) {
		ctr->packets++;
		ctr->bytes += len;
	}
	if (key)
		flow_account(key, len, r);
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

SEC("xdp")
int xdp_mcast(struct xdp_md *ctx)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct xm_flow_key key;
	struct ethhdr *eth = NULL;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	enum xm_reason r;
	__u16 vid;
	int proto;

	proto = parse_ethhdr(&c, &eth, &vid);
	if (proto == bpf_htons(ETH_P_IP)) {
		if (parse_iphdr(&c, &iph) < 0)
			goto truncated;
		if ((iph->daddr & bpf_htonl(0xf0000000)) != bpf_htonl(0xe0000000))
			return XDP_PASS;
		r = classify_ipv4(&c, eth, iph);
		if (r == XM_R_MALFORMED)
			return account(ctx, r, NULL);
		__builtin_memset(&key, 0, sizeof(key));
		key.family = XM_AF_INET;
		key.group[0] = iph->daddr;
		key.source[0] = iph->saddr;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (parse_ip6hdr(&c, &ip6h) < 0)
			goto truncated;
		if (ip6h->daddr.s6_addr[0] != 0xff)
			return XDP_PASS;
		r = classify_ipv6(&c, eth, ip6h);
		if (r == XM_R_MALFORMED)
			return account(ctx, r, NULL);
		__builtin_memset(&key, 0, sizeof(key));
		key.family = XM_AF_INET6;
		__builtin_memcpy(key.group, &ip6h->daddr, sizeof(key.group));
		__builtin_memcpy(key.source, &ip6h->saddr, sizeof(key.source));
	} else if (proto < 0 && eth) {
		goto truncated;
	} else {
		return XDP_PASS;
	}
	key.ifindex = ctx->ingress_ifindex;
	key.vlan = vid;
	return account(ctx, r, &key);

truncated:
	/* Cut off before the destination address: judged by its MAC. */
	if (eth && mac_is_ip_mcast(eth))
		return account(ctx, XM_R_MALFORMED, NULL);
	return XDP_PASS;
}
