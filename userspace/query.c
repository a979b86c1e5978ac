// SPDX-License-Identifier: GPL-2.0-only
/*
 * Query frames: Ethernet (and an 802.1Q tag for a VLAN link), then
 * - IPv4 with the router alert option (RFC 2113), TTL 1, to 224.0.0.1 for
 *   a general query or to the group, and IGMPv1/v2 (8 bytes) or IGMPv3
 *   (RFC 3376 4.1);
 * - IPv6 from our link-local address, hop limit 1, a hop-by-hop header
 *   with the router alert (RFC 2711), to ff02::1 or the group, and MLDv1
 *   (RFC 2710 3) or MLDv2 (RFC 3810 5.1).
 */
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>

#include "ctrl.h"
#include "query.h"
#include "util.h"

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void *put(struct out *o, size_t n)
{
	void *at;

	if (o->len + n > o->cap) {
		o->cap = 0;	/* poisoned: the caller sees no space left */
		return NULL;
	}
	at = o->p + o->len;
	memset(at, 0, n);
	o->len += n;
	return at;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void group_mac(uint8_t family, const __be32 group[4], uint8_t mac[6])
{
	const uint8_t *g = (const uint8_t *)group;

	if (family == XM_AF_INET) {
		mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
		mac[3] = g[1] & 0x7f, mac[4] = g[2], mac[5] = g[3];
	} else {
		mac[0] = 0x33, mac[1] = 0x33;
		memcpy(mac + 2, g + 12, 4);
	}
}

static void put_l2(struct out *o, const struct xm_mship_action *a, const __be32 dst[4],
		   const uint8_t smac[6])
{
	uint8_t *eth = put(o, ETH_HLEN), *tag;
	uint16_t proto = a->family == XM_AF_INET ? ETH_P_IP : ETH_P_IPV6;

	if (!eth)
		return;
	group_mac(a->family, dst, eth);
	memcpy(eth + 6, smac, 6);
	if (a->vlan) {
		put16(eth + 12, ETH_P_8021Q);
		tag = put(o, 4);
		if (!tag)
			return;
		put16(tag, a->vlan & 0x0fff);
		put16(tag + 2, proto);
	} else {
		put16(eth + 12, proto);
	}
}

static size_t build_igmp(struct out *o, const struct xm_mship_action *a,
			 const uint8_t smac[6])
{
	__be32 dst[4] = { 0 };
	uint8_t *ip, *igmp;
	size_t igmp_len, i;

	dst[0] = a->kind == XM_MSHIP_QUERY_GENERAL ? htonl(0xe0000001) : a->group[0];
	igmp_len = a->version == 3 ? 12 + 4 * a->nsrc : 8;
	put_l2(o, a, dst, smac);
	ip = put(o, 24);
	igmp = put(o, igmp_len);
	if (!ip || !igmp)
		return 0;
	ip[0] = 0x46;			/* version 4, IHL 6: the router alert */
	put16(ip + 2, 24 + igmp_len);
	ip[8] = 1;			/* TTL */
	ip[9] = 2;			/* IGMP */
	memcpy(ip + 12, &a->src[0], 4);
	memcpy(ip + 16, &dst[0], 4);
	ip[20] = 0x94, ip[21] = 0x04;	/* router alert, value 0 */
	put16(ip + 10, xm_csum_fold(xm_csum_add(0, ip, 24)));

	igmp[0] = 0x11;
	if (a->version == 2)
		igmp[1] = a->max_resp_ms / 100 > 255 ? 255 : a->max_resp_ms / 100;
	else if (a->version == 3)
		igmp[1] = xm_code8_encode(a->max_resp_ms / 100);
	if (a->kind != XM_MSHIP_QUERY_GENERAL)
		memcpy(igmp + 4, &a->group[0], 4);
	if (a->version == 3) {
		igmp[8] = (a->s_flag ? 0x08 : 0) | (a->qrv & 0x07);
		igmp[9] = xm_code8_encode(a->qqi_s);
		put16(igmp + 10, a->nsrc);
		for (i = 0; i < a->nsrc; i++)
			memcpy(igmp + 12 + 4 * i, &a->sources[i][0], 4);
	}
	put16(igmp + 2, xm_csum_fold(xm_csum_add(0, igmp, igmp_len)));
	return o->len;
}

static size_t build_mld(struct out *o, const struct xm_mship_action *a,
			const uint8_t smac[6])
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	__be32 dst[4];
	uint8_t *ip, *hbh, *mld, pseudo[40];
	size_t mld_len, i;
	uint32_t sum;

	if (a->kind == XM_MSHIP_QUERY_GENERAL)
		memcpy(dst, all_nodes, 16);
	else
		memcpy(dst, a->group, 16);
	mld_len = a->version == 2 ? 28 + 16 * a->nsrc : 24;
	put_l2(o, a, dst, smac);
	ip = put(o, 40);
	hbh = put(o, 8);
	mld = put(o, mld_len);
	if (!ip || !hbh || !mld)
		return 0;
	ip[0] = 0x60;
	put16(ip + 4, 8 + mld_len);
	ip[6] = 0;			/* hop-by-hop */
	ip[7] = 1;			/* hop limit */
	memcpy(ip + 8, a->src, 16);
	memcpy(ip + 24, dst, 16);
	hbh[0] = 58;			/* ICMPv6 */
	hbh[2] = 0x05, hbh[3] = 0x02;	/* router alert, MLD */
	hbh[6] = 0x01;			/* PadN of 0 bytes */

	mld[0] = 130;
	if (a->version == 2)
		put16(mld + 4, xm_code16_encode(a->max_resp_ms));
	else
		put16(mld + 4, a->max_resp_ms > 0xffff ? 0xffff : a->max_resp_ms);
	if (a->kind != XM_MSHIP_QUERY_GENERAL)
		memcpy(mld + 8, a->group, 16);
	if (a->version == 2) {
		mld[24] = (a->s_flag ? 0x08 : 0) | (a->qrv & 0x07);
		mld[25] = xm_code8_encode(a->qqi_s);
		put16(mld + 26, a->nsrc);
		for (i = 0; i < a->nsrc; i++)
			memcpy(mld + 28 + 16 * i, a->sources[i], 16);
	}
	/* RFC 8200 8.1: the pseudo-header, then the message. */
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, ip + 8, 32);
	put16(pseudo + 34, mld_len);
	pseudo[39] = 58;
	sum = xm_csum_add(0, pseudo, sizeof(pseudo));
	put16(mld + 2, xm_csum_fold(xm_csum_add(sum, mld, mld_len)));
	return o->len;
}

size_t xm_query_build(const struct xm_mship_action *a, const uint8_t smac[6],
		      uint8_t *buf, size_t len)
{
	struct out o = { .p = buf, .cap = len };
	size_t n;

	if (a->nsrc && !a->sources)
		return 0;
	if (a->family == XM_AF_INET && a->version >= 1 && a->version <= 3)
		n = build_igmp(&o, a, smac);
	else if (a->family == XM_AF_INET6 && a->version >= 1 && a->version <= 2)
		n = build_mld(&o, a, smac);
	else
		return 0;
	return o.cap ? n : 0;
}
