/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cursor-based packet parsing for BPF programs.  Each parse_*() checks its
 * bounds against data_end, advances the cursor past what it parsed and
 * returns the next protocol, or -1 when the frame is too short.  Nothing here
 * computes offsets from the start of the frame, so VLAN tags are never a
 * special case for the callers.
 */
#ifndef XDP_MCAST_PARSING_KERN_H
#define XDP_MCAST_PARSING_KERN_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_mcast_kern_user.h"

struct cursor {
	void *pos;
	void *end;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) ||
	       h_proto == bpf_htons(ETH_P_8021AD);
}

/*
 * Ethernet and up to XM_VLAN_MAX_DEPTH tags.  Returns the inner ethertype
 * (network order) and the innermost VLAN id in *vid (0 when untagged).  A
 * frame with more tags than the bound returns the still-VLAN ethertype,
 * which no caller treats as IP.
 */
static __always_inline int parse_ethhdr(struct cursor *c, struct ethhdr **ethp,
					__u16 *vid)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vh;
	__u16 h_proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	*ethp = eth;
	*vid = 0;
	h_proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < XM_VLAN_MAX_DEPTH; i++) {
		if (!proto_is_vlan(h_proto))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return -1;
		c->pos = vh + 1;
		*vid = bpf_ntohs(vh->tci) & 0x0fff;
		h_proto = vh->encap_proto;
	}
	return h_proto;
}

/* The fixed IPv4 header only: validation is the caller's, since what is
 * "malformed" depends on whether the frame is multicast at all. */
static __always_inline int parse_iphdr(struct cursor *c, struct iphdr **iphp)
{
	struct iphdr *iph = c->pos;

	if ((void *)(iph + 1) > c->end)
		return -1;
	*iphp = iph;
	return iph->protocol;
}

static __always_inline int parse_ip6hdr(struct cursor *c, struct ipv6hdr **ip6hp)
{
	struct ipv6hdr *ip6h = c->pos;

	if ((void *)(ip6h + 1) > c->end)
		return -1;
	c->pos = ip6h + 1;
	*ip6hp = ip6h;
	return ip6h->nexthdr;
}

/* Result of walking the IPv6 extension-header chain. */
enum ext_walk {
	EXT_OK,			/* cursor at the upper-layer header */
	EXT_NONFIRST_FRAG,	/* non-first fragment: no upper-layer header */
	EXT_TRUNCATED,		/* a header runs past the payload */
	EXT_TOO_LONG,		/* more than XM_IPV6_EXT_MAX headers */
};

struct ipv6_opt_hdr_min {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag_hdr_min {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | flags */
	__be32 identification;
};

/*
 * Walk hop-by-hop, routing, destination-options and fragment headers, at
 * most XM_IPV6_EXT_MAX of them, never past 'limit' (the end of the payload
 * as the IPv6 header declares it).  *nexthdr becomes the upper-layer
 * protocol.
 */
static __always_inline enum ext_walk parse_ipv6_ext(struct cursor *c, void *limit,
						    __u8 *nexthdr)
{
	struct ipv6_opt_hdr_min *oh;
	struct ipv6_frag_hdr_min *fh;
	int i;

#pragma unroll
	for (i = 0; i < XM_IPV6_EXT_MAX; i++) {
		switch (*nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			oh = c->pos;
			if ((void *)(oh + 1) > c->end || (void *)(oh + 1) > limit)
				return EXT_TRUNCATED;
			*nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 1) * 8;
			if (c->pos > limit)
				return EXT_TRUNCATED;
			break;
		case IPPROTO_FRAGMENT:
			fh = c->pos;
			if ((void *)(fh + 1) > c->end || (void *)(fh + 1) > limit)
				return EXT_TRUNCATED;
			*nexthdr = fh->nexthdr;
			c->pos = fh + 1;
			if (fh->frag_off & bpf_htons(0xfff8))
				return EXT_NONFIRST_FRAG;
			break;
		default:
			return EXT_OK;
		}
	}
	switch (*nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
		return EXT_TOO_LONG;
	}
	return EXT_OK;
}

#endif /* XDP_MCAST_PARSING_KERN_H */
