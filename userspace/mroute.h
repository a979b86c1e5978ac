/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A multicast route as every source of routes hands it to the accelerator:
 * the config's `mroute` lines, the memberships of downstream interfaces, and
 * the kernel's own MFC (ipmr/ip6mr) mirrored through rtnetlink (mfc.c).
 */
#ifndef XM_MROUTE_H
#define XM_MROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#define XM_MROUTE_MAX_OIF	32	/* the kernel's MAXVIFS */

enum xm_mroute_origin {
	XM_ORIGIN_MEMBERSHIP,	/* downstream memberships, upstream iif */
	XM_ORIGIN_STATIC,	/* `mroute` in the config */
	XM_ORIGIN_KERNEL,	/* the kernel's MFC */
};

struct xm_mroute_oif {
	uint32_t ifindex;
	uint8_t  ttl_threshold;	/* forward when TTL > this (ipmr's ttls[vif]) */
	uint16_t vlan;		/* 802.1Q id to send with on ifindex; 0 = as is */
};

struct xm_mroute {
	uint8_t  family;	/* AF_INET or AF_INET6 */
	uint8_t  src_len;	/* source prefix length: 0 = any source */
	uint8_t  grp_len;	/* group prefix length: 32/128 = one group */
	uint8_t  origin;	/* enum xm_mroute_origin */
	__be32   src[4];	/* network order; IPv4 in [0] */
	__be32   grp[4];
	uint32_t iif;		/* ifindex the traffic must arrive on */
	uint16_t iif_vlan;	/* ... with this 802.1Q id; 0 = as is */
	uint16_t pad;
	uint32_t noif;
	struct xm_mroute_oif oif[XM_MROUTE_MAX_OIF];
};

#endif /* XM_MROUTE_H */
