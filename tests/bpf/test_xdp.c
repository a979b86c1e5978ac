// SPDX-License-Identifier: GPL-2.0-only
/*
 * Layer-1 tests of the data path: hand-built frames go through
 * bpf_prog_test_run_opts() against the real verifier, into the XDP program
 * (ingress) and the TC program (egress), and every run is judged by its
 * verdict, by the reason counters of both directions, by the policy
 * counters, by the flows and by the global counters, all summed over the
 * possible CPUs; with XM_CFG_SNOOP set, also by what it copies into the
 * snooping ring, read with libbpf's ring_buffer API.
 *
 * The oracle is the contract header: each case names the reason the rules
 * in bpf/xdp_mcast.bpf.c give the frame, and the verdict follows from the
 * reason through XM_REASONS().  Frames that are not IP multicast must leave
 * with XDP_PASS and touch no counter at all.  For the scope policy the
 * oracle is the case table, and for random policies xm_policy_match(), the
 * reference implementation in userspace/conf.c.
 *
 * Flows are always read merged: xm_flows plus what the per-CPU flow cache
 * has not written back yet, as every reader must.  xm_flows alone is
 * looked at only where a test is about the write-back itself.
 *
 * Output is TAP ("ok - name", "not ok - name" and "# " diagnostics); the
 * exit status is non-zero when a test failed.  Needs CAP_BPF and
 * CAP_NET_ADMIN; run as root.  -v shows libbpf's debug output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/igmp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_mcast_kern_user.h"
#include "xdp_mcast.skel.h"
#include "conf.h"
#include "ifaces.h"
#include "policy.h"
#include "stats.h"
#include "walk.h"

#define LO_IFINDEX	1	/* test_run's default device, in every netns */
#define LO_SLOT		1	/* the row of xm_reasons lo is registered at */
#define FRAME_MAX	2048	/* room for an IGMP or MLD report longer than
				 * what the snooping ring keeps of it */
#define PAYLOAD		16	/* UDP payload bytes */
#define SMALL_FLOWS	1024	/* flow table size of the LRU flood test */
#define FUZZ_ROUNDS	24	/* mutations of each valid frame */
#define FUZZ_SEED	0x5eed1234u
#define TEST_POL_HITS	1024	/* xm_pol_hits and xm_pol_desc: 512 a generation */
#define OTHER_IFINDEX	7	/* "other0": policies name it, nothing runs on it */
#define DIFF_SEED	0xd1ff5eedu
#define DIFF_ROUNDS	12	/* random policies */
#define DIFF_RULES	48	/* rules in each */
#define DIFF_PACKETS	160	/* packets, the same in every round */

#define NOT_MCAST	(-1)	/* expected "reason": XDP_PASS, nothing counted */
#define R(id)		XM_R_##id

#define SRC4		"10.0.0.1"
#define SRC6		"2001:db8::1"
#define MAC_SRC		"02:00:00:00:00:01"
#define MAC_UNICAST	"02:00:00:00:00:02"
#define MAC_BCAST	"ff:ff:ff:ff:ff:ff"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define IPV4_MF		0x2000
#define IPV6_MF		0x0001

/* --- TAP ------------------------------------------------------------------ */

static int tests_run, tests_failed;
static char diag_buf[8192];
static size_t diag_len;
static int diag_lost;		/* lines that did not fit into diag_buf */
static bool verbose;

/* Note a failure of the current test; the lines follow its "not ok". */
static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = snprintf(diag_buf + diag_len, sizeof(diag_buf) - diag_len, "# %s\n", line);
	if (n > 0 && (size_t)n < sizeof(diag_buf) - diag_len) {
		diag_len += n;
	} else {
		diag_buf[diag_len] = '\0';
		diag_lost++;
	}
}

/* Close the current test: ok unless diag() was called since the last one. */
static bool __attribute__((format(printf, 1, 2))) tap(const char *fmt, ...)
{
	bool ok = diag_len == 0 && diag_lost == 0;
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n%s", diag_buf);
	if (diag_lost)
		printf("# (%d more lines)\n", diag_lost);
	fflush(stdout);
	diag_len = 0;
	diag_lost = 0;
	diag_buf[0] = '\0';
	tests_run++;
	tests_failed += !ok;
	return ok;
}

static void skip(const char *name, const char *why)
{
	printf("ok - %s # SKIP %s\n", name, why);
	tests_run++;
}

/* libbpf's messages, the verifier log among them, as TAP comments. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *text, *line, *save = NULL;

	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (vasprintf(&text, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "# %s\n", line);
	free(text);
	return 0;
}

/* --- The contract as an oracle ------------------------------------------- */

#define REASON_NAME(id, name, verdict) [XM_R_##id] = name,
static const char *const reason_names[XM_R_COUNT] = { XM_REASONS(REASON_NAME) };

#define REASON_VERDICT(id, name, verdict) [XM_R_##id] = verdict,
static const int reason_verdicts[XM_R_COUNT] = { XM_REASONS(REASON_VERDICT) };

#define GLOBAL_NAME(id, name) [XM_G_##id] = name,
static const char *const global_names[XM_G_COUNT] = { XM_GLOBALS(GLOBAL_NAME) };

static const char *reason_name(int r)
{
	if (r == NOT_MCAST)
		return "(not counted)";
	if (r >= 0 && r < XM_R_COUNT)
		return reason_names[r];
	return "(unused slot)";
}

static int reason_verdict(int r)
{
	return r == NOT_MCAST ? XDP_PASS : reason_verdicts[r];
}

static const char *verdict_name(__u32 v)
{
	static const char *const names[] = {
		"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT",
	};

	return v < ARRAY_SIZE(names) ? names[v] : "XDP_?";
}

/* Where a frame meets the data path: the XDP program on ingress, or the TC
 * program on egress for a packet this host sends or one it forwards (the
 * kernel has decremented the TTL of those already). */
enum hook {
	HOOK_IN,
	HOOK_OUT_LOCAL,
	HOOK_OUT_FWD,
	HOOK_COUNT,
};

static const char *const hook_names[HOOK_COUNT] = {
	[HOOK_IN] = "in",
	[HOOK_OUT_LOCAL] = "out local",
	[HOOK_OUT_FWD] = "out forwarded",
};

static __u32 hook_dir(enum hook h)
{
	return h == HOOK_IN ? XM_DIR_IN : XM_DIR_OUT;
}

/* The TC program turns the reason's XDP verdict into TC_ACT_SHOT or _OK. */
static int hook_verdict(enum hook h, int r)
{
	int v = reason_verdict(r);

	if (h == HOOK_IN)
		return v;
	return v == XDP_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

static const char *hook_verdict_name(enum hook h, __u32 v)
{
	if (h == HOOK_IN)
		return verdict_name(v);
	return v == TC_ACT_OK ? "TC_ACT_OK" : v == TC_ACT_SHOT ? "TC_ACT_SHOT" : "TC_ACT_?";
}

/* --- Frames --------------------------------------------------------------- */

enum tagging {
	TAGS_ALL,	/* run the case untagged, 802.1Q and QinQ */
	UNTAGGED,
	DOT1Q,		/* 802.1Q */
	QINQ,		/* 802.1ad outer, 802.1Q inner */
	TRIPLE,		/* one tag more than XM_VLAN_MAX_DEPTH */
};

static const struct {
	int n;
	__u16 tpid[3];
} tag_stacks[] = {
	[UNTAGGED]	= { 0, { 0 } },
	[DOT1Q]		= { 1, { ETH_P_8021Q } },
	[QINQ]		= { 2, { ETH_P_8021AD, ETH_P_8021Q } },
	[TRIPLE]	= { 3, { ETH_P_8021AD, ETH_P_8021AD, ETH_P_8021Q } },
};

/* The taggings TAGS_ALL expands to, with the VLAN ids they use. */
static const struct {
	enum tagging tag;
	__u16 vid, outer;
	const char *name;
} tag_variants[] = {
	{ UNTAGGED,	0,	0,	"untagged" },
	{ DOT1Q,	100,	0,	"802.1Q" },
	{ QINQ,		300,	200,	"QinQ" },
};

#define ZERO		(-1)		/* an explicit 0 where 0 means "default" */
#define AT_L3		0x10000		/* .len = AT_L3 + n: keep n bytes of L3 */

/*
 * What a test frame looks like.  Zero fields take the defaults: UDP from
 * SRC4 or SRC6 to the group's own MAC, TTL 64, and in a table, every
 * tagging of tag_variants[].
 */
struct pkt {
	const char *dst;	/* group (IPv4 or IPv6, picks the family) */
	const char *src;	/* source address; NULL: SRC4 or SRC6 */
	const char *mac;	/* destination MAC; NULL: the group's own */
	__u16 ethertype;	/* a non-IP frame of this type instead */
	enum tagging tag;
	__u16 vid;		/* innermost VLAN id */
	__u16 outer;		/* outer VLAN ids: outer, outer + 1, ... */
	int ttl;		/* TTL or hop limit; 0: 64, ZERO: 0 */
	__u8 proto;		/* upper layer: 0 is UDP, or IGMP or ICMPv6 */
	__u8 type;		/* IGMP or ICMPv6 type */
	__u16 records;		/* an IGMPv3 or MLDv2 report of type: this many
				 * group records, two sources each */
	bool ra;		/* router alert: IPv4 option or hop-by-hop header */
	int dstopts;		/* IPv6: this many destination-options headers */
	bool routing;		/* IPv6: a routing header after them */
	__u16 frag_off;		/* fragment offset in 8-byte units */
	bool mf;		/* more fragments; IPv6 has a fragment header when
				 * frag_off or mf is set */
	__u16 pad;		/* Ethernet padding after the IP datagram */
	/* Damage done once the frame is built: 0 leaves the field as built,
	 * ZERO writes 0. */
	int version;
	int ihl;		/* IPv4 header length in words */
	int tot_len;		/* IPv4 total length */
	int plen;		/* IPv6 payload length */
	__u32 len;		/* cut the frame: bytes, or AT_L3 + bytes of L3 */
};

struct frame {
	__u32 len;
	__u32 l3;		/* offset of the IP header */
	__u8 align[2];		/* as NET_IP_ALIGN: the IP header, at 14, 18 or
				 * 22, lands on a 4-byte boundary */
	__u8 data[FRAME_MAX];
};

static bool pkt_is_v6(const struct pkt *p)
{
	return p->dst && strchr(p->dst, ':');
}

static void *put(struct frame *f, const void *src, size_t n)
{
	void *p = f->data + f->len;

	if (f->len + n > FRAME_MAX) {
		fprintf(stderr, "# frame longer than %d bytes\n", FRAME_MAX);
		exit(2);
	}
	if (src)
		memcpy(p, src, n);
	else
		memset(p, 0, n);
	f->len += n;
	return p;
}

static void parse_mac(const char *s, __u8 mac[ETH_ALEN])
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
		   &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
		fprintf(stderr, "# bad MAC '%s' in a test case\n", s);
		exit(2);
	}
}

static void parse_addr(int af, const char *s, void *addr)
{
	if (inet_pton(af, s, addr) != 1) {
		fprintf(stderr, "# bad address '%s' in a test case\n", s);
		exit(2);
	}
}

/* The MAC an IP group maps to: RFC 1112 section 6.4, RFC 2464 section 7. */
static void group_mac(const struct pkt *p, __u8 mac[ETH_ALEN])
{
	__u8 a[16];

	if (pkt_is_v6(p)) {
		parse_addr(AF_INET6, p->dst, a);
		mac[0] = 0x33;
		mac[1] = 0x33;
		memcpy(mac + 2, a + 12, 4);
	} else {
		parse_addr(AF_INET, p->dst, a);
		mac[0] = 0x01;
		mac[1] = 0x00;
		mac[2] = 0x5e;
		mac[3] = a[1] & 0x7f;
		mac[4] = a[2];
		mac[5] = a[3];
	}
}

static __u16 csum(const void *data, size_t n)
{
	const __u8 *b = data;
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static void put_eth(struct frame *f, const __u8 dst[ETH_ALEN], __u16 proto)
{
	struct ethhdr *eth = put(f, NULL, sizeof(*eth));

	memcpy(eth->h_dest, dst, ETH_ALEN);
	parse_mac(MAC_SRC, eth->h_source);
	eth->h_proto = htons(proto);
}

/* A tag after the TPID the previous header named: TCI, then what follows. */
static void put_vlan(struct frame *f, __u16 vid, __u16 proto)
{
	__be16 *tag = put(f, NULL, 4);

	tag[0] = htons(vid & 0x0fff);
	tag[1] = htons(proto);
}

static void put_arp_request(struct frame *f)
{
	static const __u8 arp[28] = {
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,	/* Ethernet, IPv4, request */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2,
	};

	put(f, arp, sizeof(arp));
}

/* UDP checksums are left 0: the program never reads past the ports. */
static void put_udp(struct frame *f, size_t payload)
{
	__be16 *udp = put(f, NULL, 8);
	__u8 *data = put(f, NULL, payload);
	size_t i;

	udp[0] = htons(5000);
	udp[1] = htons(5001);
	udp[2] = htons(8 + payload);
	for (i = 0; i < payload; i++)
		data[i] = i;
}

static void put_igmp(struct frame *f, __u8 type, __be32 group)
{
	struct igmphdr *ig = put(f, NULL, sizeof(*ig));

	ig->type = type;
	ig->code = type == IGMP_HOST_MEMBERSHIP_QUERY ? 100 : 0;
	ig->group = type == IGMP_HOST_MEMBERSHIP_QUERY ? 0 : group;
	ig->csum = csum(ig, sizeof(*ig));
}

/*
 * An IGMPv3 (RFC 3376 4.2) or MLDv2 (RFC 3810 5.2) report: 'n' records of
 * MODE_IS_EXCLUDE, each for its own group with two sources, all numbered
 * so that no two records or reports look alike.  alen is the address
 * size: 4 or 16.  The checksum is computed for IGMP only (as put_icmpv6()
 * does, ICMPv6 leaves it 0: the data path does not read it).
 */
static void put_report(struct frame *f, __u8 type, size_t alen, __u16 n)
{
	__u8 *msg = put(f, NULL, 8), *rec;
	size_t start = f->len - 8;
	__u16 i;
	int s;

	msg[0] = type;
	msg[6] = n >> 8;
	msg[7] = n & 0xff;
	for (i = 0; i < n; i++) {
		rec = put(f, NULL, 4 + 3 * alen);
		rec[0] = 2;				/* MODE_IS_EXCLUDE */
		rec[3] = 2;				/* sources */
		rec[4] = alen == 4 ? 239 : 0xff;	/* 239.100.i, ff0e::i */
		rec[5] = alen == 4 ? 100 : 0x0e;
		rec[alen + 2] = i >> 8;
		rec[alen + 3] = i & 0xff;
		for (s = 1; s <= 2; s++) {		/* 10.i.0.s, 2001:db8::i:s */
			__u8 *a = rec + 4 + s * alen;

			a[0] = alen == 4 ? 10 : 0x20;
			a[1] = alen == 4 ? i & 0xff : 0x01;
			a[alen - 1] = s;
			if (alen == 16) {
				a[2] = 0x0d;
				a[3] = 0xb8;
				a[13] = i & 0xff;
			}
		}
	}
	if (type == IGMPV3_HOST_MEMBERSHIP_REPORT) {
		__u16 sum = csum(f->data + start, f->len - start);

		memcpy(msg + 2, &sum, sizeof(sum));
	}
}

/* Type, code, checksum and the 20 bytes of an MLDv1 body. */
static void put_icmpv6(struct frame *f, __u8 type, const struct in6_addr *group)
{
	__u8 *icmp = put(f, NULL, 24);

	icmp[0] = type;
	memcpy(icmp + 8, group, 16);
}

/* An IPv6 extension header links itself into the chain through the
 * previous next-header byte and returns its own. */
static __u8 *put_ext(struct frame *f, __u8 *next, __u8 proto, const __u8 *hdr,
		     size_t n)
{
	__u8 *h = put(f, hdr, n);

	*next = proto;
	return h;
}

static __u8 *put_hbh_ra(struct frame *f, __u8 *next)
{
	/* Router alert (type 5, value 0 = MLD), then a 2-byte PadN. */
	static const __u8 hbh[8] = { 0, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00 };

	return put_ext(f, next, IPPROTO_HOPOPTS, hbh, sizeof(hbh));
}

/* 16 bytes (hdrlen 1) of padding, so the walk has to use hdrlen. */
static __u8 *put_dstopts(struct frame *f, __u8 *next)
{
	static const __u8 dst[16] = { 0, 1, 0x01, 12 };		/* PadN */

	return put_ext(f, next, IPPROTO_DSTOPTS, dst, sizeof(dst));
}

/* Type 0 with no segments left. */
static __u8 *put_routing(struct frame *f, __u8 *next)
{
	static const __u8 rh[8] = { 0 };

	return put_ext(f, next, IPPROTO_ROUTING, rh, sizeof(rh));
}

static __u8 *put_frag6(struct frame *f, __u8 *next, __u16 off, bool mf)
{
	__u16 fo = off << 3 | (mf ? IPV6_MF : 0);
	__u8 hdr[8] = { 0, 0, fo >> 8, fo & 0xff, 0x12, 0x34, 0x56, 0x78 };

	return put_ext(f, next, IPPROTO_FRAGMENT, hdr, sizeof(hdr));
}

/* A field of struct pkt where 0 means "as built" and ZERO means 0. */
static int field(int v, int as_built)
{
	if (v == ZERO)
		return 0;
	return v ? v : as_built;
}

static __u8 hops(const struct pkt *p)
{
	return field(p->ttl, 64);
}

static void put_ipv4(struct frame *f, const struct pkt *p)
{
	struct iphdr *iph = put(f, NULL, sizeof(*iph));
	static const __u8 ra[4] = { IPOPT_RA, 4, 0, 0 };
	size_t hlen;

	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = hops(p);
	iph->protocol = p->proto ? p->proto : IPPROTO_UDP;
	iph->id = htons(0x1234);
	iph->frag_off = htons((p->mf ? IPV4_MF : 0) | p->frag_off);
	parse_addr(AF_INET, p->dst, &iph->daddr);
	parse_addr(AF_INET, p->src ? p->src : SRC4, &iph->saddr);
	if (p->ra) {
		put(f, ra, sizeof(ra));
		iph->ihl = 6;
	}
	hlen = iph->ihl * 4;
	if (iph->protocol == IPPROTO_IGMP && p->records)
		put_report(f, p->type, 4, p->records);
	else if (iph->protocol == IPPROTO_IGMP)
		put_igmp(f, p->type ? p->type : IGMPV2_HOST_MEMBERSHIP_REPORT,
			 iph->daddr);
	else
		put_udp(f, PAYLOAD);
	iph->tot_len = htons(field(p->tot_len, f->len - f->l3));
	iph->version = field(p->version, 4);
	iph->ihl = field(p->ihl, iph->ihl);
	iph->check = csum(iph, hlen);	/* over the header as built */
}

static void put_ipv6(struct frame *f, const struct pkt *p)
{
	struct ipv6hdr *ip6h = put(f, NULL, sizeof(*ip6h));
	__u8 proto = p->proto ? p->proto : IPPROTO_UDP;
	__u8 *next = &ip6h->nexthdr;
	int i;

	ip6h->version = 6;
	ip6h->hop_limit = hops(p);
	parse_addr(AF_INET6, p->dst, &ip6h->daddr);
	parse_addr(AF_INET6, p->src ? p->src : SRC6, &ip6h->saddr);
	if (p->ra)
		next = put_hbh_ra(f, next);
	for (i = 0; i < p->dstopts; i++)
		next = put_dstopts(f, next);
	if (p->routing)
		next = put_routing(f, next);
	if (p->frag_off || p->mf)
		next = put_frag6(f, next, p->frag_off, p->mf);
	*next = proto;
	if (proto == IPPROTO_ICMPV6 && p->records)
		put_report(f, p->type, 16, p->records);
	else if (proto == IPPROTO_ICMPV6)
		put_icmpv6(f, p->type ? p->type : ICMPV6_ECHO_REQUEST, &ip6h->daddr);
	else
		put_udp(f, PAYLOAD);
	ip6h->payload_len = htons(field(p->plen, f->len - f->l3 - sizeof(*ip6h)));
	ip6h->version = field(p->version, 6);
}

static void build(const struct pkt *p, struct frame *f)
{
	int n = tag_stacks[p->tag].n;
	const __u16 *tpid = tag_stacks[p->tag].tpid;
	__u16 proto;
	__u8 mac[ETH_ALEN];
	int i;

	if (p->ethertype)
		proto = p->ethertype;
	else
		proto = pkt_is_v6(p) ? ETH_P_IPV6 : ETH_P_IP;
	if (p->mac)
		parse_mac(p->mac, mac);
	else
		group_mac(p, mac);

	memset(f, 0, sizeof(*f));
	put_eth(f, mac, n ? tpid[0] : proto);
	for (i = 0; i < n; i++) {
		if (i == n - 1)
			put_vlan(f, p->vid, proto);
		else
			put_vlan(f, p->outer + i, tpid[i + 1]);
	}
	f->l3 = f->len;
	if (proto == ETH_P_IP)
		put_ipv4(f, p);
	else if (proto == ETH_P_IPV6)
		put_ipv6(f, p);
	else if (proto == ETH_P_ARP)
		put_arp_request(f);
	else
		put(f, NULL, 46);
	put(f, NULL, p->pad);
	if (p->len >= AT_L3)
		f->len = f->l3 + p->len - AT_L3;
	else if (p->len)
		f->len = p->len;
}

/* The flow a frame of 'p' counts into, when it counts into one. */
static void pkt_flow_key(const struct pkt *p, struct xm_flow_key *key)
{
	int af = pkt_is_v6(p) ? AF_INET6 : AF_INET;

	memset(key, 0, sizeof(*key));
	key->ifindex = LO_IFINDEX;
	key->vlan = p->tag == UNTAGGED ? 0 : p->vid;
	key->family = af == AF_INET6 ? XM_AF_INET6 : XM_AF_INET;
	parse_addr(af, p->dst, key->group);
	parse_addr(af, p->src ? p->src : (af == AF_INET6 ? SRC6 : SRC4),
		   key->source);
}

/* --- The cases ------------------------------------------------------------ */

struct xdp_case {
	const char *name;
	int want;		/* enum xm_reason, or NOT_MCAST */
	int unchecked;		/* the reason with cfg_check_mac = 0, read only
				 * when want is mac_mismatch */
	struct pkt pkt;
};

#define CASE(n, w, ...)		{ .name = n, .want = w, .pkt = { __VA_ARGS__ } }
#define MAC_CASE(n, u, ...)	{ .name = n, .want = R(MAC_MISMATCH), \
				  .unchecked = u, .pkt = { __VA_ARGS__ } }

static const struct xdp_case cases[] = {
	/* Not IP multicast: XDP_PASS and nothing counted. */
	CASE("v4 unicast", NOT_MCAST, .dst = "10.0.0.2", .mac = MAC_UNICAST),
	CASE("v4 limited broadcast 255.255.255.255", NOT_MCAST,
	     .dst = "255.255.255.255", .mac = MAC_BCAST),
	CASE("v4 class E 240.0.0.1", NOT_MCAST, .dst = "240.0.0.1", .mac = MAC_BCAST),
	CASE("v4 unicast IP on a multicast MAC", NOT_MCAST,
	     .dst = "10.0.0.2", .mac = "01:00:5e:00:00:01"),
	CASE("ARP request", NOT_MCAST, .ethertype = ETH_P_ARP, .mac = MAC_BCAST),
	CASE("LLDP on 01:80:c2:00:00:0e", NOT_MCAST, .ethertype = ETH_P_LLDP,
	     .mac = "01:80:c2:00:00:0e"),
	CASE("v6 unicast", NOT_MCAST, .dst = "2001:db8::2", .mac = MAC_UNICAST),
	CASE("v6 unicast IP on a 33:33 MAC", NOT_MCAST,
	     .dst = "2001:db8::2", .mac = "33:33:00:00:00:02"),
	CASE("v4 multicast behind 3 tags (deeper than XM_VLAN_MAX_DEPTH)",
	     NOT_MCAST, .dst = "239.1.1.1", .tag = TRIPLE, .vid = 30, .outer = 10),
	CASE("v6 multicast behind 3 tags (deeper than XM_VLAN_MAX_DEPTH)",
	     NOT_MCAST, .dst = "ff0e::1", .tag = TRIPLE, .vid = 30, .outer = 10),

	/* forward */
	CASE("v4 forward 239.1.1.1", R(FORWARD), .dst = "239.1.1.1"),
	CASE("v4 forward 224.0.1.1 (just outside 224.0.0.0/24)", R(FORWARD),
	     .dst = "224.0.1.1"),
	CASE("v4 forward TTL 2", R(FORWARD), .dst = "239.1.1.2", .ttl = 2),
	CASE("v4 forward with router alert option (IHL 6)", R(FORWARD),
	     .dst = "239.1.1.3", .ra = true),
	CASE("v4 forward with Ethernet padding after tot_len", R(FORWARD),
	     .dst = "239.1.1.4", .pad = 10),
	CASE("v4 forward first fragment (MF, offset 0)", R(FORWARD),
	     .dst = "239.1.1.5", .mf = true),
	CASE("v4 forward 239.255.255.255", R(FORWARD), .dst = "239.255.255.255"),
	CASE("v6 forward ff0e::1", R(FORWARD), .dst = "ff0e::1"),
	CASE("v6 forward ff05::1:3 (site scope)", R(FORWARD), .dst = "ff05::1:3"),
	CASE("v6 forward ff15::1 (flags set, site scope)", R(FORWARD),
	     .dst = "ff15::1"),
	CASE("v6 forward hop limit 2", R(FORWARD), .dst = "ff0e::2", .ttl = 2),
	CASE("v6 forward ICMPv6 echo request", R(FORWARD), .dst = "ff0e::3",
	     .proto = IPPROTO_ICMPV6, .type = ICMPV6_ECHO_REQUEST),
	CASE("v6 forward behind hop-by-hop", R(FORWARD), .dst = "ff0e::4", .ra = true),
	CASE("v6 forward first fragment (offset 0, M)", R(FORWARD),
	     .dst = "ff0e::5", .mf = true),
	CASE("v6 forward behind exactly 8 extension headers", R(FORWARD),
	     .dst = "ff0e::6", .dstopts = 8),
	CASE("v6 forward behind a routing header", R(FORWARD), .dst = "ff0e::8",
	     .routing = true),
	CASE("v6 forward behind all four kinds of extension header", R(FORWARD),
	     .dst = "ff0e::9", .ra = true, .dstopts = 1, .routing = true,
	     .mf = true),
	CASE("v6 forward behind hop-by-hop, 6 dstopts and a first fragment (8)",
	     R(FORWARD), .dst = "ff0e::7", .ra = true, .dstopts = 6, .mf = true),

	/* link_local */
	CASE("v4 link-local 224.0.0.251", R(LINK_LOCAL), .dst = "224.0.0.251"),
	CASE("v4 link-local 224.0.0.1 from 0.0.0.0", R(LINK_LOCAL),
	     .dst = "224.0.0.1", .src = "0.0.0.0"),
	CASE("v4 link-local 224.0.0.255 TTL 1", R(LINK_LOCAL),
	     .dst = "224.0.0.255", .ttl = 1),
	CASE("v4 link-local non-first fragment", R(LINK_LOCAL),
	     .dst = "224.0.0.251", .frag_off = 185),
	CASE("v6 link-local ff02::fb", R(LINK_LOCAL), .dst = "ff02::fb"),
	CASE("v6 link-local ff12::1 (flags set, scope 2)", R(LINK_LOCAL),
	     .dst = "ff12::1"),
	CASE("v6 link-local ff32::1:ff00:1", R(LINK_LOCAL), .dst = "ff32::1:ff00:1"),
	CASE("v6 link-local hop limit 1", R(LINK_LOCAL), .dst = "ff02::1", .ttl = 1),
	CASE("v6 link-local router solicitation (ICMPv6 133, not MLD)",
	     R(LINK_LOCAL), .dst = "ff02::2", .src = "fe80::1", .ttl = 255,
	     .proto = IPPROTO_ICMPV6, .type = 133),
	CASE("v6 link-local DAD neighbour solicitation from ::", R(LINK_LOCAL),
	     .dst = "ff02::1:ff00:1", .src = "::", .ttl = 255,
	     .proto = IPPROTO_ICMPV6, .type = 135),

	/* node_local: interface-local and reserved scope never leave a host */
	CASE("v6 node-local ff01::1", R(NODE_LOCAL), .dst = "ff01::1"),
	CASE("v6 reserved scope 0 ff00::1", R(NODE_LOCAL), .dst = "ff00::1"),
	CASE("v6 node-local ff11::1 (flags set, scope 1)", R(NODE_LOCAL),
	     .dst = "ff11::1"),

	/* igmp */
	CASE("v4 IGMPv2 report to 239.1.1.1 with router alert", R(IGMP),
	     .dst = "239.1.1.1", .proto = IPPROTO_IGMP, .ttl = 1, .ra = true),
	CASE("v4 IGMPv3 report to 224.0.0.22 with router alert", R(IGMP),
	     .dst = "224.0.0.22", .proto = IPPROTO_IGMP, .ttl = 1, .ra = true,
	     .type = IGMPV3_HOST_MEMBERSHIP_REPORT),
	CASE("v4 IGMP query to 224.0.0.1", R(IGMP), .dst = "224.0.0.1",
	     .proto = IPPROTO_IGMP, .ttl = 1, .type = IGMP_HOST_MEMBERSHIP_QUERY),
	CASE("v4 IGMPv3 report from 0.0.0.0 to 224.0.0.22", R(IGMP),
	     .dst = "224.0.0.22", .src = "0.0.0.0", .proto = IPPROTO_IGMP,
	     .ttl = 1, .type = IGMPV3_HOST_MEMBERSHIP_REPORT),
	CASE("v4 IGMPv2 report from 0.0.0.0 to a routable group", R(IGMP),
	     .dst = "239.1.1.1", .src = "0.0.0.0", .proto = IPPROTO_IGMP, .ttl = 1),
	CASE("v4 IGMP without router alert, TTL 64", R(IGMP), .dst = "239.1.1.9",
	     .proto = IPPROTO_IGMP),

	/* mld */
	CASE("v6 MLD query (130) behind hop-by-hop", R(MLD), .dst = "ff02::1",
	     .src = "fe80::1", .ttl = 1, .ra = true, .proto = IPPROTO_ICMPV6,
	     .type = ICMPV6_MGM_QUERY),
	CASE("v6 MLDv1 report (131) behind hop-by-hop", R(MLD), .dst = "ff0e::1:3",
	     .src = "fe80::1", .ttl = 1, .ra = true, .proto = IPPROTO_ICMPV6,
	     .type = ICMPV6_MGM_REPORT),
	CASE("v6 MLDv1 done (132) behind hop-by-hop", R(MLD), .dst = "ff02::2",
	     .src = "fe80::1", .ttl = 1, .ra = true, .proto = IPPROTO_ICMPV6,
	     .type = ICMPV6_MGM_REDUCTION),
	CASE("v6 MLDv2 report (143) behind hop-by-hop", R(MLD), .dst = "ff02::16",
	     .src = "fe80::1", .ttl = 1, .ra = true, .proto = IPPROTO_ICMPV6,
	     .type = ICMPV6_MLD2_REPORT),
	CASE("v6 MLDv2 report (143) from ::", R(MLD), .dst = "ff02::16",
	     .src = "::", .ttl = 1, .ra = true, .proto = IPPROTO_ICMPV6,
	     .type = ICMPV6_MLD2_REPORT),
	CASE("v6 MLDv1 report (131) from :: to a routable group", R(MLD),
	     .dst = "ff0e::1:3", .src = "::", .ttl = 1, .ra = true,
	     .proto = IPPROTO_ICMPV6, .type = ICMPV6_MGM_REPORT),
	CASE("v6 MLD behind hop-by-hop and a first fragment", R(MLD),
	     .dst = "ff02::16", .src = "fe80::1", .ttl = 1, .ra = true, .mf = true,
	     .proto = IPPROTO_ICMPV6, .type = ICMPV6_MLD2_REPORT),

	/* ttl_expired */
	CASE("v4 TTL 1", R(TTL_EXPIRED), .dst = "239.1.2.1", .ttl = 1),
	CASE("v4 TTL 0", R(TTL_EXPIRED), .dst = "239.1.2.2", .ttl = ZERO),
	CASE("v6 hop limit 1", R(TTL_EXPIRED), .dst = "ff0e::2:1", .ttl = 1),
	CASE("v6 hop limit 0", R(TTL_EXPIRED), .dst = "ff0e::2:2", .ttl = ZERO),

	/* bad_source */
	CASE("v4 from a multicast source", R(BAD_SOURCE), .dst = "239.1.3.1",
	     .src = "239.9.9.9"),
	CASE("v4 from 255.255.255.255", R(BAD_SOURCE), .dst = "239.1.3.1",
	     .src = "255.255.255.255"),
	CASE("v4 from 127.0.0.1", R(BAD_SOURCE), .dst = "239.1.3.1",
	     .src = "127.0.0.1"),
	CASE("v4 from 0.0.0.0 to a routable group", R(BAD_SOURCE),
	     .dst = "239.1.3.1", .src = "0.0.0.0"),
	CASE("v4 from 0.1.2.3 to a routable group", R(BAD_SOURCE),
	     .dst = "239.1.3.1", .src = "0.1.2.3"),
	CASE("v4 from 127.0.0.1 to 224.0.0.1", R(BAD_SOURCE), .dst = "224.0.0.1",
	     .src = "127.0.0.1"),
	CASE("v4 from a multicast source to 224.0.0.1", R(BAD_SOURCE),
	     .dst = "224.0.0.1", .src = "224.0.0.2"),
	CASE("v6 from ff02::1", R(BAD_SOURCE), .dst = "ff0e::3:1", .src = "ff02::1"),
	CASE("v6 from ::1", R(BAD_SOURCE), .dst = "ff0e::3:1", .src = "::1"),
	CASE("v6 from :: to a routable group", R(BAD_SOURCE), .dst = "ff0e::3:1",
	     .src = "::"),
	CASE("v6 from ::1 to ff02::1", R(BAD_SOURCE), .dst = "ff02::1", .src = "::1"),
	CASE("v6 from ff0e::1 to ff01::1 (before the scope)", R(BAD_SOURCE),
	     .dst = "ff01::1", .src = "ff0e::1"),
	CASE("v6 from :: to ff01::1 is node-local", R(NODE_LOCAL),
	     .dst = "ff01::1", .src = "::"),

	/* fragment */
	CASE("v4 non-first fragment", R(FRAGMENT), .dst = "239.1.4.1",
	     .frag_off = 185),
	CASE("v4 middle fragment (offset and MF)", R(FRAGMENT), .dst = "239.1.4.2",
	     .frag_off = 1, .mf = true),
	CASE("v4 non-first fragment with TTL 1", R(FRAGMENT), .dst = "239.1.4.3",
	     .frag_off = 185, .ttl = 1),
	CASE("v4 non-first fragment of IGMP (the protocol is in the IP header)",
	     R(IGMP), .dst = "239.1.4.4", .frag_off = 185, .proto = IPPROTO_IGMP),
	CASE("v4 non-first fragment from a bad source", R(BAD_SOURCE),
	     .dst = "239.1.4.5", .frag_off = 185, .src = "127.0.0.1"),
	CASE("v6 non-first fragment", R(FRAGMENT), .dst = "ff0e::4:1",
	     .frag_off = 185),
	CASE("v6 middle fragment (offset and M)", R(FRAGMENT), .dst = "ff0e::4:2",
	     .frag_off = 1, .mf = true),
	CASE("v6 non-first fragment behind hop-by-hop", R(FRAGMENT),
	     .dst = "ff0e::4:3", .frag_off = 185, .ra = true),
	CASE("v6 non-first fragment of ICMPv6", R(FRAGMENT), .dst = "ff0e::4:4",
	     .frag_off = 185, .proto = IPPROTO_ICMPV6, .type = ICMPV6_MLD2_REPORT),
	CASE("v6 non-first fragment as the 8th extension header", R(FRAGMENT),
	     .dst = "ff0e::4:5", .dstopts = 7, .frag_off = 185),
	CASE("v6 non-first fragment with hop limit 1", R(FRAGMENT),
	     .dst = "ff0e::4:6", .frag_off = 185, .ttl = 1),
	CASE("v6 non-first fragment to ff01::1", R(NODE_LOCAL), .dst = "ff01::1",
	     .frag_off = 185),

	/* mac_mismatch, and the reason the frame has without the check */
	MAC_CASE("v4 unicast MAC", R(FORWARD), .dst = "239.1.5.1",
		 .mac = MAC_UNICAST),
	MAC_CASE("v4 broadcast MAC", R(FORWARD), .dst = "239.1.5.1",
		 .mac = MAC_BCAST),
	MAC_CASE("v4 wrong low 23 bits", R(FORWARD), .dst = "239.1.1.1",
		 .mac = "01:00:5e:01:01:02"),
	MAC_CASE("v4 MAC with bit 24 set (01:00:5e:81:01:01)", R(FORWARD),
		 .dst = "239.129.1.1", .mac = "01:00:5e:81:01:01"),
	MAC_CASE("v4 on an IPv6 33:33 MAC", R(FORWARD), .dst = "239.1.1.1",
		 .mac = "33:33:ef:01:01:01"),
	MAC_CASE("v4 IGMP on a wrong MAC", R(IGMP), .dst = "224.0.0.22",
		 .mac = "01:00:5e:00:00:02", .proto = IPPROTO_IGMP, .ttl = 1),
	MAC_CASE("v4 link-local on a wrong MAC", R(LINK_LOCAL), .dst = "224.0.0.251",
		 .mac = "01:00:5e:00:00:fc"),
	MAC_CASE("v4 bad source on a wrong MAC", R(BAD_SOURCE), .dst = "239.1.5.1",
		 .src = "127.0.0.1", .mac = MAC_UNICAST),
	MAC_CASE("v4 TTL 1 on a wrong MAC", R(TTL_EXPIRED), .dst = "239.1.5.1",
		 .ttl = 1, .mac = MAC_UNICAST),
	CASE("v4 aliasing: 239.129.1.1 on 01:00:5e:01:01:01", R(FORWARD),
	     .dst = "239.129.1.1", .mac = "01:00:5e:01:01:01"),
	CASE("v4 aliasing: 224.1.1.1 on 01:00:5e:01:01:01", R(FORWARD),
	     .dst = "224.1.1.1", .mac = "01:00:5e:01:01:01"),
	MAC_CASE("v6 33:33 with wrong low 32 bits", R(FORWARD), .dst = "ff0e::1",
		 .mac = "33:33:00:00:00:02"),
	MAC_CASE("v6 unicast MAC", R(FORWARD), .dst = "ff0e::1", .mac = MAC_UNICAST),
	MAC_CASE("v6 on an IPv4 01:00:5e MAC", R(FORWARD), .dst = "ff0e::1",
		 .mac = "01:00:5e:00:00:01"),
	MAC_CASE("v6 MLD on a wrong MAC", R(MLD), .dst = "ff02::16",
		 .mac = "33:33:00:00:00:01", .src = "fe80::1", .ttl = 1, .ra = true,
		 .proto = IPPROTO_ICMPV6, .type = ICMPV6_MLD2_REPORT),
	MAC_CASE("v6 node-local on a wrong MAC", R(NODE_LOCAL), .dst = "ff01::1",
		 .mac = "33:33:00:00:00:02"),
	MAC_CASE("v6 non-first fragment on a wrong MAC", R(FRAGMENT),
		 .dst = "ff0e::4:1", .frag_off = 185, .mac = MAC_UNICAST),
	CASE("v6 aliasing: ff0e::abcd:1:2 on 33:33:00:01:00:02", R(FORWARD),
	     .dst = "ff0e::abcd:1:2", .mac = "33:33:00:01:00:02"),
	CASE("v6 aliasing: ff05::1:2 on ff02::1:2's MAC", R(FORWARD),
	     .dst = "ff05::1:2", .mac = "33:33:00:01:00:02"),

	/* malformed: runts, judged by their MAC when cut before the group */
	CASE("802.1Q TPID, no tag, multicast MAC", R(MALFORMED), .tag = DOT1Q,
	     .vid = 7, .dst = "239.1.6.1", .len = 14),
	CASE("cut inside the 802.1Q tag, multicast MAC", R(MALFORMED), .tag = DOT1Q,
	     .vid = 7, .dst = "239.1.6.1", .len = 16),
	CASE("cut inside the 802.1Q tag, IPv6 multicast MAC", R(MALFORMED),
	     .tag = DOT1Q, .vid = 7, .dst = "ff0e::6:1", .len = 17),
	CASE("cut inside the QinQ inner tag, multicast MAC", R(MALFORMED),
	     .tag = QINQ, .vid = 7, .outer = 8, .dst = "239.1.6.1", .len = 20),
	CASE("cut inside the QinQ outer tag, multicast MAC", R(MALFORMED),
	     .tag = QINQ, .vid = 7, .outer = 8, .dst = "239.1.6.1", .len = 15),
	CASE("cut inside the 802.1Q tag, unicast MAC", NOT_MCAST, .tag = DOT1Q,
	     .vid = 7, .dst = "239.1.6.1", .mac = MAC_UNICAST, .len = 16),
	CASE("cut inside the QinQ inner tag, unicast MAC", NOT_MCAST, .tag = QINQ,
	     .vid = 7, .outer = 8, .dst = "239.1.6.1", .mac = MAC_UNICAST, .len = 21),
	CASE("cut inside the 802.1Q tag, broadcast MAC", NOT_MCAST, .tag = DOT1Q,
	     .vid = 7, .dst = "239.1.6.1", .mac = MAC_BCAST, .len = 16),
	CASE("v4 no IP header at all, multicast MAC", R(MALFORMED),
	     .dst = "239.1.6.1", .len = AT_L3 + 0),
	CASE("v4 cut after 1 byte of IP header", R(MALFORMED), .dst = "239.1.6.1",
	     .len = AT_L3 + 1),
	CASE("v4 cut before daddr", R(MALFORMED), .dst = "239.1.6.1",
	     .len = AT_L3 + 16),
	CASE("v4 cut inside daddr", R(MALFORMED), .dst = "239.1.6.1",
	     .len = AT_L3 + 19),
	CASE("v4 cut inside daddr, unicast MAC", NOT_MCAST, .dst = "239.1.6.1",
	     .mac = MAC_UNICAST, .len = AT_L3 + 19),
	CASE("v4 no IP header at all, unicast MAC", NOT_MCAST, .dst = "239.1.6.1",
	     .mac = MAC_UNICAST, .len = AT_L3 + 0),
	CASE("v4 cut inside daddr, 01:00:5e:80.. (not an IP multicast MAC)",
	     NOT_MCAST, .dst = "239.1.6.1", .mac = "01:00:5e:80:00:01",
	     .len = AT_L3 + 19),
	CASE("v4 cut inside daddr, IPv6 multicast MAC", R(MALFORMED),
	     .dst = "239.1.6.1", .mac = "33:33:00:00:00:01", .len = AT_L3 + 19),
	CASE("v6 no IP header at all, multicast MAC", R(MALFORMED),
	     .dst = "ff0e::6:1", .len = AT_L3 + 0),
	CASE("v6 cut before daddr", R(MALFORMED), .dst = "ff0e::6:1",
	     .len = AT_L3 + 24),
	CASE("v6 cut inside daddr", R(MALFORMED), .dst = "ff0e::6:1",
	     .len = AT_L3 + 39),
	CASE("v6 cut inside daddr, unicast MAC", NOT_MCAST, .dst = "ff0e::6:1",
	     .mac = MAC_UNICAST, .len = AT_L3 + 39),
	CASE("v6 cut before daddr, IPv4 multicast MAC", R(MALFORMED),
	     .dst = "ff0e::6:1", .mac = "01:00:5e:00:00:01", .len = AT_L3 + 8),

	/* malformed: complete up to the group, broken after it */
	CASE("v4 cut after the fixed header, inside the options", R(MALFORMED),
	     .dst = "239.1.6.2", .ra = true, .len = AT_L3 + 22),
	CASE("v4 cut after the fixed header, no options", R(MALFORMED),
	     .dst = "239.1.6.2", .len = AT_L3 + 20),
	CASE("v4 cut inside the payload (tot_len beyond the frame)", R(MALFORMED),
	     .dst = "239.1.6.2", .len = AT_L3 + 30),
	CASE("v4 version 5", R(MALFORMED), .dst = "239.1.6.2", .version = 5),
	CASE("v4 version 6 in an IPv4 ethertype", R(MALFORMED), .dst = "239.1.6.2",
	     .version = 6),
	CASE("v4 IHL 4", R(MALFORMED), .dst = "239.1.6.2", .ihl = 4),
	CASE("v4 IHL 1", R(MALFORMED), .dst = "239.1.6.2", .ihl = 1),
	CASE("v4 IHL 0", R(MALFORMED), .dst = "239.1.6.2", .ihl = ZERO),
	CASE("v4 version 0", R(MALFORMED), .dst = "239.1.6.2", .version = ZERO),
	CASE("v4 IHL 15, beyond the frame", R(MALFORMED), .dst = "239.1.6.2",
	     .ihl = 15),
	CASE("v4 tot_len larger than the frame", R(MALFORMED), .dst = "239.1.6.2",
	     .tot_len = 1500),
	CASE("v4 tot_len one byte too long", R(MALFORMED), .dst = "239.1.6.2",
	     .tot_len = 20 + 8 + PAYLOAD + 1),
	CASE("v4 tot_len smaller than IHL*4", R(MALFORMED), .dst = "239.1.6.2",
	     .tot_len = 19),
	CASE("v4 tot_len 0", R(MALFORMED), .dst = "239.1.6.2", .tot_len = ZERO),
	CASE("v4 tot_len smaller than IHL*4 with options", R(MALFORMED),
	     .dst = "239.1.6.2", .ra = true, .tot_len = 23),
	CASE("v4 malformed on a unicast MAC (complete header)", R(MALFORMED),
	     .dst = "239.1.6.2", .mac = MAC_UNICAST, .version = 5),
	CASE("v4 IGMP with bad IHL", R(MALFORMED), .dst = "224.0.0.22",
	     .proto = IPPROTO_IGMP, .ihl = 4),
	CASE("v6 version 4 in an IPv6 ethertype", R(MALFORMED), .dst = "ff0e::6:2",
	     .version = 4),
	CASE("v6 payload_len beyond the frame", R(MALFORMED), .dst = "ff0e::6:2",
	     .plen = 1000),
	CASE("v6 payload_len one byte too long", R(MALFORMED), .dst = "ff0e::6:2",
	     .plen = 8 + PAYLOAD + 1),
	CASE("v6 cut inside the payload", R(MALFORMED), .dst = "ff0e::6:2",
	     .len = AT_L3 + 44),
	CASE("v6 cut inside the hop-by-hop header", R(MALFORMED),
	     .dst = "ff0e::6:2", .ra = true, .len = AT_L3 + 45),
	CASE("v6 hop-by-hop running past payload_len", R(MALFORMED),
	     .dst = "ff0e::6:2", .ra = true, .plen = 4),
	CASE("v6 hop-by-hop, payload_len 1", R(MALFORMED), .dst = "ff0e::6:2",
	     .ra = true, .plen = 1),
	CASE("v6 second dstopts running past payload_len", R(MALFORMED),
	     .dst = "ff0e::6:2", .dstopts = 2, .plen = 20),
	CASE("v6 routing header running past payload_len", R(MALFORMED),
	     .dst = "ff0e::6:2", .routing = true, .plen = 6),
	CASE("v6 fragment header running past payload_len", R(MALFORMED),
	     .dst = "ff0e::6:2", .frag_off = 185, .plen = 6),
	CASE("v6 9 extension headers", R(MALFORMED), .dst = "ff0e::6:2",
	     .dstopts = 9),
	CASE("v6 8 dstopts and a routing header (9)", R(MALFORMED),
	     .dst = "ff0e::6:2", .dstopts = 8, .routing = true),
	CASE("v6 hop-by-hop and 8 dstopts (9 headers)", R(MALFORMED),
	     .dst = "ff0e::6:2", .ra = true, .dstopts = 8),
	CASE("v6 9 headers ending in a non-first fragment", R(MALFORMED),
	     .dst = "ff0e::6:2", .dstopts = 8, .frag_off = 185),
	CASE("v6 ICMPv6 cut before the type byte (payload_len)", R(MALFORMED),
	     .dst = "ff02::16", .ra = true, .plen = 8, .proto = IPPROTO_ICMPV6,
	     .type = ICMPV6_MLD2_REPORT),
	CASE("v6 ICMPv6 with payload_len 0", R(MALFORMED), .dst = "ff02::16",
	     .plen = ZERO, .proto = IPPROTO_ICMPV6),
	CASE("v6 malformed on a unicast MAC (complete header)", R(MALFORMED),
	     .dst = "ff0e::6:2", .mac = MAC_UNICAST, .plen = 1000),
	CASE("v6 9 extension headers on a unicast MAC", R(MALFORMED),
	     .dst = "ff0e::6:2", .mac = MAC_UNICAST, .dstopts = 9),
	CASE("v6 ICMPv6 cut before the type byte on a unicast MAC", R(MALFORMED),
	     .dst = "ff02::16", .mac = MAC_UNICAST, .ra = true, .plen = 8,
	     .proto = IPPROTO_ICMPV6, .type = ICMPV6_MLD2_REPORT),
};

/* --- Maps and runs -------------------------------------------------------- */

struct inst {
	struct xdp_mcast_bpf *skel;
	const char *label;
	int prog_fd;		/* xdp_mcast */
	int tc_fd;		/* tc_mcast_egress */
};

/* xm_reasons: one row of reasons per interface slot, for each direction. */
#define REASON_ROWS	(2 * XM_MAX_IFACES * XM_REASON_SLOTS)
#define BATCH_MAX	(REASON_ROWS > TEST_POL_HITS ? REASON_ROWS : TEST_POL_HITS)

static int ncpus;
static __u32 batch_keys[BATCH_MAX];
static struct xm_counter *batch_values;	/* BATCH_MAX per-CPU values */
static struct xm_flow_slot *slot_buf;	/* one cache slot, per CPU */

/* One state of everything the programs can write, as seen from user space. */
struct snap {
	struct xm_counter reason[2][XM_MAX_IFACES][XM_REASON_SLOTS];	/* [dir] */
	struct xm_counter global[XM_GLOBAL_SLOTS];
	struct xm_counter hits[TEST_POL_HITS];
	struct xm_counter flows;	/* every flow of the merged view */
	__u32 nflows;			/* flows in the merged view */
	bool found;			/* the watched flow is in it */
	struct xm_flow *flow;		/* the watched flow, per CPU, merged */
	struct xm_flow lib;		/* the watched flow as xm_read_flows() has it */
};

/* All n counters of a per-CPU array, each summed over the CPUs. */
static int read_counters(struct bpf_map *map, __u32 n, struct xm_counter *sum)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = 0, pos = 0, count, i;
	int err = 0, cpu;

	if (n > BATCH_MAX)
		return -E2BIG;
	while (done < n && !err) {
		count = n - done;
		err = bpf_map_lookup_batch(bpf_map__fd(map), done ? &pos : NULL,
					   &pos, batch_keys + done,
					   batch_values + (size_t)done * ncpus,
					   &count, &opts);
		done += count;
	}
	if (err && err != -ENOENT)
		return err;
	if (done != n)
		return -EIO;
	for (i = 0; i < n; i++) {
		const struct xm_counter *v = batch_values + (size_t)i * ncpus;

		if (batch_keys[i] >= n)
			return -EIO;
		memset(&sum[batch_keys[i]], 0, sizeof(*sum));
		for (cpu = 0; cpu < ncpus; cpu++) {
			sum[batch_keys[i]].packets += v[cpu].packets;
			sum[batch_keys[i]].bytes += v[cpu].bytes;
		}
	}
	return 0;
}

static struct xm_counter flow_sum(const struct xm_flow *pcpu)
{
	struct xm_counter sum = { 0, 0 };
	int cpu;

	for (cpu = 0; cpu < ncpus; cpu++) {
		sum.packets += pcpu[cpu].packets;
		sum.bytes += pcpu[cpu].bytes;
	}
	return sum;
}

static __u32 flow_mask(const struct xm_flow *pcpu)
{
	__u32 mask = 0;
	int cpu;

	for (cpu = 0; cpu < ncpus; cpu++)
		mask |= pcpu[cpu].reason_mask;
	return mask;
}

/* Look a flow up in xm_flows alone; false (and zeroed values) when it is
 * not in the table. */
static bool read_flow(struct bpf_map *map, const struct xm_flow_key *key,
		      struct xm_flow *pcpu)
{
	if (bpf_map__lookup_elem(map, key, sizeof(*key), pcpu,
				 sizeof(*pcpu) * ncpus, 0) == 0)
		return true;
	memset(pcpu, 0, sizeof(*pcpu) * ncpus);
	return false;
}

/* Every entry of xm_flows alone, summed over the entries and the CPUs. */
static void sum_flows(struct bpf_map *map, struct xm_counter *sum, __u32 *n,
		      struct xm_flow *scratch)
{
	struct xm_flow_key key, next;
	struct xm_counter s;
	void *prev = NULL;

	memset(sum, 0, sizeof(*sum));
	*n = 0;
	while (bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
		key = next;
		prev = &key;
		if (!read_flow(map, &key, scratch))
			continue;	/* evicted between the two calls */
		s = flow_sum(scratch);
		sum->packets += s.packets;
		sum->bytes += s.bytes;
		(*n)++;
	}
}

/*
 * key_slot() of bpf/xdp_mcast.bpf.c: the xm_flow_cache slot of a flow.
 * Replicated so that tests can read a flow's slot and make two flows
 * collide; cache_tests() checks it against where the kernel puts flows.
 */
static __u32 cache_slot_of(const struct xm_flow_key *k)
{
	__u32 h = k->ifindex ^ ((__u32)k->vlan << 16) ^
		  k->group[0] ^ k->group[3] ^ k->source[0] ^ k->source[3];

	h *= 0x9e3779b1u;
	return h >> 24;
}

/* Slot idx of xm_flow_cache on every CPU. */
static bool read_slot(struct inst *in, __u32 idx, struct xm_flow_slot *pcpu)
{
	return bpf_map__lookup_elem(in->skel->maps.xm_flow_cache, &idx, sizeof(idx),
				    pcpu, sizeof(*pcpu) * ncpus, 0) == 0;
}

static bool slot_holds(const struct xm_flow_slot *s, const struct xm_flow_key *key)
{
	return s->valid && !memcmp(&s->key, key, sizeof(*key));
}

/*
 * A flow as each CPU holds it: its copy in xm_flows plus what the CPU's
 * cache slot has not written back yet.  A slot is written back before it
 * takes another flow, so pending frames are always the CPU's newest ones
 * of the flow, and the slot's last reason is the CPU's last reason.
 */
static bool read_flow_merged(struct inst *in, const struct xm_flow_key *key,
			     struct xm_flow *pcpu)
{
	bool found = read_flow(in->skel->maps.xm_flows, key, pcpu);
	int cpu;

	if (!read_slot(in, cache_slot_of(key), slot_buf)) {
		diag("cannot read xm_flow_cache: %s", strerror(errno));
		return found;
	}
	for (cpu = 0; cpu < ncpus; cpu++) {
		const struct xm_flow_slot *s = &slot_buf[cpu];
		struct xm_flow *f = &pcpu[cpu];

		if (!slot_holds(s, key) || !s->packets)
			continue;
		found = true;
		f->packets += s->packets;
		f->bytes += s->bytes;
		f->reason_mask |= s->reason_mask;
		f->last_reason = s->last_reason;
		f->last_seen_ns = s->last_seen_ns;
	}
	return found;
}

static int entry_key_cmp(const void *a, const void *b)
{
	return xm_flow_key_cmp(&((const struct xm_flow_entry *)a)->key,
			       &((const struct xm_flow_entry *)b)->key);
}

/* The readers' walk (walk.c: the kernel walk, or batched lookups where it
 * does not load) has exactly the flows xm_read_flows() has, v[0..n) sorted,
 * merged the same way, the caches' pending counts in. */
static void check_walk(struct inst *in, const struct xm_flow_entry *v, int n)
{
	const struct xm_flow_entry *walked;
	struct xm_flow_entry *w = NULL;
	struct xm_walker *wk;
	int wn = -1, i, bad = -1, err;

	err = xm_walker_open(&wk, bpf_map__fd(in->skel->maps.xm_ifaces),
			     bpf_map__fd(in->skel->maps.xm_flows),
			     bpf_map__fd(in->skel->maps.xm_flow_cache));
	if (err) {
		diag("xm_walker_open: %s", strerror(-err));
	} else {
		wn = xm_walk_flows(wk, &walked);
		if (wn < 0)
			diag("xm_walk_flows: %s", strerror(-wn));
		if (wn == n && !(w = malloc((n ? n : 1) * sizeof(*w)))) {
			diag("out of memory");
		} else if (wn == n) {
			/* The walker's memory: sorted in a copy. */
			memcpy(w, walked, n * sizeof(*w));
			qsort(w, wn, sizeof(*w), entry_key_cmp);
			for (i = 0; i < n && bad < 0; i++)
				if (memcmp(&w[i], &v[i], sizeof(*w)))
					bad = i;
		}
		if (wn >= 0 && (wn != n || bad >= 0))
			diag("the walk has %d flows, xm_read_flows() %d; first difference at %d "
			     "(%llu packets against %llu)", wn, n, bad,
			     bad >= 0 ? (unsigned long long)w[bad].flow.packets : 0ull,
			     bad >= 0 ? (unsigned long long)v[bad].flow.packets : 0ull);
	}
	tap("%s: cache: the readers' walk (%s) has the same %d flows, merged the same", in->label,
	    !err && xm_walker_walks_flows(wk) ? "in the kernel" : "batched lookups", n);
	free(w);
	if (!err)
		xm_walker_close(wk);
}

/* The merged view through the library: xm_read_flows() over xm_flows and
 * the cache.  Sums every flow; copies the one of 'key' when given. */
static int read_all_flows(struct inst *in, const struct xm_flow_key *key,
			  struct xm_counter *sum, __u32 *n, struct xm_flow *one)
{
	struct xm_flow_entry *v = NULL;
	int i, cnt;

	memset(sum, 0, sizeof(*sum));
	*n = 0;
	cnt = xm_read_flows(bpf_map__fd(in->skel->maps.xm_flows),
			    bpf_map__fd(in->skel->maps.xm_flow_cache), &v);
	if (cnt < 0)
		return cnt;
	for (i = 0; i < cnt; i++) {
		sum->packets += v[i].flow.packets;
		sum->bytes += v[i].flow.bytes;
		if (key && one && !memcmp(&v[i].key, key, sizeof(*key)))
			*one = v[i].flow;
	}
	*n = cnt;
	free(v);
	return 0;
}

/* Both ways of merging must agree on the flow of a snapshot. */
static void check_lib_flow(const struct snap *s)
{
	struct xm_counter mine = flow_sum(s->flow);
	__u32 mask = flow_mask(s->flow);

	if (s->lib.packets != mine.packets || s->lib.bytes != mine.bytes ||
	    s->lib.reason_mask != mask)
		diag("xm_read_flows() has the flow at %llu packets %llu bytes mask 0x%x, "
		     "the per-CPU merge at %llu %llu 0x%x",
		     (unsigned long long)s->lib.packets, (unsigned long long)s->lib.bytes,
		     s->lib.reason_mask, (unsigned long long)mine.packets,
		     (unsigned long long)mine.bytes, mask);
}

static void snapshot(struct inst *in, const struct xm_flow_key *key, struct snap *s)
{
	struct xdp_mcast_bpf *sk = in->skel;
	int err;

	err = read_counters(sk->maps.xm_reasons, REASON_ROWS, &s->reason[0][0][0]);
	if (err)
		diag("cannot read xm_reasons: %s", strerror(-err));
	err = read_counters(sk->maps.xm_global, XM_GLOBAL_SLOTS, s->global);
	if (err)
		diag("cannot read xm_global: %s", strerror(-err));
	err = read_counters(sk->maps.xm_pol_hits, TEST_POL_HITS, s->hits);
	if (err)
		diag("cannot read xm_pol_hits: %s", strerror(-err));
	memset(&s->lib, 0, sizeof(s->lib));
	err = read_all_flows(in, key, &s->flows, &s->nflows, &s->lib);
	if (err)
		diag("xm_read_flows: %s", strerror(-err));
	s->found = key && read_flow_merged(in, key, s->flow);
	if (!key)
		memset(s->flow, 0, sizeof(*s->flow) * ncpus);
}

static struct snap snap_before, snap_after;

/*
 * Run one frame 'repeat' times, back to back in one test_run call (so on
 * one CPU), through the program of 'hook'.  Checks what every run must
 * satisfy: the syscall works and the frame comes back unchanged.  The
 * verdict (of the last run) is the caller's to judge.
 *
 * The TC program runs on an skb built by the kernel from the frame, on lo:
 * __sk_buff.ifindex must name an existing device (tc_ctx_tests()), and
 * ingress_ifindex, which the kernel only records, says "forwarded".
 */
static int run_hook(struct inst *in, enum hook hook, const struct frame *f,
		    __u32 repeat, __u32 *verdict)
{
	struct xdp_md xdp = {
		.data_end = f->len,
		.ingress_ifindex = LO_IFINDEX,
	};
	struct __sk_buff skb = {
		.ifindex = LO_IFINDEX,
		.ingress_ifindex = hook == HOOK_OUT_FWD ? LO_IFINDEX : 0,
	};
	__u8 out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->data,
		.data_size_in = f->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = repeat,
	);
	int err;

	if (hook == HOOK_IN) {
		opts.ctx_in = &xdp;
		opts.ctx_size_in = sizeof(xdp);
	} else {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	err = bpf_prog_test_run_opts(hook == HOOK_IN ? in->prog_fd : in->tc_fd, &opts);
	if (err) {
		diag("bpf_prog_test_run_opts (%s): %s", hook_names[hook], strerror(-err));
		return err;
	}
	*verdict = opts.retval;
	if (opts.data_size_out != f->len || memcmp(out, f->data, f->len))
		diag("the program changed the frame (%u bytes in, %u out)",
		     f->len, opts.data_size_out);
	return 0;
}

static int run_frame(struct inst *in, const struct frame *f, __u32 *verdict)
{
	return run_hook(in, HOOK_IN, f, 1, verdict);
}

/* What one run must change, and nothing else. */
struct expect {
	enum hook hook;
	int reason;		/* NOT_MCAST: passes (XDP_PASS, TC_ACT_OK),
				 * no counter moves */
	__u32 frames;		/* runs of the frame (test_run repeat); 0 is 1 */
	__u32 slot;		/* row of xm_reasons the reason lands in */
	bool unregistered;	/* counted as an unregistered interface */
	bool has_flow;		/* counted into 'key' */
	struct xm_flow_key key;
	int hit_line;		/* the policy line whose xm_pol_hits counter
				 * counts the frame; 0: no policy counter moves */
	bool copied;		/* copied to xm_ctrl_ring: ctrl_captured */
	bool ring_full;		/* a copy lost to a full ring: ctrl_ring_full */
};

static bool moved_by(const struct xm_counter *before,
		     const struct xm_counter *after, __u64 packets, __u64 bytes)
{
	return after->packets - before->packets == packets &&
	       after->bytes - before->bytes == bytes;
}

static void check_delta(const char *what, const struct xm_counter *before,
			const struct xm_counter *after, __u64 packets, __u64 bytes)
{
	__u64 dp = after->packets - before->packets;
	__u64 db = after->bytes - before->bytes;

	if (!moved_by(before, after, packets, bytes))
		diag("%s: +%llu packets +%llu bytes, want +%llu +%llu", what,
		     (unsigned long long)dp, (unsigned long long)db,
		     (unsigned long long)packets, (unsigned long long)bytes);
}

static void check_flow_cpu(const struct snap *b, const struct snap *a, int reason)
{
	const struct xm_flow *f = NULL;
	int cpu;

	for (cpu = 0; cpu < ncpus; cpu++)
		if (a->flow[cpu].packets != b->flow[cpu].packets)
			f = &a->flow[cpu];
	if (!f)
		return;		/* check_delta() has said so already */
	if (f->last_reason != (__u32)reason)
		diag("flow last_reason %s, want %s", reason_name(f->last_reason),
		     reason_name(reason));
	if (!(f->reason_mask & 1U << reason))
		diag("flow reason_mask 0x%x lacks %s", f->reason_mask,
		     reason_name(reason));
	if (!f->first_seen_ns || f->last_seen_ns < f->first_seen_ns)
		diag("flow first_seen_ns %llu, last_seen_ns %llu",
		     (unsigned long long)f->first_seen_ns,
		     (unsigned long long)f->last_seen_ns);
}

static void policy_maps(struct inst *in, struct xm_policy_maps *m);

/* The policy counters: the one whose description names policy line
 * e->hit_line, of the generation in force, moves by the frames; no other
 * moves. */
static void check_hits(struct inst *in, const struct snap *b, const struct snap *a,
		       const struct expect *e, __u64 packets, __u64 bytes)
{
	__u8 kind = e->reason == R(BOUNDARY) ? XM_POL_BOUNDARY : XM_POL_RULE;
	struct xm_policy_maps m;
	struct xm_pol_desc d;
	struct xm_config cfg = { 0 };
	__u32 i, base = 0;
	char what[64];
	int moved = 0;

	for (i = 0; i < TEST_POL_HITS; i++) {
		if (moved_by(&b->hits[i], &a->hits[i], 0, 0))
			continue;
		moved++;
		snprintf(what, sizeof(what), "policy counter %u", i);
		if (!e->hit_line) {
			check_delta(what, &b->hits[i], &a->hits[i], 0, 0);
			continue;
		}
		policy_maps(in, &m);
		if (xm_policy_current(&m, &cfg, &base))
			diag("cannot read xm_config: %s", strerror(errno));
		if (i < base || i >= base + cfg.nhits)
			diag("policy counter %u is outside the generation in force "
			     "(%u..%u)", i, base, base + cfg.nhits - 1);
		if (bpf_map__lookup_elem(in->skel->maps.xm_pol_desc, &i, sizeof(i),
					 &d, sizeof(d), 0))
			diag("cannot read xm_pol_desc[%u]: %s", i, strerror(errno));
		else if (d.line != (__u32)e->hit_line || d.kind != kind)
			diag("%s is of line %u (kind %u), want line %d (kind %u)", what,
			     d.line, d.kind, e->hit_line, kind);
		check_delta(what, &b->hits[i], &a->hits[i], packets, bytes);
	}
	if (e->hit_line && moved != 1)
		diag("%d policy counters moved, want the one of line %d", moved,
		     e->hit_line);
}

/* Run a frame and compare the verdict and every counter against 'e'.  What
 * differs goes to the diagnostics; the caller closes the test with tap(). */
static void run_expect(struct inst *in, const struct frame *f, const struct expect *e)
{
	const struct xm_flow_key *key = e->has_flow ? &e->key : NULL;
	struct snap *b = &snap_before, *a = &snap_after;
	int want_verdict = hook_verdict(e->hook, e->reason);
	bool counted = e->reason != NOT_MCAST;
	__u64 n = e->frames ? e->frames : 1, bytes = n * f->len;
	__u32 verdict, d, slot, r, g;
	bool new_flow;
	char what[80];

	snapshot(in, key, b);
	if (run_hook(in, e->hook, f, n, &verdict))
		return;
	snapshot(in, key, a);

	if (verdict != (__u32)want_verdict)
		diag("verdict %s, want %s (reason %s)",
		     hook_verdict_name(e->hook, verdict),
		     hook_verdict_name(e->hook, want_verdict), reason_name(e->reason));

	for (d = 0; d < 2; d++) {
		for (slot = 0; slot < XM_MAX_IFACES; slot++) {
			for (r = 0; r < XM_REASON_SLOTS; r++) {
				const struct xm_counter *rb = &b->reason[d][slot][r];
				const struct xm_counter *ra = &a->reason[d][slot][r];
				bool hit = counted && d == hook_dir(e->hook) &&
					   slot == e->slot && r == (__u32)e->reason;

				if (moved_by(rb, ra, hit ? n : 0, hit ? bytes : 0))
					continue;
				snprintf(what, sizeof(what), "%s slot %u reason %s",
					 d == XM_DIR_IN ? "in" : "out", slot, reason_name(r));
				check_delta(what, rb, ra, hit ? n : 0, hit ? bytes : 0);
			}
		}
	}

	new_flow = e->has_flow && !b->found;
	for (g = 0; g < XM_GLOBAL_SLOTS; g++) {
		__u64 want = 0;

		if (g == XM_G_FLOWS_CREATED)
			want = new_flow;
		else if (g == XM_G_UNREGISTERED_IFACE)
			want = counted && e->unregistered ? n : 0;
		else if (g == XM_G_CTRL_CAPTURED)
			want = e->copied ? n : 0;
		else if (g == XM_G_CTRL_RING_FULL)
			want = e->ring_full ? n : 0;
		snprintf(what, sizeof(what), "global %s",
			 g < XM_G_COUNT ? global_names[g] : "(unused slot)");
		check_delta(what, &b->global[g], &a->global[g], want, 0);
	}

	check_hits(in, b, a, e, n, bytes);

	check_delta("all flows", &b->flows, &a->flows, e->has_flow ? n : 0,
		    e->has_flow ? bytes : 0);
	if (a->nflows - b->nflows != new_flow)
		diag("merged flow view: %u flows -> %u, want +%d", b->nflows, a->nflows,
		     new_flow);
	if (e->has_flow) {
		struct xm_counter fb = flow_sum(b->flow), fa = flow_sum(a->flow);

		if (!a->found)
			diag("no flow for the frame's key");
		check_delta("the frame's flow", &fb, &fa, n, bytes);
		check_flow_cpu(b, a, e->reason);
		check_lib_flow(a);
	}
}

/* What a frame of 'p' must do at 'hook': counted under 'reason' on lo, in
 * its flow on ingress (the TC program keeps no flows). */
static void case_expect(enum hook hook, const struct pkt *p, int reason,
			struct expect *e)
{
	memset(e, 0, sizeof(*e));
	e->hook = hook;
	e->reason = reason;
	e->slot = LO_SLOT;
	e->has_flow = hook == HOOK_IN && reason != NOT_MCAST &&
		      reason != R(MALFORMED);
	if (e->has_flow)
		pkt_flow_key(p, &e->key);
}

static void run_case(struct inst *in, const char *name, const struct pkt *p,
		     int reason)
{
	struct expect e;
	struct frame f;

	build(p, &f);
	case_expect(HOOK_IN, p, reason, &e);
	run_expect(in, &f, &e);
	tap("%s: %s", in->label, name);
}

/* A frame in tagging variant t, and its name. */
static void pkt_variant(const struct pkt *base, const char *name, size_t t,
			struct pkt *p, char *out, size_t size)
{
	*p = *base;
	p->tag = tag_variants[t].tag;
	p->vid = tag_variants[t].vid;
	p->outer = tag_variants[t].outer;
	snprintf(out, size, "%s [%s]", name, tag_variants[t].name);
}

/* The case's frame in tagging variant t, and its name. */
static void case_variant(const struct xdp_case *c, size_t t, struct pkt *p,
			 char *name, size_t size)
{
	pkt_variant(&c->pkt, c->name, t, p, name, size);
}

/*
 * Every case, expanded over the taggings unless it names its own.  With
 * mac_cases_only, the cases that set a MAC, judged as with cfg_check_mac 0.
 */
static void run_table(struct inst *in, bool mac_cases_only)
{
	char name[160];
	struct pkt p;
	size_t i, t;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct xdp_case *c = &cases[i];
		int want = c->want;

		if (mac_cases_only) {
			if (!c->pkt.mac)
				continue;
			if (want == R(MAC_MISMATCH))
				want = c->unchecked;
		}
		if (c->pkt.tag != TAGS_ALL) {
			run_case(in, c->name, &c->pkt, want);
			continue;
		}
		for (t = 0; t < ARRAY_SIZE(tag_variants); t++) {
			case_variant(c, t, &p, name, sizeof(name));
			run_case(in, name, &p, want);
		}
	}
}

/* --- Flow accounting ------------------------------------------------------- */

/* The flow a frame of 'p' counts into must hold exactly this much, in the
 * merged view, read both ways. */
static void check_flow_total(struct inst *in, const char *name,
			     const struct pkt *p, __u64 packets, __u64 bytes)
{
	struct snap *s = &snap_after;
	struct xm_flow_key key;
	struct xm_counter c;

	pkt_flow_key(p, &key);
	snapshot(in, &key, s);
	if (!s->found)
		diag("flow not in the merged view");
	c = flow_sum(s->flow);
	if (c.packets != packets || c.bytes != bytes)
		diag("flow holds %llu packets %llu bytes, want %llu %llu",
		     (unsigned long long)c.packets, (unsigned long long)c.bytes,
		     (unsigned long long)packets, (unsigned long long)bytes);
	check_lib_flow(s);
	tap("%s: %s", in->label, name);
}

static __u32 flow_reason_mask(struct inst *in, const struct pkt *p)
{
	struct xm_flow_key key;

	pkt_flow_key(p, &key);
	read_flow_merged(in, &key, snap_after.flow);
	return flow_mask(snap_after.flow);
}

/* Frame lengths: the untagged frame is L, each tag adds 4 bytes. */
static void flow_tests(struct inst *in)
{
	struct pkt p = { .dst = "239.7.7.7", .src = "10.7.0.1", .tag = UNTAGGED };
	__u32 mask, want_mask = 1U << R(FORWARD) | 1U << R(TTL_EXPIRED);
	struct frame f;
	__u32 len;

	build(&p, &f);
	len = f.len;
	run_case(in, "flow: first packet creates the flow", &p, R(FORWARD));
	run_case(in, "flow: second packet adds to the same flow", &p, R(FORWARD));
	check_flow_total(in, "flow: two packets in one entry", &p, 2, 2 * len);

	p.ttl = 1;
	run_case(in, "flow: a TTL 1 packet of the same flow", &p, R(TTL_EXPIRED));
	mask = flow_reason_mask(in, &p);
	if (mask != want_mask)
		diag("reason_mask over the CPUs 0x%x, want 0x%x", mask, want_mask);
	tap("%s: flow: reason_mask collects every reason seen", in->label);
	p.ttl = 0;

	/* The innermost VLAN id is part of the key, the outer one is not. */
	p.tag = DOT1Q;
	p.vid = 10;
	run_case(in, "flow: 802.1Q vid 10 is a new flow", &p, R(FORWARD));
	check_flow_total(in, "flow: vid 10 holds its own frame only", &p,
			 1, len + 4);
	p.vid = 20;
	run_case(in, "flow: 802.1Q vid 20 is a new flow", &p, R(FORWARD));
	p.tag = QINQ;
	p.outer = 30;
	run_case(in, "flow: QinQ outer 30 inner 20 counts into vid 20's flow", &p,
		 R(FORWARD));
	p.outer = 40;
	run_case(in, "flow: QinQ outer 40 inner 20 counts into vid 20's flow", &p,
		 R(FORWARD));
	check_flow_total(in, "flow: vid 20 holds the 802.1Q and both QinQ frames",
			 &p, 3, (len + 4) + 2 * (len + 8));
	p.tag = UNTAGGED;
	p.vid = 0;
	check_flow_total(in, "flow: the untagged flow is untouched by tagged frames",
			 &p, 3, 3 * len);

	/* So are the source and the group. */
	p.src = "10.7.0.2";
	run_case(in, "flow: another source is a new flow", &p, R(FORWARD));
	p.dst = "239.7.7.8";
	run_case(in, "flow: another group is a new flow", &p, R(FORWARD));

	p = (struct pkt){ .dst = "ff0e::7:7", .src = "2001:db8::7:1", .tag = UNTAGGED };
	build(&p, &f);
	run_case(in, "flow: v6 first packet creates the flow", &p, R(FORWARD));
	run_case(in, "flow: v6 second packet adds to the same flow", &p, R(FORWARD));
	p.src = "2001:db8::7:2";
	run_case(in, "flow: v6 another source is a new flow", &p, R(FORWARD));
	p.src = "2001:db8::7:1";
	check_flow_total(in, "flow: v6 two packets in one entry", &p, 2, 2 * f.len);
}

/* Frames on an interface the loader did not register (an all-zero entry of
 * the interface array), or registered at a slot out of range, count in
 * slot 0 and in unregistered_iface, in both directions. */
static void unregistered_tests(struct inst *in)
{
	struct bpf_map *ifaces = in->skel->maps.xm_ifaces;
	struct xm_iface ifc = { .slot = LO_SLOT, .name = "lo" };
	struct xm_iface bad = { .slot = XM_MAX_IFACES, .name = "lo" };
	struct pkt p = { .dst = "239.8.8.8", .tag = UNTAGGED };
	__u32 ifindex = LO_IFINDEX;
	enum hook h;
	struct expect e;
	struct frame f;
	int err;

	build(&p, &f);
	for (h = HOOK_IN; h <= HOOK_OUT_LOCAL; h++) {
		case_expect(h, &p, R(FORWARD), &e);
		e.slot = 0;
		e.unregistered = true;
		err = xm_iface_unregister(bpf_map__fd(ifaces), ifindex);
		if (err)
			diag("cannot unregister lo: %s", strerror(-err));
		else
			run_expect(in, &f, &e);
		tap("%s: %s: unregistered interface counts in slot 0 and "
		    "unregistered_iface", in->label, hook_names[h]);

		if (bpf_map__update_elem(ifaces, &ifindex, sizeof(ifindex), &bad,
					 sizeof(bad), BPF_ANY))
			diag("cannot register lo at slot %u: %s", bad.slot,
			     strerror(errno));
		else
			run_expect(in, &f, &e);
		if (bpf_map__update_elem(ifaces, &ifindex, sizeof(ifindex), &ifc,
					 sizeof(ifc), BPF_ANY))
			diag("cannot register lo again: %s", strerror(errno));
		tap("%s: %s: slot %u (out of range) counts like an unregistered "
		    "interface", in->label, hook_names[h], bad.slot);
	}
}

/*
 * More distinct flows than the table holds: the LRU evicts, and every frame
 * is still counted and still creates its flow.
 */
static void flood_test(struct inst *in)
{
	const __u32 frames = 3 * SMALL_FLOWS;
	struct pkt p = { .dst = "239.9.9.9", .tag = UNTAGGED };
	struct snap *b = &snap_before, *a = &snap_after;
	struct xm_flow_key last;
	__u32 i, verdict, bad_verdicts = 0, max_seen = 0, now;
	char src[INET_ADDRSTRLEN];
	struct xm_counter table;
	struct frame f;
	int r;

	snapshot(in, NULL, b);
	for (i = 0; i < frames; i++) {
		snprintf(src, sizeof(src), "10.9.%u.%u", i >> 8, i & 0xff);
		p.src = src;
		build(&p, &f);
		if (run_frame(in, &f, &verdict))
			break;
		if (verdict != XDP_PASS)
			bad_verdicts++;
		if (i % 256 == 255) {
			struct xm_counter s;
			__u32 n;

			sum_flows(in->skel->maps.xm_flows, &s, &n, a->flow);
			if (n > max_seen)
				max_seen = n;
		}
	}
	pkt_flow_key(&p, &last);
	snapshot(in, &last, a);
	if (bad_verdicts)
		diag("%u of %u frames not XDP_PASS", bad_verdicts, frames);
	tap("%s: flood of %u sources: every verdict XDP_PASS", in->label, frames);

	for (r = 0; r < XM_REASON_SLOTS; r++) {
		bool hit = r == R(FORWARD);

		check_delta(reason_name(r), &b->reason[XM_DIR_IN][LO_SLOT][r],
			    &a->reason[XM_DIR_IN][LO_SLOT][r], hit ? frames : 0,
			    hit ? (__u64)frames * f.len : 0);
	}
	tap("%s: flood: the forward counter counts every frame", in->label);

	check_delta("flows_created", &b->global[XM_G_FLOWS_CREATED],
		    &a->global[XM_G_FLOWS_CREATED], frames, 0);
	check_delta("flow_insert_failed", &b->global[XM_G_FLOW_INSERT_FAILED],
		    &a->global[XM_G_FLOW_INSERT_FAILED], 0, 0);
	tap("%s: flood: flows_created %u, no insert failed", in->label, frames);

	/* The table itself, not the merged view, which adds what the caches
	 * hold of flows the table has evicted. */
	sum_flows(in->skel->maps.xm_flows, &table, &now, a->flow);
	if (now > max_seen)
		max_seen = now;
	if (max_seen > SMALL_FLOWS || now == 0)
		diag("flow table held up to %u entries, now %u, max_entries %u",
		     max_seen, now, SMALL_FLOWS);
	tap("%s: flood: the table never holds more than %u flows (now %u)",
	    in->label, SMALL_FLOWS, now);
	snapshot(in, &last, a);

	if (!a->found)
		diag("the newest source's flow was evicted");
	else if (flow_sum(a->flow).packets != 1)
		diag("the newest flow holds %llu packets, want 1",
		     (unsigned long long)flow_sum(a->flow).packets);
	tap("%s: flood: the newest flow is in the table", in->label);
}

/* --- The flow cache ------------------------------------------------------------ */

static cpu_set_t start_cpus;		/* the affinity the test started with */
static struct xm_flow *flow_buf;	/* scratch: one flow, per CPU */

/* The n-th CPU this process may run on, or -1. */
static int allowed_cpu(int n)
{
	int cpu;

	for (cpu = 0; cpu < CPU_SETSIZE && cpu < ncpus; cpu++)
		if (CPU_ISSET(cpu, &start_cpus) && n-- == 0)
			return cpu;
	return -1;
}

/* Run on one CPU only: test_run runs the program on the calling CPU, so
 * every run then meets the same per-CPU cache slots. */
static bool pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set)) {
		diag("cannot run on CPU %d only: %s", cpu, strerror(errno));
		return false;
	}
	return true;
}

static void unpin(void)
{
	if (sched_setaffinity(0, sizeof(start_cpus), &start_cpus))
		diag("cannot restore the CPU affinity: %s", strerror(errno));
}

/* A flow on one CPU: does its slot hold it, how many of its frames wait
 * there, how many are in its copy in xm_flows. */
struct cache_view {
	bool in_slot;
	__u64 pending;
	__u64 table;
	struct xm_flow_slot slot;	/* the slot on that CPU, whatever it holds */
};

static void view_flow(struct inst *in, const struct xm_flow_key *key, int cpu,
		      struct cache_view *v)
{
	memset(v, 0, sizeof(*v));
	if (read_slot(in, cache_slot_of(key), slot_buf)) {
		v->slot = slot_buf[cpu];
		v->in_slot = slot_holds(&v->slot, key);
		v->pending = v->in_slot ? v->slot.packets : 0;
	}
	read_flow(in->skel->maps.xm_flows, key, flow_buf);
	v->table = flow_buf[cpu].packets;
}

/* Run 'frames' frames of p through ingress in one test_run call, checked
 * like every case (the merged view must move by exactly that much). */
static void run_flow(struct inst *in, const struct pkt *p, __u32 frames, int reason)
{
	struct expect e;
	struct frame f;

	build(p, &f);
	case_expect(HOOK_IN, p, reason, &e);
	e.frames = frames;
	run_expect(in, &f, &e);
}

/* Run p until one of its frames waits in the cache: two frames in one
 * test_run call, since the first may meet a new clock tick and write the
 * slot back; the second then stays, unless a tick falls between the two. */
static bool make_pending(struct inst *in, const struct pkt *p, int cpu,
			 struct cache_view *v)
{
	struct xm_flow_key key;
	int tries;

	pkt_flow_key(p, &key);
	for (tries = 0; tries < 4; tries++) {
		run_flow(in, p, 2, R(FORWARD));
		view_flow(in, &key, cpu, v);
		if (v->pending)
			return true;
	}
	return false;
}

static void cache_tests(struct inst *in)
{
	struct pkt a = { .dst = "239.11.0.1", .src = "10.11.0.1", .tag = UNTAGGED };
	struct pkt b = { .dst = "239.11.0.2", .src = "10.11.0.1", .tag = UNTAGGED };
	struct pkt c = a, d = { .dst = "239.11.0.3", .src = "10.11.0.1", .tag = DOT1Q,
				.vid = 11 };
	int cpu = allowed_cpu(0), cpu2 = allowed_cpu(1), i;
	struct xm_flow_key ka, kc, kd;
	struct cache_view va, vc, vd;
	char src[INET_ADDRSTRLEN], name[128];
	struct frame f;
	__u64 before;

	if (!pin_cpu(cpu)) {
		tap("%s: cache: pin the test to one CPU", in->label);
		return;
	}
	pkt_flow_key(&a, &ka);

	run_flow(in, &a, 1, R(FORWARD));
	view_flow(in, &ka, cpu, &va);
	if (!va.in_slot)
		diag("slot %u of CPU %d does not hold the flow: cache_slot_of() is not "
		     "the program's key_slot()", cache_slot_of(&ka), cpu);
	if (va.table != 1 || va.pending)
		diag("xm_flows holds %llu of the flow's frames and the slot %llu, "
		     "want 1 and 0", (unsigned long long)va.table,
		     (unsigned long long)va.pending);
	tap("%s: cache: a new flow takes its slot (%u) and its first frame goes to "
	    "xm_flows", in->label, cache_slot_of(&ka));

	for (i = 0; i < 5; i++)
		run_flow(in, &a, 1, R(FORWARD));
	view_flow(in, &ka, cpu, &va);
	if (va.table + va.pending != 6)
		diag("xm_flows %llu + pending %llu, want 6", (unsigned long long)va.table,
		     (unsigned long long)va.pending);
	tap("%s: cache: 5 back-to-back runs of a flow are exact in the merged view "
	    "(%llu in xm_flows, %llu pending)", in->label,
	    (unsigned long long)va.table, (unsigned long long)va.pending);

	run_flow(in, &b, 2, R(FORWARD));
	tap("%s: cache: 2 frames of a new flow in one run (repeat) are exact, the "
	    "flow created once", in->label);
	run_flow(in, &a, 64, R(FORWARD));
	tap("%s: cache: 64 frames of a flow in one run (repeat) are exact", in->label);

	/* A flow of another source in the same slot. */
	for (i = 0; i < 65536; i++) {
		snprintf(src, sizeof(src), "10.12.%u.%u", i >> 8, i & 0xff);
		c.src = src;
		pkt_flow_key(&c, &kc);
		if (cache_slot_of(&kc) == cache_slot_of(&ka))
			break;
	}
	if (i == 65536) {
		diag("no source in 10.12.0.0/16 shares slot %u", cache_slot_of(&ka));
		tap("%s: cache: find a colliding flow", in->label);
		unpin();
		return;
	}
	if (!make_pending(in, &a, cpu, &va))
		diag("no frame of the flow stayed in the cache in 4 tries");
	before = va.table + va.pending;
	run_flow(in, &c, 1, R(FORWARD));
	view_flow(in, &ka, cpu, &va);
	view_flow(in, &kc, cpu, &vc);
	if (va.in_slot || va.table != before)
		diag("old flow: %s the slot, %llu frames in xm_flows, want %llu",
		     va.in_slot ? "still in" : "out of", (unsigned long long)va.table,
		     (unsigned long long)before);
	if (!vc.in_slot || vc.pending || vc.table != 1)
		diag("new flow: %s the slot, %llu pending, %llu in xm_flows, want in, "
		     "0, 1", vc.in_slot ? "in" : "not in", (unsigned long long)vc.pending,
		     (unsigned long long)vc.table);
	tap("%s: cache: a colliding flow (source %s) takes the slot and the old "
	    "flow's pending frames go to xm_flows", in->label, c.src);

	run_flow(in, &a, 1, R(FORWARD));
	view_flow(in, &ka, cpu, &va);
	run_flow(in, &c, 1, R(FORWARD));
	view_flow(in, &kc, cpu, &vc);
	if (va.table != before + 1 || vc.table != 2)
		diag("xm_flows holds %llu and %llu frames of the two flows, want %llu "
		     "and 2", (unsigned long long)va.table, (unsigned long long)vc.table,
		     (unsigned long long)before + 1);
	tap("%s: cache: two flows taking turns in one slot: each created once, each "
	    "frame counted once", in->label);

	/* One flow on two CPUs: two caches, two copies in xm_flows. */
	if (cpu2 < 0) {
		unpin();
		snprintf(name, sizeof(name), "%s: cache: a flow seen on two CPUs is "
			 "exact in the merged view", in->label);
		skip(name, "one CPU only");
		return;
	}
	pkt_flow_key(&d, &kd);
	run_flow(in, &d, 2, R(FORWARD));
	run_flow(in, &d, 1, R(FORWARD));
	pin_cpu(cpu2);
	run_flow(in, &d, 3, R(FORWARD));
	run_flow(in, &d, 1, R(FORWARD));
	view_flow(in, &kd, cpu, &vd);
	if (vd.table + vd.pending != 3)
		diag("CPU %d holds %llu + %llu frames, want 3", cpu,
		     (unsigned long long)vd.table, (unsigned long long)vd.pending);
	view_flow(in, &kd, cpu2, &vd);
	if (vd.table + vd.pending != 4)
		diag("CPU %d holds %llu + %llu frames, want 4", cpu2,
		     (unsigned long long)vd.table, (unsigned long long)vd.pending);
	unpin();
	tap("%s: cache: a flow seen on CPUs %d and %d: each CPU holds its own "
	    "frames", in->label, cpu, cpu2);
	build(&d, &f);
	check_flow_total(in, "cache: a flow seen on two CPUs is exact in the merged "
			 "view", &d, 7, 7 * f.len);
}

/*
 * A flow whose frames wait in the cache while a flood evicts its entry
 * from a small xm_flows: the merged view still has it, with the frames
 * that were waiting (the ones that were in the evicted entry are gone, as
 * for any evicted flow).
 */
static void cache_eviction_test(struct inst *in)
{
	struct pkt a = { .tag = UNTAGGED, .src = "10.13.0.1" };
	struct pkt p = { .dst = "239.13.1.1", .tag = UNTAGGED };
	struct xm_flow_entry *v = NULL, *e = NULL;
	struct cache_view va = { 0 }, vb;
	struct xm_flow_key ka, k;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	__u32 i, verdict, sent = 0;
	int cpu = allowed_cpu(0), n;
	bool evicted = false;
	struct frame fa, fp;

	if (!pin_cpu(cpu)) {
		tap("%s: cache: pin the test to one CPU", in->label);
		return;
	}
	/* A flow whose entry is never looked up: its first frame inserts it,
	 * the second waits in the cache.  The LRU evicts entries nobody
	 * looked up first; a looked-up one may outlive any flood of new
	 * flows. */
	for (n = 1; n <= 8 && !va.pending; n++) {
		snprintf(dst, sizeof(dst), "239.13.0.%d", n);
		a.dst = dst;
		pkt_flow_key(&a, &ka);
		build(&a, &fa);
		if (run_hook(in, HOOK_IN, &fa, 2, &verdict))
			break;
		view_flow(in, &ka, cpu, &va);
	}
	if (!va.pending)
		diag("no new flow kept its second frame in the cache");
	for (i = 0; i < 8 * SMALL_FLOWS && !evicted; i++) {
		snprintf(src, sizeof(src), "10.14.%u.%u", i >> 8, i & 0xff);
		p.src = src;
		pkt_flow_key(&p, &k);
		if (cache_slot_of(&k) == cache_slot_of(&ka))
			continue;	/* would write the flow back */
		build(&p, &fp);
		if (run_frame(in, &fp, &verdict))
			break;
		sent++;
		if (sent % 64 == 0)
			evicted = !read_flow(in->skel->maps.xm_flows, &ka, flow_buf);
	}
	view_flow(in, &ka, cpu, &vb);
	unpin();
	if (!evicted)
		diag("the flow is still in xm_flows after %u other flows", sent);
	if (!vb.in_slot || vb.pending != va.pending)
		diag("the flow's slot changed during the flood: %s, %llu pending, "
		     "want %llu", vb.in_slot ? "holds it" : "lost it",
		     (unsigned long long)vb.pending, (unsigned long long)va.pending);
	tap("%s: cache: %u new flows evict a flow from xm_flows while %llu of its "
	    "frames wait in the cache", in->label, sent, (unsigned long long)va.pending);

	n = xm_read_flows(bpf_map__fd(in->skel->maps.xm_flows),
			  bpf_map__fd(in->skel->maps.xm_flow_cache), &v);
	if (n < 0)
		diag("xm_read_flows: %s", strerror(-n));
	for (i = 0; n > 0 && i < (__u32)n && !e; i++)
		if (!memcmp(&v[i].key, &ka, sizeof(ka)))
			e = &v[i];
	if (!e)
		diag("xm_read_flows() does not have the flow");
	else if (e->flow.packets != va.pending || e->flow.bytes != va.pending * fa.len ||
		 !e->flow.last_seen_ns || e->flow.reason_mask != 1U << R(FORWARD))
		diag("xm_read_flows() has the flow at %llu packets %llu bytes mask 0x%x, "
		     "want %llu %llu 0x%x", (unsigned long long)e->flow.packets,
		     (unsigned long long)e->flow.bytes, e->flow.reason_mask,
		     (unsigned long long)va.pending,
		     (unsigned long long)va.pending * fa.len, 1U << R(FORWARD));
	tap("%s: cache: xm_read_flows() still shows the evicted flow with its "
	    "pending frames", in->label);
	if (n >= 0)
		check_walk(in, v, n);
	free(v);
}

/* --- The snooping capture -------------------------------------------------- */

/*
 * While XM_CFG_SNOOP is set in xm_config, every frame the program counts
 * as igmp or mld is copied into xm_ctrl_ring, from the IP header on, cut at
 * XM_CTRL_CAPTURE bytes, with where it came from (interface, innermost
 * VLAN, family, sender's MAC) and how long it really was; nothing else is
 * ever copied.  A full ring loses the copy, counted as ctrl_ring_full,
 * never the frame.  The ring is read with libbpf's ring_buffer API, as the
 * daemon reads it.
 */
#define CTRL_KEEP	64	/* copies one read keeps: a one-page ring holds 2
				 * with 4 KiB pages, 42 with 64 KiB pages */
#define CTRL_FULL_MORE	3	/* frames sent to a full ring */

struct ctrl_seen {
	int n;				/* copies read, kept or not */
	size_t size[CTRL_KEEP];		/* of each record */
	struct xm_ctrl_event ev[CTRL_KEEP];
};

static struct ctrl_seen ctrl_seen;

static int ctrl_take(void *ctx, void *data, size_t size)
{
	struct ctrl_seen *s = ctx;

	if (s->n < CTRL_KEEP) {
		s->size[s->n] = size;
		memcpy(&s->ev[s->n], data, size < sizeof(s->ev[0]) ? size : sizeof(s->ev[0]));
	}
	s->n++;
	return 0;
}

/* Everything the ring holds now, into ctrl_seen; how many copies. */
static int ctrl_read(struct ring_buffer *rb)
{
	int n;

	ctrl_seen.n = 0;
	n = ring_buffer__consume(rb);
	if (n < 0)
		diag("ring_buffer__consume: %s", strerror(-n));
	return ctrl_seen.n;
}

static struct ring_buffer *ctrl_ring(struct inst *in)
{
	struct ring_buffer *rb;

	rb = ring_buffer__new(bpf_map__fd(in->skel->maps.xm_ctrl_ring), ctrl_take,
			      &ctrl_seen, NULL);
	if (!rb)
		diag("ring_buffer__new on xm_ctrl_ring: %s", strerror(errno));
	return rb;
}

/* XM_CFG_SNOOP on or off in xm_config, the other fields as they are. */
static void set_snoop(struct inst *in, bool on)
{
	struct xm_config cfg = { 0 };
	__u32 zero = 0;
	int fd = bpf_map__fd(in->skel->maps.xm_config);

	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		diag("cannot read xm_config: %s", strerror(errno));
	cfg.flags = on ? cfg.flags | XM_CFG_SNOOP : cfg.flags & ~XM_CFG_SNOOP;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		diag("cannot write xm_config: %s", strerror(errno));
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One copy against the frame of 'p' it was made of, in a run between t0
 * and t1. */
static void check_copy(int i, const struct frame *f, const struct pkt *p,
		       __u64 t0, __u64 t1)
{
	const struct xm_ctrl_event *ev = &ctrl_seen.ev[i];
	__u32 frame_len = f->len - f->l3;
	__u32 len = frame_len < XM_CTRL_CAPTURE ? frame_len : XM_CTRL_CAPTURE;
	__u16 vlan = p->tag == UNTAGGED ? 0 : p->vid;
	__u8 family = pkt_is_v6(p) ? XM_AF_INET6 : XM_AF_INET;
	__u8 smac[ETH_ALEN];

	parse_mac(MAC_SRC, smac);
	if (ctrl_seen.size[i] != sizeof(*ev))
		diag("a record of %zu bytes, want %zu", ctrl_seen.size[i], sizeof(*ev));
	if (ev->ifindex != LO_IFINDEX || ev->vlan != vlan || ev->family != family)
		diag("ifindex %u vlan %u family %u, want %u %u %u", ev->ifindex, ev->vlan,
		     ev->family, LO_IFINDEX, vlan, family);
	if (ev->len != len || ev->frame_len != frame_len)
		diag("len %u frame_len %u, want %u %u (the frame has %u bytes from "
		     "its IP header on)", ev->len, ev->frame_len, len, frame_len, frame_len);
	if (memcmp(ev->smac, smac, ETH_ALEN))
		diag("smac %02x:%02x:%02x:%02x:%02x:%02x, want " MAC_SRC, ev->smac[0],
		     ev->smac[1], ev->smac[2], ev->smac[3], ev->smac[4], ev->smac[5]);
	if (memcmp(ev->data, f->data + f->l3, len))
		diag("the copied bytes are not the frame's from its IP header on");
	if (ev->pad)
		diag("pad %u, want 0", ev->pad);
	if (ev->ts_ns < t0 || ev->ts_ns > t1)
		diag("ts_ns %llu outside the run (%llu..%llu, CLOCK_MONOTONIC)",
		     (unsigned long long)ev->ts_ns, (unsigned long long)t0,
		     (unsigned long long)t1);
}

/* Run the frame of 'p', which the program counts under 'reason', and read
 * the ring: one copy of it when 'copied', none otherwise.  Closes a test. */
static void ctrl_case(struct inst *in, struct ring_buffer *rb, const char *name,
		      const struct pkt *p, int reason, bool copied)
{
	struct expect e;
	struct frame f;
	__u64 t0, t1;
	int n;

	build(p, &f);
	case_expect(HOOK_IN, p, reason, &e);
	e.copied = copied;
	t0 = mono_ns();
	run_expect(in, &f, &e);
	t1 = mono_ns();
	n = ctrl_read(rb);
	if (n != copied)
		diag("%d copies in xm_ctrl_ring, want %d", n, copied);
	else if (copied)
		check_copy(0, &f, p, t0, t1);
	tap("%s: %s: %s", in->label, name, copied ? "copied" : "not copied");
}

#define IGMP_CTRL	.proto = IPPROTO_IGMP, .ttl = 1, .ra = true
#define MLD_CTRL(t)	.src = "fe80::1", .ttl = 1, .ra = true, \
			.proto = IPPROTO_ICMPV6, .type = t
/* IP, router alert and IGMPv2 report: 32 bytes; so much padding gives L3 n. */
#define PAD_TO(n)	.pad = (n) - 32

/* IGMP and MLD: every tagging, each copied whole (or cut at the capture). */
static const struct xdp_case ctrl_cases[] = {
	CASE("IGMPv2 report with router alert", R(IGMP), .dst = "239.1.1.1", IGMP_CTRL),
	CASE("IGMPv3 report of 3 records with router alert", R(IGMP),
	     .dst = "224.0.0.22", IGMP_CTRL, .type = IGMPV3_HOST_MEMBERSHIP_REPORT,
	     .records = 3),
	CASE("IGMPv3 general query", R(IGMP), .dst = "224.0.0.1", IGMP_CTRL,
	     .type = IGMP_HOST_MEMBERSHIP_QUERY),
	CASE("IGMPv2 report without router alert, TTL 64", R(IGMP), .dst = "239.1.1.9",
	     .proto = IPPROTO_IGMP),
	CASE("IGMPv2 report with Ethernet padding (in frame_len, in the copy)", R(IGMP),
	     .dst = "239.1.1.1", IGMP_CTRL, .pad = 14),
	CASE("MLDv1 report behind hop-by-hop", R(MLD), .dst = "ff0e::1:3",
	     MLD_CTRL(ICMPV6_MGM_REPORT)),
	CASE("MLDv2 report of 2 records behind hop-by-hop", R(MLD), .dst = "ff02::16",
	     MLD_CTRL(ICMPV6_MLD2_REPORT), .records = 2),
	CASE("MLD query behind hop-by-hop and two destination options", R(MLD),
	     .dst = "ff02::1", MLD_CTRL(ICMPV6_MGM_QUERY), .dstopts = 2),
	CASE("MLDv2 report from :: behind hop-by-hop and a first fragment", R(MLD),
	     .dst = "ff02::16", .src = "::", .ttl = 1, .ra = true, .mf = true,
	     .proto = IPPROTO_ICMPV6, .type = ICMPV6_MLD2_REPORT),
	CASE("IGMP of exactly XM_CTRL_CAPTURE bytes: whole", R(IGMP), .dst = "239.1.1.2",
	     IGMP_CTRL, PAD_TO(XM_CTRL_CAPTURE)),
	CASE("IGMP one byte longer than XM_CTRL_CAPTURE: cut", R(IGMP),
	     .dst = "239.1.1.2", IGMP_CTRL, PAD_TO(XM_CTRL_CAPTURE + 1)),
	CASE("IGMPv3 report of 100 records (1632 bytes): cut", R(IGMP),
	     .dst = "224.0.0.22", IGMP_CTRL, .type = IGMPV3_HOST_MEMBERSHIP_REPORT,
	     .records = 100),
	CASE("MLDv2 report of 30 records (1616 bytes): cut", R(MLD), .dst = "ff02::16",
	     MLD_CTRL(ICMPV6_MLD2_REPORT), .records = 30),
};

/* The rest of multicast, and what is not even that: never copied. */
static const struct xdp_case not_ctrl_cases[] = {
	CASE("v4 UDP to 239.1.1.1", R(FORWARD), .dst = "239.1.1.1"),
	CASE("v4 UDP to 224.0.0.251", R(LINK_LOCAL), .dst = "224.0.0.251", .ttl = 1),
	CASE("v4 UDP with router alert", R(FORWARD), .dst = "239.1.1.3", .ra = true),
	CASE("v6 UDP to ff0e::1", R(FORWARD), .dst = "ff0e::1"),
	CASE("v6 UDP to ff02::fb", R(LINK_LOCAL), .dst = "ff02::fb", .ttl = 1),
	CASE("v6 ICMPv6 echo request to ff02::1 behind hop-by-hop", R(LINK_LOCAL),
	     .dst = "ff02::1", MLD_CTRL(ICMPV6_ECHO_REQUEST)),
	CASE("v6 router solicitation (ICMPv6 133)", R(LINK_LOCAL), .dst = "ff02::2",
	     MLD_CTRL(133)),
	CASE("v6 MLDv2 type in a non-first fragment", R(FRAGMENT), .dst = "ff0e::4:4",
	     .frag_off = 185, .proto = IPPROTO_ICMPV6, .type = ICMPV6_MLD2_REPORT),
	CASE("v4 IGMP whose total length runs past the frame", R(MALFORMED),
	     .dst = "224.0.0.22", IGMP_CTRL, .tot_len = 200),
	CASE("v6 MLD whose payload length runs past the frame", R(MALFORMED),
	     .dst = "ff02::16", MLD_CTRL(ICMPV6_MLD2_REPORT), .plen = 200),
	CASE("v4 IGMP cut inside its IP header", R(MALFORMED), .dst = "224.0.0.22",
	     IGMP_CTRL, .len = AT_L3 + 19),
	MAC_CASE("v4 IGMP on a wrong MAC", R(IGMP), .dst = "224.0.0.22",
		 .mac = "01:00:5e:00:00:02", IGMP_CTRL),
	MAC_CASE("v6 MLD on a wrong MAC", R(MLD), .dst = "ff02::16",
		 .mac = "33:33:00:00:00:01", MLD_CTRL(ICMPV6_MLD2_REPORT)),
	CASE("v4 IGMP to a unicast address", NOT_MCAST, .dst = "10.0.0.2",
	     .mac = MAC_UNICAST, IGMP_CTRL),
	CASE("v6 MLD to a unicast address", NOT_MCAST, .dst = "2001:db8::2",
	     .mac = MAC_UNICAST, MLD_CTRL(ICMPV6_MLD2_REPORT)),
	CASE("v4 IGMP behind 3 tags (deeper than XM_VLAN_MAX_DEPTH)", NOT_MCAST,
	     .dst = "224.0.0.22", IGMP_CTRL, .tag = TRIPLE, .vid = 30, .outer = 10),
	CASE("ARP request", NOT_MCAST, .ethertype = ETH_P_ARP, .mac = MAC_BCAST),
};

/* Every case of 'table' in each of its taggings: copied or not. */
static void ctrl_table(struct inst *in, struct ring_buffer *rb, const struct xdp_case *table,
		       size_t n, const char *how, bool copied)
{
	char name[200], base[160];
	struct pkt p;
	size_t i, t;

	for (i = 0; i < n; i++) {
		snprintf(base, sizeof(base), "%s%s", how, table[i].name);
		if (table[i].pkt.tag != TAGS_ALL) {
			ctrl_case(in, rb, base, &table[i].pkt, table[i].want, copied);
			continue;
		}
		for (t = 0; t < ARRAY_SIZE(tag_variants); t++) {
			pkt_variant(&table[i].pkt, base, t, &p, name, sizeof(name));
			ctrl_case(in, rb, name, &p, table[i].want, copied);
		}
	}
}

static void capture_tests(struct inst *in)
{
	struct ring_buffer *rb = ctrl_ring(in);

	if (!tap("%s: ring_buffer__new on xm_ctrl_ring", in->label) || !rb)
		return;
	set_snoop(in, true);
	tap("%s: set XM_CFG_SNOOP", in->label);
	ctrl_table(in, rb, ctrl_cases, ARRAY_SIZE(ctrl_cases), "", true);
	ctrl_table(in, rb, not_ctrl_cases, ARRAY_SIZE(not_ctrl_cases), "", false);
	set_snoop(in, false);
	tap("%s: clear XM_CFG_SNOOP", in->label);
	ctrl_table(in, rb, ctrl_cases, ARRAY_SIZE(ctrl_cases), "without XM_CFG_SNOOP: ",
		   false);
	ring_buffer__free(rb);
}

/*
 * A ring of ring_bytes, never read: the first 'slots' copies fit, the
 * next ones are lost, each counted as ctrl_ring_full while the frame
 * passes as usual.  Read afterwards, the ring holds exactly the first
 * copies, in order; then it takes copies again.
 */
static void ring_full_test(struct inst *in, __u32 ring_bytes)
{
	__u32 rec = (sizeof(struct xm_ctrl_event) + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
	__u32 slots = ring_bytes / rec, i, kept = 0;
	struct ring_buffer *rb = ctrl_ring(in);
	char (*group)[INET_ADDRSTRLEN] = calloc(slots + CTRL_FULL_MORE, sizeof(*group));
	struct pkt *p = calloc(slots + CTRL_FULL_MORE, sizeof(*p));
	struct frame *f = calloc(slots + CTRL_FULL_MORE, sizeof(*f));
	struct expect e;
	__u64 t0;

	if (!rb || !group || !p || !f || slots > CTRL_KEEP) {
		if (rb && slots > CTRL_KEEP)
			diag("a %u-byte ring holds %u copies: more than the test keeps",
			     ring_bytes, slots);
		tap("%s: a %u-byte ring", in->label, ring_bytes);
		goto out;
	}
	if (bpf_map__max_entries(in->skel->maps.xm_ctrl_ring) != ring_bytes)
		diag("xm_ctrl_ring has %u bytes, want %u",
		     bpf_map__max_entries(in->skel->maps.xm_ctrl_ring), ring_bytes);
	set_snoop(in, true);
	t0 = mono_ns();
	for (i = 0; i < slots + CTRL_FULL_MORE; i++) {
		snprintf(group[i], sizeof(group[i]), "239.7.%u.1", i);
		p[i] = (struct pkt){ .dst = group[i], .tag = DOT1Q, .vid = 100 + i, IGMP_CTRL };
		build(&p[i], &f[i]);
		case_expect(HOOK_IN, &p[i], R(IGMP), &e);
		e.copied = i < slots;
		e.ring_full = i >= slots;
		run_expect(in, &f[i], &e);
		if (i == slots - 1)
			tap("%s: a %u-byte ring, not read: %u copies fit (ctrl_captured +1 each)",
			    in->label, ring_bytes, slots);
	}
	tap("%s: %u more frames: XDP_PASS and counted igmp as always, copies lost "
	    "(ctrl_ring_full +1 each)", in->label, CTRL_FULL_MORE);

	if (ctrl_read(rb) != (int)slots)
		diag("%d copies read, want %u", ctrl_seen.n, slots);
	for (i = 0; i < slots && i < (__u32)ctrl_seen.n; i++, kept++)
		check_copy(i, &f[i], &p[i], t0, mono_ns());
	tap("%s: read afterwards, the ring holds the first %u copies, in order", in->label,
	    kept);

	case_expect(HOOK_IN, &p[0], R(IGMP), &e);
	e.copied = true;
	t0 = mono_ns();
	run_expect(in, &f[0], &e);
	if (ctrl_read(rb) != 1)
		diag("%d copies read, want 1", ctrl_seen.n);
	else
		check_copy(0, &f[0], &p[0], t0, mono_ns());
	tap("%s: once read, the ring takes copies again", in->label);
	set_snoop(in, false);
out:
	ring_buffer__free(rb);
	free(group);
	free(p);
	free(f);
}

/* --- Robustness ------------------------------------------------------------ */

static __u32 xorshift32(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Flip 1 to 4 bytes (three in four within the first 80 bytes of L3, where
 * the parsing happens), cut the frame short, or both. */
static void mutate(struct frame *f, __u32 *seed, int round)
{
	__u32 headers = f->len < f->l3 + 80 ? f->len : f->l3 + 80;
	int flips = 1 + xorshift32(seed) % 4, i;
	__u32 span;

	if (round % 3 != 1) {
		for (i = 0; i < flips; i++) {
			span = xorshift32(seed) % 4 ? headers : f->len;
			f->data[xorshift32(seed) % span] ^= 1 + xorshift32(seed) % 255;
		}
	}
	if (round % 3 != 0)
		f->len = ETH_HLEN + xorshift32(seed) % (f->len - ETH_HLEN + 1);
}

struct fuzz {
	__u32 seed;
	__u32 runs, drops, other;	/* other: neither PASS nor DROP */
	bool failed;			/* a run did not happen at all */
};

static void fuzz_frame(struct inst *in, const struct frame *base,
		       const char *name, struct fuzz *z)
{
	struct frame f;
	__u32 verdict;
	int round;

	for (round = 0; round < FUZZ_ROUNDS && !z->failed; round++) {
		f = *base;
		mutate(&f, &z->seed, round);
		if (run_frame(in, &f, &verdict)) {
			z->failed = true;
			return;
		}
		z->runs++;
		if (verdict == XDP_DROP)
			z->drops++;
		else if (verdict != XDP_PASS && z->other++ < 5)
			diag("%s, round %d: verdict %s", name, round,
			     verdict_name(verdict));
	}
}

/*
 * Mutations of every valid frame.  Each run must end in XDP_PASS or
 * XDP_DROP, and every XDP_DROP must show up under a reason whose verdict is
 * XDP_DROP: nothing leaves the program uncounted except with XDP_PASS.
 */
static void robustness(struct inst *in)
{
	struct snap *b = &snap_before, *a = &snap_after;
	struct fuzz z = { .seed = FUZZ_SEED };
	__u64 drop_counted = 0, pass_counted = 0, d;
	struct frame base;
	char name[160];
	struct pkt p;
	size_t i, t;
	int r;

	snapshot(in, NULL, b);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct xdp_case *c = &cases[i];

		if (c->want == NOT_MCAST || c->want == R(MALFORMED) ||
		    c->pkt.tag != TAGS_ALL)
			continue;
		for (t = 0; t < ARRAY_SIZE(tag_variants); t++) {
			case_variant(c, t, &p, name, sizeof(name));
			build(&p, &base);
			fuzz_frame(in, &base, name, &z);
		}
	}
	if (z.other)
		diag("%u of %u runs neither XDP_PASS nor XDP_DROP", z.other, z.runs);
	tap("%s: robustness: %u mutated frames, every verdict PASS or DROP",
	    in->label, z.runs);

	snapshot(in, NULL, a);
	for (r = 0; r < XM_R_COUNT; r++) {
		d = a->reason[XM_DIR_IN][LO_SLOT][r].packets -
		    b->reason[XM_DIR_IN][LO_SLOT][r].packets;
		if (reason_verdicts[r] == XDP_DROP)
			drop_counted += d;
		else
			pass_counted += d;
	}
	if (drop_counted != z.drops)
		diag("%u XDP_DROP verdicts, %llu counted under drop reasons", z.drops,
		     (unsigned long long)drop_counted);
	if (pass_counted > z.runs - z.drops)
		diag("%llu counted under pass reasons, only %u XDP_PASS verdicts",
		     (unsigned long long)pass_counted, z.runs - z.drops);
	check_delta("flow_insert_failed", &b->global[XM_G_FLOW_INSERT_FAILED],
		    &a->global[XM_G_FLOW_INSERT_FAILED], 0, 0);
	tap("%s: robustness: every XDP_DROP counted under a drop reason (%u drops)",
	    in->label, z.drops);
}

/* --- The TC program under test_run ------------------------------------------ */

/*
 * What bpf_prog_test_run_opts() takes in the __sk_buff of a tc program
 * (net/bpf/test_run.c, convert___skb_to_skb()), which the egress tests rely
 * on and are limited by:
 * - ifindex picks the device the skb is on, and must be one that exists
 *   (0 and 1 are lo): so egress is tested on lo only, and rules for other
 *   interfaces are tested by their not applying to lo;
 * - ingress_ifindex is only recorded, never looked up: any value marks the
 *   packet as forwarded;
 * - what the kernel derives from the frame or from offloads (protocol,
 *   pkt_type, vlan_present, vlan_tci, tc_index) must be 0: VLAN tags are
 *   always in the frame, and a tag a real NIC keeps out of band (vlan_tci)
 *   cannot be simulated;
 * - a frame whose ethertype is IPv4 or IPv6 must hold the whole fixed IP
 *   header (as every skb of that protocol on a real egress path does): a
 *   shorter one is refused with EINVAL, so the truncated-frame cases run
 *   on egress only behind a VLAN tag (tc_refuses()).
 */
static bool tc_refuses(const struct frame *f)
{
	__u16 proto = f->data[12] << 8 | f->data[13];

	if (proto == ETH_P_IP)
		return f->len < ETH_HLEN + sizeof(struct iphdr);
	if (proto == ETH_P_IPV6)
		return f->len < ETH_HLEN + sizeof(struct ipv6hdr);
	return false;
}

static void tc_ctx_tests(struct inst *in)
{
	static const struct {
		const char *name;
		struct pkt pkt;
		int err;
	} frames[] = {
		{ "v4 cut inside the IP header", { .dst = "239.60.0.2",
		  .len = AT_L3 + 19 }, -EINVAL },
		{ "v6 cut inside the IP header", { .dst = "ff0e::60:2",
		  .len = AT_L3 + 39 }, -EINVAL },
		{ "v4 cut inside the IP header behind an 802.1Q tag",
		  { .dst = "239.60.0.2", .tag = DOT1Q, .vid = 60, .len = AT_L3 + 19 }, 0 },
		{ "v4 complete IP header, no payload", { .dst = "239.60.0.2",
		  .len = AT_L3 + 20 }, 0 },
	};
	struct {
		const char *name;
		struct __sk_buff ctx;
		int err;
	} probes[] = {
		{ "ifindex 1 (lo)", { .ifindex = 1 }, 0 },
		{ "ifindex 0 (lo as well)", { .ifindex = 0 }, 0 },
		{ "ingress_ifindex 1 (forwarded)",
		  { .ifindex = 1, .ingress_ifindex = 1 }, 0 },
		{ "ingress_ifindex of no device (only recorded)",
		  { .ifindex = 1, .ingress_ifindex = 999999 }, 0 },
		{ "ifindex of no device", { .ifindex = 999999 }, -ENODEV },
		{ "protocol set", { .ifindex = 1, .protocol = htons(ETH_P_IP) }, -EINVAL },
		{ "vlan_present and vlan_tci set",
		  { .ifindex = 1, .vlan_present = 1, .vlan_tci = 100 }, -EINVAL },
		{ "pkt_type set", { .ifindex = 1, .pkt_type = 1 }, -EINVAL },
		{ "tc_index set", { .ifindex = 1, .tc_index = 1 }, -EINVAL },
	};
	struct pkt p = { .dst = "239.60.0.1", .tag = UNTAGGED };
	struct frame f;
	size_t i;
	int err;

	build(&p, &f);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = f.data,
			.data_size_in = f.len,
			.ctx_in = &probes[i].ctx,
			.ctx_size_in = sizeof(probes[i].ctx),
		);

		err = bpf_prog_test_run_opts(in->tc_fd, &opts);
		if (err != probes[i].err)
			diag("test_run returned %d (%s), want %d", err, strerror(-err),
			     probes[i].err);
		else if (!err && opts.retval != TC_ACT_OK)
			diag("verdict %s, want TC_ACT_OK",
			     hook_verdict_name(HOOK_OUT_LOCAL, opts.retval));
		tap("%s: tc test_run with __sk_buff %s: %s", in->label, probes[i].name,
		    probes[i].err ? strerror(-probes[i].err) : "runs");
	}
	for (i = 0; i < ARRAY_SIZE(frames); i++) {
		struct __sk_buff ctx = { .ifindex = LO_IFINDEX };
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
		);

		build(&frames[i].pkt, &f);
		opts.data_in = f.data;
		opts.data_size_in = f.len;
		err = bpf_prog_test_run_opts(in->tc_fd, &opts);
		if (err != frames[i].err)
			diag("test_run returned %d (%s), want %d", err, strerror(-err),
			     frames[i].err);
		if (tc_refuses(&f) != (frames[i].err != 0))
			diag("tc_refuses() says %s", tc_refuses(&f) ? "refused" : "runs");
		tap("%s: tc test_run with a %u-byte frame, %s: %s", in->label, f.len,
		    frames[i].name, frames[i].err ? strerror(-frames[i].err) : "runs");
	}
}

/* --- Scope policy ------------------------------------------------------------- */

/* The interfaces policies may name: lo, where every frame runs, and one
 * nothing runs on, to show that its rules and boundaries stay its own. */
static const struct {
	const char *name;
	__u32 ifindex;
} fake_ifaces[] = {
	{ "lo", LO_IFINDEX },
	{ "other0", OTHER_IFINDEX },
};

static uint32_t fake_ifindex(const char *name, void *ctx)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fake_ifaces); i++)
		if (!strcmp(name, fake_ifaces[i].name))
			return fake_ifaces[i].ifindex;
	return 0;
}

/* For the parser: a typo in a test's policy is an error, not a rule for an
 * interface no test looks at. */
static bool fake_iface_exists(const char *name, void *ctx)
{
	return fake_ifindex(name, ctx) != 0;
}

static const struct xm_conf_env fake_env = {
	.iface_exists = fake_iface_exists,
	.no_include = true,
};

static void policy_maps(struct inst *in, struct xm_policy_maps *m)
{
	struct xdp_mcast_bpf *sk = in->skel;

	*m = (struct xm_policy_maps){
		.config_fd = bpf_map__fd(sk->maps.xm_config),
		.ifaces_fd = bpf_map__fd(sk->maps.xm_ifaces),
		.boundary_fd = bpf_map__fd(sk->maps.xm_boundary),
		.rule_grp_fd = bpf_map__fd(sk->maps.xm_rule_grp),
		.rule_src_fd = bpf_map__fd(sk->maps.xm_rule_src),
		.hits_fd = bpf_map__fd(sk->maps.xm_pol_hits),
		.desc_fd = bpf_map__fd(sk->maps.xm_pol_desc),
		.hits_size = bpf_map__max_entries(sk->maps.xm_pol_hits),
	};
}

static struct xm_conf_errors conf_errs;

/* Parse a policy and put it in force.  Returns the parsed policy (the
 * reference's input), or NULL with the reason in the diagnostics. */
static struct xm_conf *policy_set(struct inst *in, const char *name,
				  const char *text, struct xm_policy_summary *sum)
{
	struct xm_policy_maps m;
	struct xm_conf *c = NULL;
	int err, i;

	err = xm_conf_load_buffer(name, text, strlen(text), &fake_env, &c, &conf_errs);
	if (err) {
		diag("policy %s does not load: %s", name, strerror(-err));
		for (i = 0; i < conf_errs.count && i < XM_CONF_MAX_ERRORS; i++)
			diag("%s", conf_errs.msg[i]);
		return NULL;
	}
	policy_maps(in, &m);
	err = xm_policy_apply(&m, c, fake_ifindex, NULL, sum);
	if (err) {
		diag("xm_policy_apply(%s): %s", name, strerror(-err));
		xm_conf_free(c);
		return NULL;
	}
	return c;
}

static void policy_clear(struct inst *in)
{
	struct xm_policy_maps m;
	int err;

	policy_maps(in, &m);
	err = xm_policy_clear(&m);
	if (err)
		diag("xm_policy_clear: %s", strerror(-err));
}

static const struct xm_conf_rule *rule_at_line(const struct xm_conf *c, __u32 line)
{
	int i;

	for (i = 0; i < c->nrules; i++)
		if ((__u32)c->rules[i].pos.line == line)
			return &c->rules[i];
	return NULL;
}

static bool desc_prefix_is(__u8 family, __u8 len, const __be32 addr[4],
			   const struct xm_prefix *p)
{
	return family == p->family && len == p->len &&
	       !memcmp(addr, p->addr, sizeof(p->addr));
}

/* Every description of the generation in force is one rule or boundary
 * of c, field by field, and every rule and boundary has one; xm_config
 * says whether c has outbound rules for any interface. */
static void check_descs(struct inst *in, const struct xm_conf *c)
{
	int nbounds = 0, rules = 0, bounds = 0, k, j;
	bool any_out = false;
	struct xm_policy_maps m;
	struct xm_config cfg;
	struct xm_pol_desc d;
	__u32 base, i;

	policy_maps(in, &m);
	if (xm_policy_current(&m, &cfg, &base)) {
		diag("cannot read xm_config: %s", strerror(errno));
		return;
	}
	for (k = 0; k < c->nphyints; k++)
		nbounds += c->phyints[k].nboundaries;
	if (!(cfg.flags & XM_CFG_POLICY) || cfg.nhits != (__u32)(c->nrules + nbounds))
		diag("xm_config flags 0x%x nhits %u, want the policy flag and %d", cfg.flags,
		     cfg.nhits, c->nrules + nbounds);
	for (k = 0; k < c->nrules; k++)
		any_out |= !c->rules[k].iface[0] && c->rules[k].dir == XM_DIR_OUT;
	if (!(cfg.flags & XM_CFG_RULES_OUT_ANY) != !any_out)
		diag("xm_config flags 0x%x: outbound rules for any interface %s, the flag says "
		     "otherwise", cfg.flags, any_out ? "exist" : "do not exist");
	for (i = base; i < base + cfg.nhits && i < TEST_POL_HITS; i++) {
		const struct xm_conf_rule *r;
		bool found = false;

		if (bpf_map__lookup_elem(in->skel->maps.xm_pol_desc, &i, sizeof(i), &d,
					 sizeof(d), 0)) {
			diag("cannot read xm_pol_desc[%u]: %s", i, strerror(errno));
			continue;
		}
		if (d.kind == XM_POL_RULE && (r = rule_at_line(c, d.line))) {
			rules++;
			if (d.dir != r->dir || d.deny != r->deny || d.audit != r->audit ||
			    d.ifindex != (r->iface[0] ? fake_ifindex(r->iface, NULL) : 0) ||
			    !desc_prefix_is(d.group_family, d.group_len, d.group, &r->group) ||
			    !desc_prefix_is(d.source_family, d.source_len, d.source,
					    &r->source))
				diag("xm_pol_desc[%u] does not describe the rule of line %u",
				     i, d.line);
			continue;
		}
		for (k = 0; k < c->nphyints && d.kind == XM_POL_BOUNDARY; k++) {
			const struct xm_conf_phyint *pi = &c->phyints[k];

			if ((__u32)pi->pos.line != d.line)
				continue;
			for (j = 0; j < pi->nboundaries; j++)
				found |= d.deny && d.ifindex == fake_ifindex(pi->name, NULL) &&
					 desc_prefix_is(d.group_family, d.group_len, d.group,
							&pi->boundaries[j]);
		}
		if (found)
			bounds++;
		else
			diag("xm_pol_desc[%u] (kind %u, line %u) describes nothing of the "
			     "policy", i, d.kind, d.line);
	}
	if (rules != c->nrules || bounds != nbounds)
		diag("%d rules and %d boundaries described, want %d and %d", rules, bounds,
		     c->nrules, nbounds);
}

/* What a frame must do at one hook: its reason, and the policy line whose
 * counter counts it (0: no policy counter moves). */
struct outcome {
	int reason;
	int line;
};

#define ALLOWED		{ R(FORWARD), 0 }	/* forward, no line decides */
#define BY(r, line)	{ R(r), line }		/* decided by that line */
#define AS(r)		{ R(r), 0 }		/* a reason no line gives */
#define LEFT_ALONE	{ NOT_MCAST, 0 }	/* passes, nothing counted */

struct pol_case {
	const char *name;
	struct outcome at[HOOK_COUNT];	/* in, out local, out forwarded */
	struct pkt pkt;
};

#define PCASE(n, at_in, at_local, at_fwd, ...) \
	{ .name = n, .at = { at_in, at_local, at_fwd }, .pkt = { __VA_ARGS__ } }

#define IGMP_REPORT	.proto = IPPROTO_IGMP, .ttl = 1, .ra = true
#define MLD_REPORT(t)	.src = "fe80::1", .ttl = 1, .ra = true, \
			.proto = IPPROTO_ICMPV6, .type = t

/* No policy: egress counts data as forward and leaves control alone. */
static const struct pol_case none_cases[] = {
	PCASE("v4 data", ALLOWED, ALLOWED, ALLOWED, .dst = "239.30.1.1"),
	PCASE("v4 TTL 1: expired on ingress, no threshold on egress",
	      AS(TTL_EXPIRED), ALLOWED, ALLOWED, .dst = "239.30.1.2", .ttl = 1),
	PCASE("v4 IGMPv2 report", AS(IGMP), LEFT_ALONE, LEFT_ALONE,
	      .dst = "239.30.1.3", IGMP_REPORT),
	PCASE("v4 link-local 224.0.0.251", AS(LINK_LOCAL), LEFT_ALONE, LEFT_ALONE,
	      .dst = "224.0.0.251"),
	PCASE("v4 cut inside daddr", AS(MALFORMED), LEFT_ALONE, LEFT_ALONE,
	      .dst = "239.30.1.4", .len = AT_L3 + 19),
	PCASE("v4 unicast", LEFT_ALONE, LEFT_ALONE, LEFT_ALONE, .dst = "10.0.0.2",
	      .mac = MAC_UNICAST),
	PCASE("v6 data", ALLOWED, ALLOWED, ALLOWED, .dst = "ff0e::30:1"),
	PCASE("v6 MLDv1 report to a routable group", AS(MLD), LEFT_ALONE, LEFT_ALONE,
	      .dst = "ff0e::30:2", MLD_REPORT(ICMPV6_MGM_REPORT)),
	PCASE("v6 link-local ff02::fb", AS(LINK_LOCAL), LEFT_ALONE, LEFT_ALONE,
	      .dst = "ff02::fb"),
	PCASE("v6 node-local ff01::1", AS(NODE_LOCAL), LEFT_ALONE, LEFT_ALONE,
	      .dst = "ff01::1"),
	PCASE("v6 unicast", LEFT_ALONE, LEFT_ALONE, LEFT_ALONE, .dst = "2001:db8::2",
	      .mac = MAC_UNICAST),
};

static const char scope_policy[] =
	"# boundaries and a TTL threshold\n"					/* 1 */
	"phyint lo ttl-threshold 32 boundary 239.255.0.0/16 boundary ff05::/16 "
	"boundary 224.0.0.0/24 boundary ff02::/16\n"				/* 2 */
	"phyint other0 boundary 239.1.0.0/16 boundary ff0e::/16\n"		/* 3 */
	"allow in lo group 239.255.1.0/24\n"					/* 4 */
	"allow out any group ff05::1:0/112\n";					/* 5 */

static const struct pol_case scope_cases[] = {
	PCASE("v4 in boundary 239.255.0.0/16", BY(BOUNDARY, 2), BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), .dst = "239.255.7.7"),
	PCASE("v4 first group of the boundary", BY(BOUNDARY, 2), BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), .dst = "239.255.0.0"),
	PCASE("v4 last group of the boundary", BY(BOUNDARY, 2), BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), .dst = "239.255.255.255"),
	PCASE("v4 just below the boundary", ALLOWED, ALLOWED, ALLOWED,
	      .dst = "239.254.255.255"),
	PCASE("v4 an allow rule does not open the boundary", BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), BY(BOUNDARY, 2), .dst = "239.255.1.1"),
	PCASE("v4 another interface's boundary does not apply", ALLOWED, ALLOWED,
	      ALLOWED, .dst = "239.1.1.1"),
	PCASE("v4 the boundary comes before the TTL threshold", BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), BY(BOUNDARY, 2), .dst = "239.255.2.2", .ttl = 5),
	PCASE("v4 TTL 1 in the boundary", BY(BOUNDARY, 2), BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), .dst = "239.255.2.3", .ttl = 1),
	PCASE("v4 non-first fragment in the boundary", BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), BY(BOUNDARY, 2), .dst = "239.255.3.3", .frag_off = 185),
	PCASE("v4 bad source in the boundary: dropped as such on ingress",
	      AS(BAD_SOURCE), BY(BOUNDARY, 2), BY(BOUNDARY, 2), .dst = "239.255.4.4",
	      .src = "127.0.0.1"),
	PCASE("v4 IGMP report to a boundary group is never policed", AS(IGMP),
	      LEFT_ALONE, LEFT_ALONE, .dst = "239.255.0.1", IGMP_REPORT),
	PCASE("v4 IGMPv3 report in boundary 224.0.0.0/24 is never policed", AS(IGMP),
	      LEFT_ALONE, LEFT_ALONE, .dst = "224.0.0.22", IGMP_REPORT,
	      .type = IGMPV3_HOST_MEMBERSHIP_REPORT),
	PCASE("v4 link-local in boundary 224.0.0.0/24 is never policed",
	      AS(LINK_LOCAL), LEFT_ALONE, LEFT_ALONE, .dst = "224.0.0.251"),
	PCASE("v6 in boundary ff05::/16", BY(BOUNDARY, 2), BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), .dst = "ff05::7"),
	PCASE("v6 an allow rule does not open the boundary", BY(BOUNDARY, 2),
	      BY(BOUNDARY, 2), BY(BOUNDARY, 2), .dst = "ff05::1:3"),
	PCASE("v6 ff15::1: the boundary names flag value 0 only", ALLOWED, ALLOWED,
	      ALLOWED, .dst = "ff15::1"),
	PCASE("v6 another interface's boundary does not apply", ALLOWED, ALLOWED,
	      ALLOWED, .dst = "ff0e::1"),
	PCASE("v6 MLDv1 report to a boundary group is never policed", AS(MLD),
	      LEFT_ALONE, LEFT_ALONE, .dst = "ff05::1:3",
	      MLD_REPORT(ICMPV6_MGM_REPORT)),
	PCASE("v6 MLDv2 report in boundary ff02::/16 is never policed", AS(MLD),
	      LEFT_ALONE, LEFT_ALONE, .dst = "ff02::16", MLD_REPORT(ICMPV6_MLD2_REPORT)),
	PCASE("v6 link-local in boundary ff02::/16 is never policed", AS(LINK_LOCAL),
	      LEFT_ALONE, LEFT_ALONE, .dst = "ff02::fb"),

	/* ttl-threshold 32: out only with a TTL before decrement above 32.  A
	 * forwarded packet had one more than it has on the wire. */
	PCASE("v4 TTL 31", ALLOWED, AS(TTL_THRESHOLD), AS(TTL_THRESHOLD),
	      .dst = "239.40.0.1", .ttl = 31),
	PCASE("v4 TTL 32", ALLOWED, AS(TTL_THRESHOLD), ALLOWED,
	      .dst = "239.40.0.1", .ttl = 32),
	PCASE("v4 TTL 33", ALLOWED, ALLOWED, ALLOWED, .dst = "239.40.0.1", .ttl = 33),
	PCASE("v4 TTL 2: no threshold on ingress", ALLOWED, AS(TTL_THRESHOLD),
	      AS(TTL_THRESHOLD), .dst = "239.40.0.1", .ttl = 2),
	PCASE("v4 TTL 1", AS(TTL_EXPIRED), AS(TTL_THRESHOLD), AS(TTL_THRESHOLD),
	      .dst = "239.40.0.1", .ttl = 1),
	PCASE("v4 TTL 255", ALLOWED, ALLOWED, ALLOWED, .dst = "239.40.0.1",
	      .ttl = 255),
	PCASE("v4 link-local TTL 1: no threshold", AS(LINK_LOCAL), LEFT_ALONE,
	      LEFT_ALONE, .dst = "224.0.0.252", .ttl = 1),
	PCASE("v6 hop limit 31", ALLOWED, AS(TTL_THRESHOLD), AS(TTL_THRESHOLD),
	      .dst = "ff0e::40:1", .ttl = 31),
	PCASE("v6 hop limit 32", ALLOWED, AS(TTL_THRESHOLD), ALLOWED,
	      .dst = "ff0e::40:1", .ttl = 32),
	PCASE("v6 hop limit 33", ALLOWED, ALLOWED, ALLOWED, .dst = "ff0e::40:1",
	      .ttl = 33),
	PCASE("v6 hop limit 1", AS(TTL_EXPIRED), AS(TTL_THRESHOLD), AS(TTL_THRESHOLD),
	      .dst = "ff0e::40:1", .ttl = 1),
	PCASE("v6 hop limit 255", ALLOWED, ALLOWED, ALLOWED, .dst = "ff0e::40:1",
	      .ttl = 255),
};

/* IPv4 rules; lo has rules of its own in both directions. */
static const char v4_rules_policy[] =
	"deny in any group 239.2.0.0/16\n"					/* 1 */
	"allow in any group 239.2.1.0/24\n"					/* 2 */
	"deny in any group 239.3.3.0/24\n"					/* 3 */
	"allow in any group 239.3.0.0/16 source 10.3.3.3\n"			/* 4 */
	"deny in any group 239.4.0.0/16 source 10.0.0.0/8\n"			/* 5 */
	"allow in any group 239.4.0.0/16 source 10.4.0.0/16\n"			/* 6 */
	"deny in any group 239.5.0.0/16\n"					/* 7 */
	"allow in lo group 239.5.0.0/16\n"					/* 8 */
	"deny in any group 239.5.5.0/24 source 10.5.0.0/16\n"			/* 9 */
	"allow in lo group 239.5.5.0/24\n"					/* 10 */
	"deny in other0 group 239.6.0.0/16\n"					/* 11 */
	"deny in any group 239.7.0.0/16 audit\n"				/* 12 */
	"allow in any group 239.7.1.0/24 audit\n"				/* 13 */
	"deny out any group 239.8.0.0/16\n"					/* 14 */
	"allow out lo group 239.8.1.0/24\n"					/* 15 */
	"deny out lo group 239.8.2.0/24 source 10.8.0.0/16 audit\n"		/* 16 */
	"deny in any group 224.0.0.0/4 source 10.9.0.0/16\n"			/* 17 */
	"deny out any group 224.0.0.0/4 source 10.9.0.0/16\n";			/* 18 */

static const struct pol_case v4_rules_cases[] = {
	PCASE("deny in: only on ingress", BY(POLICY, 1), ALLOWED, ALLOWED,
	      .dst = "239.2.9.9"),
	PCASE("an allow more specific than a deny", BY(FORWARD, 2), ALLOWED, ALLOWED,
	      .dst = "239.2.1.1"),
	PCASE("TTL 1 is policed", BY(POLICY, 1), ALLOWED, ALLOWED, .dst = "239.2.9.9",
	      .ttl = 1),
	PCASE("a non-first fragment is policed", BY(POLICY, 1), ALLOWED, ALLOWED,
	      .dst = "239.2.9.9", .frag_off = 185),
	PCASE("a longer group beats a longer source", BY(POLICY, 3), ALLOWED, ALLOWED,
	      .dst = "239.3.3.9", .src = "10.3.3.3"),
	PCASE("the shorter group's source rule outside the longer group",
	      BY(FORWARD, 4), ALLOWED, ALLOWED, .dst = "239.3.7.9", .src = "10.3.3.3"),
	PCASE("no rule for another source outside the longer group", ALLOWED,
	      ALLOWED, ALLOWED, .dst = "239.3.7.9", .src = "10.3.3.4"),
	PCASE("the longer group for every source", BY(POLICY, 3), ALLOWED, ALLOWED,
	      .dst = "239.3.3.9", .src = "10.3.3.4"),
	PCASE("same group: the longer source decides (allow /16 over deny /8)",
	      BY(FORWARD, 6), ALLOWED, ALLOWED, .dst = "239.4.1.1", .src = "10.4.1.1"),
	PCASE("same group: the /8 source deny", BY(POLICY, 5), ALLOWED, ALLOWED,
	      .dst = "239.4.1.1", .src = "10.5.1.1"),
	PCASE("same group: no source matches", ALLOWED, ALLOWED, ALLOWED,
	      .dst = "239.4.1.1", .src = "192.0.2.1"),
	PCASE("an interface rule beats an any rule", BY(FORWARD, 8), ALLOWED, ALLOWED,
	      .dst = "239.5.1.1"),
	PCASE("a longer source beats an interface rule", BY(POLICY, 9), ALLOWED,
	      ALLOWED, .dst = "239.5.5.5", .src = "10.5.1.1"),
	PCASE("the interface rule where the longer source does not match",
	      BY(FORWARD, 10), ALLOWED, ALLOWED, .dst = "239.5.5.5"),
	PCASE("another interface's rule does not apply", ALLOWED, ALLOWED, ALLOWED,
	      .dst = "239.6.1.1"),
	PCASE("audit deny: passes as policy_audit", BY(POLICY_AUDIT, 12), ALLOWED,
	      ALLOWED, .dst = "239.7.2.2"),
	PCASE("audit allow: passes as policy_audit", BY(POLICY_AUDIT, 13), ALLOWED,
	      ALLOWED, .dst = "239.7.1.1"),
	PCASE("deny out: only on egress", ALLOWED, BY(POLICY, 14), BY(POLICY, 14),
	      .dst = "239.8.9.9"),
	PCASE("allow out on lo, more specific", ALLOWED, BY(FORWARD, 15),
	      BY(FORWARD, 15), .dst = "239.8.1.1"),
	PCASE("audit deny out with a source", ALLOWED, BY(POLICY_AUDIT, 16),
	      BY(POLICY_AUDIT, 16), .dst = "239.8.2.2", .src = "10.8.1.1"),
	PCASE("other sources fall back to the shorter group", ALLOWED, BY(POLICY, 14),
	      BY(POLICY, 14), .dst = "239.8.2.2"),
	PCASE("224.0.0.0/4 from 10.9/16: data denied both ways", BY(POLICY, 17),
	      BY(POLICY, 18), BY(POLICY, 18), .dst = "239.9.9.9", .src = "10.9.1.1"),
	PCASE("224.0.1.1 (outside 224.0.0.0/24) is policed", BY(POLICY, 17),
	      BY(POLICY, 18), BY(POLICY, 18), .dst = "224.0.1.1", .src = "10.9.1.1"),
	PCASE("IGMP is never policed", AS(IGMP), LEFT_ALONE, LEFT_ALONE,
	      .dst = "239.9.9.9", .src = "10.9.1.1", IGMP_REPORT),
	PCASE("link-local is never policed", AS(LINK_LOCAL), LEFT_ALONE, LEFT_ALONE,
	      .dst = "224.0.0.251", .src = "10.9.1.1"),
};

/* IPv6 rules; lo has rules of its own out only, so ingress uses the tables
 * of 'any'. */
static const char v6_rules_policy[] =
	"deny in any group ff0e::/16\n"						/* 1 */
	"allow in any group ff0e::1:0/112\n"					/* 2 */
	"deny in any group ff0e::2:0/112 source 2001:db8::/32\n"		/* 3 */
	"allow in any group ff0e::2:0/112 source 2001:db8:1::/48\n"		/* 4 */
	"deny in any group ff0e::3:0/112\n"					/* 5 */
	"allow in any group ff0e::/16 source 2001:db8:3::3\n"			/* 6 */
	"deny in other0 group ff05::/16\n"					/* 7 */
	"deny in any group ff08::/16 audit\n"					/* 8 */
	"allow in any group ff08::8:0/112 audit\n"				/* 9 */
	"deny out any group ff0e::/16\n"					/* 10 */
	"allow out lo group ff0e::/16\n"					/* 11 */
	"deny out any group ff0e::4:0/112 source 2001:db8:4::/48\n"		/* 12 */
	"deny in any group ff02::/16\n"						/* 13 */
	"deny out any group ff02::/16\n"					/* 14 */
	"deny in any group ff00::/8 source 2001:db8:9::/48\n"			/* 15 */
	"deny out any group ff00::/8 source 2001:db8:9::/48\n";			/* 16 */

static const struct pol_case v6_rules_cases[] = {
	PCASE("deny in; out, lo's allow beats the any deny", BY(POLICY, 1),
	      BY(FORWARD, 11), BY(FORWARD, 11), .dst = "ff0e::9"),
	PCASE("an allow more specific than a deny", BY(FORWARD, 2), BY(FORWARD, 11),
	      BY(FORWARD, 11), .dst = "ff0e::1:5"),
	PCASE("same group: the longer source decides (allow /48 over deny /32)",
	      BY(FORWARD, 4), BY(FORWARD, 11), BY(FORWARD, 11), .dst = "ff0e::2:5",
	      .src = "2001:db8:1::1"),
	PCASE("same group: the /32 source deny", BY(POLICY, 3), BY(FORWARD, 11),
	      BY(FORWARD, 11), .dst = "ff0e::2:5", .src = "2001:db8:2::1"),
	PCASE("no source of the /112 matches: the /16 decides", BY(POLICY, 1),
	      BY(FORWARD, 11), BY(FORWARD, 11), .dst = "ff0e::2:5", .src = "2001:db9::1"),
	PCASE("a longer group beats a longer source", BY(POLICY, 5), BY(FORWARD, 11),
	      BY(FORWARD, 11), .dst = "ff0e::3:5", .src = "2001:db8:3::3"),
	PCASE("same group: a source rule beats none", BY(FORWARD, 6), BY(FORWARD, 11),
	      BY(FORWARD, 11), .dst = "ff0e::9", .src = "2001:db8:3::3"),
	PCASE("another interface's rule does not apply", ALLOWED, ALLOWED, ALLOWED,
	      .dst = "ff05::9"),
	PCASE("a source rule under ff00::/8", BY(POLICY, 15), BY(POLICY, 16),
	      BY(POLICY, 16), .dst = "ff05::9", .src = "2001:db8:9::1"),
	PCASE("audit deny: passes as policy_audit", BY(POLICY_AUDIT, 8), ALLOWED,
	      ALLOWED, .dst = "ff08::1"),
	PCASE("audit allow: passes as policy_audit", BY(POLICY_AUDIT, 9), ALLOWED,
	      ALLOWED, .dst = "ff08::8:1"),
	PCASE("out: a longer group with a source beats lo's allow", BY(POLICY, 1),
	      BY(POLICY, 12), BY(POLICY, 12), .dst = "ff0e::4:1",
	      .src = "2001:db8:4::1"),
	PCASE("hop limit 1 is policed", BY(POLICY, 1), BY(FORWARD, 11),
	      BY(FORWARD, 11), .dst = "ff0e::9", .ttl = 1),
	PCASE("a non-first fragment is policed", BY(POLICY, 1), BY(FORWARD, 11),
	      BY(FORWARD, 11), .dst = "ff0e::9", .frag_off = 185),
	PCASE("link-local is never policed", AS(LINK_LOCAL), LEFT_ALONE, LEFT_ALONE,
	      .dst = "ff02::fb"),
	PCASE("MLDv2 report to ff02::16 is never policed", AS(MLD), LEFT_ALONE,
	      LEFT_ALONE, .dst = "ff02::16", MLD_REPORT(ICMPV6_MLD2_REPORT)),
	PCASE("MLDv1 report to a denied group is never policed", AS(MLD), LEFT_ALONE,
	      LEFT_ALONE, .dst = "ff0e::1:3", MLD_REPORT(ICMPV6_MGM_REPORT)),
};

struct pol_suite {
	const char *name;
	const char *policy;		/* NULL: no policy in force */
	const struct pol_case *cases;
	size_t ncases;
};

#define SUITE(n, text, table) { n, text, table, ARRAY_SIZE(table) }

static const struct pol_suite suites[] = {
	SUITE("none", NULL, none_cases),
	SUITE("scope", scope_policy, scope_cases),
	SUITE("v4 rules", v4_rules_policy, v4_rules_cases),
	SUITE("v6 rules", v6_rules_policy, v6_rules_cases),
};

/* A policy case at every hook: the frame's reason and verdict, and the one
 * policy counter that counts it. */
static void run_pol_case(struct inst *in, const struct pol_suite *s,
			 const struct pol_case *pc, const struct pkt *p,
			 const char *name)
{
	char skip_name[256];
	struct expect e;
	struct frame f;
	enum hook h;

	build(p, &f);
	for (h = 0; h < HOOK_COUNT; h++) {
		if (h != HOOK_IN && tc_refuses(&f)) {
			snprintf(skip_name, sizeof(skip_name), "%s: %s: %s: %s",
				 in->label, s->name, hook_names[h], name);
			skip(skip_name, "test_run refuses an IP skb shorter than its "
			     "IP header");
			continue;
		}
		case_expect(h, p, pc->at[h].reason, &e);
		e.hit_line = pc->at[h].line;
		run_expect(in, &f, &e);
		tap("%s: %s: %s: %s", in->label, s->name, hook_names[h], name);
	}
}

static void run_suite(struct inst *in, const struct pol_suite *s)
{
	struct xm_conf *c = NULL;
	char name[160];
	struct pkt p;
	size_t i, t;

	if (s->policy) {
		c = policy_set(in, s->name, s->policy, NULL);
		if (c)
			check_descs(in, c);
		if (!tap("%s: %s: policy in force, xm_pol_desc describes every rule "
			 "and boundary", in->label, s->name))
			goto out;
	} else {
		policy_clear(in);
		tap("%s: %s: no policy in force", in->label, s->name);
	}
	for (i = 0; i < s->ncases; i++) {
		const struct pol_case *pc = &s->cases[i];

		if (pc->pkt.tag != TAGS_ALL) {
			run_pol_case(in, s, pc, &pc->pkt, pc->name);
			continue;
		}
		for (t = 0; t < ARRAY_SIZE(tag_variants); t++) {
			pkt_variant(&pc->pkt, pc->name, t, &p, name, sizeof(name));
			run_pol_case(in, s, pc, &p, name);
		}
	}
out:
	xm_conf_free(c);
}

/* --- Policy switch ------------------------------------------------------------ */

/* Keys of generation gen (-1: every key) in a policy LPM map. */
static int count_gen_keys(struct bpf_map *map, int gen)
{
	bool source_keys = bpf_map__key_size(map) == sizeof(struct xm_lpm_source_key);
	char cur[64], next[64];
	void *prev = NULL;
	int n = 0, g;

	while (bpf_map__get_next_key(map, prev, next, bpf_map__key_size(map)) == 0) {
		memcpy(cur, next, sizeof(cur));
		prev = cur;
		if (source_keys)
			g = ((struct xm_lpm_source_key *)cur)->node >> 31;
		else
			g = ((struct xm_lpm_group_key *)cur)->gen;
		n += gen < 0 || g == gen;
	}
	return n;
}

static __u32 current_epoch(struct inst *in)
{
	struct xm_policy_maps m;
	struct xm_config cfg = { 0 };
	__u32 base;

	policy_maps(in, &m);
	if (xm_policy_current(&m, &cfg, &base))
		diag("cannot read xm_config: %s", strerror(errno));
	return cfg.epoch;
}

/* Run one frame of p at hook h and check it like a policy case: reason,
 * and the policy line that counts it (0 none). */
static void run_policed(struct inst *in, enum hook h, const struct pkt *p,
			int reason, int line)
{
	struct expect e;
	struct frame f;

	build(p, &f);
	case_expect(h, p, reason, &e);
	e.hit_line = line;
	run_expect(in, &f, &e);
}

/* The decision the flow's cache slot holds on cpu: for epoch, reason.
 * policy_epoch() sets the top bit, so that no epoch reads as "none". */
static void check_slot_decision(struct inst *in, const struct pkt *p, int cpu,
				__u32 epoch, int reason)
{
	struct xm_flow_key key;
	struct cache_view v;

	pkt_flow_key(p, &key);
	view_flow(in, &key, cpu, &v);
	if (!v.in_slot)
		diag("the flow is not in its cache slot");
	else if (v.slot.pol_epoch != (epoch | 0x80000000u) ||
		 v.slot.pol_reason != (__u32)reason)
		diag("the slot holds decision %s for epoch 0x%x, want %s for 0x%x",
		     reason_name(v.slot.pol_reason), v.slot.pol_epoch, reason_name(reason),
		     epoch | 0x80000000u);
}

/* No key of generation gen is left, and lo has no policy in it. */
static void check_gen_gone(struct inst *in, int gen)
{
	struct xdp_mcast_bpf *sk = in->skel;
	struct xm_iface lo, zero = { 0 };
	__u32 ifindex = LO_IFINDEX;
	int n;

	n = count_gen_keys(sk->maps.xm_boundary, gen) +
	    count_gen_keys(sk->maps.xm_rule_grp, gen) +
	    count_gen_keys(sk->maps.xm_rule_src, gen);
	if (n)
		diag("%d keys of generation %d are left in the policy maps", n, gen);
	if (bpf_map__lookup_elem(sk->maps.xm_ifaces, &ifindex, sizeof(ifindex), &lo,
				 sizeof(lo), 0))
		diag("cannot read lo's entry: %s", strerror(errno));
	else if (memcmp(&lo.pol[gen], &zero.pol[gen], sizeof(lo.pol[gen])))
		diag("lo keeps a policy in generation %d", gen);
}

/*
 * Switching: the data path follows the new policy from its very next frame,
 * even for a flow whose decision sits in the flow cache (the slot keeps the
 * epoch it decided for), and the old generation leaves the maps.
 */
static void policy_switch_tests(struct inst *in)
{
	static const char pol_a[] =
		"deny in any group 239.50.0.0/16\n"		/* 1 */
		"phyint lo boundary 239.51.0.0/16\n"		/* 2 */
		"deny out any group 239.50.0.0/16\n";		/* 3 */
	static const char pol_b[] =
		"deny in any group 239.50.0.0/16 audit\n";	/* 1 */
	static const char pol_c[] =
		"allow in any group 239.50.0.0/16\n";		/* 1 */
	struct pkt flow = { .dst = "239.50.1.1", .tag = UNTAGGED };
	struct pkt bound = { .dst = "239.51.1.1", .tag = UNTAGGED };
	struct xdp_mcast_bpf *sk = in->skel;
	struct xm_policy_summary sum;
	struct xm_conf *c;
	int cpu = allowed_cpu(0), gen, n;
	__u32 epoch;

	if (!pin_cpu(cpu)) {
		tap("%s: switch: pin the test to one CPU", in->label);
		return;
	}

	xm_conf_free(policy_set(in, "A", pol_a, NULL));
	epoch = current_epoch(in);
	run_policed(in, HOOK_IN, &flow, R(POLICY), 1);
	run_policed(in, HOOK_IN, &flow, R(POLICY), 1);
	check_slot_decision(in, &flow, cpu, epoch, R(POLICY));
	run_policed(in, HOOK_IN, &bound, R(BOUNDARY), 2);
	run_policed(in, HOOK_OUT_LOCAL, &flow, R(POLICY), 3);
	tap("%s: switch: policy A: the flow denied, its decision cached with the "
	    "epoch", in->label);

	gen = epoch & 1;
	c = policy_set(in, "B", pol_b, &sum);
	epoch = current_epoch(in);
	run_policed(in, HOOK_IN, &flow, R(POLICY_AUDIT), 1);
	check_slot_decision(in, &flow, cpu, epoch, R(POLICY_AUDIT));
	run_policed(in, HOOK_IN, &bound, R(FORWARD), 0);
	run_policed(in, HOOK_OUT_LOCAL, &flow, R(FORWARD), 0);
	tap("%s: switch: policy B: the very next frame of the flow follows B",
	    in->label);

	check_gen_gone(in, gen);
	n = count_gen_keys(sk->maps.xm_rule_grp, !gen);
	if (n != sum.group_nodes || count_gen_keys(sk->maps.xm_rule_src, !gen) !=
	    sum.source_entries || count_gen_keys(sk->maps.xm_boundary, !gen) !=
	    sum.boundaries)
		diag("generation %d does not hold what xm_policy_apply() says it "
		     "installed (%d group nodes, %d sources, %d boundaries)", !gen,
		     sum.group_nodes, sum.source_entries, sum.boundaries);
	if (c)
		check_descs(in, c);
	xm_conf_free(c);
	tap("%s: switch: generation %d is gone from every policy map, generation %d "
	    "holds B", in->label, gen, !gen);

	/* A decision cached under A meets C, two switches later: same
	 * generation, another epoch. */
	xm_conf_free(policy_set(in, "A again", pol_a, NULL));
	run_policed(in, HOOK_IN, &flow, R(POLICY), 1);
	xm_conf_free(policy_set(in, "B again", pol_b, NULL));
	xm_conf_free(policy_set(in, "C", pol_c, NULL));
	epoch = current_epoch(in);
	run_policed(in, HOOK_IN, &flow, R(FORWARD), 1);
	check_slot_decision(in, &flow, cpu, epoch, R(FORWARD));
	tap("%s: switch: a decision cached two switches ago, in the same generation, "
	    "is not reused", in->label);

	policy_clear(in);
	run_policed(in, HOOK_IN, &flow, R(FORWARD), 0);
	run_policed(in, HOOK_IN, &bound, R(FORWARD), 0);
	run_policed(in, HOOK_OUT_LOCAL, &flow, R(FORWARD), 0);
	run_policed(in, HOOK_OUT_FWD, &bound, R(FORWARD), 0);
	check_gen_gone(in, 0);
	check_gen_gone(in, 1);
	unpin();
	tap("%s: switch: xm_policy_clear() turns the policy off and empties the maps",
	    in->label);
}

/* --- Differential: the data path against xm_policy_match() ------------------ */

static __u32 rnd(__u32 *seed, __u32 n)
{
	return xorshift32(seed) % n;
}

/* Clear the bits of p beyond its length. */
static void mask_prefix(struct xm_prefix *p)
{
	__u8 *b = (__u8 *)p->addr;
	int i, bits;

	for (i = 0; i < 16; i++) {
		bits = p->len - i * 8;
		b[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

/*
 * The differential draws addresses from a small universe, so that rules
 * nest and overlap and packets meet them: IPv4 groups 239.a.b.c and
 * sources 10.a.b.c, IPv6 groups ff05::/16 or ff0e::/16 with a, b, c in
 * bytes 5, 14 and 15, sources 2001:db8::/32 likewise, a, b, c in 0..3.
 * The lengths cut through those bytes and between them; lengths that hold
 * the whole universe are rare, so that a table often has several roots.
 */
static const __u8 v4_group_lens[] = {
	4, 8, 15, 15, 16, 16, 16, 23, 23, 24, 24, 24, 31, 31, 32, 32, 32,
};
static const __u8 v4_source_lens[] = { 8, 15, 16, 16, 23, 24, 24, 31, 32, 32 };
static const __u8 v6_group_lens[] = {
	8, 16, 16, 47, 47, 48, 48, 48, 119, 119, 120, 120, 120, 127, 127, 128, 128, 128,
};
static const __u8 v6_source_lens[] = { 32, 47, 48, 48, 119, 120, 120, 127, 128, 128 };

static void diff_addr(__u32 *seed, __u8 family, bool group, struct xm_prefix *p)
{
	__u8 *b = (__u8 *)p->addr;

	memset(p, 0, sizeof(*p));
	p->family = family;
	if (family == XM_AF_INET) {
		b[0] = group ? 239 : 10;
		b[1] = rnd(seed, 4);
		b[2] = rnd(seed, 4);
		b[3] = rnd(seed, 4);
		p->len = 32;
		return;
	}
	if (group) {
		b[0] = 0xff;
		b[1] = rnd(seed, 2) ? 0x0e : 0x05;
	} else {
		b[0] = 0x20;
		b[1] = 0x01;
		b[2] = 0x0d;
		b[3] = 0xb8;
	}
	b[5] = rnd(seed, 4);
	b[14] = rnd(seed, 4);
	b[15] = rnd(seed, 4);
	p->len = 128;
}

static void diff_prefix(__u32 *seed, __u8 family, bool group, struct xm_prefix *p)
{
	const __u8 *lens;
	size_t n;

	if (family == XM_AF_INET) {
		lens = group ? v4_group_lens : v4_source_lens;
		n = group ? ARRAY_SIZE(v4_group_lens) : ARRAY_SIZE(v4_source_lens);
	} else {
		lens = group ? v6_group_lens : v6_source_lens;
		n = group ? ARRAY_SIZE(v6_group_lens) : ARRAY_SIZE(v6_source_lens);
	}
	diff_addr(seed, family, group, p);
	p->len = lens[rnd(seed, n)];
	mask_prefix(p);
}

struct diff_rule {
	__u8 dir;
	const char *iface;
	struct xm_prefix group;
	struct xm_prefix source;	/* family 0: every source */
};

static bool same_match(const struct diff_rule *a, const struct diff_rule *b)
{
	return a->dir == b->dir && !strcmp(a->iface, b->iface) &&
	       !memcmp(&a->group, &b->group, sizeof(a->group)) &&
	       !memcmp(&a->source, &b->source, sizeof(a->source));
}

/* DIFF_RULES random rules, none matching what another matches, as text:
 * the parser reads them as it reads every policy. */
static void diff_policy(__u32 *seed, char *text, size_t size)
{
	static const char *const ifaces[] = { "any", "any", "any", "lo", "other0" };
	struct diff_rule v[DIFF_RULES], r;
	char g[XM_PREFIX_STRLEN], s[XM_PREFIX_STRLEN];
	size_t len = 0;
	int n = 0, i;
	bool dup;

	while (n < DIFF_RULES) {
		__u8 family = rnd(seed, 2) ? XM_AF_INET : XM_AF_INET6;
		bool deny = rnd(seed, 5) < 3, audit = rnd(seed, 6) == 0;

		memset(&r, 0, sizeof(r));
		r.dir = rnd(seed, 2) ? XM_DIR_IN : XM_DIR_OUT;
		r.iface = ifaces[rnd(seed, ARRAY_SIZE(ifaces))];
		diff_prefix(seed, family, true, &r.group);
		if (rnd(seed, 3))
			diff_prefix(seed, family, false, &r.source);
		for (i = 0, dup = false; i < n && !dup; i++)
			dup = same_match(&v[i], &r);
		if (dup)
			continue;
		v[n++] = r;
		len += snprintf(text + len, size - len, "%s %s %s group %s%s%s%s\n",
				deny ? "deny" : "allow", r.dir == XM_DIR_IN ? "in" : "out",
				r.iface, xm_prefix_format(&r.group, g, sizeof(g)),
				r.source.family ? " source " : "",
				r.source.family ? xm_prefix_format(&r.source, s, sizeof(s)) : "",
				audit ? " audit" : "");
		if (len >= size) {
			fprintf(stderr, "# differential policy text too long\n");
			exit(2);
		}
	}
}

struct diff_pkt {
	struct pkt pkt;
	size_t tag;				/* index in tag_variants[] */
	struct xm_prefix group, source;		/* host prefixes */
	char dst[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN];
};

static struct diff_pkt diff_pkts[DIFF_PACKETS];

static void diff_packets(__u32 *seed)
{
	struct diff_pkt *d;
	size_t t;
	int i, af;

	for (i = 0; i < DIFF_PACKETS; i++) {
		d = &diff_pkts[i];
		af = rnd(seed, 2) ? AF_INET : AF_INET6;
		diff_addr(seed, af == AF_INET ? XM_AF_INET : XM_AF_INET6, true, &d->group);
		diff_addr(seed, d->group.family, false, &d->source);
		inet_ntop(af, d->group.addr, d->dst, sizeof(d->dst));
		inet_ntop(af, d->source.addr, d->src, sizeof(d->src));
		t = rnd(seed, ARRAY_SIZE(tag_variants));
		d->tag = t;
		d->pkt = (struct pkt){
			.dst = d->dst,
			.src = d->src,
			.tag = tag_variants[t].tag,
			.vid = tag_variants[t].vid,
			.outer = tag_variants[t].outer,
		};
	}
}

/* What the data path did with 'frames' runs of a frame, back to back (one
 * test_run call with repeat > 1 would cost an RCU grace period: the kernel
 * swaps the XDP dispatcher for it): the last verdict, the one reason
 * counter of lo that moved (-1 none, -2 several or by another amount), and
 * the line of the one policy counter that moved (0 none, -1 several or by
 * another amount).  Lighter than run_expect(), which reads every counter
 * and flow twice: this runs thousands of times. */
struct decision {
	__u32 verdict;
	int reason;
	int line;
};

static struct xm_counter diff_hits[2][TEST_POL_HITS];

static int observe(struct inst *in, enum hook h, const struct frame *f,
		   __u32 frames, struct decision *d)
{
	struct xdp_mcast_bpf *sk = in->skel;
	struct xm_counter rb[XM_REASON_SLOTS], ra[XM_REASON_SLOTS];
	int reasons_fd = bpf_map__fd(sk->maps.xm_reasons), err;
	struct xm_pol_desc desc;
	__u32 r, i;

	err = xm_read_reasons(reasons_fd, hook_dir(h), LO_SLOT, rb);
	err = err ? err : read_counters(sk->maps.xm_pol_hits, TEST_POL_HITS, diff_hits[0]);
	for (i = 0; i < frames && !err; i++)
		err = run_hook(in, h, f, 1, &d->verdict);
	err = err ? err : xm_read_reasons(reasons_fd, hook_dir(h), LO_SLOT, ra);
	err = err ? err : read_counters(sk->maps.xm_pol_hits, TEST_POL_HITS, diff_hits[1]);
	if (err)
		return err;
	d->reason = -1;
	for (r = 0; r < XM_REASON_SLOTS; r++) {
		if (moved_by(&rb[r], &ra[r], 0, 0))
			continue;
		d->reason = d->reason == -1 && moved_by(&rb[r], &ra[r], frames,
							(__u64)frames * f->len) ? (int)r : -2;
	}
	d->line = 0;
	for (i = 0; i < TEST_POL_HITS; i++) {
		if (moved_by(&diff_hits[0][i], &diff_hits[1][i], 0, 0))
			continue;
		if (d->line || !moved_by(&diff_hits[0][i], &diff_hits[1][i], frames,
					 (__u64)frames * f->len) ||
		    bpf_map__lookup_elem(sk->maps.xm_pol_desc, &i, sizeof(i), &desc,
					 sizeof(desc), 0))
			d->line = -1;
		else
			d->line = desc.line;
	}
	return 0;
}

struct diff_tally {
	__u32 decisions, none, allow, deny, audit;
};

/* One packet at one hook: the data path must decide as the reference. */
static void diff_one(struct inst *in, const struct xm_conf *c, int round,
		     enum hook h, const struct diff_pkt *dp, const struct frame *f,
		     int *mismatches, struct diff_tally *tally)
{
	__u32 frames = h == HOOK_IN ? 2 : 1;	/* the second decided by the cache */
	const struct xm_conf_rule *r;
	struct decision got;
	char rule[160] = "no rule", g[XM_PREFIX_STRLEN], s[XM_PREFIX_STRLEN];
	int want, line;

	r = xm_policy_match(c, hook_dir(h), "lo", &dp->group, &dp->source);
	want = !r ? R(FORWARD) : r->audit ? R(POLICY_AUDIT) :
	       r->deny ? R(POLICY) : R(FORWARD);
	line = r ? r->pos.line : 0;
	tally->decisions++;
	if (!r)
		tally->none++;
	else if (r->audit)
		tally->audit++;
	else if (r->deny)
		tally->deny++;
	else
		tally->allow++;

	if (observe(in, h, f, frames, &got)) {
		diag("round %d: cannot observe the data path", round);
		return;
	}
	if (got.reason == want && got.line == line &&
	    got.verdict == (__u32)hook_verdict(h, want))
		return;
	if ((*mismatches)++ >= 6)
		return;
	if (r)
		snprintf(rule, sizeof(rule), "line %d: %s %s %s group %s source %s%s",
			 line, r->deny ? "deny" : "allow",
			 r->dir == XM_DIR_IN ? "in" : "out", r->iface[0] ? r->iface : "any",
			 xm_prefix_format(&r->group, g, sizeof(g)),
			 r->source.family ? xm_prefix_format(&r->source, s, sizeof(s)) : "any",
			 r->audit ? " audit" : "");
	diag("round %d, %s, %s -> %s [%s]: data path %s by line %d (%s), "
	     "xm_policy_match() %s by %s", round, hook_names[h], dp->src, dp->dst,
	     tag_variants[dp->tag].name,
	     got.reason >= 0 ? reason_name(got.reason) : "(no single reason)", got.line,
	     hook_verdict_name(h, got.verdict), reason_name(want), rule);
}

/*
 * Random policies, the same random packets under each: for every packet,
 * on ingress and on egress, the data path's reason and the rule whose
 * counter moves must be those of xm_policy_match().  The packets stay the
 * same across rounds, so their flows sit in the cache with the previous
 * policy's decisions when the next one comes into force.
 */
static void policy_differential(struct inst *in)
{
	static char text[DIFF_RULES * 128];
	__u32 seed = DIFF_SEED, pkt_seed = DIFF_SEED ^ 0x9e3779b9u;
	struct diff_tally tally = { 0 };
	int round, i, mismatches, cpu = allowed_cpu(0);
	struct xm_conf *c;
	char name[32];
	struct frame f;
	enum hook out;

	diff_packets(&pkt_seed);
	if (!pin_cpu(cpu)) {
		tap("%s: differential: pin the test to one CPU", in->label);
		return;
	}
	for (round = 0; round < DIFF_ROUNDS; round++) {
		snprintf(name, sizeof(name), "random-%d", round);
		diff_policy(&seed, text, sizeof(text));
		c = policy_set(in, name, text, NULL);
		mismatches = 0;
		out = round & 1 ? HOOK_OUT_FWD : HOOK_OUT_LOCAL;
		for (i = 0; c && i < DIFF_PACKETS; i++) {
			build(&diff_pkts[i].pkt, &f);
			diff_one(in, c, round, HOOK_IN, &diff_pkts[i], &f, &mismatches,
				 &tally);
			diff_one(in, c, round, out, &diff_pkts[i], &f, &mismatches, &tally);
		}
		if (mismatches)
			diag("%d of %d decisions differ", mismatches, 2 * DIFF_PACKETS);
		tap("%s: differential round %d (seed 0x%x): %d rules, %d packets in and "
		    "%s agree with xm_policy_match()", in->label, round, DIFF_SEED,
		    DIFF_RULES, DIFF_PACKETS, hook_names[out]);
		xm_conf_free(c);
	}
	policy_clear(in);
	unpin();
	if (!tally.none || !tally.allow || !tally.deny || !tally.audit)
		diag("the random policies miss a kind of decision");
	tap("%s: differential: %u decisions, by no rule %u, allow %u, deny %u, "
	    "audit %u", in->label, tally.decisions, tally.none, tally.allow, tally.deny,
	    tally.audit);
}

/* --- Setup ----------------------------------------------------------------- */

/* Open and load one instance, nothing pinned, lo registered at LO_SLOT,
 * the policy counters sized down to TEST_POL_HITS (a snapshot reads them
 * all), the flow table and the snooping ring at their defaults unless
 * max_flows or ring_bytes say otherwise.  Returns 0, or a negative errno
 * with the reason in the diagnostics. */
static int inst_open(struct inst *in, const char *label, __u8 check_mac,
		     __u32 max_flows, __u32 ring_bytes)
{
	struct xm_iface ifc = { .slot = LO_SLOT, .name = "lo" };
	__u32 ifindex = LO_IFINDEX;
	struct bpf_map *map;
	int err;

	memset(in, 0, sizeof(*in));
	in->label = label;
	in->skel = xdp_mcast_bpf__open();
	if (!in->skel) {
		err = -errno;
		diag("cannot open the skeleton: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, in->skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err) {
			diag("cannot unpin %s: %s", bpf_map__name(map), strerror(-err));
			return err;
		}
	}
	in->skel->rodata->cfg_check_mac = check_mac;
	if (max_flows) {
		err = bpf_map__set_max_entries(in->skel->maps.xm_flows, max_flows);
		if (err) {
			diag("cannot size xm_flows: %s", strerror(-err));
			return err;
		}
	}
	if (ring_bytes) {
		err = bpf_map__set_max_entries(in->skel->maps.xm_ctrl_ring, ring_bytes);
		if (err) {
			diag("cannot size xm_ctrl_ring: %s", strerror(-err));
			return err;
		}
	}
	err = bpf_map__set_max_entries(in->skel->maps.xm_pol_hits, TEST_POL_HITS);
	err = err ? err : bpf_map__set_max_entries(in->skel->maps.xm_pol_desc,
						   TEST_POL_HITS);
	if (err) {
		diag("cannot size the policy counters: %s", strerror(-err));
		return err;
	}
	err = xdp_mcast_bpf__load(in->skel);
	if (err) {
		diag("cannot load: %s", strerror(-err));
		return err;
	}
	in->prog_fd = bpf_program__fd(in->skel->progs.xdp_mcast);
	in->tc_fd = bpf_program__fd(in->skel->progs.tc_mcast_egress);
	err = bpf_map__update_elem(in->skel->maps.xm_ifaces, &ifindex,
				   sizeof(ifindex), &ifc, sizeof(ifc), BPF_ANY);
	if (err) {
		diag("cannot register lo: %s", strerror(-err));
		return err;
	}
	return 0;
}

static void inst_close(struct inst *in)
{
	xdp_mcast_bpf__destroy(in->skel);
	in->skel = NULL;
}

/* xm_array_read(): ranges of an array and of a per-CPU array, one that
 * ends at the array's end, and one past it. */
static void array_read_tests(void)
{
	__u64 v[8], got[8], pc[4 * 64];
	int a = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xm_t_arr", 4, 8, 8, NULL);
	int p = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xm_t_pcpu", 4, 8, 4, NULL);
	__u32 i, c;
	int err;

	if (a < 0 || p < 0 || ncpus > 64) {
		diag("create the arrays: %s", strerror(errno));
		tap("xm_array_read: arrays read by range");
		goto out;
	}
	for (i = 0; i < 8; i++) {
		v[i] = 100 + i;
		bpf_map_update_elem(a, &i, &v[i], BPF_ANY);
	}
	for (i = 0; i < 4; i++) {
		for (c = 0; c < (__u32)ncpus; c++)
			pc[c] = 1000 * i + c;
		bpf_map_update_elem(p, &i, pc, BPF_ANY);
	}
	memset(got, 0, sizeof(got));
	err = xm_array_read(a, 0, 3, 8, got);
	if (err || got[0] != 100 || got[2] != 102)
		diag("0..3: err %d, %llu %llu", err, (unsigned long long)got[0],
		     (unsigned long long)got[2]);
	err = xm_array_read(a, 5, 3, 8, got);
	if (err || got[0] != 105 || got[2] != 107)
		diag("5..8 (the end): err %d, %llu %llu", err, (unsigned long long)got[0],
		     (unsigned long long)got[2]);
	err = xm_array_read(a, 6, 4, 8, got);
	if (err != -ERANGE)
		diag("6..10 (past the end): err %d, not -ERANGE", err);
	memset(pc, 0, sizeof(pc));
	err = xm_array_read(p, 2, 2, ncpus * 8, pc);
	for (c = 0; c < (__u32)ncpus && !err; c++)
		if (pc[c] != 2000 + c || pc[ncpus + c] != 3000 + c)
			err = -EIO;
	if (err)
		diag("per-CPU 2..4: err %d", err);
	tap("xm_array_read: arrays and per-CPU arrays read by range, to their end, not past it");
out:
	if (a >= 0)
		close(a);
	if (p >= 0)
		close(p);
}

int main(int argc, char **argv)
{
	struct inst main_in, nomac, small, pol, snoop;
	__u32 ring_bytes;
	size_t i;
	int err;

	if (argc > 1 && !strcmp(argv[1], "-v"))
		verbose = true;
	libbpf_set_print(libbpf_log);

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		printf("not ok - count the possible CPUs\n# %s\n", strerror(-ncpus));
		return 1;
	}
	if (sched_getaffinity(0, sizeof(start_cpus), &start_cpus)) {
		printf("not ok - read the CPU affinity\n# %s\n", strerror(errno));
		return 1;
	}
	batch_values = calloc((size_t)BATCH_MAX * ncpus, sizeof(*batch_values));
	snap_before.flow = calloc(ncpus, sizeof(struct xm_flow));
	snap_after.flow = calloc(ncpus, sizeof(struct xm_flow));
	flow_buf = calloc(ncpus, sizeof(struct xm_flow));
	slot_buf = calloc(ncpus, sizeof(struct xm_flow_slot));
	if (!batch_values || !snap_before.flow || !snap_after.flow || !flow_buf ||
	    !slot_buf) {
		printf("not ok - allocate per-CPU buffers\n");
		return 1;
	}

	err = inst_open(&main_in, "check_mac=1", 1, 0, 0);
	if (err == -EPERM) {
		diag_len = 0;
		diag_buf[0] = '\0';
		skip("load xdp_mcast", "needs CAP_BPF and CAP_NET_ADMIN (run as root)");
		printf("1..%d\n", tests_run);
		return 0;
	}
	if (!tap("load xdp_mcast with check_mac=1 through the verifier"))
		return 1;
	inst_open(&nomac, "check_mac=0", 0, 0, 0);
	if (!tap("load xdp_mcast with check_mac=0 through the verifier"))
		return 1;

	run_table(&main_in, false);
	flow_tests(&main_in);
	cache_tests(&main_in);
	array_read_tests();
	unregistered_tests(&main_in);
	run_table(&nomac, true);

	inst_open(&snoop, "snoop", 1, 0, 0);
	if (tap("load xdp_mcast for the snooping capture"))
		capture_tests(&snoop);
	inst_close(&snoop);

	ring_bytes = sysconf(_SC_PAGESIZE);
	inst_open(&snoop, "snoop small ring", 1, 0, ring_bytes);
	if (tap("load xdp_mcast with a %u-byte snooping ring", ring_bytes))
		ring_full_test(&snoop, ring_bytes);
	inst_close(&snoop);

	inst_open(&small, "lru", 1, SMALL_FLOWS, 0);
	if (tap("load xdp_mcast with a %u-entry flow table", SMALL_FLOWS)) {
		flood_test(&small);
		cache_eviction_test(&small);
	}
	inst_close(&small);

	inst_open(&pol, "policy", 1, 0, 0);
	if (tap("load xdp_mcast for the policy tests")) {
		tc_ctx_tests(&pol);
		for (i = 0; i < ARRAY_SIZE(suites); i++)
			run_suite(&pol, &suites[i]);
		policy_switch_tests(&pol);
		policy_differential(&pol);
	}
	inst_close(&pol);

	robustness(&main_in);
	robustness(&nomac);

	inst_close(&nomac);
	inst_close(&main_in);
	printf("1..%d\n", tests_run);
	return tests_failed ? 1 : 0;
}
