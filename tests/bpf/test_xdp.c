// SPDX-License-Identifier: GPL-2.0-only
/*
 * Layer-1 tests of the XDP program: hand-built frames go through
 * bpf_prog_test_run_opts() against the real verifier, and every run is
 * judged by its verdict, by the reason counters, by the flow table and by
 * the global counters, all summed over the possible CPUs.
 *
 * The oracle is the contract header: each case names the reason the rules
 * in bpf/xdp_mcast.bpf.c give the frame, and the verdict follows from the
 * reason through XM_REASONS().  Frames that are not IP multicast must leave
 * with XDP_PASS and touch no counter at all.
 *
 * Output is TAP ("ok - name", "not ok - name" and "# " diagnostics); the
 * exit status is non-zero when a test failed.  Needs CAP_BPF and
 * CAP_NET_ADMIN; run as root.  -v shows libbpf's debug output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/igmp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_mcast_kern_user.h"
#include "xdp_mcast.skel.h"

#define LO_IFINDEX	1	/* test_run's default device, in every netns */
#define LO_SLOT		1	/* the row of xm_reasons lo is registered at */
#define FRAME_MAX	512
#define PAYLOAD		16	/* UDP payload bytes */
#define SMALL_FLOWS	1024	/* flow table size of the LRU flood test */
#define FUZZ_ROUNDS	24	/* mutations of each valid frame */
#define FUZZ_SEED	0x5eed1234u

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
	if (iph->protocol == IPPROTO_IGMP)
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
	if (proto == IPPROTO_ICMPV6)
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
	int prog_fd;
};

#define REASON_ROWS	(XM_MAX_IFACES * XM_REASON_SLOTS)

static int ncpus;
static __u32 batch_keys[REASON_ROWS];
static struct xm_counter *batch_values;	/* REASON_ROWS per-CPU values */

/* One state of everything the program can write, as seen from user space. */
struct snap {
	struct xm_counter reason[XM_MAX_IFACES][XM_REASON_SLOTS];
	struct xm_counter global[XM_GLOBAL_SLOTS];
	struct xm_counter flows;	/* every entry, every CPU */
	__u32 nflows;
	bool found;			/* the watched flow exists */
	struct xm_flow *flow;		/* the watched flow, per CPU */
};

/* All n counters of a per-CPU array, each summed over the CPUs. */
static int read_counters(struct bpf_map *map, __u32 n, struct xm_counter *sum)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = 0, pos = 0, count, i;
	int err = 0, cpu;

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

/* Look a flow up; false (and zeroed values) when it is not in the table. */
static bool read_flow(struct bpf_map *map, const struct xm_flow_key *key,
		      struct xm_flow *pcpu)
{
	if (bpf_map__lookup_elem(map, key, sizeof(*key), pcpu,
				 sizeof(*pcpu) * ncpus, 0) == 0)
		return true;
	memset(pcpu, 0, sizeof(*pcpu) * ncpus);
	return false;
}

/* Every flow in the table, summed over the entries and the CPUs. */
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

static void snapshot(struct inst *in, const struct xm_flow_key *key, struct snap *s)
{
	struct xdp_mcast_bpf *sk = in->skel;
	int err;

	err = read_counters(sk->maps.xm_reasons, REASON_ROWS, &s->reason[0][0]);
	if (err)
		diag("cannot read xm_reasons: %s", strerror(-err));
	err = read_counters(sk->maps.xm_global, XM_GLOBAL_SLOTS, s->global);
	if (err)
		diag("cannot read xm_global: %s", strerror(-err));
	sum_flows(sk->maps.xm_flows, &s->flows, &s->nflows, s->flow);
	s->found = key && read_flow(sk->maps.xm_flows, key, s->flow);
	if (!key)
		memset(s->flow, 0, sizeof(*s->flow) * ncpus);
}

static struct snap snap_before, snap_after;

/* Run one frame.  Checks what every run must satisfy: the syscall works and
 * the frame comes back unchanged.  The verdict is the caller's to judge. */
static int run_frame(struct inst *in, const struct frame *f, __u32 *verdict)
{
	struct xdp_md ctx = {
		.data_end = f->len,
		.ingress_ifindex = LO_IFINDEX,
	};
	__u8 out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->data,
		.data_size_in = f->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
	);
	int err;

	err = bpf_prog_test_run_opts(in->prog_fd, &opts);
	if (err) {
		diag("bpf_prog_test_run_opts: %s", strerror(-err));
		return err;
	}
	*verdict = opts.retval;
	if (opts.data_size_out != f->len || memcmp(out, f->data, f->len))
		diag("the program changed the frame (%u bytes in, %u out)",
		     f->len, opts.data_size_out);
	return 0;
}

/* What one run must change, and nothing else. */
struct expect {
	int reason;		/* NOT_MCAST: no counter moves */
	__u32 slot;		/* row of xm_reasons the reason lands in */
	bool unregistered;	/* counted as an unregistered interface */
	bool has_flow;		/* counted into 'key' */
	struct xm_flow_key key;
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

/* Run a frame and compare the verdict and every counter against 'e'.  What
 * differs goes to the diagnostics; the caller closes the test with tap(). */
static void run_expect(struct inst *in, const struct frame *f, const struct expect *e)
{
	const struct xm_flow_key *key = e->has_flow ? &e->key : NULL;
	struct snap *b = &snap_before, *a = &snap_after;
	int want_verdict = reason_verdict(e->reason);
	bool counted = e->reason != NOT_MCAST;
	bool new_flow;
	char what[64];
	__u32 verdict, slot, r, g;

	snapshot(in, key, b);
	if (run_frame(in, f, &verdict))
		return;
	snapshot(in, key, a);

	if (verdict != (__u32)want_verdict)
		diag("verdict %s, want %s (reason %s)", verdict_name(verdict),
		     verdict_name(want_verdict), reason_name(e->reason));

	for (slot = 0; slot < XM_MAX_IFACES; slot++) {
		for (r = 0; r < XM_REASON_SLOTS; r++) {
			bool hit = counted && slot == e->slot && r == (__u32)e->reason;
			__u64 len = hit ? f->len : 0;

			if (moved_by(&b->reason[slot][r], &a->reason[slot][r], hit, len))
				continue;
			snprintf(what, sizeof(what), "slot %u reason %s", slot,
				 reason_name(r));
			check_delta(what, &b->reason[slot][r], &a->reason[slot][r],
				    hit, len);
		}
	}

	new_flow = e->has_flow && !b->found;
	for (g = 0; g < XM_GLOBAL_SLOTS; g++) {
		__u64 want = 0;

		if (g == XM_G_FLOWS_CREATED)
			want = new_flow;
		else if (g == XM_G_UNREGISTERED_IFACE)
			want = counted && e->unregistered;
		snprintf(what, sizeof(what), "global %s",
			 g < XM_G_COUNT ? global_names[g] : "(unused slot)");
		check_delta(what, &b->global[g], &a->global[g], want, 0);
	}

	check_delta("all flows", &b->flows, &a->flows, e->has_flow,
		    e->has_flow ? f->len : 0);
	if (a->nflows - b->nflows != new_flow)
		diag("flow table: %u entries -> %u, want +%d", b->nflows, a->nflows,
		     new_flow);
	if (e->has_flow) {
		struct xm_counter fb = flow_sum(b->flow), fa = flow_sum(a->flow);

		if (!a->found)
			diag("no flow for the frame's key");
		check_delta("the frame's flow", &fb, &fa, 1, f->len);
		check_flow_cpu(b, a, e->reason);
	}
}

static void case_expect(const struct pkt *p, int reason, struct expect *e)
{
	memset(e, 0, sizeof(*e));
	e->reason = reason;
	e->slot = LO_SLOT;
	e->has_flow = reason != NOT_MCAST && reason != R(MALFORMED);
	if (e->has_flow)
		pkt_flow_key(p, &e->key);
}

static void run_case(struct inst *in, const char *name, const struct pkt *p,
		     int reason)
{
	struct expect e;
	struct frame f;

	build(p, &f);
	case_expect(p, reason, &e);
	run_expect(in, &f, &e);
	tap("%s: %s", in->label, name);
}

/* The case's frame in tagging variant t, and its name. */
static void case_variant(const struct xdp_case *c, size_t t, struct pkt *p,
			 char *name, size_t size)
{
	*p = c->pkt;
	p->tag = tag_variants[t].tag;
	p->vid = tag_variants[t].vid;
	p->outer = tag_variants[t].outer;
	snprintf(name, size, "%s [%s]", c->name, tag_variants[t].name);
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

/* The flow a frame of 'p' counts into must hold exactly this much. */
static void check_flow_total(struct inst *in, const char *name,
			     const struct pkt *p, __u64 packets, __u64 bytes)
{
	struct xm_flow_key key;
	struct xm_counter s;

	pkt_flow_key(p, &key);
	if (!read_flow(in->skel->maps.xm_flows, &key, snap_after.flow))
		diag("flow not in the table");
	s = flow_sum(snap_after.flow);
	if (s.packets != packets || s.bytes != bytes)
		diag("flow holds %llu packets %llu bytes, want %llu %llu",
		     (unsigned long long)s.packets, (unsigned long long)s.bytes,
		     (unsigned long long)packets, (unsigned long long)bytes);
	tap("%s: %s", in->label, name);
}

static __u32 flow_reason_mask(struct inst *in, const struct pkt *p)
{
	struct xm_flow_key key;
	__u32 mask = 0;
	int cpu;

	pkt_flow_key(p, &key);
	read_flow(in->skel->maps.xm_flows, &key, snap_after.flow);
	for (cpu = 0; cpu < ncpus; cpu++)
		mask |= snap_after.flow[cpu].reason_mask;
	return mask;
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

/* Frames on an interface the loader did not register, or registered at a
 * slot out of range, count in slot 0 and in unregistered_iface. */
static void unregistered_tests(struct inst *in)
{
	struct bpf_map *ifaces = in->skel->maps.xm_ifaces;
	struct xm_iface ifc = { .slot = LO_SLOT, .name = "lo" };
	struct xm_iface bad = { .slot = XM_MAX_IFACES, .name = "lo" };
	struct pkt p = { .dst = "239.8.8.8", .tag = UNTAGGED };
	__u32 ifindex = LO_IFINDEX;
	struct expect e;
	struct frame f;

	build(&p, &f);
	case_expect(&p, R(FORWARD), &e);
	e.slot = 0;
	e.unregistered = true;
	if (bpf_map__delete_elem(ifaces, &ifindex, sizeof(ifindex), 0))
		diag("cannot unregister lo: %s", strerror(errno));
	else
		run_expect(in, &f, &e);
	tap("%s: unregistered interface counts in slot 0 and unregistered_iface",
	    in->label);

	if (bpf_map__update_elem(ifaces, &ifindex, sizeof(ifindex), &bad,
				 sizeof(bad), BPF_ANY))
		diag("cannot register lo at slot %u: %s", bad.slot, strerror(errno));
	else
		run_expect(in, &f, &e);
	if (bpf_map__update_elem(ifaces, &ifindex, sizeof(ifindex), &ifc,
				 sizeof(ifc), BPF_ANY))
		diag("cannot register lo again: %s", strerror(errno));
	tap("%s: slot %u (out of range) counts like an unregistered interface",
	    in->label, bad.slot);
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
	__u32 i, verdict, bad_verdicts = 0, max_seen = 0;
	char src[INET_ADDRSTRLEN];
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

		check_delta(reason_name(r), &b->reason[LO_SLOT][r],
			    &a->reason[LO_SLOT][r], hit ? frames : 0,
			    hit ? (__u64)frames * f.len : 0);
	}
	tap("%s: flood: the forward counter counts every frame", in->label);

	check_delta("flows_created", &b->global[XM_G_FLOWS_CREATED],
		    &a->global[XM_G_FLOWS_CREATED], frames, 0);
	check_delta("flow_insert_failed", &b->global[XM_G_FLOW_INSERT_FAILED],
		    &a->global[XM_G_FLOW_INSERT_FAILED], 0, 0);
	tap("%s: flood: flows_created %u, no insert failed", in->label, frames);

	if (a->nflows > max_seen)
		max_seen = a->nflows;
	if (max_seen > SMALL_FLOWS || a->nflows == 0)
		diag("flow table held up to %u entries, now %u, max_entries %u",
		     max_seen, a->nflows, SMALL_FLOWS);
	tap("%s: flood: the table never holds more than %u flows (now %u)",
	    in->label, SMALL_FLOWS, a->nflows);

	if (!a->found)
		diag("the newest source's flow was evicted");
	else if (flow_sum(a->flow).packets != 1)
		diag("the newest flow holds %llu packets, want 1",
		     (unsigned long long)flow_sum(a->flow).packets);
	tap("%s: flood: the newest flow is in the table", in->label);
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
		d = a->reason[LO_SLOT][r].packets - b->reason[LO_SLOT][r].packets;
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

/* --- Setup ----------------------------------------------------------------- */

/* Open and load one instance, nothing pinned, lo registered at LO_SLOT.
 * Returns 0, or a negative errno with the reason in the diagnostics. */
static int inst_open(struct inst *in, const char *label, __u8 check_mac,
		     __u32 max_flows)
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
	err = xdp_mcast_bpf__load(in->skel);
	if (err) {
		diag("cannot load: %s", strerror(-err));
		return err;
	}
	in->prog_fd = bpf_program__fd(in->skel->progs.xdp_mcast);
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

int main(int argc, char **argv)
{
	struct inst main_in, nomac, small;
	int err;

	if (argc > 1 && !strcmp(argv[1], "-v"))
		verbose = true;
	libbpf_set_print(libbpf_log);

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		printf("not ok - count the possible CPUs\n# %s\n", strerror(-ncpus));
		return 1;
	}
	batch_values = calloc((size_t)REASON_ROWS * ncpus, sizeof(*batch_values));
	snap_before.flow = calloc(ncpus, sizeof(struct xm_flow));
	snap_after.flow = calloc(ncpus, sizeof(struct xm_flow));
	if (!batch_values || !snap_before.flow || !snap_after.flow) {
		printf("not ok - allocate per-CPU buffers\n");
		return 1;
	}

	err = inst_open(&main_in, "check_mac=1", 1, 0);
	if (err == -EPERM) {
		diag_len = 0;
		diag_buf[0] = '\0';
		skip("load xdp_mcast", "needs CAP_BPF and CAP_NET_ADMIN (run as root)");
		printf("1..%d\n", tests_run);
		return 0;
	}
	if (!tap("load xdp_mcast with check_mac=1 through the verifier"))
		return 1;
	inst_open(&nomac, "check_mac=0", 0, 0);
	if (!tap("load xdp_mcast with check_mac=0 through the verifier"))
		return 1;

	run_table(&main_in, false);
	flow_tests(&main_in);
	unregistered_tests(&main_in);
	run_table(&nomac, true);

	inst_open(&small, "lru", 1, SMALL_FLOWS);
	if (tap("load xdp_mcast with a %u-entry flow table", SMALL_FLOWS))
		flood_test(&small);
	inst_close(&small);

	robustness(&main_in);
	robustness(&nomac);

	inst_close(&nomac);
	inst_close(&main_in);
	printf("1..%d\n", tests_run);
	return tests_failed ? 1 : 0;
}
