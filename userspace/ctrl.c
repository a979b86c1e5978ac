// SPDX-License-Identifier: GPL-2.0-only
/*
 * IGMP and MLD parsing and validation: see ctrl.h.  Every read is checked
 * against the length it falls in before it is made; lengths from the wire
 * are widened to size_t before they are added, so none can wrap.
 */
#include <netinet/in.h>
#include <string.h>

#include "ctrl.h"
#include "util.h"

#define IPV4_MIN_HLEN		20
#define IPV6_HLEN		40
#define IPV4_FRAG_MASK		0x3fff	/* MF and the fragment offset */

#define IPOPT_END_		0
#define IPOPT_NOP_		1
#define IPOPT_RA_		148	/* RFC 2113 */
#define IPOPT_RA_LEN_		4

#define IP6OPT_PAD1_		0
#define IP6OPT_PADN_		1
#define IP6OPT_RA_		5	/* RFC 2711 */
#define IP6OPT_RA_LEN_		2	/* data bytes */
#define IP6OPT_RA_MLD		0	/* RFC 2711: "contains an MLD message" */

#define IGMP_MIN_LEN		8
#define IGMP_V1_MAX_RESP_MS	10000	/* RFC 2236 4: a v1 query means 10 s */
#define MLD_MIN_LEN		8	/* an MLDv2 report header */
#define MLD_V1_LEN		24	/* reports and dones */
/* IGMPv3 and MLDv2 reports share their layout but for the address size. */
#define REPORT_NREC_OFF		6
#define REPORT_HLEN		8
#define REC_GROUP_OFF		4	/* after type, aux len, number of sources */
#define AUX_UNIT		4	/* Aux Data Len counts 32-bit words */

#define S_FLAG			0x08	/* in the S/QRV byte */
#define QRV_MASK		0x07

static const char *const reason_names[] = {
#define XM_CTRL_REASON_NAME(id, name) name,
	XM_CTRL_REASONS(XM_CTRL_REASON_NAME)
#undef XM_CTRL_REASON_NAME
};

static const char *const skip_names[] = {
#define XM_CTRL_SKIP_NAME(id, name) name,
	XM_CTRL_SKIPS(XM_CTRL_SKIP_NAME)
#undef XM_CTRL_SKIP_NAME
};

const char *xm_ctrl_reason_name(enum xm_ctrl_reason r)
{
	return (unsigned int)r < ARRAY_SIZE(reason_names) ? reason_names[r] : "?";
}

const char *xm_ctrl_skip_name(enum xm_ctrl_skip s)
{
	return (unsigned int)s < ARRAY_SIZE(skip_names) ? skip_names[s] : "?";
}

const char *xm_rec_type_name(unsigned int type)
{
	static const char *const names[XM_REC_TYPES] = {
		[XM_REC_IS_IN] = "IS_IN", [XM_REC_IS_EX] = "IS_EX",
		[XM_REC_TO_IN] = "TO_IN", [XM_REC_TO_EX] = "TO_EX",
		[XM_REC_ALLOW] = "ALLOW", [XM_REC_BLOCK] = "BLOCK",
	};

	return type < XM_REC_TYPES && names[type] ? names[type] : "?";
}

/* ---- codes ---- */

uint32_t xm_code8_decode(uint8_t code)
{
	if (code < 0x80)
		return code;
	return (uint32_t)((code & 0x0f) | 0x10) << (((code >> 4) & 0x7) + 3);
}

/* The exponent that puts value's top bit at the mantissa's implicit one. */
static unsigned int code_exp(uint32_t value, unsigned int mant_bits)
{
	unsigned int top = 31 - __builtin_clz(value);

	return top - mant_bits - 3;
}

uint8_t xm_code8_encode(uint32_t value)
{
	unsigned int exp;

	if (value < 0x80)
		return value;
	if (value >= XM_CODE8_MAX)
		return 0xff;
	exp = code_exp(value, 4);
	return 0x80 | exp << 4 | ((value >> (exp + 3)) & 0x0f);
}

uint32_t xm_code16_decode(uint16_t code)
{
	if (code < 0x8000)
		return code;
	return (uint32_t)((code & 0x0fff) | 0x1000) << (((code >> 12) & 0x7) + 3);
}

uint16_t xm_code16_encode(uint32_t value)
{
	unsigned int exp;

	if (value < 0x8000)
		return value;
	if (value >= XM_CODE16_MAX)
		return 0xffff;
	exp = code_exp(value, 12);
	return 0x8000 | exp << 12 | ((value >> (exp + 3)) & 0x0fff);
}

/* ---- addresses ---- */

static const uint8_t *bytes(const __be32 a[4])
{
	return (const uint8_t *)a;
}

bool xm_addr_is_zero(const __be32 a[4])
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

int xm_addr_cmp(const __be32 a[4], const __be32 b[4])
{
	return memcmp(a, b, 16);
}

bool xm_addr_is_multicast(uint8_t family, const __be32 a[4])
{
	if (family == XM_AF_INET)
		return (bytes(a)[0] & 0xf0) == 0xe0;
	return bytes(a)[0] == 0xff;
}

static bool ipv6_is_link_local(const __be32 a[4])
{
	return bytes(a)[0] == 0xfe && (bytes(a)[1] & 0xc0) == 0x80;
}

/* Multicast, the limited broadcast and loopback never send IGMP;
 * 0.0.0.0 may (RFC 3376 4.2.13). */
static bool ipv4_source_ok(const __be32 a[4])
{
	const uint8_t *b = bytes(a);

	return (b[0] & 0xf0) != 0xe0 && b[0] != 127 && a[0] != 0xffffffff;
}

/* Whether a group may be the subject of a report or a specific query. */
static enum xm_ctrl_reason group_class(uint8_t family, const __be32 g[4])
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	const uint8_t *b = bytes(g);

	if (!xm_addr_is_multicast(family, g))
		return XM_CTRL_NOT_MULTICAST_GROUP;
	if (family == XM_AF_INET)
		return b[0] == 224 && !b[1] && !b[2] ? XM_CTRL_LINK_LOCAL_GROUP : XM_CTRL_OK;
	if ((b[1] & 0x0f) <= 1)
		return XM_CTRL_RESERVED_GROUP;
	if (!memcmp(b, all_nodes, sizeof(all_nodes)))
		return XM_CTRL_LINK_LOCAL_GROUP;
	return XM_CTRL_OK;
}

static unsigned int addr_len(uint8_t family)
{
	return family == XM_AF_INET ? 4 : 16;
}

void xm_ctrl_source(const struct xm_ctrl_msg *msg, const uint8_t *list,
		    unsigned int i, __be32 out[4])
{
	unsigned int alen = addr_len(msg->family);

	memset(out, 0, 16);
	memcpy(out, list + (size_t)i * alen, alen);
}

/* ---- checksums ---- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 8200 8.1: source, destination, upper-layer length, next header. */
static uint64_t ipv6_pseudo_sum(const struct xm_ctrl_msg *m, size_t ulen)
{
	uint64_t sum = xm_csum_add(0, bytes(m->src), 16);

	sum = xm_csum_add(sum, bytes(m->dst), 16);
	return sum + (ulen >> 16) + (ulen & 0xffff) + IPPROTO_ICMPV6;
}

/* ---- group records, IGMPv3 and MLDv2 alike ---- */

static enum xm_ctrl_skip skip_of(enum xm_ctrl_reason r)
{
	switch (r) {
	case XM_CTRL_LINK_LOCAL_GROUP:
		return XM_CTRL_SKIP_LINK_LOCAL;
	case XM_CTRL_RESERVED_GROUP:
		return XM_CTRL_SKIP_RESERVED;
	default:
		return XM_CTRL_SKIP_NOT_MULTICAST;
	}
}

/*
 * Walk the records of a report: each must fit, header, sources and
 * aux data.  Records of unknown type or unusable group are counted and
 * passed over; the others are kept, within the bounds.
 */
static enum xm_ctrl_reason parse_records(const uint8_t *p, size_t len, struct xm_ctrl_msg *m)
{
	unsigned int alen = addr_len(m->family), nrec = get16(p + REPORT_NREC_OFF);
	size_t hlen = REC_GROUP_OFF + alen, off = REPORT_HLEN, sources = 0, reclen;
	struct xm_ctrl_record *rec;
	enum xm_ctrl_reason r;
	__be32 group[4];
	unsigned int i;

	if (nrec > XM_CTRL_MAX_RECORDS)
		return XM_CTRL_TOO_MANY_RECORDS;
	for (i = 0; i < nrec; i++, off += reclen) {
		if (off + hlen > len)
			return XM_CTRL_BAD_LENGTH;
		reclen = hlen + (size_t)get16(p + off + 2) * alen + (size_t)p[off + 1] * AUX_UNIT;
		if (off + reclen > len)
			return XM_CTRL_BAD_LENGTH;
		if (p[off] < XM_REC_IS_IN || p[off] > XM_REC_BLOCK) {
			m->skipped[XM_CTRL_SKIP_UNKNOWN_TYPE]++;
			continue;
		}
		memset(group, 0, sizeof(group));
		memcpy(group, p + off + REC_GROUP_OFF, alen);
		r = group_class(m->family, group);
		if (r) {
			m->skipped[skip_of(r)]++;
			continue;
		}
		rec = &m->rec[m->nrec++];
		rec->type = p[off];
		rec->nsrc = get16(p + off + 2);
		memcpy(rec->group, group, sizeof(group));
		rec->src = p + off + hlen;
		sources += rec->nsrc;
		if (sources > XM_CTRL_MAX_SOURCES)
			return XM_CTRL_TOO_MANY_SOURCES;
	}
	return XM_CTRL_OK;
}

/* The group of a query: 0 for a general query, which lists no sources
 * (RFC 3376 4.1.9, RFC 3810 5.1.10), else a group that may be reported. */
static enum xm_ctrl_reason query_group(const struct xm_ctrl_msg *m)
{
	if (xm_addr_is_zero(m->group))
		return m->nsrc ? XM_CTRL_BAD_QUERY : XM_CTRL_OK;
	return group_class(m->family, m->group);
}

/* Fields common to IGMPv3 and MLDv2 queries, from the S/QRV byte on. */
static enum xm_ctrl_reason v3_query_tail(const uint8_t *p, size_t len, size_t off,
					 struct xm_ctrl_msg *m)
{
	unsigned int alen = addr_len(m->family);

	m->s_flag = p[off] & S_FLAG;
	m->qrv = p[off] & QRV_MASK;
	m->qqi_s = xm_code8_decode(p[off + 1]);
	m->nsrc = get16(p + off + 2);
	m->src_list = p + off + 4;
	if (off + 4 + (size_t)m->nsrc * alen > len)
		return XM_CTRL_BAD_LENGTH;
	if (m->nsrc > XM_CTRL_MAX_SOURCES)
		return XM_CTRL_TOO_MANY_SOURCES;
	return query_group(m);
}

/* ---- IGMP ---- */

static enum xm_ctrl_reason igmp_query(const uint8_t *p, size_t len, struct xm_ctrl_msg *m)
{
	m->kind = XM_CTRL_QUERY;
	memcpy(m->group, p + 4, 4);
	if (len == XM_IGMP_V2_QUERY_LEN) {
		m->version = p[1] ? 2 : 1;
		m->max_resp_ms = p[1] ? p[1] * 100u : IGMP_V1_MAX_RESP_MS;
		return query_group(m);
	}
	if (len < XM_IGMP_V3_QUERY_LEN)
		return XM_CTRL_QUERY_9_11_BYTES;
	m->version = 3;
	m->max_resp_ms = xm_code8_decode(p[1]) * 100;
	return v3_query_tail(p, len, 8, m);
}

/* A v1/v2 report or a leave: one group, which must be reportable. */
static enum xm_ctrl_reason one_group(const uint8_t *p, size_t goff, uint8_t kind,
				     uint8_t version, struct xm_ctrl_msg *m)
{
	m->kind = kind;
	m->version = version;
	memcpy(m->group, p + goff, addr_len(m->family));
	return group_class(m->family, m->group);
}

static enum xm_ctrl_reason parse_igmp(const uint8_t *p, size_t len, struct xm_ctrl_msg *m)
{
	if (len < IGMP_MIN_LEN)
		return XM_CTRL_BAD_LENGTH;
	if (xm_csum_fold(xm_csum_add(0, p, len)))
		return XM_CTRL_BAD_CHECKSUM;
	m->type = p[0];
	switch (p[0]) {
	case XM_IGMP_QUERY:
	case XM_IGMP_V1_REPORT:
	case XM_IGMP_V2_REPORT:
	case XM_IGMP_V2_LEAVE:
	case XM_IGMP_V3_REPORT:
		break;
	default:
		return XM_CTRL_BAD_TYPE;
	}
	if (!ipv4_source_ok(m->src))
		return XM_CTRL_BAD_SOURCE;
	switch (p[0]) {
	case XM_IGMP_QUERY:
		return igmp_query(p, len, m);
	case XM_IGMP_V1_REPORT:
		return one_group(p, 4, XM_CTRL_JOIN, 1, m);
	case XM_IGMP_V2_REPORT:
		return one_group(p, 4, XM_CTRL_JOIN, 2, m);
	case XM_IGMP_V2_LEAVE:
		return one_group(p, 4, XM_CTRL_LEAVE, 2, m);
	default:
		m->kind = XM_CTRL_REPORT;
		m->version = 3;
		return parse_records(p, len, m);
	}
}

static bool ipv4_options(const uint8_t *o, size_t len, bool *ra)
{
	size_t i = 0;

	while (i < len && o[i] != IPOPT_END_) {
		if (o[i] == IPOPT_NOP_) {
			i++;
			continue;
		}
		if (i + 2 > len || o[i + 1] < 2 || i + o[i + 1] > len)
			return false;
		if (o[i] == IPOPT_RA_ && o[i + 1] == IPOPT_RA_LEN_ && !get16(o + i + 2))
			*ra = true;
		i += o[i + 1];
	}
	return true;
}

static enum xm_ctrl_reason parse_ipv4(const uint8_t *pkt, size_t len, struct xm_ctrl_msg *m)
{
	size_t hlen, tot;

	m->family = XM_AF_INET;
	if (len < IPV4_MIN_HLEN)
		return XM_CTRL_TRUNCATED;
	hlen = (pkt[0] & 0x0f) * 4u;
	tot = get16(pkt + 2);
	if (pkt[0] >> 4 != 4 || hlen < IPV4_MIN_HLEN || tot < hlen)
		return XM_CTRL_BAD_IP_HEADER;
	if (hlen > len || tot > len)
		return XM_CTRL_TRUNCATED;
	m->ttl = pkt[8];
	memcpy(m->src, pkt + 12, 4);
	memcpy(m->dst, pkt + 16, 4);
	if (xm_csum_fold(xm_csum_add(0, pkt, hlen)))
		return XM_CTRL_BAD_IP_CHECKSUM;
	if (!ipv4_options(pkt + IPV4_MIN_HLEN, hlen - IPV4_MIN_HLEN, &m->router_alert))
		return XM_CTRL_BAD_IP_HEADER;
	if (get16(pkt + 6) & IPV4_FRAG_MASK)
		return XM_CTRL_FRAGMENT;
	if (pkt[9] != IPPROTO_IGMP)
		return XM_CTRL_BAD_PROTOCOL;
	return parse_igmp(pkt + hlen, tot - hlen, m);
}

/* ---- MLD ---- */

static enum xm_ctrl_reason mld_query(const uint8_t *p, size_t len, struct xm_ctrl_msg *m)
{
	m->kind = XM_CTRL_QUERY;
	if (len < XM_MLD_V1_QUERY_LEN)
		return XM_CTRL_BAD_LENGTH;
	memcpy(m->group, p + 8, 16);
	if (len == XM_MLD_V1_QUERY_LEN) {
		m->version = 1;
		m->max_resp_ms = get16(p + 4);
		return query_group(m);
	}
	if (len < XM_MLD_V2_QUERY_LEN)
		return XM_CTRL_QUERY_25_27_BYTES;
	m->version = 2;
	m->max_resp_ms = xm_code16_decode(get16(p + 4));
	return v3_query_tail(p, len, 24, m);
}

/* RFC 3810 5.1.14 and 5.2.14: link-local sources only; reports may come
 * from :: (the router decides on those). */
static bool mld_source_ok(const struct xm_ctrl_msg *m, uint8_t type)
{
	if (ipv6_is_link_local(m->src))
		return true;
	return type != XM_MLD_QUERY && xm_addr_is_zero(m->src);
}

static enum xm_ctrl_reason parse_mld(const uint8_t *p, size_t len, struct xm_ctrl_msg *m)
{
	if (len < MLD_MIN_LEN)
		return XM_CTRL_BAD_LENGTH;
	if (xm_csum_fold(xm_csum_add(ipv6_pseudo_sum(m, len), p, len)))
		return XM_CTRL_BAD_CHECKSUM;
	m->type = p[0];
	switch (p[0]) {
	case XM_MLD_QUERY:
	case XM_MLD_V1_REPORT:
	case XM_MLD_V1_DONE:
	case XM_MLD_V2_REPORT:
		break;
	default:
		return XM_CTRL_BAD_TYPE;
	}
	if (!mld_source_ok(m, p[0]))
		return XM_CTRL_BAD_SOURCE;
	switch (p[0]) {
	case XM_MLD_QUERY:
		return mld_query(p, len, m);
	case XM_MLD_V1_REPORT:
	case XM_MLD_V1_DONE:
		if (len < MLD_V1_LEN)
			return XM_CTRL_BAD_LENGTH;
		return one_group(p, 8, p[0] == XM_MLD_V1_DONE ? XM_CTRL_LEAVE : XM_CTRL_JOIN,
				 1, m);
	default:
		m->kind = XM_CTRL_REPORT;
		m->version = 2;
		return parse_records(p, len, m);
	}
}

/*
 * Hop-by-hop or destination options.  An unknown option whose type says
 * "discard" (RFC 8200 4.2) makes the packet one the kernel would drop.
 */
static bool ipv6_options(const uint8_t *o, size_t len, bool *ra)
{
	size_t i = 0;

	while (i < len) {
		if (o[i] == IP6OPT_PAD1_) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + o[i + 1] > len)
			return false;
		if (o[i] == IP6OPT_RA_) {
			if (ra && o[i + 1] == IP6OPT_RA_LEN_ && get16(o + i + 2) == IP6OPT_RA_MLD)
				*ra = true;
		} else if (o[i] != IP6OPT_PADN_ && o[i] >> 6) {
			return false;
		}
		i += 2 + (size_t)o[i + 1];
	}
	return true;
}

static enum xm_ctrl_reason parse_ipv6(const uint8_t *pkt, size_t len, struct xm_ctrl_msg *m)
{
	size_t off = IPV6_HLEN, end, hlen;
	unsigned int nh, i;

	m->family = XM_AF_INET6;
	if (len < IPV6_HLEN)
		return XM_CTRL_TRUNCATED;
	m->ttl = pkt[7];
	memcpy(m->src, pkt + 8, 16);
	memcpy(m->dst, pkt + 24, 16);
	/* A payload length of 0 announces a jumbogram: not MLD. */
	if (pkt[0] >> 4 != 6 || !get16(pkt + 4))
		return XM_CTRL_BAD_IP_HEADER;
	end = IPV6_HLEN + (size_t)get16(pkt + 4);
	if (end > len)
		return XM_CTRL_TRUNCATED;
	for (i = 0, nh = pkt[6]; nh != IPPROTO_ICMPV6; i++) {
		if (nh == IPPROTO_FRAGMENT)
			return XM_CTRL_FRAGMENT;
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS)
			return XM_CTRL_BAD_PROTOCOL;
		/* Hop-by-hop comes first or not at all (RFC 8200 4.1). */
		if (i >= XM_IPV6_EXT_MAX || (nh == IPPROTO_HOPOPTS && i) || off + 8 > end)
			return XM_CTRL_BAD_IP_HEADER;
		hlen = (pkt[off + 1] + 1u) * 8;
		if (off + hlen > end ||
		    !ipv6_options(pkt + off + 2, hlen - 2,
				  nh == IPPROTO_HOPOPTS ? &m->router_alert : NULL))
			return XM_CTRL_BAD_IP_HEADER;
		nh = pkt[off];
		off += hlen;
	}
	return parse_mld(pkt + off, end - off, m);
}

enum xm_ctrl_reason xm_ctrl_parse(const void *pkt, size_t len, uint32_t ifindex,
				  uint16_t vlan, struct xm_ctrl_msg *msg)
{
	const uint8_t *p = pkt;

	/* Only the header: the record array is written as it fills. */
	memset(msg, 0, offsetof(struct xm_ctrl_msg, rec));
	msg->ifindex = ifindex;
	msg->vlan = vlan;
	if (!len)
		return XM_CTRL_TRUNCATED;
	if (p[0] >> 4 == 6)
		return parse_ipv6(p, len, msg);
	return parse_ipv4(p, len, msg);
}
