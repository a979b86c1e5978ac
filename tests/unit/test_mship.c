// SPDX-License-Identifier: GPL-2.0-only
/*
 * IGMP/MLD parsing (ctrl.c) and router membership state (mship.c), built
 * with AddressSanitizer and UBSan.  Packets are built here, with their own
 * checksum code, never with the code under test.  The state machine runs on
 * a fake clock; every step is followed by xm_mship_check().  Prints TAP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"
#include "mship.h"
#include "util.h"

#include "tap.h"

#define PKT_MAX		70000
#define HOST4		"10.0.0.100"
#define HOST6		"fe80::100"
#define OURS4		"10.0.0.5"
#define OURS6		"fe80::5"
#define IFINDEX		3
#define GMI		260000	/* 2 * 125 s + 10 s */
#define LMQT		2000	/* 2 * 1 s */

/* ---- addresses: "N" alone is 10.0.0.N or 2001:db8::N ---- */

/* Writes 4 or 16 bytes. */
static void addr(int family, const char *s, uint8_t *out)
{
	uint8_t a[16];
	char full[64];

	if (!strpbrk(s, ".:")) {
		snprintf(full, sizeof(full), family == XM_AF_INET ? "10.0.0.%s" : "2001:db8::%s", s);
		s = full;
	}
	if (inet_pton(family == XM_AF_INET ? AF_INET : AF_INET6, s, a) != 1) {
		fprintf(stderr, "test: bad address %s\n", s);
		abort();
	}
	memcpy(out, a, family == XM_AF_INET ? 4 : 16);
}

static int alen(int family)
{
	return family == XM_AF_INET ? 4 : 16;
}

/* "1 2 3" into n addresses; returns bytes written. */
static size_t addr_list(int family, const char *list, uint8_t *out, unsigned int *n)
{
	char buf[8192], *tok, *save;
	size_t off = 0;
	uint8_t a[16];

	*n = 0;
	if (!list)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		addr(family, tok, a);
		memcpy(out + off, a, alen(family));
		off += alen(family);
		(*n)++;
	}
	return off;
}

/* ---- checksums, written here independently of ctrl.c ---- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i < len; i++)
		sum += i & 1 ? p[i] : p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return ~sum & 0xffff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* ---- packets ---- */

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;	/* bytes handed to the parser */
	size_t l4;	/* offset of the IGMP or ICMPv6 message */
	int family;
};

/* Recompute every checksum from what the packet says now. */
static void pkt_fix(struct pkt *p)
{
	uint8_t *m = p->b + p->l4;
	size_t mlen;

	if (p->family == XM_AF_INET) {
		size_t ihl = (p->b[0] & 0xf) * 4, tot = p->b[2] << 8 | p->b[3];

		put16(p->b + 10, 0);
		put16(p->b + 10, fold(sum16(p->b, ihl, 0)));
		/* A total length made wrong on purpose: no message to sum. */
		if (tot < p->l4 + 4 || tot > sizeof(p->b))
			return;
		mlen = tot - p->l4;
		put16(m + 2, 0);
		put16(m + 2, fold(sum16(m, mlen, 0)));
		return;
	}
	mlen = 40 + (p->b[4] << 8 | p->b[5]) - p->l4;
	put16(m + 2, 0);
	put16(m + 2, fold(sum16(m, mlen, sum16(p->b + 8, 32, mlen + 58))));
}

/* IPv4, TTL 1, the router alert option when ra. */
static void pkt4(struct pkt *p, const char *src, const char *dst, bool ra, const uint8_t *msg,
		 size_t len)
{
	size_t ihl = ra ? 24 : 20;

	memset(p, 0, sizeof(*p));
	p->family = XM_AF_INET;
	p->b[0] = 0x40 | ihl / 4;
	p->b[1] = 0xc0;
	put16(p->b + 2, ihl + len);
	p->b[8] = 1;
	p->b[9] = 2;
	addr(XM_AF_INET, src, p->b + 12);
	addr(XM_AF_INET, dst, p->b + 16);
	if (ra) {
		p->b[20] = 148;
		p->b[21] = 4;
	}
	memcpy(p->b + ihl, msg, len);
	p->l4 = ihl;
	p->len = ihl + len;
	pkt_fix(p);
}

/* IPv6, hop limit 1, with ext (extension headers, the first of type nh) in
 * front of the ICMPv6 message; the last header's next header is set here. */
static void pkt6_ext(struct pkt *p, const char *src, const char *dst, uint8_t nh,
		     const uint8_t *ext, size_t extlen, size_t last, const uint8_t *msg,
		     size_t len)
{
	memset(p, 0, sizeof(*p));
	p->family = XM_AF_INET6;
	p->b[0] = 0x60;
	put16(p->b + 4, extlen + len);
	p->b[6] = extlen ? nh : 58;
	p->b[7] = 1;
	addr(XM_AF_INET6, src, p->b + 8);
	addr(XM_AF_INET6, dst, p->b + 24);
	memcpy(p->b + 40, ext, extlen);
	if (extlen)
		p->b[40 + last] = 58;
	memcpy(p->b + 40 + extlen, msg, len);
	p->l4 = 40 + extlen;
	p->len = 40 + extlen + len;
	pkt_fix(p);
}

/* Hop-by-hop: router alert (MLD), then PadN. */
static const uint8_t hbh_ra[8] = { 0, 0, 5, 2, 0, 0, 1, 0 };

static void pkt6(struct pkt *p, const char *src, const char *dst, bool ra, const uint8_t *msg,
		 size_t len)
{
	pkt6_ext(p, src, dst, 0, hbh_ra, ra ? sizeof(hbh_ra) : 0, 0, msg, len);
}

/* ---- messages ---- */

static size_t igmp_msg(uint8_t *b, uint8_t type, uint8_t code, const char *group)
{
	memset(b, 0, 8);
	b[0] = type;
	b[1] = code;
	addr(XM_AF_INET, group, b + 4);
	return 8;
}

static size_t igmp3_query(uint8_t *b, uint8_t code, const char *group, uint8_t sqrv,
			  uint8_t qqic, const char *srcs)
{
	unsigned int n;
	size_t len = 12 + addr_list(XM_AF_INET, srcs, b + 12, &n);

	igmp_msg(b, XM_IGMP_QUERY, code, group);
	b[8] = sqrv;
	b[9] = qqic;
	put16(b + 10, n);
	return len;
}

static size_t mld_msg(uint8_t *b, uint8_t type, uint16_t code, const char *group)
{
	memset(b, 0, 24);
	b[0] = type;
	put16(b + 4, code);
	addr(XM_AF_INET6, group, b + 8);
	return 24;
}

static size_t mld2_query(uint8_t *b, uint16_t code, const char *group, uint8_t sqrv,
			 uint8_t qqic, const char *srcs)
{
	unsigned int n;
	size_t len = 28 + addr_list(XM_AF_INET6, srcs, b + 28, &n);

	mld_msg(b, XM_MLD_QUERY, code, group);
	b[24] = sqrv;
	b[25] = qqic;
	put16(b + 26, n);
	return len;
}

static int rec_type(const char *name)
{
	static const char *const names[] = { "", "IS_IN", "IS_EX", "TO_IN", "TO_EX",
					     "ALLOW", "BLOCK" };
	unsigned int i;

	for (i = 1; i < ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return i;
	return atoi(name);
}

/*
 * An IGMPv3 or MLDv2 report from "TYPE GROUP SRC... [aux=N]; ...".  TYPE is
 * a record type name or a number.
 */
static size_t report_msg(uint8_t *b, int family, const char *spec)
{
	char buf[16384], *rec, *save, *tok, *save2;
	size_t off = 8, hdr;
	unsigned int nrec = 0, nsrc;
	uint8_t a[16];

	memset(b, 0, 8);
	b[0] = family == XM_AF_INET ? XM_IGMP_V3_REPORT : XM_MLD_V2_REPORT;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (rec = strtok_r(buf, ";", &save); rec; rec = strtok_r(NULL, ";", &save)) {
		unsigned int aux = 0;

		hdr = off;
		tok = strtok_r(rec, " ", &save2);
		b[hdr] = rec_type(tok);
		addr(family, strtok_r(NULL, " ", &save2), b + hdr + 4);
		off = hdr + 4 + alen(family);
		nsrc = 0;
		while ((tok = strtok_r(NULL, " ", &save2))) {
			if (!strncmp(tok, "aux=", 4)) {
				aux = atoi(tok + 4);
				continue;
			}
			addr(family, tok, a);
			memcpy(b + off, a, alen(family));
			off += alen(family);
			nsrc++;
		}
		b[hdr + 1] = aux;
		put16(b + hdr + 2, nsrc);
		memset(b + off, 0xaa, aux * 4);
		off += aux * 4;
		nrec++;
	}
	put16(b + 6, nrec);
	return off;
}

/* The whole packet of a report from the usual host. */
static void report_pkt(struct pkt *p, int family, const char *spec)
{
	static uint8_t msg[PKT_MAX];
	size_t len = report_msg(msg, family, spec);

	if (family == XM_AF_INET)
		pkt4(p, HOST4, "224.0.0.22", true, msg, len);
	else
		pkt6(p, HOST6, "ff02::16", true, msg, len);
}

/* ---- parser ---- */

static struct xm_ctrl_msg msg;
static struct pkt P;

static enum xm_ctrl_reason parse(const struct pkt *p)
{
	return xm_ctrl_parse(p->b, p->len, IFINDEX, 7, &msg);
}

static void expect(const struct pkt *p, enum xm_ctrl_reason want, const char *name)
{
	enum xm_ctrl_reason r = parse(p);

	check(r == want, name, "got %s, want %s", xm_ctrl_reason_name(r),
	      xm_ctrl_reason_name(want));
}

static bool is_addr(int family, const __be32 a[4], const char *s)
{
	uint8_t want[16] = { 0 };

	addr(family, s, want);
	return !memcmp(a, want, 16);
}

static bool source_is(const struct xm_ctrl_msg *m, const uint8_t *list, unsigned int i,
		      const char *s)
{
	__be32 a[4];

	xm_ctrl_source(m, list, i, a);
	return is_addr(m->family, a, s);
}

static void test_parse_igmp_valid(void)
{
	uint8_t m[PKT_MAX];
	size_t len;
	enum xm_ctrl_reason r;

	pkt4(&P, "10.0.0.1", "224.0.0.1", true, m, igmp_msg(m, XM_IGMP_QUERY, 0, "0.0.0.0"));
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_QUERY && msg.version == 1 && msg.max_resp_ms == 10000 &&
	      xm_addr_is_zero(msg.group) && msg.router_alert && msg.ttl == 1 &&
	      msg.ifindex == IFINDEX && msg.vlan == 7 && is_addr(XM_AF_INET, msg.src, "10.0.0.1") &&
	      is_addr(XM_AF_INET, msg.dst, "224.0.0.1"),
	      "igmp: v1 query (8 bytes, Max Resp 0) means 10 s", "%s v%u %u ms",
	      xm_ctrl_reason_name(r), msg.version, msg.max_resp_ms);

	pkt4(&P, "10.0.0.1", "224.0.0.1", true, m, igmp_msg(m, XM_IGMP_QUERY, 100, "0.0.0.0"));
	r = parse(&P);
	check(!r && msg.version == 2 && msg.max_resp_ms == 10000 && !msg.qrv && !msg.qqi_s,
	      "igmp: v2 general query, Max Resp in tenths", "%s v%u", xm_ctrl_reason_name(r),
	      msg.version);

	pkt4(&P, "10.0.0.1", "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_QUERY, 10, "239.1.1.1"));
	r = parse(&P);
	check(!r && msg.version == 2 && msg.max_resp_ms == 1000 &&
	      is_addr(XM_AF_INET, msg.group, "239.1.1.1"), "igmp: v2 group-specific query", "%s",
	      xm_ctrl_reason_name(r));

	pkt4(&P, "10.0.0.1", "224.0.0.1", true, m,
	     igmp3_query(m, 100, "0.0.0.0", 0x02, 125, NULL));
	r = parse(&P);
	check(!r && msg.version == 3 && msg.max_resp_ms == 10000 && msg.qrv == 2 &&
	      msg.qqi_s == 125 && !msg.s_flag && !msg.nsrc, "igmp: v3 general query", "%s",
	      xm_ctrl_reason_name(r));

	pkt4(&P, "10.0.0.1", "239.1.1.1", true, m,
	     igmp3_query(m, 0xff, "239.1.1.1", 0x08 | 0x07, 0xff, "1 2"));
	r = parse(&P);
	check(!r && msg.version == 3 && msg.max_resp_ms == 3174400 && msg.qqi_s == 31744 &&
	      msg.s_flag && msg.qrv == 7 && msg.nsrc == 2 &&
	      source_is(&msg, msg.src_list, 0, "10.0.0.1") &&
	      source_is(&msg, msg.src_list, 1, "10.0.0.2"),
	      "igmp: v3 group-and-source query, S, QRV 7, exponential codes", "%s %u ms qqi %u",
	      xm_ctrl_reason_name(r), msg.max_resp_ms, msg.qqi_s);

	pkt4(&P, "10.0.0.1", "224.0.0.1", true, m,
	     igmp3_query(m, 0x80, "0.0.0.0", 0, 0x80, NULL));
	r = parse(&P);
	check(!r && msg.max_resp_ms == 12800 && msg.qqi_s == 128,
	      "igmp: v3 query codes 0x80 are 12.8 s and 128 s", "%u %u", msg.max_resp_ms,
	      msg.qqi_s);

	/* Extra bytes after the sources are allowed (RFC 3376 4.1.10). */
	len = igmp3_query(m, 100, "0.0.0.0", 2, 125, NULL);
	memset(m + len, 0, 4);
	pkt4(&P, "10.0.0.1", "224.0.0.1", true, m, len + 4);
	check(!parse(&P) && msg.version == 3, "igmp: v3 query with trailing bytes", "");

	pkt4(&P, HOST4, "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V1_REPORT, 0, "239.1.1.1"));
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_JOIN && msg.version == 1 &&
	      is_addr(XM_AF_INET, msg.group, "239.1.1.1"), "igmp: v1 report", "%s",
	      xm_ctrl_reason_name(r));
	pkt4(&P, HOST4, "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_JOIN && msg.version == 2, "igmp: v2 report", "%s",
	      xm_ctrl_reason_name(r));
	pkt4(&P, HOST4, "224.0.0.2", true, m, igmp_msg(m, XM_IGMP_V2_LEAVE, 0, "239.1.1.1"));
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_LEAVE && msg.version == 2, "igmp: v2 leave", "%s",
	      xm_ctrl_reason_name(r));

	pkt4(&P, "0.0.0.0", "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	check(!parse(&P), "igmp: a report from 0.0.0.0 is valid (RFC 3376 4.2.13)", "");

	pkt4(&P, HOST4, "239.1.1.1", false, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	P.b[8] = 64;
	pkt_fix(&P);
	r = parse(&P);
	check(!r && !msg.router_alert && msg.ttl == 64,
	      "igmp: no router alert and TTL 64 are reported, not refused", "%s",
	      xm_ctrl_reason_name(r));

	/* A capture longer than the datagram: Ethernet padding. */
	pkt4(&P, HOST4, "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	P.len += 18;
	check(!parse(&P), "igmp: bytes captured after the datagram are ignored", "");

	/* Options: NOP, NOP, router alert, end; IHL 8. */
	memset(&P, 0, sizeof(P));
	pkt4(&P, HOST4, "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	memmove(P.b + 32, P.b + 24, 8);
	memcpy(P.b + 20, (uint8_t[12]){ 1, 1, 148, 4, 0, 0, 0 }, 12);
	P.b[0] = 0x48;
	put16(P.b + 2, 40);
	P.l4 = 32;
	P.len = 40;
	pkt_fix(&P);
	r = parse(&P);
	check(!r && msg.router_alert, "igmp: router alert among other options", "%s",
	      xm_ctrl_reason_name(r));

	len = report_msg(m, XM_AF_INET,
			 "IS_IN 239.1.1.1 1 2; IS_EX 239.1.1.2; TO_IN 239.1.1.3 3 aux=2; "
			 "TO_EX 239.1.1.4 4 5 6; ALLOW 232.1.1.5 7; BLOCK 239.1.1.6 8");
	pkt4(&P, HOST4, "224.0.0.22", true, m, len);
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_REPORT && msg.version == 3 && msg.nrec == 6 &&
	      msg.rec[0].type == XM_REC_IS_IN && msg.rec[0].nsrc == 2 &&
	      msg.rec[1].type == XM_REC_IS_EX && !msg.rec[1].nsrc &&
	      msg.rec[2].type == XM_REC_TO_IN && source_is(&msg, msg.rec[2].src, 0, "3") &&
	      msg.rec[3].type == XM_REC_TO_EX && source_is(&msg, msg.rec[3].src, 2, "6") &&
	      msg.rec[4].type == XM_REC_ALLOW && is_addr(XM_AF_INET, msg.rec[4].group, "232.1.1.5") &&
	      msg.rec[5].type == XM_REC_BLOCK && source_is(&msg, msg.rec[5].src, 0, "8"),
	      "igmp: v3 report with every record type, sources and aux data", "%s nrec %u",
	      xm_ctrl_reason_name(r), msg.nrec);

	len = report_msg(m, XM_AF_INET,
			 "IS_IN 239.1.1.1 1; 7 239.1.1.2 2; 0 239.1.1.3; IS_EX 224.0.0.251; "
			 "IS_EX 10.1.1.1; ALLOW 239.1.1.9 9");
	pkt4(&P, HOST4, "224.0.0.22", true, m, len);
	r = parse(&P);
	check(!r && msg.nrec == 2 && msg.rec[1].type == XM_REC_ALLOW &&
	      source_is(&msg, msg.rec[1].src, 0, "9") &&
	      msg.skipped[XM_CTRL_SKIP_UNKNOWN_TYPE] == 2 &&
	      msg.skipped[XM_CTRL_SKIP_LINK_LOCAL] == 1 &&
	      msg.skipped[XM_CTRL_SKIP_NOT_MULTICAST] == 1,
	      "igmp: unknown record types and unusable groups are skipped, counted, the rest used",
	      "%s nrec %u", xm_ctrl_reason_name(r), msg.nrec);
}

/* A valid v2 report, changed by f, checksums fixed or not. */
static void mutated4(const char *name, enum xm_ctrl_reason want, void (*f)(struct pkt *),
		     bool fix)
{
	uint8_t m[8];

	pkt4(&P, HOST4, "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	f(&P);
	if (fix)
		pkt_fix(&P);
	expect(&P, want, name);
}

static void m_version5(struct pkt *p) { p->b[0] = 0x56; }
static void m_ihl4(struct pkt *p) { p->b[0] = 0x44; }
static void m_totlen_short(struct pkt *p) { put16(p->b + 2, 20); }
static void m_totlen_long(struct pkt *p) { put16(p->b + 2, p->len + 1); }
static void m_ihl_long(struct pkt *p) { p->b[0] = 0x4f; put16(p->b + 2, 60); }
static void m_ip_csum(struct pkt *p) { p->b[10] ^= 1; }
static void m_opt_len1(struct pkt *p) { p->b[21] = 1; }
static void m_opt_long(struct pkt *p) { p->b[21] = 8; }
static void m_mf(struct pkt *p) { p->b[6] = 0x20; }
static void m_offset(struct pkt *p) { p->b[7] = 1; }
static void m_udp(struct pkt *p) { p->b[9] = 17; }
static void m_igmp_csum(struct pkt *p) { p->b[p->l4 + 2] ^= 1; }
static void m_short7(struct pkt *p) { put16(p->b + 2, 24 + 7); p->len = 31; }
static void m_type13(struct pkt *p) { p->b[p->l4] = 0x13; }
static void m_type1e(struct pkt *p) { p->b[p->l4] = 0x1e; }
static void m_src_mcast(struct pkt *p) { addr(XM_AF_INET, "224.0.0.5", p->b + 12); }
static void m_src_loop(struct pkt *p) { addr(XM_AF_INET, "127.0.0.1", p->b + 12); }
static void m_src_bcast(struct pkt *p) { addr(XM_AF_INET, "255.255.255.255", p->b + 12); }
static void m_grp_ll(struct pkt *p) { addr(XM_AF_INET, "224.0.0.251", p->b + p->l4 + 4); }
static void m_grp_uni(struct pkt *p) { addr(XM_AF_INET, "10.0.0.1", p->b + p->l4 + 4); }
static void m_grp_zero(struct pkt *p) { memset(p->b + p->l4 + 4, 0, 4); }
static void m_leave_ll(struct pkt *p) { p->b[p->l4] = XM_IGMP_V2_LEAVE; m_grp_ll(p); }
static void m_query_uni(struct pkt *p) { p->b[p->l4] = XM_IGMP_QUERY; m_grp_uni(p); }

static void test_parse_igmp_bad(void)
{
	static const struct {
		const char *name;
		enum xm_ctrl_reason want;
		void (*f)(struct pkt *);
		bool fix;
	} cases[] = {
		{ "ipv4: version 5", XM_CTRL_BAD_IP_HEADER, m_version5, true },
		{ "ipv4: IHL 4", XM_CTRL_BAD_IP_HEADER, m_ihl4, true },
		{ "ipv4: total length below the header", XM_CTRL_BAD_IP_HEADER, m_totlen_short, true },
		{ "ipv4: total length beyond the capture", XM_CTRL_TRUNCATED, m_totlen_long, true },
		{ "ipv4: header beyond the capture", XM_CTRL_TRUNCATED, m_ihl_long, false },
		{ "ipv4: header checksum", XM_CTRL_BAD_IP_CHECKSUM, m_ip_csum, false },
		{ "ipv4: option of length 1", XM_CTRL_BAD_IP_HEADER, m_opt_len1, true },
		{ "ipv4: option past the header", XM_CTRL_BAD_IP_HEADER, m_opt_long, true },
		{ "ipv4: more fragments", XM_CTRL_FRAGMENT, m_mf, true },
		{ "ipv4: fragment offset", XM_CTRL_FRAGMENT, m_offset, true },
		{ "ipv4: UDP", XM_CTRL_BAD_PROTOCOL, m_udp, true },
		{ "igmp: checksum", XM_CTRL_BAD_CHECKSUM, m_igmp_csum, false },
		{ "igmp: 7 bytes", XM_CTRL_BAD_LENGTH, m_short7, true },
		{ "igmp: type 0x13 (DVMRP)", XM_CTRL_BAD_TYPE, m_type13, true },
		{ "igmp: type 0x1e (mtrace)", XM_CTRL_BAD_TYPE, m_type1e, true },
		{ "igmp: multicast source", XM_CTRL_BAD_SOURCE, m_src_mcast, true },
		{ "igmp: loopback source", XM_CTRL_BAD_SOURCE, m_src_loop, true },
		{ "igmp: broadcast source", XM_CTRL_BAD_SOURCE, m_src_bcast, true },
		{ "igmp: v2 report for 224.0.0.251", XM_CTRL_LINK_LOCAL_GROUP, m_grp_ll, true },
		{ "igmp: v2 report for a unicast group", XM_CTRL_NOT_MULTICAST_GROUP, m_grp_uni, true },
		{ "igmp: v2 report for 0.0.0.0", XM_CTRL_NOT_MULTICAST_GROUP, m_grp_zero, true },
		{ "igmp: leave of a link-local group", XM_CTRL_LINK_LOCAL_GROUP, m_leave_ll, true },
		{ "igmp: query for a unicast group", XM_CTRL_NOT_MULTICAST_GROUP, m_query_uni, true },
	};
	static uint8_t m[PKT_MAX];
	unsigned int i, n;
	size_t len;
	char name[64];

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		mutated4(cases[i].name, cases[i].want, cases[i].f, cases[i].fix);

	P.len = 0;
	expect(&P, XM_CTRL_TRUNCATED, "ipv4: nothing captured");
	pkt4(&P, HOST4, "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	P.len = 19;
	expect(&P, XM_CTRL_TRUNCATED, "ipv4: 19 bytes");

	/* RFC 3376 7.1: 9 to 11 bytes is no known query. */
	for (n = 9; n <= 11; n++) {
		len = igmp3_query(m, 100, "0.0.0.0", 2, 125, NULL);
		pkt4(&P, "10.0.0.1", "224.0.0.1", true, m, n);
		snprintf(name, sizeof(name), "igmp: %u-byte query is ignored", n);
		expect(&P, XM_CTRL_QUERY_9_11_BYTES, name);
	}
	len = igmp3_query(m, 100, "239.1.1.1", 2, 125, "1 2");
	pkt4(&P, "10.0.0.1", "239.1.1.1", true, m, len - 1);
	expect(&P, XM_CTRL_BAD_LENGTH, "igmp: v3 query sources past the message");
	len = igmp3_query(m, 100, "0.0.0.0", 2, 125, "1");
	pkt4(&P, "10.0.0.1", "224.0.0.1", true, m, len);
	expect(&P, XM_CTRL_BAD_QUERY, "igmp: general query with a source");
	pkt4(&P, "10.0.0.1", "224.0.0.1", true, m, igmp3_query(m, 100, "224.0.0.9", 2, 125, NULL));
	expect(&P, XM_CTRL_LINK_LOCAL_GROUP, "igmp: query for a link-local group");

	len = report_msg(m, XM_AF_INET, "IS_IN 239.1.1.1 1 2");
	pkt4(&P, HOST4, "224.0.0.22", true, m, len - 1);
	expect(&P, XM_CTRL_BAD_LENGTH, "igmp: v3 record sources past the message");
	len = report_msg(m, XM_AF_INET, "IS_IN 239.1.1.1 1 aux=1");
	pkt4(&P, HOST4, "224.0.0.22", true, m, len - 2);
	expect(&P, XM_CTRL_BAD_LENGTH, "igmp: v3 record aux data past the message");
	len = report_msg(m, XM_AF_INET, "IS_IN 239.1.1.1 1; IS_EX 239.1.1.2");
	pkt4(&P, HOST4, "224.0.0.22", true, m, len - 5);
	expect(&P, XM_CTRL_BAD_LENGTH, "igmp: v3 record header past the message");
	len = report_msg(m, XM_AF_INET, "IS_IN 239.1.1.1 1");
	put16(m + 6, 2);
	pkt4(&P, HOST4, "224.0.0.22", true, m, len);
	expect(&P, XM_CTRL_BAD_LENGTH, "igmp: v3 report announcing more records than it has");

	/* The bounds. */
	memset(m, 0, sizeof(m));
	m[0] = XM_IGMP_V3_REPORT;
	put16(m + 6, XM_CTRL_MAX_RECORDS + 1);
	for (i = 0; i <= XM_CTRL_MAX_RECORDS; i++) {
		m[8 + i * 8] = XM_REC_IS_EX;
		addr(XM_AF_INET, "239.1.1.1", m + 8 + i * 8 + 4);
	}
	pkt4(&P, HOST4, "224.0.0.22", true, m, 8 + (XM_CTRL_MAX_RECORDS + 1) * 8);
	expect(&P, XM_CTRL_TOO_MANY_RECORDS, "igmp: one record more than XM_CTRL_MAX_RECORDS");
	put16(m + 6, XM_CTRL_MAX_RECORDS);
	pkt4(&P, HOST4, "224.0.0.22", true, m, 8 + XM_CTRL_MAX_RECORDS * 8);
	expect(&P, XM_CTRL_OK, "igmp: XM_CTRL_MAX_RECORDS records");

	/* Two records of half the bound plus one source. */
	memset(m, 0, sizeof(m));
	m[0] = XM_IGMP_V3_REPORT;
	put16(m + 6, 2);
	len = 8;
	for (i = 0; i < 2; i++) {
		m[len] = XM_REC_ALLOW;
		put16(m + len + 2, XM_CTRL_MAX_SOURCES / 2 + i);
		addr(XM_AF_INET, "239.1.1.1", m + len + 4);
		memset(m + len + 8, 1, (XM_CTRL_MAX_SOURCES / 2 + i) * 4);
		len += 8 + (XM_CTRL_MAX_SOURCES / 2 + i) * 4;
	}
	pkt4(&P, HOST4, "224.0.0.22", true, m, len);
	expect(&P, XM_CTRL_TOO_MANY_SOURCES, "igmp: one source more than XM_CTRL_MAX_SOURCES");
	memset(m, 0, 12);
	m[0] = XM_IGMP_QUERY;
	addr(XM_AF_INET, "239.1.1.1", m + 4);
	put16(m + 10, XM_CTRL_MAX_SOURCES + 1);
	memset(m + 12, 1, (XM_CTRL_MAX_SOURCES + 1) * 4);
	pkt4(&P, "10.0.0.1", "239.1.1.1", true, m, 12 + (XM_CTRL_MAX_SOURCES + 1) * 4);
	expect(&P, XM_CTRL_TOO_MANY_SOURCES, "igmp: query with too many sources");
}

static void test_parse_mld_valid(void)
{
	static const uint8_t dst_then_hbh[] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t m[PKT_MAX], ext[16];
	enum xm_ctrl_reason r;
	size_t len;

	pkt6(&P, "fe80::1", "ff02::1", true, m, mld_msg(m, XM_MLD_QUERY, 10000, "::"));
	r = parse(&P);
	check(!r && msg.family == XM_AF_INET6 && msg.kind == XM_CTRL_QUERY && msg.version == 1 &&
	      msg.max_resp_ms == 10000 && msg.router_alert && msg.ttl == 1 &&
	      is_addr(XM_AF_INET6, msg.src, "fe80::1"),
	      "mld: v1 general query (24 bytes), Max Resp in ms", "%s", xm_ctrl_reason_name(r));

	pkt6(&P, "fe80::1", "ff0e::1", true, m, mld_msg(m, XM_MLD_QUERY, 1000, "ff0e::1"));
	r = parse(&P);
	check(!r && msg.version == 1 && msg.max_resp_ms == 1000 &&
	      is_addr(XM_AF_INET6, msg.group, "ff0e::1"), "mld: v1 group-specific query", "%s",
	      xm_ctrl_reason_name(r));

	pkt6(&P, "fe80::1", "ff02::1", true, m, mld2_query(m, 10000, "::", 0x02, 125, NULL));
	r = parse(&P);
	check(!r && msg.version == 2 && msg.max_resp_ms == 10000 && msg.qrv == 2 &&
	      msg.qqi_s == 125, "mld: v2 general query", "%s", xm_ctrl_reason_name(r));

	pkt6(&P, "fe80::1", "ff0e::1", true, m,
	     mld2_query(m, 0xffff, "ff0e::1", 0x08 | 0x03, 0x8f, "1 2 3"));
	r = parse(&P);
	check(!r && msg.max_resp_ms == 8387584 && msg.qqi_s == 248 && msg.s_flag &&
	      msg.qrv == 3 && msg.nsrc == 3 && source_is(&msg, msg.src_list, 2, "3"),
	      "mld: v2 group-and-source query, S, codes 0xffff and 0x8f", "%s %u",
	      xm_ctrl_reason_name(r), msg.max_resp_ms);

	pkt6(&P, "fe80::1", "ff02::1", true, m, mld2_query(m, 32768, "::", 2, 125, NULL));
	check(!parse(&P) && msg.max_resp_ms == 32768, "mld: v2 Max Resp code 32768 is 32768 ms",
	      "%u", msg.max_resp_ms);
	pkt6(&P, "fe80::1", "ff02::1", true, m, mld2_query(m, 32767, "::", 2, 125, NULL));
	check(!parse(&P) && msg.max_resp_ms == 32767, "mld: v2 Max Resp code 32767 is 32767 ms",
	      "%u", msg.max_resp_ms);

	pkt6(&P, HOST6, "ff0e::1", true, m, mld_msg(m, XM_MLD_V1_REPORT, 0, "ff0e::1"));
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_JOIN && msg.version == 1 &&
	      is_addr(XM_AF_INET6, msg.group, "ff0e::1"), "mld: v1 report", "%s",
	      xm_ctrl_reason_name(r));
	pkt6(&P, HOST6, "ff02::2", true, m, mld_msg(m, XM_MLD_V1_DONE, 0, "ff0e::1"));
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_LEAVE && msg.version == 1, "mld: v1 done", "%s",
	      xm_ctrl_reason_name(r));

	len = report_msg(m, XM_AF_INET6,
			 "IS_IN ff0e::1 1 2; IS_EX ff0e::2; TO_IN ff05::3 3 aux=1; TO_EX ff0e::4 4; "
			 "ALLOW ff3e::8000:1 5; BLOCK ff0e::6 6; 9 ff0e::7; IS_EX ff02::1; "
			 "IS_EX ff01::1; IS_EX 2001:db8::1");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	r = parse(&P);
	check(!r && msg.kind == XM_CTRL_REPORT && msg.version == 2 && msg.nrec == 6 &&
	      msg.rec[2].type == XM_REC_TO_IN && source_is(&msg, msg.rec[2].src, 0, "3") &&
	      msg.rec[5].type == XM_REC_BLOCK && msg.skipped[XM_CTRL_SKIP_UNKNOWN_TYPE] == 1 &&
	      msg.skipped[XM_CTRL_SKIP_LINK_LOCAL] == 1 && msg.skipped[XM_CTRL_SKIP_RESERVED] == 1 &&
	      msg.skipped[XM_CTRL_SKIP_NOT_MULTICAST] == 1,
	      "mld: v2 report, every type, skipped records counted", "%s nrec %u",
	      xm_ctrl_reason_name(r), msg.nrec);

	pkt6(&P, "::", "ff02::16", true, m, report_msg(m, XM_AF_INET6, "IS_EX ff0e::1"));
	check(!parse(&P), "mld: a report from :: parses (the router decides)", "");

	pkt6(&P, HOST6, "ff02::16", false, m, report_msg(m, XM_AF_INET6, "IS_EX ff0e::1"));
	r = parse(&P);
	check(!r && !msg.router_alert, "mld: no hop-by-hop header, no router alert", "%s",
	      xm_ctrl_reason_name(r));

	/* Hop-by-hop, then destination options. */
	memcpy(ext, hbh_ra, 8);
	ext[0] = 60;
	memcpy(ext + 8, dst_then_hbh, 8);
	len = report_msg(m, XM_AF_INET6, "IS_EX ff0e::1");
	pkt6_ext(&P, HOST6, "ff02::16", 0, ext, 16, 8, m, len);
	r = parse(&P);
	check(!r && msg.router_alert, "mld: hop-by-hop then destination options", "%s",
	      xm_ctrl_reason_name(r));

	/* A router alert of another value (RSVP) is not MLD's. */
	memcpy(ext, hbh_ra, 8);
	ext[5] = 1;
	pkt6_ext(&P, HOST6, "ff02::16", 0, ext, 8, 0, m, len);
	r = parse(&P);
	check(!r && !msg.router_alert, "mld: router alert value 1 is not MLD's", "%s",
	      xm_ctrl_reason_name(r));
}

static void test_parse_mld_bad(void)
{
	uint8_t m[PKT_MAX], ext[80];
	char name[64];
	size_t len;
	unsigned int n, i;

	len = report_msg(m, XM_AF_INET6, "IS_EX ff0e::1");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.len = 39;
	expect(&P, XM_CTRL_TRUNCATED, "ipv6: 39 bytes");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.len--;
	expect(&P, XM_CTRL_TRUNCATED, "ipv6: payload beyond the capture");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	put16(P.b + 4, 0);
	expect(&P, XM_CTRL_BAD_IP_HEADER, "ipv6: payload length 0 (jumbogram)");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.b[40 + 1] = 4;
	expect(&P, XM_CTRL_BAD_IP_HEADER, "ipv6: hop-by-hop longer than the payload");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.b[40 + 7] = 1;
	expect(&P, XM_CTRL_BAD_IP_HEADER, "ipv6: option longer than its header");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.b[40 + 6] = 0x80;
	expect(&P, XM_CTRL_BAD_IP_HEADER, "ipv6: unknown option that says discard");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.b[40 + 6] = 0x1e;
	pkt_fix(&P);
	expect(&P, XM_CTRL_OK, "ipv6: unknown option that says skip");

	memcpy(ext, hbh_ra, 8);
	ext[0] = 0;
	memcpy(ext + 8, hbh_ra, 8);
	pkt6_ext(&P, HOST6, "ff02::16", 60, ext, 16, 8, m, len);
	expect(&P, XM_CTRL_BAD_IP_HEADER, "ipv6: hop-by-hop after another header");

	for (n = XM_IPV6_EXT_MAX; n <= XM_IPV6_EXT_MAX + 1; n++) {
		for (i = 0; i < n; i++) {
			memcpy(ext + i * 8, hbh_ra, 8);
			ext[i * 8] = 60;
		}
		pkt6_ext(&P, HOST6, "ff02::16", 60, ext, n * 8, (n - 1) * 8, m, len);
		snprintf(name, sizeof(name), "ipv6: %u destination option headers", n);
		expect(&P, n > XM_IPV6_EXT_MAX ? XM_CTRL_BAD_IP_HEADER : XM_CTRL_OK, name);
	}
	memset(ext, 0, 8);
	pkt6_ext(&P, HOST6, "ff02::16", 44, ext, 8, 0, m, len);
	expect(&P, XM_CTRL_FRAGMENT, "ipv6: fragment header");
	pkt6(&P, HOST6, "ff02::16", false, m, len);
	P.b[6] = 17;
	expect(&P, XM_CTRL_BAD_PROTOCOL, "ipv6: UDP");

	/* The checksum of the message alone, without the pseudo-header. */
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	put16(P.b + P.l4 + 2, 0);
	put16(P.b + P.l4 + 2, fold(sum16(P.b + P.l4, len, 0)));
	expect(&P, XM_CTRL_BAD_CHECKSUM, "mld: checksum without the pseudo-header");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.b[P.l4 + 2] ^= 0x10;
	expect(&P, XM_CTRL_BAD_CHECKSUM, "mld: checksum");
	pkt6(&P, HOST6, "ff02::16", true, m, len);
	P.b[P.l4] = 128;
	pkt_fix(&P);
	expect(&P, XM_CTRL_BAD_TYPE, "mld: echo request");
	pkt6(&P, HOST6, "ff02::16", true, m, 7);
	expect(&P, XM_CTRL_BAD_LENGTH, "mld: 7 bytes");

	mld2_query(m, 10000, "::", 2, 125, NULL);
	for (n = 25; n <= 27; n++) {
		pkt6(&P, "fe80::1", "ff02::1", true, m, n);
		snprintf(name, sizeof(name), "mld: %u-byte query is ignored", n);
		expect(&P, XM_CTRL_QUERY_25_27_BYTES, name);
	}
	pkt6(&P, "fe80::1", "ff02::1", true, m, 23);
	expect(&P, XM_CTRL_BAD_LENGTH, "mld: 23-byte query");
	pkt6(&P, "2001:db8::1", "ff02::1", true, m, 28);
	expect(&P, XM_CTRL_BAD_SOURCE, "mld: query from a global address");
	pkt6(&P, "::", "ff02::1", true, m, 28);
	expect(&P, XM_CTRL_BAD_SOURCE, "mld: query from ::");
	len = mld2_query(m, 10000, "ff0e::1", 2, 125, "1 2");
	pkt6(&P, "fe80::1", "ff0e::1", true, m, len - 1);
	expect(&P, XM_CTRL_BAD_LENGTH, "mld: v2 query sources past the message");
	pkt6(&P, "fe80::1", "ff0e::1", true, m, mld2_query(m, 1000, "ff0e::1", 2, 125, NULL));
	P.b[P.l4 + 26] = 0xff;
	pkt_fix(&P);
	expect(&P, XM_CTRL_BAD_LENGTH, "mld: v2 query announcing 65280 sources");

	pkt6(&P, "2001:db8::9", "ff0e::1", true, m, mld_msg(m, XM_MLD_V1_REPORT, 0, "ff0e::1"));
	expect(&P, XM_CTRL_BAD_SOURCE, "mld: report from a global address");
	pkt6(&P, HOST6, "ff02::1", true, m, mld_msg(m, XM_MLD_V1_REPORT, 0, "ff02::1"));
	expect(&P, XM_CTRL_LINK_LOCAL_GROUP, "mld: v1 report for ff02::1");
	pkt6(&P, HOST6, "ff01::5", true, m, mld_msg(m, XM_MLD_V1_REPORT, 0, "ff01::5"));
	expect(&P, XM_CTRL_RESERVED_GROUP, "mld: v1 report for interface-local ff01::5");
	pkt6(&P, HOST6, "ff0e::1", true, m, mld_msg(m, XM_MLD_V1_REPORT, 0, "2001:db8::1"));
	expect(&P, XM_CTRL_NOT_MULTICAST_GROUP, "mld: v1 report for a unicast group");
	pkt6(&P, HOST6, "ff0e::1", true, m, 20);
	expect(&P, XM_CTRL_BAD_LENGTH, "mld: 20-byte v1 report");
	len = report_msg(m, XM_AF_INET6, "IS_IN ff0e::1 1");
	pkt6(&P, HOST6, "ff02::16", true, m, len - 1);
	expect(&P, XM_CTRL_BAD_LENGTH, "mld: v2 record sources past the message");
}

static void test_codes(void)
{
	static const struct {
		uint8_t code;
		uint32_t value;
	} c8[] = { { 0, 0 }, { 1, 1 }, { 127, 127 }, { 0x80, 128 }, { 0x8f, 248 },
		   { 0x90, 256 }, { 0xf0, 16384 }, { 0xff, 31744 } };
	static const struct {
		uint16_t code;
		uint32_t value;
	} c16[] = { { 0, 0 }, { 32767, 32767 }, { 0x8000, 32768 }, { 0x8fff, 65528 },
		    { 0x9000, 65536 }, { 0xffff, 8387584 } };
	unsigned int i, bad = 0;
	uint32_t v;

	for (i = 0; i < ARRAY_SIZE(c8); i++)
		bad += xm_code8_decode(c8[i].code) != c8[i].value ||
		       xm_code8_encode(c8[i].value) != c8[i].code;
	check(!bad, "codes: 8-bit edge values decode and encode", "%u wrong", bad);
	for (i = 0, bad = 0; i < ARRAY_SIZE(c16); i++)
		bad += xm_code16_decode(c16[i].code) != c16[i].value ||
		       xm_code16_encode(c16[i].value) != c16[i].code;
	check(!bad, "codes: 16-bit edge values decode and encode", "%u wrong", bad);

	for (i = 0, bad = 0; i < 256; i++)
		bad += xm_code8_encode(xm_code8_decode(i)) != i;
	check(!bad, "codes: every 8-bit code round-trips", "%u wrong", bad);
	for (i = 0, bad = 0; i < 65536; i++)
		bad += xm_code16_encode(xm_code16_decode(i)) != i;
	check(!bad, "codes: every 16-bit code round-trips", "%u wrong", bad);

	/* Between codes, encoding rounds down, never up. */
	for (v = 0, bad = 0; v < 40000; v++)
		bad += xm_code8_decode(xm_code8_encode(v)) > v;
	check(!bad && xm_code8_encode(129) == 0x80 && xm_code8_encode(255) == 0x8f &&
	      xm_code8_encode(1000000) == 0xff, "codes: 8-bit encoding rounds down, saturates",
	      "%u", bad);
	for (v = 0, bad = 0; v < 9000000; v += 7)
		bad += xm_code16_decode(xm_code16_encode(v)) > v;
	check(!bad && xm_code16_encode(32769) == 0x8000 && xm_code16_encode(UINT32_MAX) == 0xffff,
	      "codes: 16-bit encoding rounds down, saturates", "%u", bad);
}

static void test_names(void)
{
	unsigned int i, bad = 0;

	for (i = 0; i < XM_CTRL_REASON_COUNT; i++)
		bad += !strcmp(xm_ctrl_reason_name(i), "?");
	check(!bad && !strcmp(xm_ctrl_reason_name(XM_CTRL_QUERY_9_11_BYTES), "query_9_11_bytes") &&
	      !strcmp(xm_ctrl_reason_name(XM_CTRL_REASON_COUNT), "?") &&
	      !strcmp(xm_ctrl_skip_name(XM_CTRL_SKIP_UNKNOWN_TYPE), "unknown_record_type") &&
	      !strcmp(xm_rec_type_name(XM_REC_TO_EX), "TO_EX") && !strcmp(xm_rec_type_name(7), "?") &&
	      !strcmp(xm_mship_counter_name(XM_MSHIP_C_FORBIDDEN), "forbidden"),
	      "names: every reason, skip, record type and counter has one", "");
}

/* ---- the state machine: a fake clock, callbacks that write a log ---- */

struct change {
	uint8_t kind, what;
	struct xm_mship_key key;
};

struct env {
	struct xm_mship *m;
	struct xm_mship_cfg cfg;
	int family;
	uint64_t now;
	char log[16384];	/* actions, "; "-separated */
	unsigned int nchanges;
	struct change ch[512];
	struct xm_mship_action last;	/* the newest action, without its sources */
	const char *forbid;	/* a group the policy forbids */
	unsigned int bad_checks;
	char why[256];
};

static struct env E;

/* The short form of an address: the last byte or 16-bit word. */
static const char *short_addr(int family, const __be32 a[4], char *buf, size_t len)
{
	const uint8_t *b = (const uint8_t *)a;

	if (family == XM_AF_INET)
		snprintf(buf, len, "%u", b[3]);
	else
		snprintf(buf, len, "%x", b[14] << 8 | b[15]);
	return buf;
}

static void logf_(struct env *e, const char *fmt, ...)
{
	size_t n = strlen(e->log);
	va_list ap;

	if (n)
		n += snprintf(e->log + n, sizeof(e->log) - n, "; ");
	va_start(ap, fmt);
	vsnprintf(e->log + n, sizeof(e->log) - n, fmt, ap);
	va_end(ap);
}

static uint8_t top(int family)
{
	return family == XM_AF_INET ? 3 : 2;
}

/*
 * "GQ", "Q(G)", "Q(G,1 2)", with " S" for the S flag and " vN" when the
 * version is not the newest.
 */
static void on_action(void *ctx, const struct xm_mship_action *a)
{
	struct env *e = ctx;
	char list[8192] = "", one[16], ver[8] = "";
	size_t n = 0;
	uint32_t i;

	e->last = *a;
	e->last.sources = NULL;
	if (a->version != top(a->family))
		snprintf(ver, sizeof(ver), " v%u", a->version);
	if (a->nsrc > 16)
		snprintf(list, sizeof(list), ",%u sources", a->nsrc);
	for (i = 0; a->nsrc <= 16 && i < a->nsrc && n < sizeof(list) - 16; i++)
		n += snprintf(list + n, sizeof(list) - n, "%s%s", i ? " " : ",",
			      short_addr(a->family, a->sources[i], one, sizeof(one)));
	if (a->kind == XM_MSHIP_QUERY_GENERAL)
		logf_(e, "GQ%s", ver);
	else
		logf_(e, "Q(G%s)%s%s", list, ver, a->s_flag ? " S" : "");
}

static void on_change(void *ctx, const struct xm_mship_change *c)
{
	struct env *e = ctx;

	if (e->nchanges < ARRAY_SIZE(e->ch)) {
		e->ch[e->nchanges].kind = c->kind;
		e->ch[e->nchanges].what = c->what;
		e->ch[e->nchanges].key = c->g.key;
	}
	e->nchanges++;
}

static bool on_forbidden(void *ctx, const struct xm_mship_key *key)
{
	struct env *e = ctx;

	return e->forbid && is_addr(key->family, key->group, e->forbid);
}

static const struct xm_mship_ops ops = {
	.change = on_change, .action = on_action, .forbidden = on_forbidden, .ctx = &E,
};

static void verify(struct env *e)
{
	if (xm_mship_check(e->m, e->now, e->why, sizeof(e->why)) && !e->bad_checks++)
		printf("# invariant broken at %llu ms: %s\n", (unsigned long long)e->now, e->why);
}

static const char *G(const struct env *e)
{
	return e->family == XM_AF_INET ? "239.1.1.1" : "ff0e::1";
}

/* A link 3 that is the querier, for family; tweak changes its config. */
static void env_init(struct env *e, int family, void (*tweak)(struct xm_mship_cfg *))
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->now = 1000;
	e->m = xm_mship_new(&ops, 42);
	xm_mship_cfg_default(&e->cfg);
	e->cfg.querier = XM_QUERIER_ON;
	addr(XM_AF_INET, OURS4, (uint8_t *)e->cfg.addr4);
	addr(XM_AF_INET6, OURS6, (uint8_t *)e->cfg.addr6);
	/* One family per test: the log holds only its queries. */
	if (family == XM_AF_INET)
		e->cfg.mld_version = 0;
	else
		e->cfg.igmp_version = 0;
	if (tweak)
		tweak(&e->cfg);
	if (xm_mship_iface_set(e->m, IFINDEX, 0, &e->cfg, e->now))
		abort();
	e->log[0] = '\0';
	verify(e);
}

static void env_done(struct env *e, const char *name)
{
	check(!e->bad_checks, name, "%u broken invariants, the first: %s", e->bad_checks, e->why);
	xm_mship_free(e->m);
	e->m = NULL;
}

static const char *take_log(struct env *e)
{
	static char buf[sizeof(e->log)];

	snprintf(buf, sizeof(buf), "%s", e->log);
	e->log[0] = '\0';
	return buf;
}

static enum xm_ctrl_reason send_pkt(struct env *e, const struct pkt *p)
{
	enum xm_ctrl_reason r = xm_ctrl_parse(p->b, p->len, IFINDEX, 0, &msg);

	if (r) {
		printf("# test packet does not parse: %s\n", xm_ctrl_reason_name(r));
		e->bad_checks++;
		return r;
	}
	r = xm_mship_input(e->m, &msg, e->now);
	verify(e);
	return r;
}

/* An IGMPv3 / MLDv2 report from the usual host. */
static enum xm_ctrl_reason report(struct env *e, const char *spec)
{
	report_pkt(&P, e->family, spec);
	return send_pkt(e, &P);
}

/* IGMP v1/v2 or MLDv1 report and leave (done) from the usual host. */
static enum xm_ctrl_reason old_msg(struct env *e, uint8_t kind, int version, const char *g)
{
	uint8_t m[24];

	if (e->family == XM_AF_INET) {
		uint8_t type = kind == XM_CTRL_LEAVE ? XM_IGMP_V2_LEAVE :
			       version == 1 ? XM_IGMP_V1_REPORT : XM_IGMP_V2_REPORT;

		pkt4(&P, HOST4, g, true, m, igmp_msg(m, type, 0, g));
	} else {
		pkt6(&P, HOST6, g, true, m,
		     mld_msg(m, kind == XM_CTRL_LEAVE ? XM_MLD_V1_DONE : XM_MLD_V1_REPORT, 0, g));
	}
	return send_pkt(e, &P);
}

/* A v3/MLDv2 query from src: group NULL for general; code in the wire
 * unit (tenths for IGMP, ms for MLD). */
static enum xm_ctrl_reason query3(struct env *e, const char *src, const char *g, uint16_t code,
				  uint8_t sqrv, uint8_t qqic, const char *srcs)
{
	static uint8_t m[PKT_MAX];

	if (e->family == XM_AF_INET)
		pkt4(&P, src, g ? g : "224.0.0.1", true, m,
		     igmp3_query(m, code, g ? g : "0.0.0.0", sqrv, qqic, srcs));
	else
		pkt6(&P, src, g ? g : "ff02::1", true, m,
		     mld2_query(m, code, g ? g : "::", sqrv, qqic, srcs));
	return send_pkt(e, &P);
}

static void advance(struct env *e, uint64_t ms)
{
	e->now += ms;
	xm_mship_tick(e->m, e->now);
	verify(e);
}

static bool key_of(const struct env *e, const char *g, struct xm_mship_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = IFINDEX;
	k->family = e->family;
	addr(e->family, g, (uint8_t *)k->group);
	return true;
}

static bool view(const struct env *e, const char *g, struct xm_mship_group_view *v)
{
	struct xm_mship_key k;

	key_of(e, g, &k);
	return !xm_mship_group_get(e->m, &k, v);
}

static void rel(char *buf, size_t len, uint64_t t, uint64_t now)
{
	if (t == XM_MSHIP_FOREVER)
		snprintf(buf, len, "inf");
	else if (!t)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%lld", (long long)(t - now));
}

/*
 * "none", "IN 1=259000 2=260000" or "EX 260000 2=2000 3=0": the mode, the
 * group timer and every source's timer as time left (0: stopped, blocked).
 */
static const char *state(const struct env *e, const char *g)
{
	static char buf[65536];
	struct xm_mship_group_view v;
	char t[32], a[16];
	size_t n;
	uint32_t i;

	if (!view(e, g, &v))
		return "none";
	if (v.mode == XM_MSHIP_INCLUDE) {
		n = snprintf(buf, sizeof(buf), "IN");
	} else {
		rel(t, sizeof(t), v.timer, e->now);
		n = snprintf(buf, sizeof(buf), "EX %s", t);
	}
	for (i = 0; i < v.nsrc && n < sizeof(buf) - 64; i++) {
		rel(t, sizeof(t), v.src[i].timer, e->now);
		n += snprintf(buf + n, sizeof(buf) - n, " %s=%s",
			      short_addr(e->family, v.src[i].addr, a, sizeof(a)), t);
	}
	return buf;
}

static uint64_t counter(const struct env *e, enum xm_mship_counter c)
{
	struct xm_mship_counters cnt;

	xm_mship_counters_get(e->m, IFINDEX, 0, &cnt);
	return cnt.c[c];
}

/* ---- RFC 3376 6.4.1 and 6.4.2, row by row ---- */

/*
 * Every row starts from a state made at t and is applied at t + 1 s:
 * INCLUDE(A = {1, 2}), or EXCLUDE(X = {1, 2}, Y = {3, 4}); timers made
 * at t show 259000 left.  B is {2, 3} against INCLUDE: A*B = {2},
 * A-B = {1}, B-A = {3}; A is {2, 3, 5} against EXCLUDE: X*A = {2},
 * X-A = {1}, Y*A = {3}, Y-A = {4}, A-X-Y = {5}.
 */
static const struct {
	const char *name;
	bool exclude;
	const char *rec;
	const char *state;
	const char *queries;
} matrix[] = {
	{ "INCLUDE(A) IS_IN(B): INCLUDE(A+B), (B)=GMI", false, "IS_IN",
	  "IN 1=259000 2=260000 3=260000", "" },
	{ "INCLUDE(A) ALLOW(B): INCLUDE(A+B), (B)=GMI", false, "ALLOW",
	  "IN 1=259000 2=260000 3=260000", "" },
	{ "INCLUDE(A) IS_EX(B): EXCLUDE(A*B,B-A), (B-A)=0, Delete(A-B), GT=GMI", false, "IS_EX",
	  "EX 260000 2=259000 3=0", "" },
	{ "INCLUDE(A) TO_EX(B): EXCLUDE(A*B,B-A), (B-A)=0, Delete(A-B), Q(G,A*B), GT=GMI",
	  false, "TO_EX", "EX 260000 2=2000 3=0", "Q(G,2)" },
	{ "INCLUDE(A) TO_IN(B): INCLUDE(A+B), (B)=GMI, Q(G,A-B)", false, "TO_IN",
	  "IN 1=2000 2=260000 3=260000", "Q(G,1)" },
	{ "INCLUDE(A) BLOCK(B): INCLUDE(A), Q(G,A*B)", false, "BLOCK",
	  "IN 1=259000 2=2000", "Q(G,2)" },
	{ "EXCLUDE(X,Y) IS_IN(A): EXCLUDE(X+A,Y-A), (A)=GMI", true, "IS_IN",
	  "EX 259000 1=259000 2=260000 3=260000 4=0 5=260000", "" },
	{ "EXCLUDE(X,Y) ALLOW(A): EXCLUDE(X+A,Y-A), (A)=GMI", true, "ALLOW",
	  "EX 259000 1=259000 2=260000 3=260000 4=0 5=260000", "" },
	{ "EXCLUDE(X,Y) IS_EX(A): EXCLUDE(A-Y,Y*A), (A-X-Y)=GMI, Delete(X-A,Y-A), GT=GMI",
	  true, "IS_EX", "EX 260000 2=259000 3=0 5=260000", "" },
	{ "EXCLUDE(X,Y) TO_EX(A): EXCLUDE(A-Y,Y*A), (A-X-Y)=GT, Delete(X-A,Y-A), Q(G,A-Y), "
	  "GT=GMI", true, "TO_EX", "EX 260000 2=2000 3=0 5=2000", "Q(G,2 5)" },
	{ "EXCLUDE(X,Y) TO_IN(A): EXCLUDE(X+A,Y-A), (A)=GMI, Q(G,X-A), Q(G)", true, "TO_IN",
	  "EX 2000 1=2000 2=260000 3=260000 4=0 5=260000", "Q(G); Q(G,1)" },
	{ "EXCLUDE(X,Y) BLOCK(A): EXCLUDE(X+(A-Y),Y), (A-X-Y)=GT, Q(G,A-Y)", true, "BLOCK",
	  "EX 259000 1=259000 2=2000 3=0 4=0 5=2000", "Q(G,2 5)" },
};

static void setup_row(struct env *e, bool exclude)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "IS_IN %s 1 2", G(e));
	report(e, spec);
	if (exclude) {
		snprintf(spec, sizeof(spec), "IS_EX %s 1 2 3 4", G(e));
		report(e, spec);
	}
	advance(e, 1000);
	take_log(e);
}

static void test_matrix(int family)
{
	const char *fam = family == XM_AF_INET ? "igmpv3" : "mldv2";
	char name[256], spec[128];
	const char *got, *log;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(matrix); i++) {
		env_init(&E, family, NULL);
		setup_row(&E, matrix[i].exclude);
		snprintf(spec, sizeof(spec), "%s %s %s", matrix[i].rec, G(&E),
			 matrix[i].exclude ? "2 3 5" : "2 3");
		report(&E, spec);
		got = state(&E, G(&E));
		log = take_log(&E);
		snprintf(name, sizeof(name), "%s: %s", fam, matrix[i].name);
		check(!strcmp(got, matrix[i].state) && !strcmp(log, matrix[i].queries), name,
		      "state '%s' want '%s'; queries '%s' want '%s'", got, matrix[i].state, log,
		      matrix[i].queries);
		snprintf(name, sizeof(name), "%s: invariants after %s", fam, matrix[i].rec);
		env_done(&E, name);
	}
}

static void off(struct xm_mship_cfg *c)
{
	c->querier = XM_QUERIER_OFF;
}

/* A router that is not the querier keeps the table but neither queries
 * nor lowers a timer itself. */
static void test_matrix_non_querier(void)
{
	static const struct {
		bool exclude;
		const char *rec, *state;
	} rows[] = {
		{ false, "TO_EX", "EX 260000 2=259000 3=0" },
		{ false, "TO_IN", "IN 1=259000 2=260000 3=260000" },
		{ false, "BLOCK", "IN 1=259000 2=259000" },
		{ true, "TO_EX", "EX 260000 2=259000 3=0 5=259000" },
		{ true, "TO_IN", "EX 259000 1=259000 2=260000 3=260000 4=0 5=260000" },
		{ true, "BLOCK", "EX 259000 1=259000 2=259000 3=0 4=0 5=259000" },
	};
	char name[128], spec[64];
	const char *got, *log;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		env_init(&E, XM_AF_INET, off);
		setup_row(&E, rows[i].exclude);
		snprintf(spec, sizeof(spec), "%s %s %s", rows[i].rec, G(&E),
			 rows[i].exclude ? "2 3 5" : "2 3");
		report(&E, spec);
		got = state(&E, G(&E));
		log = take_log(&E);
		snprintf(name, sizeof(name), "non-querier: %s from %s: no query, no lowering",
			 rows[i].rec, rows[i].exclude ? "EXCLUDE" : "INCLUDE");
		check(!strcmp(got, rows[i].state) && !*log, name, "state '%s' want '%s'; queries '%s'",
		      got, rows[i].state, log);
		env_done(&E, "non-querier: invariants");
	}
}

/* ---- specific queries over time ---- */

static void test_retransmissions(void)
{
	char spec[64];
	const char *log;

	/* TO_EX from INCLUDE: Q(G,2) now and once more after LMQI, then 2
	 * runs out and is blocked. */
	env_init(&E, XM_AF_INET, NULL);
	setup_row(&E, false);
	report(&E, "TO_EX 239.1.1.1 2 3");
	take_log(&E);
	check(xm_mship_next_deadline(E.m) == E.now + 1000, "rexmit: next deadline is LMQI away",
	      "%llu", (unsigned long long)(xm_mship_next_deadline(E.m) - E.now));
	advance(&E, 1000);
	log = take_log(&E);
	check(!strcmp(log, "Q(G,2)"), "rexmit: Q(G,S) sent LMQC times, every LMQI", "%s", log);
	advance(&E, 999);
	log = take_log(&E);
	check(!*log && !strcmp(state(&E, G(&E)), "EX 258001 2=1 3=0"),
	      "rexmit: no third Q(G,S)", "%s / %s", log, state(&E, G(&E)));
	advance(&E, 1);
	check(!strcmp(state(&E, G(&E)), "EX 258000 2=0 3=0"),
	      "rexmit: an unanswered source is blocked after LMQT", "%s", state(&E, G(&E)));
	env_done(&E, "rexmit: invariants");

	/* An answer in between: the retransmission carries the S flag. */
	env_init(&E, XM_AF_INET, NULL);
	setup_row(&E, false);
	report(&E, "BLOCK 239.1.1.1 2");
	take_log(&E);
	advance(&E, 500);
	report(&E, "IS_IN 239.1.1.1 2");
	advance(&E, 500);
	log = take_log(&E);
	check(!strcmp(log, "Q(G,2) S") && !strcmp(state(&E, G(&E)), "IN 1=258000 2=259500"),
	      "rexmit: a source answered for is queried with S set (RFC 3376 6.6.3.2)", "%s / %s",
	      log, state(&E, G(&E)));
	env_done(&E, "rexmit S: invariants");

	/* Q(G) after a leave; a report in between sets S on the second. */
	env_init(&E, XM_AF_INET, NULL);
	report(&E, "IS_EX 239.1.1.1");
	report(&E, "TO_IN 239.1.1.1");
	log = take_log(&E);
	check(!strcmp(log, "Q(G)") && !strcmp(state(&E, G(&E)), "EX 2000"),
	      "leave: Q(G) and the group timer lowered to LMQT", "%s / %s", log,
	      state(&E, G(&E)));
	advance(&E, 300);
	report(&E, "IS_EX 239.1.1.1");
	advance(&E, 700);
	log = take_log(&E);
	check(!strcmp(log, "Q(G) S") && !strcmp(state(&E, G(&E)), "EX 259300"),
	      "leave: the retransmitted Q(G) has S once a member answered", "%s / %s", log,
	      state(&E, G(&E)));
	env_done(&E, "leave S: invariants");

	/* Unanswered: the group goes after LMQT, one DELETED. */
	env_init(&E, XM_AF_INET, NULL);
	report(&E, "IS_EX 239.1.1.1");
	report(&E, "TO_IN 239.1.1.1");
	E.nchanges = 0;
	take_log(&E);
	advance(&E, 1000);
	log = take_log(&E);
	advance(&E, 1000);
	check(!strcmp(log, "Q(G)") && !strcmp(state(&E, G(&E)), "none") && E.nchanges == 1 &&
	      E.ch[0].kind == XM_MSHIP_DELETED, "leave: unanswered, the group is deleted at LMQT",
	      "%s / %s / %u changes", log, state(&E, G(&E)), E.nchanges);
	env_done(&E, "leave unanswered: invariants");

	/* Long source lists are split into frames that fit. */
	env_init(&E, XM_AF_INET, NULL);
	{
		static char big[16384];
		size_t n = snprintf(big, sizeof(big), "IS_IN 239.1.1.1");
		unsigned int i;

		E.cfg.max_sources = 1000;
		xm_mship_iface_set(E.m, IFINDEX, 0, &E.cfg, E.now);
		for (i = 0; i < 400; i++)
			n += snprintf(big + n, sizeof(big) - n, " 10.0.%u.%u", i / 200 + 1, i % 200);
		report(&E, big);
		memcpy(big, "BLOCK", 5);
		take_log(&E);
		report(&E, big);
		log = take_log(&E);
		check(!strcmp(log, "Q(G,366 sources); Q(G,34 sources)"),
		      "queries: 400 sources go as two Q(G,S) of at most 366", "%s", log);
		(void)spec;
	}
	env_done(&E, "split: invariants");
}

static void rv8(struct xm_mship_cfg *c)
{
	c->robustness = 8;
	c->lmqc = 2;
}

/* What an action carries for the daemon to build the query from. */
static void test_action_fields(void)
{
	const struct xm_mship_action *a = &E.last;

	env_init(&E, XM_AF_INET, NULL);
	advance(&E, 31250);
	check(a->kind == XM_MSHIP_QUERY_GENERAL && a->family == XM_AF_INET && a->version == 3 &&
	      a->ifindex == IFINDEX && !a->vlan && a->max_resp_ms == 10000 && a->qrv == 2 &&
	      a->qqi_s == 125 && !a->s_flag && !a->remaining && !a->nsrc &&
	      is_addr(XM_AF_INET, a->src, OURS4) && xm_addr_is_zero(a->group),
	      "action: a general query carries QRI, QRV, QQI and our address", "");
	report(&E, "IS_EX 239.1.1.1; TO_IN 239.1.1.1");
	check(a->kind == XM_MSHIP_QUERY_GROUP && a->max_resp_ms == 1000 && a->remaining == 1 &&
	      is_addr(XM_AF_INET, a->group, "239.1.1.1"),
	      "action: a group-specific query carries LMQI and what is left to send", "");
	report(&E, "IS_IN 239.1.1.2 1 2; BLOCK 239.1.1.2 2 1");
	check(a->kind == XM_MSHIP_QUERY_GROUP_SOURCE && a->nsrc == 2 && a->max_resp_ms == 1000 &&
	      is_addr(XM_AF_INET, a->group, "239.1.1.2"),
	      "action: a group-and-source query lists its sources", "");
	env_done(&E, "action: invariants");

	env_init(&E, XM_AF_INET6, rv8);
	advance(&E, 31250);
	check(a->family == XM_AF_INET6 && a->version == 2 && !a->qrv &&
	      is_addr(XM_AF_INET6, a->src, OURS6),
	      "action: robustness 8 goes out as QRV 0 (RFC 3376 4.1.6)", "qrv %u", a->qrv);
	env_done(&E, "action rv8: invariants");
}

/* ---- timers running out: RFC 3376 6.3 and 6.5 ---- */

static void test_timeouts(void)
{
	struct xm_mship_group_view v;

	env_init(&E, XM_AF_INET, NULL);
	setup_row(&E, false);
	report(&E, "IS_IN 239.1.1.1 1");
	E.nchanges = 0;
	advance(&E, GMI - 1000);
	check(!strcmp(state(&E, G(&E)), "IN 1=1000") && E.nchanges == 1 &&
	      E.ch[0].kind == XM_MSHIP_CHANGED && (E.ch[0].what & XM_MSHIP_CH_SOURCES),
	      "timeout: INCLUDE, an expired source is deleted", "%s", state(&E, G(&E)));
	advance(&E, 1000);
	check(!strcmp(state(&E, G(&E)), "none") && E.nchanges == 2 &&
	      E.ch[1].kind == XM_MSHIP_DELETED, "timeout: INCLUDE, the last source takes the group",
	      "%s", state(&E, G(&E)));
	env_done(&E, "timeout INCLUDE: invariants");

	env_init(&E, XM_AF_INET, NULL);
	setup_row(&E, true);
	report(&E, "ALLOW 239.1.1.1 1");
	E.nchanges = 0;
	advance(&E, GMI - 1000);
	check(!strcmp(state(&E, G(&E)), "IN 1=1000") && E.nchanges == 1 &&
	      (E.ch[0].what & XM_MSHIP_CH_MODE),
	      "timeout: EXCLUDE group timer, sources still running go to INCLUDE (6.5)", "%s",
	      state(&E, G(&E)));
	advance(&E, 1000);
	check(!strcmp(state(&E, G(&E)), "none"), "timeout: ... and go when they run out", "%s",
	      state(&E, G(&E)));
	env_done(&E, "timeout EXCLUDE: invariants");

	env_init(&E, XM_AF_INET, NULL);
	setup_row(&E, true);
	report(&E, "IS_EX 239.1.1.1 1 2 3 4");
	advance(&E, GMI - 1000);
	check(!strcmp(state(&E, G(&E)), "EX 1000 1=0 2=0 3=0 4=0"),
	      "timeout: EXCLUDE, expired sources are blocked, not deleted", "%s",
	      state(&E, G(&E)));
	advance(&E, 1000);
	check(!strcmp(state(&E, G(&E)), "none"),
	      "timeout: EXCLUDE group timer with only blocked sources deletes the group", "%s",
	      state(&E, G(&E)));
	env_done(&E, "timeout EXCLUDE Y: invariants");

	env_init(&E, XM_AF_INET, NULL);
	report(&E, "IS_EX 239.1.1.1");
	check(view(&E, G(&E), &v) && v.mode == XM_MSHIP_EXCLUDE && v.timer == E.now + GMI &&
	      xm_mship_next_deadline(E.m) <= E.now + GMI,
	      "timeout: next deadline covers the group timer", "");
	advance(&E, GMI);
	check(!strcmp(state(&E, G(&E)), "none") && xm_mship_ngroups(E.m) == 0,
	      "timeout: EXCLUDE({}) expires after GMI", "%s", state(&E, G(&E)));
	env_done(&E, "timeout ASM: invariants");
}

/* ---- older hosts: RFC 3376 7.3.2, RFC 3810 8.3.2 ---- */

static void v2_link(struct xm_mship_cfg *c)
{
	c->igmp_version = 2;
}

static void v1_link(struct xm_mship_cfg *c)
{
	c->igmp_version = 1;
}

static void test_compat(void)
{
	struct xm_mship_group_view v;
	const char *log;

	env_init(&E, XM_AF_INET, NULL);
	old_msg(&E, XM_CTRL_JOIN, 2, "239.1.1.1");
	check(view(&E, G(&E), &v) && v.compat == 2 && v.older_host[1] == E.now + GMI &&
	      !strcmp(state(&E, G(&E)), "EX 260000"),
	      "compat: an IGMPv2 report is IS_EX({}) and starts the v2 host timer", "%s",
	      state(&E, G(&E)));
	report(&E, "TO_EX 239.1.1.1 1 2");
	report(&E, "BLOCK 239.1.1.1 3");
	check(!strcmp(state(&E, G(&E)), "EX 260000") &&
	      counter(&E, XM_MSHIP_C_TO_EX_SOURCES_IGNORED) == 1 &&
	      counter(&E, XM_MSHIP_C_BLOCK_IGNORED) == 1,
	      "compat v2: TO_EX(x) is TO_EX({}), BLOCK is ignored", "%s", state(&E, G(&E)));
	take_log(&E);
	old_msg(&E, XM_CTRL_LEAVE, 2, "239.1.1.1");
	log = take_log(&E);
	check(!strcmp(log, "Q(G) v2") && !strcmp(state(&E, G(&E)), "EX 2000"),
	      "compat v2: a leave sends an IGMPv2 group-specific query", "%s", log);
	advance(&E, 1000);
	report(&E, "IS_EX 239.1.1.1");
	E.nchanges = 0;
	advance(&E, GMI - 1000);
	check(view(&E, G(&E), &v) && v.compat == 3 && E.nchanges == 1 &&
	      (E.ch[0].what & XM_MSHIP_CH_COMPAT),
	      "compat: back to v3 when the v2 host timer runs out", "compat %u", v.compat);
	env_done(&E, "compat v2: invariants");

	env_init(&E, XM_AF_INET, NULL);
	old_msg(&E, XM_CTRL_JOIN, 1, "239.1.1.1");
	advance(&E, 1000);
	old_msg(&E, XM_CTRL_JOIN, 2, "239.1.1.1");
	take_log(&E);
	old_msg(&E, XM_CTRL_LEAVE, 2, "239.1.1.1");
	log = take_log(&E);
	check(view(&E, G(&E), &v) && v.compat == 1 && !*log &&
	      !strcmp(state(&E, G(&E)), "EX 260000") &&
	      counter(&E, XM_MSHIP_C_LEAVE_IGNORED) == 1,
	      "compat v1: leaves are ignored while IGMPv1 hosts are present", "%s / %s",
	      state(&E, G(&E)), log);
	report(&E, "TO_IN 239.1.1.1");
	log = take_log(&E);
	check(!strcmp(log, "Q(G) v2") && !strcmp(state(&E, G(&E)), "EX 2000"),
	      "compat v1: a v3 host's TO_IN({}) still queries, in the IGMPv2 form", "%s", log);
	report(&E, "IS_EX 239.1.1.1");
	advance(&E, GMI - 1000);
	check(view(&E, G(&E), &v) && v.compat == 2,
	      "compat: v1 host timer out, v2 still running: IGMPv2", "compat %u", v.compat);
	env_done(&E, "compat v1: invariants");

	env_init(&E, XM_AF_INET, v2_link);
	report(&E, "IS_IN 239.1.1.1 1; TO_EX 239.1.1.2 1");
	advance(&E, 31250);
	log = take_log(&E);
	check(!strcmp(state(&E, "239.1.1.1"), "IN 1=228750") &&
	      !strcmp(state(&E, "239.1.1.2"), "EX 228750") && !strcmp(log, "GQ v2"),
	      "link v2: general queries are IGMPv2, v3 records are read as v2 allows", "%s / %s",
	      state(&E, "239.1.1.2"), log);
	env_done(&E, "link v2: invariants");

	env_init(&E, XM_AF_INET, v1_link);
	old_msg(&E, XM_CTRL_JOIN, 2, "239.1.1.1");
	old_msg(&E, XM_CTRL_LEAVE, 2, "239.1.1.1");
	advance(&E, 31250);
	log = take_log(&E);
	check(!strcmp(state(&E, G(&E)), "EX 228750") && !strcmp(log, "GQ v1") &&
	      counter(&E, XM_MSHIP_C_LEAVE_IGNORED) == 1,
	      "link v1: IGMPv1 general queries, leaves ignored", "%s / %s", state(&E, G(&E)), log);
	env_done(&E, "link v1: invariants");

	env_init(&E, XM_AF_INET6, NULL);
	old_msg(&E, XM_CTRL_JOIN, 1, "ff0e::1");
	report(&E, "BLOCK ff0e::1 1; TO_EX ff0e::1 2");
	take_log(&E);
	old_msg(&E, XM_CTRL_LEAVE, 1, "ff0e::1");
	log = take_log(&E);
	check(view(&E, G(&E), &v) && v.compat == 1 && !strcmp(log, "Q(G) v1") &&
	      !strcmp(state(&E, G(&E)), "EX 2000") && counter(&E, XM_MSHIP_C_BLOCK_IGNORED) == 1,
	      "compat MLDv1: report, BLOCK ignored, TO_EX({}), done sends an MLDv1 query", "%s / %s",
	      state(&E, G(&E)), log);
	advance(&E, 1000);
	report(&E, "IS_EX ff0e::1");
	advance(&E, GMI - 1000);
	check(view(&E, G(&E), &v) && v.compat == 2, "compat MLDv1: back to MLDv2 after OHPT",
	      "compat %u", v.compat);
	env_done(&E, "compat MLDv1: invariants");
}

/* ---- the querier: RFC 3376 6.6.2, 4.1.6, 4.1.7 ---- */

static void auto_mode(struct xm_mship_cfg *c)
{
	c->querier = XM_QUERIER_AUTO;
}

static void test_querier(int family)
{
	const char *fam = family == XM_AF_INET ? "igmp" : "mld";
	const char *lower = family == XM_AF_INET ? "10.0.0.1" : "fe80::1";
	const char *higher = family == XM_AF_INET ? "10.0.0.9" : "fe80::9";
	const char *zero = family == XM_AF_INET ? "0.0.0.0" : "::";
	struct xm_mship_querier_view q;
	char name[128];
	const char *log;
	uint64_t oqp;
	uint16_t code = family == XM_AF_INET ? 10 : 1000;	/* 1 s */

	env_init(&E, family, auto_mode);
	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	snprintf(name, sizeof(name), "%s querier: starts as querier, first startup query sent", fam);
	check(q.querier && q.startup_left == 1 && q.next_query == E.now + 31250, name,
	      "querier %d left %u next %llu", q.querier, q.startup_left,
	      (unsigned long long)q.next_query);
	advance(&E, 31250);
	advance(&E, 125000);
	log = take_log(&E);
	snprintf(name, sizeof(name), "%s querier: startup interval QI/4, then QI", fam);
	check(!strcmp(log, "GQ; GQ"), name, "%s", log);

	query3(&E, higher, NULL, 100, 2, 125, NULL);
	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	snprintf(name, sizeof(name), "%s querier: a higher address does not win", fam);
	check(q.querier && !counter(&E, XM_MSHIP_C_QUERIER_LOST), name, "");

	if (family == XM_AF_INET) {
		/* MLD queries from :: do not parse at all. */
		query3(&E, zero, NULL, 100, 2, 125, NULL);
		xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
		check(q.querier, "igmp querier: a proxy query from 0.0.0.0 takes no part", "");
	}

	query3(&E, lower, NULL, 100, 3, 60, NULL);
	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	oqp = 3 * 60000 + 5000;
	snprintf(name, sizeof(name),
		 "%s querier: a lower address wins; QRV and QQI learned; OQPI from them", fam);
	check(!q.querier && is_addr(family, q.addr, lower) && q.rv == 3 && q.qi_ms == 60000 &&
	      q.other_present == E.now + oqp && counter(&E, XM_MSHIP_C_QUERIER_LOST) == 1, name,
	      "querier %d rv %u qi %u oqp %llu", q.querier, q.rv, q.qi_ms,
	      (unsigned long long)(q.other_present - E.now));

	query3(&E, higher, NULL, 100, 2, 125, NULL);
	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	snprintf(name, sizeof(name), "%s non-querier: a higher address than the querier's is not it",
		 fam);
	check(!q.querier && is_addr(family, q.addr, lower) && q.rv == 3, name, "rv %u", q.rv);

	report(&E, family == XM_AF_INET ? "IS_EX 239.1.1.1" : "IS_EX ff0e::1");
	take_log(&E);
	report(&E, family == XM_AF_INET ? "TO_IN 239.1.1.1" : "TO_IN ff0e::1");
	advance(&E, 125000);
	log = take_log(&E);
	snprintf(name, sizeof(name),
		 "%s non-querier: GMI from the learned values, no query on a leave, none general",
		 fam);
	check(!*log && !strcmp(state(&E, G(&E)), "EX 65000"), name, "%s / %s", log,
	      state(&E, G(&E)));

	query3(&E, lower, G(&E), code, 0x08 | 3, 60, NULL);
	snprintf(name, sizeof(name), "%s non-querier: a query with S set lowers nothing", fam);
	check(!strcmp(state(&E, G(&E)), "EX 65000"), name, "%s", state(&E, G(&E)));
	query3(&E, lower, G(&E), code, 3, 60, NULL);
	snprintf(name, sizeof(name),
		 "%s non-querier: the querier's Q(G) lowers the group timer to LMQC * Max Resp", fam);
	check(!strcmp(state(&E, G(&E)), "EX 3000"), name, "%s", state(&E, G(&E)));

	report(&E, family == XM_AF_INET ? "IS_IN 239.1.1.1 1 2" : "IS_IN ff0e::1 1 2");
	query3(&E, lower, G(&E), code, 3, 60, "2");
	snprintf(name, sizeof(name), "%s non-querier: the querier's Q(G,S) lowers those sources",
		 fam);
	check(!strcmp(state(&E, G(&E)), "EX 3000 1=190000 2=3000"), name, "%s",
	      state(&E, G(&E)));

	report(&E, family == XM_AF_INET ? "IS_EX 239.1.1.3" : "IS_EX ff0e::3");
	query3(&E, lower, family == XM_AF_INET ? "239.1.1.3" : "ff0e::3", 0, 3, 60, NULL);
	snprintf(name, sizeof(name), "%s non-querier: a Q(G) with Max Resp 0 ends the group at once",
		 fam);
	check(!strcmp(state(&E, family == XM_AF_INET ? "239.1.1.3" : "ff0e::3"), "none"), name,
	      "%s", state(&E, family == XM_AF_INET ? "239.1.1.3" : "ff0e::3"));

	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	E.now = q.other_present - 1;
	xm_mship_tick(E.m, E.now);
	take_log(&E);
	advance(&E, 1);
	log = take_log(&E);
	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	snprintf(name, sizeof(name),
		 "%s querier: other querier gone: querier again, startup query, own timers", fam);
	check(q.querier && !strcmp(log, "GQ") && q.rv == 2 && q.qi_ms == 125000 &&
	      q.startup_left == 1, name, "%s rv %u", log, q.rv);

	{
		char own[64];
		enum xm_ctrl_reason r;

		snprintf(own, sizeof(own), "%s", family == XM_AF_INET ? OURS4 : OURS6);
		r = query3(&E, own, NULL, 100, 2, 125, NULL);
		snprintf(name, sizeof(name), "%s querier: our own query looped back", fam);
		check(r == XM_CTRL_OWN_QUERY, name, "%s", xm_ctrl_reason_name(r));
	}
	if (family == XM_AF_INET) {
		uint8_t m[8];

		pkt4(&P, "10.0.0.1", "224.0.0.1", true, m, igmp_msg(m, XM_IGMP_QUERY, 100, "0.0.0.0"));
		send_pkt(&E, &P);
		xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
		check(!q.querier && q.version == 2 && q.rv == 2 &&
		      counter(&E, XM_MSHIP_C_OLDER_QUERIER) == 1,
		      "igmp querier: an IGMPv2 querier wins too, counted as older", "v%u", q.version);
	}
	env_done(&E, "querier: invariants");

	env_init(&E, family, auto_mode);
	report(&E, family == XM_AF_INET ? "IS_EX 239.1.1.1" : "IS_EX ff0e::1");
	report(&E, family == XM_AF_INET ? "TO_IN 239.1.1.1" : "TO_IN ff0e::1");
	take_log(&E);
	query3(&E, lower, NULL, 100, 2, 125, NULL);
	advance(&E, 1000);
	log = take_log(&E);
	snprintf(name, sizeof(name), "%s querier: losing the election drops pending Q(G)s", fam);
	check(!*log && !strcmp(state(&E, G(&E)), "EX 1000"), name, "%s / %s", log,
	      state(&E, G(&E)));
	env_done(&E, "querier lost: invariants");

	env_init(&E, family, off);
	advance(&E, 200000);
	log = take_log(&E);
	query3(&E, higher, NULL, 100, 2, 125, NULL);
	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	snprintf(name, sizeof(name), "%s querier off: never queries, follows whoever does", fam);
	check(!*log && !q.querier && is_addr(family, q.addr, higher), name, "%s", log);
	env_done(&E, "querier off: invariants");

	env_init(&E, family, NULL);
	query3(&E, lower, NULL, 100, 2, 125, NULL);
	xm_mship_querier_get(E.m, IFINDEX, 0, family, &q);
	snprintf(name, sizeof(name), "%s querier on: stays querier against a lower address", fam);
	check(q.querier, name, "");
	env_done(&E, "querier on: invariants");
}

/* ---- fast leave ---- */

static void fast(struct xm_mship_cfg *c)
{
	c->fast_leave = true;
}

static void test_fast_leave(int family)
{
	const char *fam = family == XM_AF_INET ? "igmp" : "mld";
	char name[128], spec[64];
	const char *log;

	env_init(&E, family, fast);
	old_msg(&E, XM_CTRL_JOIN, 2, G(&E));
	E.nchanges = 0;
	old_msg(&E, XM_CTRL_LEAVE, 2, G(&E));
	log = take_log(&E);
	snprintf(name, sizeof(name), "%s fast leave: a leave deletes the group at once, no query",
		 fam);
	check(!strcmp(state(&E, G(&E)), "none") && !*log && E.nchanges == 1 &&
	      E.ch[0].kind == XM_MSHIP_DELETED, name, "%s / %s / %u", state(&E, G(&E)), log,
	      E.nchanges);
	env_done(&E, "fast leave: invariants");

	env_init(&E, family, fast);
	setup_row(&E, true);
	snprintf(spec, sizeof(spec), "TO_IN %s", G(&E));
	report(&E, spec);
	snprintf(name, sizeof(name), "%s fast leave: TO_IN({}) from EXCLUDE(X,Y) deletes the group",
		 fam);
	check(!strcmp(state(&E, G(&E)), "none") && !*take_log(&E), name, "%s", state(&E, G(&E)));
	env_done(&E, "fast leave TO_IN: invariants");

	env_init(&E, family, fast);
	setup_row(&E, true);
	snprintf(spec, sizeof(spec), "TO_IN %s 2", G(&E));
	report(&E, spec);
	snprintf(name, sizeof(name), "%s fast leave: TO_IN({2}) from EXCLUDE is INCLUDE({2}) at once",
		 fam);
	check(!strcmp(state(&E, G(&E)), "IN 2=260000"), name, "%s", state(&E, G(&E)));
	env_done(&E, "fast leave TO_IN(2): invariants");

	env_init(&E, family, fast);
	setup_row(&E, false);
	snprintf(spec, sizeof(spec), "BLOCK %s 1", G(&E));
	report(&E, spec);
	snprintf(name, sizeof(name), "%s fast leave: BLOCK in INCLUDE removes the sources at once",
		 fam);
	check(!strcmp(state(&E, G(&E)), "IN 2=259000") && !*take_log(&E), name, "%s",
	      state(&E, G(&E)));
	snprintf(spec, sizeof(spec), "TO_EX %s 2 3", G(&E));
	report(&E, spec);
	snprintf(name, sizeof(name), "%s fast leave: TO_EX blocks what it names at once", fam);
	check(!strcmp(state(&E, G(&E)), "EX 260000 2=0 3=0"), name, "%s", state(&E, G(&E)));
	env_done(&E, "fast leave BLOCK: invariants");
}

/* ---- limits, statics, the policy, the router's checks ---- */

static void small(struct xm_mship_cfg *c)
{
	c->max_groups = 2;
	c->max_sources = 2;
}

static void test_limits(void)
{
	env_init(&E, XM_AF_INET, small);
	report(&E, "IS_EX 239.1.1.1; IS_EX 239.1.1.2; IS_EX 239.1.1.3");
	check(xm_mship_ngroups(E.m) == 2 && !strcmp(state(&E, "239.1.1.3"), "none") &&
	      counter(&E, XM_MSHIP_C_GROUPS_REFUSED) == 1,
	      "limits: the group beyond max_groups is refused and counted", "%zu",
	      xm_mship_ngroups(E.m));
	report(&E, "IS_IN 239.1.1.1 1 2 3; TO_EX 239.1.1.2 4 5 6");
	check(!strcmp(state(&E, "239.1.1.1"), "EX 260000 1=260000 2=260000") &&
	      !strcmp(state(&E, "239.1.1.2"), "EX 260000 4=2000 5=2000") &&
	      counter(&E, XM_MSHIP_C_SOURCES_REFUSED) == 2,
	      "limits: sources beyond max_sources are refused, highest first", "%s / %s",
	      state(&E, "239.1.1.1"), state(&E, "239.1.1.2"));
	report(&E, "IS_IN 239.1.1.1 1 2");
	check(counter(&E, XM_MSHIP_C_SOURCES_REFUSED) == 2,
	      "limits: refreshing sources already held is not refused", "");
	{
		struct xm_mship_key k;
		__be32 s9[4] = { 0 };

		addr(XM_AF_INET, "9", (uint8_t *)s9);
		key_of(&E, "239.1.1.4", &k);
		check(xm_mship_static_join(E.m, &k, NULL, E.now) == -ENOSPC,
		      "limits: a static group beyond max_groups is -ENOSPC", "");
		key_of(&E, "239.1.1.1", &k);
		check(xm_mship_static_join(E.m, &k, s9, E.now) == -ENOSPC &&
		      counter(&E, XM_MSHIP_C_SOURCES_REFUSED) == 3,
		      "limits: a static source beyond max_sources is -ENOSPC", "");
		verify(&E);
	}
	env_done(&E, "limits: invariants");

	env_init(&E, XM_AF_INET, NULL);
	E.cfg.max_sources = 0;
	xm_mship_iface_set(E.m, IFINDEX, 0, &E.cfg, E.now);
	E.nchanges = 0;
	report(&E, "IS_IN 239.1.1.1 1 2; IS_EX 239.1.1.2 3");
	check(!strcmp(state(&E, "239.1.1.1"), "none") && !strcmp(state(&E, "239.1.1.2"), "EX 260000") &&
	      E.nchanges == 1, "limits: no sources allowed: INCLUDE joins make nothing", "%u",
	      E.nchanges);
	env_done(&E, "limits 0: invariants");
}

static void test_static(void)
{
	struct xm_mship_key k;
	__be32 s1[4] = { 0 }, s9[4] = { 0 };
	const char *log;
	int rc;

	env_init(&E, XM_AF_INET, NULL);
	key_of(&E, "239.1.1.1", &k);
	addr(XM_AF_INET, "1", (uint8_t *)s1);
	addr(XM_AF_INET, "9", (uint8_t *)s9);
	E.nchanges = 0;
	rc = xm_mship_static_join(E.m, &k, NULL, E.now);
	verify(&E);
	check(!rc && !strcmp(state(&E, "239.1.1.1"), "EX inf") && E.nchanges == 1 &&
	      E.ch[0].kind == XM_MSHIP_CREATED, "static: (*,G) join is EXCLUDE for ever", "%d %s",
	      rc, state(&E, "239.1.1.1"));
	report(&E, "IS_EX 239.1.1.1 5; TO_IN 239.1.1.1");
	advance(&E, 10 * GMI);
	log = take_log(&E);
	check(!strcmp(state(&E, "239.1.1.1"), "EX inf") && !strstr(log, "Q(G)") &&
	      strstr(log, "Q(G,5)"),
	      "static: (*,G) outlives any timer, blocks no source, gets no Q(G)", "%s / %s",
	      state(&E, "239.1.1.1"), log);
	rc = xm_mship_static_leave(E.m, &k, NULL, E.now);
	verify(&E);
	log = take_log(&E);
	check(!rc && !strcmp(log, "Q(G)") && !strcmp(state(&E, "239.1.1.1"), "EX 2000"),
	      "static: leaving (*,G) queries as a leave does", "%d %s / %s", rc, log,
	      state(&E, "239.1.1.1"));
	advance(&E, LMQT);
	check(!strcmp(state(&E, "239.1.1.1"), "none"), "static: ... and the group goes unanswered",
	      "%s", state(&E, "239.1.1.1"));

	report(&E, "IS_EX 239.1.1.1 1 2");
	rc = xm_mship_static_join(E.m, &k, NULL, E.now);
	verify(&E);
	check(!rc && !strcmp(state(&E, "239.1.1.1"), "EX inf"),
	      "static: (*,G) over EXCLUDE(X,Y) unblocks Y", "%s", state(&E, "239.1.1.1"));
	xm_mship_static_leave(E.m, &k, NULL, E.now);
	advance(&E, LMQT);
	verify(&E);

	rc = xm_mship_static_join(E.m, &k, s1, E.now);
	verify(&E);
	report(&E, "IS_EX 239.1.1.1; IS_IN 239.1.1.1 1");
	check(!strcmp(state(&E, "239.1.1.1"), "EX 260000 1=inf"),
	      "static: a static source survives IS_EX({}) and ignores refreshes", "%s",
	      state(&E, "239.1.1.1"));
	advance(&E, GMI);
	report(&E, "BLOCK 239.1.1.1 1");
	advance(&E, 10 * GMI);
	check(!rc && !strcmp(state(&E, "239.1.1.1"), "IN 1=inf"),
	      "static: (S,G) is INCLUDE for ever, a BLOCK does not lower it", "%s",
	      state(&E, "239.1.1.1"));
	take_log(&E);
	rc = xm_mship_static_leave(E.m, &k, s1, E.now);
	verify(&E);
	log = take_log(&E);
	check(!rc && !strcmp(log, "Q(G,1)") && !strcmp(state(&E, "239.1.1.1"), "IN 1=2000"),
	      "static: leaving (S,G) queries the source", "%d %s", rc, log);
	check(xm_mship_static_leave(E.m, &k, s9, E.now) == -ENOENT &&
	      xm_mship_static_leave(E.m, &k, NULL, E.now) == -ENOENT,
	      "static: leaving what is not static is -ENOENT", "");
	key_of(&E, "10.1.1.1", &k);
	check(xm_mship_static_join(E.m, &k, NULL, E.now) == -EINVAL,
	      "static: a unicast group is -EINVAL", "");
	k.ifindex = 99;
	check(xm_mship_static_join(E.m, &k, NULL, E.now) == -ENODEV,
	      "static: an unknown link is -ENODEV", "");
	env_done(&E, "static: invariants");
}

static void test_policy(void)
{
	env_init(&E, XM_AF_INET, NULL);
	E.forbid = "239.9.9.9";
	old_msg(&E, XM_CTRL_JOIN, 2, "239.9.9.9");
	report(&E, "IS_EX 239.9.9.9; ALLOW 239.9.9.9 1; IS_EX 239.1.1.1");
	check(!strcmp(state(&E, "239.9.9.9"), "none") && !strcmp(state(&E, "239.1.1.1"), "EX 260000") &&
	      counter(&E, XM_MSHIP_C_FORBIDDEN) == 3,
	      "policy: joins to a forbidden group are ignored and counted, others kept", "%llu",
	      (unsigned long long)counter(&E, XM_MSHIP_C_FORBIDDEN));
	env_done(&E, "policy: invariants");
}

static void ra_ttl(struct xm_mship_cfg *c)
{
	c->require_router_alert = true;
	c->require_ttl1 = true;
}

static void test_router_checks(void)
{
	uint8_t m[64];
	enum xm_ctrl_reason r;

	env_init(&E, XM_AF_INET, ra_ttl);
	pkt4(&P, HOST4, "239.1.1.1", false, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	r = send_pkt(&E, &P);
	check(r == XM_CTRL_NO_ROUTER_ALERT, "router: no router alert where it is required", "%s",
	      xm_ctrl_reason_name(r));
	pkt4(&P, HOST4, "239.1.1.1", true, m, igmp_msg(m, XM_IGMP_V2_REPORT, 0, "239.1.1.1"));
	P.b[8] = 2;
	pkt_fix(&P);
	r = send_pkt(&E, &P);
	check(r == XM_CTRL_BAD_TTL && !strcmp(state(&E, "239.1.1.1"), "none"),
	      "router: TTL 2 where TTL 1 is required", "%s", xm_ctrl_reason_name(r));
	pkt6(&P, HOST6, "ff02::16", true, m, report_msg(m, XM_AF_INET6, "IS_EX ff0e::1"));
	xm_ctrl_parse(P.b, P.len, 4, 0, &msg);
	r = xm_mship_input(E.m, &msg, E.now);
	check(r == XM_CTRL_UNKNOWN_IFACE, "router: a link not configured", "%s",
	      xm_ctrl_reason_name(r));
	env_done(&E, "router checks: invariants");

	env_init(&E, XM_AF_INET6, NULL);
	pkt6(&P, "::", "ff02::16", true, m, report_msg(m, XM_AF_INET6, "IS_EX ff0e::1"));
	r = send_pkt(&E, &P);
	check(r == XM_CTRL_UNSPECIFIED_SOURCE && !strcmp(state(&E, "ff0e::1"), "none"),
	      "router: an MLD report from :: is discarded (RFC 3810 5.2.13)", "%s",
	      xm_ctrl_reason_name(r));
	E.cfg.mld_version = 0;
	xm_mship_iface_set(E.m, IFINDEX, 0, &E.cfg, E.now);
	pkt6(&P, HOST6, "ff02::16", true, m, report_msg(m, XM_AF_INET6, "IS_EX ff0e::1"));
	r = send_pkt(&E, &P);
	check(r == XM_CTRL_DISABLED, "router: MLD turned off on the link", "%s",
	      xm_ctrl_reason_name(r));
	E.cfg.query_response_ms = E.cfg.query_interval_ms;
	check(xm_mship_iface_set(E.m, IFINDEX, 0, &E.cfg, E.now) == -EINVAL,
	      "router: a response interval not below the query interval is refused", "");
	env_done(&E, "router checks 6: invariants");
}

/* ---- one change per group per report ---- */

static void test_coalescing(void)
{
	env_init(&E, XM_AF_INET, NULL);
	report(&E, "ALLOW 239.1.1.1 1; ALLOW 239.1.1.1 2; BLOCK 239.1.1.1 3; IS_IN 239.1.1.1 4");
	check(E.nchanges == 1 && E.ch[0].kind == XM_MSHIP_CREATED,
	      "changes: four records for one new group, one CREATED", "%u", E.nchanges);
	E.nchanges = 0;
	report(&E, "ALLOW 239.1.1.2 1; IS_EX 239.1.1.3; ALLOW 239.1.1.1 5");
	check(E.nchanges == 3 && E.ch[0].kind == XM_MSHIP_CREATED &&
	      E.ch[1].kind == XM_MSHIP_CREATED && E.ch[2].kind == XM_MSHIP_CHANGED,
	      "changes: three groups, three changes", "%u", E.nchanges);
	E.nchanges = 0;
	report(&E, "IS_IN 239.1.1.1 1 2 4 5");
	check(E.nchanges == 1 && E.ch[0].what == XM_MSHIP_CH_TIMERS,
	      "changes: a refresh is told as timers only", "%u what %#x", E.nchanges, E.ch[0].what);
	env_done(&E, "changes: invariants");

	env_init(&E, XM_AF_INET, fast);
	report(&E, "IS_EX 239.1.1.1");
	E.nchanges = 0;
	report(&E, "TO_IN 239.1.1.1; IS_EX 239.1.1.1 7");
	check(E.nchanges == 1 && E.ch[0].kind == XM_MSHIP_CHANGED &&
	      !strcmp(state(&E, "239.1.1.1"), "EX 260000 7=0"),
	      "changes: deleted and made again in one report is one CHANGED", "%u %s", E.nchanges,
	      state(&E, "239.1.1.1"));
	E.nchanges = 0;
	report(&E, "IS_IN 239.1.1.5 1; BLOCK 239.1.1.5 1");
	check(E.nchanges == 0 && !strcmp(state(&E, "239.1.1.5"), "none"),
	      "changes: made and gone in one report is not told", "%u", E.nchanges);
	env_done(&E, "changes fast: invariants");
}

/* ---- links, reading, scale ---- */

static int count_group(void *ctx, const struct xm_mship_group_view *g)
{
	(*(size_t *)ctx)++;
	return 0;
}

static void test_links(void)
{
	size_t n = 0;
	struct xm_mship_cfg cfg;

	env_init(&E, XM_AF_INET, NULL);
	report(&E, "IS_EX 239.1.1.1; IS_EX 239.1.1.2");
	cfg = E.cfg;
	xm_mship_iface_set(E.m, 4, 10, &cfg, E.now);
	xm_ctrl_parse(P.b, P.len, 4, 10, &msg);
	xm_mship_input(E.m, &msg, E.now);
	verify(&E);
	xm_mship_foreach(E.m, count_group, &n);
	check(n == 4 && xm_mship_ngroups(E.m) == 4,
	      "links: the same groups on another (ifindex, vlan) are their own", "%zu", n);
	E.nchanges = 0;
	check(!xm_mship_iface_del(E.m, IFINDEX, 0, E.now) && xm_mship_ngroups(E.m) == 2 &&
	      E.nchanges == 2 && E.ch[0].kind == XM_MSHIP_DELETED &&
	      xm_mship_iface_del(E.m, IFINDEX, 0, E.now) == -ENOENT,
	      "links: removing a link deletes its groups, told", "%zu", xm_mship_ngroups(E.m));
	verify(&E);
	env_done(&E, "links: invariants");
}

static void test_scale(void)
{
	static char spec[64];
	unsigned int i;
	uint64_t deadline;

	env_init(&E, XM_AF_INET, NULL);
	E.cfg.max_groups = 200000;
	xm_mship_iface_set(E.m, IFINDEX, 0, &E.cfg, E.now);
	for (i = 0; i < 100000; i++) {
		snprintf(spec, sizeof(spec), "IS_IN 239.%u.%u.%u %u", i >> 16 & 0xff,
			 i >> 8 & 0xff, i & 0xff, i % 200 + 1);
		report_pkt(&P, XM_AF_INET, spec);
		xm_ctrl_parse(P.b, P.len, IFINDEX, 0, &msg);
		xm_mship_input(E.m, &msg, E.now);
		if (i % 1000 == 999)
			E.now += 10;
	}
	verify(&E);
	deadline = xm_mship_next_deadline(E.m);
	check(xm_mship_ngroups(E.m) == 100000 && E.nchanges == 100000,
	      "scale: 100000 groups", "%zu groups, %u changes", xm_mship_ngroups(E.m), E.nchanges);
	advance(&E, GMI);
	check(xm_mship_ngroups(E.m) == 0 && deadline <= 1000 + 125000 / 4,
	      "scale: all of them expire on the clock", "%zu", xm_mship_ngroups(E.m));
	env_done(&E, "scale: invariants");
}

int main(void)
{
	test_parse_igmp_valid();
	test_parse_igmp_bad();
	test_parse_mld_valid();
	test_parse_mld_bad();
	test_codes();
	test_names();
	test_matrix(XM_AF_INET);
	test_matrix(XM_AF_INET6);
	test_matrix_non_querier();
	test_retransmissions();
	test_action_fields();
	test_timeouts();
	test_compat();
	test_querier(XM_AF_INET);
	test_querier(XM_AF_INET6);
	test_fast_leave(XM_AF_INET);
	test_fast_leave(XM_AF_INET6);
	test_limits();
	test_static();
	test_policy();
	test_router_checks();
	test_coalescing();
	test_links();
	test_scale();
	return failures ? 1 : 0;
}
