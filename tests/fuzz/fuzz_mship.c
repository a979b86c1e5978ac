// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the IGMP/MLD parser and the membership state
 * machine together.  The input is a script: the first byte configures two
 * links with small limits and short timers, then each step is one of
 *
 *	op  what			bytes after op
 *	0   raw IPv4 packet		len (2, LE), bytes
 *	1   raw IPv6 packet		len (2, LE), bytes
 *	2   time passes, then a tick	ms (2, LE); op bit 3: times 100
 *	3   static join			source (0 = (*,G)), group;
 *	    with op bit 3: reconfigure	a config byte, as the first byte
 *	4   static leave		source, group;
 *	    with op bit 3: remove the link, then add it back
 *	5   built report		nrec, then per record: type, group,
 *					nsrc, nsrc source bytes
 *	6   built query			version, group, S/QRV, QQIC, code,
 *					querier, nsrc, sources
 *	7   built v1/v2 join or leave	kind/version, group
 *
 * op bit 4 picks the link, bit 5 the family of built messages, bit 7 leaves
 * raw packets' checksums alone (otherwise they are fixed so the parser gets
 * past them).  Built messages use few groups and sources, so steps meet the
 * same state; a few of their group numbers are invalid on purpose.
 *
 * After every step, besides ASan and UBSan, these abort when broken:
 *  - xm_mship_check(): modes, timers, sorted unique sources, counts, limits,
 *    hash and heap;
 *  - every group read back one by one is the group iterated;
 *  - nothing is left due: the next deadline is after now;
 *  - the change stream alone rebuilds the set of groups (CREATED only for a
 *    new one, CHANGED and DELETED only for a known one), and tells each
 *    group at most once per step;
 *  - actions fit: versions, source lists within a frame, never empty;
 *  - a parsed message points only inside the packet.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"
#include "mship.h"
#include "util.h"

#define LINKS		2
#define MAX_GROUPS	6
#define MAX_SOURCES	5
#define NGROUPS		8	/* 239.0.0.0-7, ff0e::0-7 */
#define BAD_GROUPS	3	/* then 224.0.0.1, 10.0.0.1, 0.0.0.0 */
#define NSOURCES	8
#define TRACKED		(LINKS * MAX_GROUPS * 2 + 8)
#define PKT_MAX		9000

enum { OP_RAW4, OP_RAW6, OP_TIME, OP_JOIN, OP_LEAVE, OP_REPORT, OP_QUERY, OP_OLD };
#define OP_LINK		0x10
#define OP_FAMILY6	0x20
#define OP_RAW_CSUM	0x80
#define OP_TIME_X100	0x08
#define OP_LINK_CFG	0x08	/* on OP_JOIN / OP_LEAVE */

static const uint32_t ifindexes[LINKS] = { 2, 7 };

struct harness {
	struct xm_mship *m;
	uint64_t now;
	struct xm_mship_key known[TRACKED];	/* what the changes told */
	unsigned int nknown;
	struct xm_mship_key told[TRACKED];	/* told in this step */
	unsigned int ntold;
};

static struct harness H;
static struct xm_ctrl_msg msg;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_mship: %s at %llu ms\n", what, (unsigned long long)H.now);
	abort();
}

/* ---- callbacks: the change stream must be consistent on its own ---- */

static int find_key(const struct xm_mship_key *set, unsigned int n, const struct xm_mship_key *k)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!memcmp(&set[i], k, sizeof(*k)))
			return i;
	return -1;
}

static void on_change(void *ctx, const struct xm_mship_change *c)
{
	int i = find_key(H.known, H.nknown, &c->g.key);

	if (find_key(H.told, H.ntold, &c->g.key) >= 0)
		fail("a group was told twice in one step");
	if (H.ntold == TRACKED)
		fail("more changes in one step than groups can exist");
	H.told[H.ntold++] = c->g.key;
	switch (c->kind) {
	case XM_MSHIP_CREATED:
		if (i >= 0)
			fail("CREATED for a group already told");
		if (H.nknown == TRACKED)
			fail("more groups than the limits allow");
		H.known[H.nknown++] = c->g.key;
		break;
	case XM_MSHIP_DELETED:
		if (i < 0)
			fail("DELETED for a group never told");
		H.known[i] = H.known[--H.nknown];
		break;
	default:
		if (i < 0)
			fail("CHANGED for a group never told");
		if (!c->what)
			fail("CHANGED with nothing changed");
		break;
	}
	if (c->kind != XM_MSHIP_DELETED && c->g.mode == XM_MSHIP_INCLUDE && !c->g.nsrc)
		fail("told an INCLUDE group without sources");
}

static void on_action(void *ctx, const struct xm_mship_action *a)
{
	uint32_t max = a->family == XM_AF_INET ? XM_IGMP_QUERY_MAX_SOURCES :
						 XM_MLD_QUERY_MAX_SOURCES;
	uint8_t top = a->family == XM_AF_INET ? 3 : 2;

	if (!a->version || a->version > top)
		fail("action with a bad version");
	if (a->kind == XM_MSHIP_QUERY_GROUP_SOURCE && (!a->nsrc || a->nsrc > max || !a->sources))
		fail("group-and-source query with no sources or too many");
	if (a->kind != XM_MSHIP_QUERY_GROUP_SOURCE && a->nsrc)
		fail("sources in a query that takes none");
	if ((a->kind == XM_MSHIP_QUERY_GENERAL) != xm_addr_is_zero(a->group))
		fail("a general query names a group, or a specific one none");
	if (a->s_flag && a->version != top)
		fail("S flag in an old-version query");
}

static bool forbidden(void *ctx, const struct xm_mship_key *key)
{
	const uint8_t *g = (const uint8_t *)key->group;

	return g[key->family == XM_AF_INET ? 3 : 15] == NGROUPS - 1;
}

static const struct xm_mship_ops ops = {
	.change = on_change, .action = on_action, .forbidden = forbidden,
};

/* ---- the script ---- */

struct cursor {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct cursor *c)
{
	if (!c->left)
		return 0;
	c->left--;
	return *c->p++;
}

static uint16_t take16(struct cursor *c)
{
	uint16_t lo = take8(c);

	return lo | take8(c) << 8;
}

/* Limits stay as they are: lowering one keeps what is above it, which
 * xm_mship_check() would call broken. */
static void configure(unsigned int i, uint8_t conf)
{
	struct xm_mship_cfg cfg;

	xm_mship_cfg_default(&cfg);
	cfg.max_groups = MAX_GROUPS;
	cfg.max_sources = MAX_SOURCES;
	cfg.query_interval_ms = 2000;
	cfg.query_response_ms = 500;
	cfg.lmqi_ms = 100;
	cfg.igmp_version = 1 + conf % 3;
	cfg.mld_version = 1 + (conf >> 2 & 1);
	cfg.require_router_alert = conf >> 3 & 1;
	cfg.addr4[0] = htonl(0x0a000005);	/* 10.0.0.5 */
	cfg.addr6[0] = htonl(0xfe800000);	/* fe80::5 */
	cfg.addr6[3] = htonl(5);
	/* The two links differ: querier mode and fast leave. */
	cfg.querier = (conf >> (4 + i * 2) & 3) % 3;
	cfg.fast_leave = i == 1;
	if (xm_mship_iface_set(H.m, ifindexes[i], (uint16_t)i, &cfg, H.now))
		fail("a valid configuration was refused");
}

static void setup(uint8_t conf)
{
	unsigned int i;

	for (i = 0; i < LINKS; i++)
		configure(i, conf);
}

static void group_addr(uint8_t family, uint8_t i, __be32 g[4])
{
	static const uint32_t bad4[BAD_GROUPS] = { 0xe0000001, 0x0a000001, 0 };

	memset(g, 0, 16);
	i %= NGROUPS + BAD_GROUPS;
	if (family == XM_AF_INET) {
		g[0] = htonl(i < NGROUPS ? 0xef000000 | i : bad4[i - NGROUPS]);
		return;
	}
	if (i < NGROUPS) {
		g[0] = htonl(0xff0e0000);
		g[3] = htonl(i);
	} else if (i == NGROUPS) {
		g[0] = htonl(0xff020000);	/* ff02::1 */
		g[3] = htonl(1);
	} else if (i == NGROUPS + 1) {
		g[0] = htonl(0x20010db8);	/* unicast */
	}
}

/* Source i: 10.0.0.1+i or 2001:db8::1+i; 4 or 16 bytes at out. */
static size_t source_bytes(uint8_t family, uint8_t i, uint8_t *out)
{
	__be32 a[4] = { 0 };

	i %= NSOURCES;
	if (family == XM_AF_INET) {
		a[0] = htonl(0x0a000001 + i);
		memcpy(out, a, 4);
		return 4;
	}
	a[0] = htonl(0x20010db8);
	a[3] = htonl(1 + i);
	memcpy(out, a, 16);
	return 16;
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i < len; i++)
		sum += i & 1 ? p[i] : p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Make the checksums right where the headers say where they are. */
static void fix4(uint8_t *b, size_t len)
{
	size_t ihl, tot;

	if (len < 20 || b[0] >> 4 != 4)
		return;
	ihl = (b[0] & 0xf) * 4u;
	if (ihl < 20 || ihl > len)
		return;
	put16(b + 10, 0);
	put16(b + 10, csum(b, ihl, 0));
	tot = get16(b + 2);
	if (tot > len || tot < ihl + 4)
		return;
	put16(b + ihl + 2, 0);
	put16(b + ihl + 2, csum(b + ihl, tot - ihl, 0));
}

static void fix6(uint8_t *b, size_t len)
{
	size_t end, l4 = 40;

	if (len < 40)
		return;
	end = 40 + (size_t)get16(b + 4);
	if (b[6] != 58 && len >= 48)
		l4 = 40 + (b[41] + 1u) * 8;
	if (end > len || l4 + 4 > end)
		return;
	put16(b + l4 + 2, 0);
	put16(b + l4 + 2, csum(b + l4, end - l4, csum(b + 8, 32, end - l4 + 58) ^ 0xffff));
}

/* Whatever parses must stay inside the packet. */
static void check_parsed(const uint8_t *b, size_t len)
{
	size_t a = msg.family == XM_AF_INET ? 4 : 16;
	unsigned int i;

	if (msg.nrec > XM_CTRL_MAX_RECORDS || msg.nsrc > XM_CTRL_MAX_SOURCES)
		fail("parsed beyond the bounds");
	if (msg.nsrc && (msg.src_list < b || msg.src_list + msg.nsrc * a > b + len))
		fail("query sources outside the packet");
	for (i = 0; i < msg.nrec; i++) {
		const struct xm_ctrl_record *r = &msg.rec[i];

		if (r->type < XM_REC_IS_IN || r->type > XM_REC_BLOCK)
			fail("a record of unknown type was kept");
		if (r->src < b || r->src + r->nsrc * a > b + len)
			fail("record sources outside the packet");
		if (!xm_addr_is_multicast(msg.family, r->group))
			fail("a record for a non-multicast group was kept");
	}
}

static void deliver(uint8_t *b, size_t len, uint32_t ifindex, uint16_t vlan)
{
	if (xm_ctrl_parse(b, len, ifindex, vlan, &msg))
		return;
	check_parsed(b, len);
	xm_mship_input(H.m, &msg, H.now);
}

/* IPv4 with router alert, or IPv6 with hop-by-hop router alert, TTL 1. */
static size_t wrap(uint8_t family, const uint8_t *src, const uint8_t *dst, const uint8_t *m,
		   size_t mlen, uint8_t *b)
{
	static const uint8_t hbh[8] = { 58, 0, 5, 2, 0, 0, 1, 0 };

	if (family == XM_AF_INET) {
		memset(b, 0, 24);
		b[0] = 0x46;
		put16(b + 2, 24 + mlen);
		b[8] = 1;
		b[9] = 2;
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
		b[20] = 148;
		b[21] = 4;
		memcpy(b + 24, m, mlen);
		fix4(b, 24 + mlen);
		return 24 + mlen;
	}
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, 8 + mlen);
	b[6] = 0;
	b[7] = 1;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	memcpy(b + 40, hbh, 8);
	memcpy(b + 48, m, mlen);
	fix6(b, 48 + mlen);
	return 48 + mlen;
}

static const uint8_t host4[4] = { 10, 0, 0, 100 }, dst4[4] = { 224, 0, 0, 22 };
static const uint8_t host6[16] = { 0xfe, 0x80, [15] = 100 };
static const uint8_t dst6[16] = { 0xff, 0x02, [15] = 0x16 };

static void built_report(struct cursor *c, uint8_t family, unsigned int l)
{
	static uint8_t m[PKT_MAX], b[PKT_MAX];
	unsigned int nrec = take8(c) % 9, i, j, n;
	size_t off = 8, a = family == XM_AF_INET ? 4 : 16, hdr;
	__be32 g[4];

	memset(m, 0, 8);
	m[0] = family == XM_AF_INET ? XM_IGMP_V3_REPORT : XM_MLD_V2_REPORT;
	put16(m + 6, nrec);
	for (i = 0; i < nrec; i++) {
		hdr = off;
		m[hdr] = take8(c) % 8;	/* 0 and 7 are unknown types */
		m[hdr + 1] = 0;
		group_addr(family, take8(c), g);
		memcpy(m + hdr + 4, g, a);
		n = take8(c) % 9;
		put16(m + hdr + 2, n);
		off = hdr + 4 + a;
		for (j = 0; j < n; j++)
			off += source_bytes(family, take8(c), m + off);
	}
	n = wrap(family, family == XM_AF_INET ? host4 : host6,
		 family == XM_AF_INET ? dst4 : dst6, m, off, b);
	deliver(b, n, ifindexes[l], l);
}

static void built_query(struct cursor *c, uint8_t family, unsigned int l)
{
	static uint8_t m[PKT_MAX], b[PKT_MAX];
	uint8_t version = take8(c) % 3, src[16] = { 0 };
	size_t off, len;
	unsigned int n, j;
	uint8_t who = take8(c);
	__be32 g[4] = { 0 };

	if (take8(c) & 1)
		group_addr(family, take8(c), g);
	/* The querier's address: below ours, above, ours, or zero. */
	if (family == XM_AF_INET) {
		src[0] = 10;
		src[3] = (uint8_t[]){ 1, 9, 5, 0 }[who % 4];
		if (who % 4 == 3)
			src[0] = 0;
	} else {
		src[0] = 0xfe;
		src[1] = 0x80;
		src[15] = (uint8_t[]){ 1, 9, 5, 0 }[who % 4];
	}
	memset(m, 0, 28);
	if (family == XM_AF_INET) {
		m[0] = XM_IGMP_QUERY;
		m[1] = take8(c);
		memcpy(m + 4, g, 4);
		off = 8;
		if (version == 2) {
			m[8] = take8(c);
			m[9] = take8(c);
			off = 12;
		} else if (version == 0) {
			m[1] = 0;
		}
	} else {
		m[0] = XM_MLD_QUERY;
		put16(m + 4, take16(c));
		memcpy(m + 8, g, 16);
		off = 24;
		if (version) {
			m[24] = take8(c);
			m[25] = take8(c);
			off = 28;
		}
	}
	len = off;
	if (off == 12 || off == 28) {
		n = take8(c) % 9;
		put16(m + off - 2, n);
		for (j = 0; j < n; j++)
			len += source_bytes(family, take8(c), m + len);
	}
	n = wrap(family, src, family == XM_AF_INET ? dst4 : dst6, m, len, b);
	deliver(b, n, ifindexes[l], l);
}

static void built_old(struct cursor *c, uint8_t family, unsigned int l)
{
	static uint8_t m[24], b[128];
	uint8_t kind = take8(c) % 3;	/* v1 report, v2 report, leave */
	__be32 g[4];
	size_t n;

	group_addr(family, take8(c), g);
	memset(m, 0, sizeof(m));
	if (family == XM_AF_INET) {
		m[0] = (uint8_t[]){ XM_IGMP_V1_REPORT, XM_IGMP_V2_REPORT, XM_IGMP_V2_LEAVE }[kind];
		memcpy(m + 4, g, 4);
		n = wrap(family, host4, (const uint8_t *)g, m, 8, b);
	} else {
		m[0] = kind == 2 ? XM_MLD_V1_DONE : XM_MLD_V1_REPORT;
		memcpy(m + 8, g, 16);
		n = wrap(family, host6, (const uint8_t *)g, m, 24, b);
	}
	deliver(b, n, ifindexes[l], l);
}

static void raw(struct cursor *c, uint8_t op, unsigned int l)
{
	static uint8_t b[PKT_MAX];
	size_t len = take16(c);

	if (len > c->left)
		len = c->left;
	if (len > sizeof(b))
		len = sizeof(b);
	memcpy(b, c->p, len);
	c->p += len;
	c->left -= len;
	if (!(op & OP_RAW_CSUM)) {
		if ((op & 7) == OP_RAW4)
			fix4(b, len);
		else
			fix6(b, len);
	}
	deliver(b, len, ifindexes[l], l);
}

static void static_op(struct cursor *c, uint8_t op, uint8_t family, unsigned int l)
{
	struct xm_mship_key k = { .ifindex = ifindexes[l], .vlan = l, .family = family };
	uint8_t si = take8(c), sb[16];
	__be32 s[4] = { 0 };

	group_addr(family, take8(c), k.group);
	if (si) {
		source_bytes(family, si, sb);
		memcpy(s, sb, family == XM_AF_INET ? 4 : 16);
	}
	if ((op & 7) == OP_JOIN)
		xm_mship_static_join(H.m, &k, si ? s : NULL, H.now);
	else
		xm_mship_static_leave(H.m, &k, si ? s : NULL, H.now);
}

static void step(struct cursor *c)
{
	uint8_t op = take8(c), family = op & OP_FAMILY6 ? XM_AF_INET6 : XM_AF_INET;
	unsigned int l = !!(op & OP_LINK);
	uint64_t ms;

	if ((op & 7) == OP_JOIN && (op & OP_LINK_CFG)) {
		configure(l, take8(c));
		return;
	}
	if ((op & 7) == OP_LEAVE && (op & OP_LINK_CFG)) {
		if (xm_mship_iface_del(H.m, ifindexes[l], l, H.now))
			fail("a link could not be removed");
		configure(l, take8(c));
		return;
	}
	switch (op & 7) {
	case OP_RAW4:
	case OP_RAW6:
		raw(c, op, l);
		break;
	case OP_TIME:
		ms = take16(c);
		H.now += op & OP_TIME_X100 ? ms * 100 : ms;
		xm_mship_tick(H.m, H.now);
		break;
	case OP_JOIN:
	case OP_LEAVE:
		static_op(c, op, family, l);
		break;
	case OP_REPORT:
		built_report(c, family, l);
		break;
	case OP_QUERY:
		built_query(c, family, l);
		break;
	default:
		built_old(c, family, l);
		break;
	}
}

static int read_back(void *ctx, const struct xm_mship_group_view *g)
{
	struct xm_mship_group_view again;

	if (xm_mship_group_get(H.m, &g->key, &again) || again.nsrc != g->nsrc ||
	    again.timer != g->timer || again.mode != g->mode || again.src != g->src)
		fail("a group read back is not the group iterated");
	if (find_key(H.known, H.nknown, &g->key) < 0)
		fail("a group exists that was never told");
	(*(size_t *)ctx)++;
	return 0;
}

static void check_state(void)
{
	char why[256];
	size_t n = 0;

	if (xm_mship_check(H.m, H.now, why, sizeof(why)))
		fail(why);
	if (xm_mship_next_deadline(H.m) <= H.now)
		fail("something due was left undone");
	if (xm_mship_ngroups(H.m) != H.nknown)
		fail("the changes told do not add up to the groups");
	xm_mship_foreach(H.m, read_back, &n);
	if (n != H.nknown)
		fail("iterating finds another number of groups");
	if (xm_mship_ngroups(H.m) > LINKS * MAX_GROUPS)
		fail("more groups than the limits allow");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	unsigned int steps = 0;

	memset(&H, 0, sizeof(H));
	H.now = 1;
	H.m = xm_mship_new(&ops, 7);
	if (!H.m)
		return 0;
	setup(take8(&c));
	H.ntold = 0;
	check_state();
	while (c.left && steps++ < 2000) {
		H.ntold = 0;
		step(&c);
		check_state();
	}
	xm_mship_free(H.m);
	return 0;
}
