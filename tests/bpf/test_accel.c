// SPDX-License-Identifier: GPL-2.0-only
/*
 * The accelerator under BPF_PROG_TEST_RUN: the XDP program's verdicts and
 * reasons on an interface in accelerate mode (entries, incoming-interface
 * check, TTL tiers, what goes to the kernel, the hop taken once at ingress:
 * TTL or hop limit and IPv4 checksum), the copies counted per flow, the
 * forwarding entries cached per flow and looked up again after every
 * change, and the egress code's output bytes (source MAC, VLAN rewrite,
 * push and pop) and policy (the TTL threshold, a boundary, rules for any
 * interface).
 *
 * The object is built with XM_TEST_PROGS, which adds xdp_mcast_egress_test:
 * the devmap egress code with the interface taken from a global, since
 * BPF_PROG_TEST_RUN does not run devmap programs.  The ingress interface is
 * lo (ifindex 1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include "xdp_mcast_kern_user.h"
#include "util.h"
#include "xdp_mcast_test.skel.h"
#include "../unit/tap.h"

#define LO	1
#define SLOT	1

static struct xdp_mcast_test_bpf *skel;
static int ncpus;
static const __u8 IF_MAC[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
static const __u8 SRC_MAC[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

/* ---- frames ---- */

struct frame {
	__u8 d[256];
	__u32 len;
	__u32 l3;	/* offset of the IP header */
};

static __u16 csum(const void *data, size_t n)
{
	return xm_csum_fold(xm_csum_add(0, data, n));
}

struct spec {
	int v6;
	__u16 vlan;		/* 0 untagged */
	__u8 pcp;
	__u8 ttl;
	const char *src, *grp;
	int ihl;		/* 0 = 5 */
	__u16 frag;		/* IPv4 frag_off, host order */
	int hbh;		/* IPv6: a hop-by-hop header first */
	int bad_csum;
	__u16 id;
};

static void build(const struct spec *s, struct frame *f)
{
	__u8 *p = f->d;
	__u32 o = 12, ip;
	__u8 g[16];

	memset(f, 0, sizeof(*f));
	inet_pton(s->v6 ? AF_INET6 : AF_INET, s->grp, g);
	if (s->v6) {
		__u8 m[6] = { 0x33, 0x33, g[12], g[13], g[14], g[15] };
		memcpy(p, m, 6);
	} else {
		__u8 m[6] = { 0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3] };
		memcpy(p, m, 6);
	}
	memcpy(p + 6, SRC_MAC, 6);
	if (s->vlan) {
		p[o++] = 0x81, p[o++] = 0x00;
		p[o++] = (s->pcp << 5) | (s->vlan >> 8), p[o++] = s->vlan & 0xff;
	}
	p[o++] = s->v6 ? 0x86 : 0x08;
	p[o++] = s->v6 ? 0xdd : 0x00;
	ip = f->l3 = o;
	if (!s->v6) {
		int ihl = s->ihl ? s->ihl : 5, tot = ihl * 4 + 8 + 16;
		__u16 c;

		p[ip] = 0x40 | ihl;
		p[ip + 2] = tot >> 8, p[ip + 3] = tot & 0xff;
		p[ip + 4] = s->id >> 8, p[ip + 5] = s->id & 0xff;
		p[ip + 6] = s->frag >> 8, p[ip + 7] = s->frag & 0xff;
		p[ip + 8] = s->ttl;
		p[ip + 9] = 17;
		inet_pton(AF_INET, s->src, p + ip + 12);
		memcpy(p + ip + 16, g, 4);
		if (ihl > 5)
			p[ip + 20] = 1;		/* NOPs */
		c = csum(p + ip, ihl * 4) ^ (s->bad_csum ? 0x5a5a : 0);
		p[ip + 10] = c >> 8, p[ip + 11] = c & 0xff;
		f->len = ip + tot;
	} else {
		int plen = 8 + 16 + (s->hbh ? 8 : 0);

		p[ip] = 0x60;
		p[ip + 4] = plen >> 8, p[ip + 5] = plen & 0xff;
		p[ip + 6] = s->hbh ? 0 : 17;
		p[ip + 7] = s->ttl;
		inet_pton(AF_INET6, s->src, p + ip + 8);
		memcpy(p + ip + 24, g, 16);
		if (s->hbh)
			p[ip + 40] = 17;	/* next header; length 0; PadN */
		f->len = ip + 40 + plen;
	}
	for (o = f->len - 16; o < f->len; o++)
		p[o] = 'x';
}

/* ---- maps ---- */

static __u8 iface_pol_flags;	/* XM_IFPOL_* of lo in generation 0 */

static void set_iface(__u8 mode, __u16 egress_vlan, __u8 ttl_threshold)
{
	struct xm_iface v = { .slot = SLOT, .fwd_mode = mode, .egress_vlan = egress_vlan,
			      .name = "lo" };
	__u32 k = LO;

	memcpy(v.mac, IF_MAC, 6);
	v.pol[0].ttl_threshold = ttl_threshold;
	v.pol[0].flags = iface_pol_flags;
	bpf_map__update_elem(skel->maps.xm_ifaces, &k, sizeof(k), &v, sizeof(v), BPF_ANY);
}

static __u32 fwd_epoch, pol_epoch;

/* xm_config with flags, a new policy epoch of generation 0 (the egress
 * cache holds decisions for one epoch), and the forwarding entries changed
 * (as the daemon bumps the epoch after every change). */
static void set_config(__u32 flags)
{
	struct xm_config c = { .epoch = pol_epoch += 2, .flags = flags,
			       .fwd_epoch = ++fwd_epoch };
	__u32 zero = 0;

	bpf_map__update_elem(skel->maps.xm_config, &zero, sizeof(zero), &c, sizeof(c), BPF_ANY);
}

static __u32 config_flags(void)
{
	struct xm_config c = { 0 };
	__u32 zero = 0;

	bpf_map__lookup_elem(skel->maps.xm_config, &zero, sizeof(zero), &c, sizeof(c), 0);
	return c.flags;
}

static void fwd_changed(void)
{
	set_config(config_flags());
}

static struct xm_fwd_key key_of(int v6, const char *src, const char *grp)
{
	struct xm_fwd_key k = { .family = v6 ? XM_AF_INET6 : XM_AF_INET };

	inet_pton(v6 ? AF_INET6 : AF_INET, grp, k.group);
	if (src)
		inet_pton(v6 ? AF_INET6 : AF_INET, src, k.source);
	return k;
}

/* An entry to port set 0 whose tiers say they hold 3 and 5 ports (the
 * copies counted; the set itself holds lo). */
static void put_entry_nobump(struct xm_fwd_key k, __u32 iif, __u16 vid, __u8 ntiers,
			     __u8 thr0, __u8 thr1)
{
	struct xm_fwd_entry e = { .iif = iif, .iif_vlan = vid, .ntiers = ntiers, .ports = 0,
				  .thr = { thr0, thr1 }, .nports = { 3, 5 } };

	bpf_map__update_elem(skel->maps.xm_fwd, &k, sizeof(k), &e, sizeof(e), BPF_ANY);
}

static void put_entry(struct xm_fwd_key k, __u32 iif, __u16 vid, __u8 ntiers, __u8 thr0,
		      __u8 thr1)
{
	put_entry_nobump(k, iif, vid, ntiers, thr0, thr1);
	fwd_changed();
}

static void clear_entries(void)
{
	struct xm_fwd_key k, next;
	int fd = bpf_map__fd(skel->maps.xm_fwd);

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(fd, &k);
	}
	fwd_changed();
}

static __u64 reason_count(__u32 dir, __u32 r)
{
	struct xm_counter v[ncpus];
	__u32 idx = XM_REASON_INDEX(dir, SLOT, r);
	__u64 n = 0;
	int i;

	if (bpf_map__lookup_elem(skel->maps.xm_reasons, &idx, sizeof(idx), v,
				 sizeof(v[0]) * ncpus, 0))
		return 0;
	for (i = 0; i < ncpus; i++)
		n += v[i].packets;
	return n;
}

/* ---- running ---- */

static int run(int prog_fd, const struct frame *in, struct frame *out)
{
	struct xdp_md ctx = { .data_end = in->len, .ingress_ifindex = LO };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->d, .data_size_in = in->len,
		    .data_out = out->d, .data_size_out = sizeof(out->d),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	out->len = o.data_size_out;
	return o.retval;
}

static const char *verdict(int v)
{
	static const char *n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v >= 0 && v <= 4 ? n[v] : "?";
}

/*
 * Whether out is in with the hop taken, as a redirected frame leaves the
 * ingress program: TTL or hop limit one less, the IPv4 header checksum
 * valid, every other byte the same.
 */
static int hop_taken(const struct spec *s, const struct frame *in, const struct frame *out)
{
	__u32 ttl_at = in->l3 + (s->v6 ? 7 : 8), i;

	if (out->len != in->len || out->d[ttl_at] != in->d[ttl_at] - 1)
		return 0;
	if (!s->v6 && csum(out->d + in->l3, 20) != 0)
		return 0;
	for (i = 0; i < in->len; i++)
		if (i != ttl_at && (s->v6 || (i != in->l3 + 10 && i != in->l3 + 11)) &&
		    out->d[i] != in->d[i])
			return 0;
	return 1;
}

/* Run the ingress program on s; check verdict, that reason r moved, and
 * the frame: the hop taken when redirected, untouched otherwise. */
static void ingress(const char *name, const struct spec *s, int want, __u32 r)
{
	struct frame in, out;
	__u64 before = reason_count(XM_DIR_IN, r), after;
	int v, bytes;

	build(s, &in);
	v = run(bpf_program__fd(skel->progs.xdp_mcast), &in, &out);
	after = reason_count(XM_DIR_IN, r);
	bytes = v == XDP_REDIRECT ? hop_taken(s, &in, &out)
				  : out.len == in.len && !memcmp(out.d, in.d, in.len);
	check(v == want && after == before + 1 && bytes, name,
	      "verdict %s (want %s), reason moved by %llu, %s", verdict(v), verdict(want),
	      (unsigned long long)(after - before),
	      bytes ? "bytes right" : v == XDP_REDIRECT ? "hop not taken once" : "frame changed");
}

/* The copies a flow has counted: its xm_flows entry and what its cache
 * slot holds, over every CPU. */
static __u64 flow_copies(const struct spec *s)
{
	struct xm_flow_key k = { .ifindex = LO, .vlan = s->vlan,
				 .family = s->v6 ? XM_AF_INET6 : XM_AF_INET };
	struct xm_flow f[ncpus];
	struct xm_flow_slot sl[ncpus];
	__u64 n = 0;
	__u32 i;
	int c;

	inet_pton(s->v6 ? AF_INET6 : AF_INET, s->grp, k.group);
	inet_pton(s->v6 ? AF_INET6 : AF_INET, s->src, k.source);
	if (!bpf_map__lookup_elem(skel->maps.xm_flows, &k, sizeof(k), f, sizeof(f[0]) * ncpus, 0))
		for (c = 0; c < ncpus; c++)
			n += f[c].copies;
	for (i = 0; i < XM_FLOW_CACHE_SLOTS; i++) {
		if (bpf_map__lookup_elem(skel->maps.xm_flow_cache, &i, sizeof(i), sl,
					 sizeof(sl[0]) * ncpus, 0))
			continue;
		for (c = 0; c < ncpus; c++)
			if (sl[c].valid && !memcmp(&sl[c].key, &k, sizeof(k)))
				n += sl[c].copies;
	}
	return n;
}

/* Copies: the tier's port count for every accelerated frame, nothing for
 * the others, whether the frame is the flow's first (counted in xm_flows)
 * or a later one (counted in its cache slot). */
static void copies_tests(void)
{
	struct spec s4 = { .ttl = 64, .src = "10.0.0.7", .grp = "239.1.7.7" };
	struct spec sp;
	__u64 before;

	set_iface(XM_FWD_ACCELERATE, 0, 0);
	put_entry(key_of(0, "10.0.0.7", "239.1.7.7"), LO, 0, 2, 1, 32);
	before = flow_copies(&s4);
	ingress("copies: a first frame, tier 1 of 5 ports", &s4, XDP_REDIRECT, XM_R_ACCELERATED);
	check(flow_copies(&s4) == before + 5, "copies: the flow's first frame adds its 5 copies",
	      "%llu", (unsigned long long)(flow_copies(&s4) - before));
	sp = s4, sp.ttl = 20;
	ingress("copies: TTL 20 takes tier 0 of 3 ports", &sp, XDP_REDIRECT, XM_R_ACCELERATED);
	ingress("copies: and again", &sp, XDP_REDIRECT, XM_R_ACCELERATED);
	check(flow_copies(&s4) == before + 5 + 3 + 3,
	      "copies: two later frames of tier 0 add 3 each", "%llu",
	      (unsigned long long)(flow_copies(&s4) - before));
	put_entry(key_of(0, "10.0.0.7", "239.1.7.7"), 2, 0, 2, 1, 32);
	ingress("copies: a frame on the wrong interface", &s4, XDP_DROP, XM_R_RPF_FAIL);
	check(flow_copies(&s4) == before + 11, "copies: a dropped frame adds none", "%llu",
	      (unsigned long long)(flow_copies(&s4) - before));
	clear_entries();
}

/* The flow's cache slot keeps its entry until the forwarding epoch moves:
 * a change is seen from the first frame after the bump, never before. */
static void fwd_cache_tests(void)
{
	struct spec s4 = { .ttl = 64, .src = "10.0.0.8", .grp = "239.1.8.8" };
	struct xm_fwd_key k = key_of(0, "10.0.0.8", "239.1.8.8");

	set_iface(XM_FWD_ACCELERATE, 0, 0);
	put_entry(k, LO, 0, 1, 1, 0);
	ingress("cache: the flow's first frame, accelerated", &s4, XDP_REDIRECT,
		XM_R_ACCELERATED);
	ingress("cache: its second, from the slot", &s4, XDP_REDIRECT, XM_R_ACCELERATED);
	put_entry_nobump(k, 2, 0, 1, 1, 0);
	ingress("cache: an entry written without a bump is not seen yet", &s4, XDP_REDIRECT,
		XM_R_ACCELERATED);
	fwd_changed();
	ingress("cache: after the bump the next frame sees it (rpf_fail)", &s4, XDP_DROP,
		XM_R_RPF_FAIL);
	bpf_map__delete_elem(skel->maps.xm_fwd, &k, sizeof(k), 0);
	fwd_changed();
	ingress("cache: the entry deleted and bumped: to the kernel", &s4, XDP_PASS,
		XM_R_FORWARD);
	put_entry(k, LO, 0, 1, 1, 0);
	ingress("cache: a new entry after the bump: accelerated again", &s4, XDP_REDIRECT,
		XM_R_ACCELERATED);
	clear_entries();
}

static void ingress_tests(void)
{
	struct spec s4 = { .ttl = 64, .src = "10.0.0.1", .grp = "239.1.1.1" };
	struct spec s6 = { .v6 = 1, .ttl = 64, .src = "fd00::1", .grp = "ff0e::1:1" };
	struct spec sp;
	struct xm_fwd_lpm_key lk = { .prefixlen = 96 + 16 };
	struct xm_fwd_entry we = { .iif = LO, .ntiers = 1, .thr = { 1 } };

	set_iface(XM_FWD_ACCELERATE, 0, 0);
	set_config(0);
	ingress("no entry: to the kernel, forward", &s4, XDP_PASS, XM_R_FORWARD);

	put_entry(key_of(0, "10.0.0.1", "239.1.1.1"), LO, 0, 1, 1, 0);
	ingress("(S,G) entry: accelerated, XDP_REDIRECT", &s4, XDP_REDIRECT, XM_R_ACCELERATED);
	sp = s4, sp.ttl = 2;
	ingress("TTL 2 is still accelerated", &sp, XDP_REDIRECT, XM_R_ACCELERATED);
	sp = s4, sp.ttl = 1;
	ingress("TTL 1 goes to the kernel as ttl_expired", &sp, XDP_PASS, XM_R_TTL_EXPIRED);
	sp = s4, sp.ihl = 6;
	ingress("IP options go to the kernel", &sp, XDP_PASS, XM_R_FORWARD);
	sp = s4, sp.bad_csum = 1;
	ingress("a bad header checksum goes to the kernel", &sp, XDP_PASS, XM_R_FORWARD);
	sp = s4, sp.frag = 0x2000;
	ingress("a first fragment goes to the kernel", &sp, XDP_PASS, XM_R_FORWARD);
	sp = s4, sp.vlan = 7;
	ingress("tagged 7, entry untagged: rpf_fail", &sp, XDP_DROP, XM_R_RPF_FAIL);
	put_entry(key_of(0, "10.0.0.1", "239.1.1.1"), LO, 7, 1, 1, 0);
	ingress("tagged 7, entry on VLAN 7: accelerated", &sp, XDP_REDIRECT, XM_R_ACCELERATED);
	sp.vlan = 0;
	ingress("untagged, entry on VLAN 7: rpf_fail", &sp, XDP_DROP, XM_R_RPF_FAIL);
	put_entry(key_of(0, "10.0.0.1", "239.1.1.1"), 2, 0, 1, 1, 0);
	ingress("entry from another interface: rpf_fail, dropped", &s4, XDP_DROP, XM_R_RPF_FAIL);
	put_entry(key_of(0, "10.0.0.1", "239.1.1.1"), LO, 0, 0, 0, 0);
	ingress("entry without outgoing interfaces: no_oif, dropped", &s4, XDP_DROP, XM_R_NO_OIF);
	put_entry(key_of(0, "10.0.0.1", "239.1.1.1"), LO, 0, 1, 64, 0);
	ingress("TTL 64 at threshold 64: ttl_threshold, dropped", &s4, XDP_DROP,
		XM_R_TTL_THRESHOLD);
	put_entry(key_of(0, "10.0.0.1", "239.1.1.1"), LO, 0, 2, 1, 64);
	ingress("thresholds 1 and 64: TTL 64 takes the lower tier", &s4, XDP_REDIRECT,
		XM_R_ACCELERATED);
	clear_entries();
	put_entry(key_of(0, NULL, "239.1.1.1"), LO, 0, 1, 1, 0);
	sp = s4, sp.src = "10.9.9.9";
	ingress("(*,G) entry: any source accelerated", &sp, XDP_REDIRECT, XM_R_ACCELERATED);
	put_entry(key_of(0, "10.9.9.9", "239.1.1.1"), 2, 0, 1, 1, 0);
	ingress("(S,G) wins over (*,G)", &sp, XDP_DROP, XM_R_RPF_FAIL);
	clear_entries();

	sp = s4, sp.grp = "239.2.3.4";
	lk.group[2] = htonl(0xffff);
	inet_pton(AF_INET, "239.2.0.0", &lk.group[3]);
	bpf_map__update_elem(skel->maps.xm_fwd_wild, &lk, sizeof(lk), &we, sizeof(we), BPF_ANY);
	fwd_changed();
	ingress("prefix entry, trie off: to the kernel", &sp, XDP_PASS, XM_R_FORWARD);
	set_config(XM_CFG_FWD_WILD);
	ingress("prefix entry 239.2.0.0/16, trie on: accelerated", &sp, XDP_REDIRECT,
		XM_R_ACCELERATED);
	set_config(0);

	put_entry(key_of(1, "fd00::1", "ff0e::1:1"), LO, 0, 1, 1, 0);
	ingress("IPv6 (S,G): accelerated", &s6, XDP_REDIRECT, XM_R_ACCELERATED);
	sp = s6, sp.hbh = 1;
	ingress("IPv6 with a hop-by-hop header goes to the kernel", &sp, XDP_PASS, XM_R_FORWARD);
	set_iface(XM_FWD_FILTER, 0, 0);
	ingress("filter mode: the kernel forwards, whatever the entries", &s6, XDP_PASS,
		XM_R_FORWARD);
	clear_entries();
}

/* ---- egress ---- */

static int egress(__u16 egress_vlan, __u8 thr, const struct spec *s, struct frame *in,
		  struct frame *out)
{
	set_iface(XM_FWD_ACCELERATE, egress_vlan, thr);
	skel->bss->test_egress_ifindex = LO;
	build(s, in);
	return run(bpf_program__fd(skel->progs.xdp_mcast_egress_test), in, out);
}

static int ttl_at(const struct frame *f, int v6)
{
	return f->d[f->l3 + (v6 ? 7 : 8)];
}

/* Generation 0 of the policy tables: a boundary 239.0.0.0/8 on lo, and a
 * rule "deny out group 239.0.0.0/8" for ifindex (0: any interface). */
static void put_boundary(void)
{
	struct xm_lpm_group_key k = { .prefixlen = XM_LPM_GROUP_FIXED_BITS + XM_LPM_V4_BITS + 8,
				      .ifindex = LO };
	struct xm_pol_action a = { .hit = 0, .deny = 1 };

	k.group[2] = htonl(0xffff);
	k.group[3] = htonl(0xef000000);
	bpf_map__update_elem(skel->maps.xm_boundary, &k, sizeof(k), &a, sizeof(a), BPF_ANY);
}

static void put_out_rule(__u32 ifindex)
{
	struct xm_lpm_group_key gk = { .prefixlen = XM_LPM_GROUP_FIXED_BITS + XM_LPM_V4_BITS + 8,
				       .dir = XM_DIR_OUT, .ifindex = ifindex };
	struct xm_lpm_source_key sk = { .prefixlen = XM_LPM_SOURCE_FIXED_BITS, .node = 7 };
	struct xm_rule_node n = { .node = 7 };
	struct xm_pol_action a = { .hit = 1, .deny = 1 };

	gk.group[2] = htonl(0xffff);
	gk.group[3] = htonl(0xef000000);
	bpf_map__update_elem(skel->maps.xm_rule_grp, &gk, sizeof(gk), &n, sizeof(n), BPF_ANY);
	bpf_map__update_elem(skel->maps.xm_rule_src, &sk, sizeof(sk), &a, sizeof(a), BPF_ANY);
}

static void del_out_rule(__u32 ifindex)
{
	struct xm_lpm_group_key gk = { .prefixlen = XM_LPM_GROUP_FIXED_BITS + XM_LPM_V4_BITS + 8,
				       .dir = XM_DIR_OUT, .ifindex = ifindex };

	gk.group[2] = htonl(0xffff);
	gk.group[3] = htonl(0xef000000);
	bpf_map__delete_elem(skel->maps.xm_rule_grp, &gk, sizeof(gk), 0);
}

/* One copy through the egress code with a policy in force: verdict and
 * the egress reason it was counted under. */
static void egress_policy_case(const char *name, __u8 thr, const struct spec *s, int want,
			       __u32 r)
{
	struct frame in, out;
	__u64 before = reason_count(XM_DIR_OUT, r);
	int v = egress(0, thr, s, &in, &out);

	check(v == want && reason_count(XM_DIR_OUT, r) == before + 1, name,
	      "verdict %s (want %s), reason moved by %llu", verdict(v), verdict(want),
	      (unsigned long long)(reason_count(XM_DIR_OUT, r) - before));
}

static void egress_tests(void)
{
	struct spec s4 = { .ttl = 64, .src = "10.0.0.1", .grp = "239.1.1.1", .id = 0x1234 };
	struct spec s6 = { .v6 = 1, .ttl = 64, .src = "fd00::1", .grp = "ff0e::1:1" };
	struct spec sp;
	struct frame in, out;
	__u64 before;
	int v, i, bad = 0;

	/* The hop over 500 random headers, at ingress, where it is taken. */
	set_iface(XM_FWD_ACCELERATE, 0, 0);
	set_config(0);
	put_entry(key_of(0, NULL, "239.1.9.9"), LO, 0, 1, 1, 0);
	srand(5);
	for (i = 0; i < 500; i++) {
		sp = s4;
		sp.grp = "239.1.9.9";
		sp.ttl = 2 + rand() % 254;
		sp.id = rand();
		sp.frag = rand() & 0x4000;
		build(&sp, &in);
		v = run(bpf_program__fd(skel->progs.xdp_mcast), &in, &out);
		if (v != XDP_REDIRECT || !hop_taken(&sp, &in, &out))
			bad++;
	}
	check(!bad, "ingress IPv4: TTL one less and checksum valid for 500 random headers",
	      "%d wrong", bad);
	clear_entries();

	/* The copies: the hop is already off; only the link layer changes. */
	before = reason_count(XM_DIR_OUT, XM_R_ACCELERATED);
	v = egress(0, 0, &s4, &in, &out);
	out.l3 = 14;
	check(v == XDP_PASS && out.len == in.len && !memcmp(out.d + 6, IF_MAC, 6) &&
	      !memcmp(out.d, in.d, 6) && !memcmp(out.d + 12, in.d + 12, in.len - 12),
	      "egress IPv4: our MAC as source, TTL and everything else unchanged",
	      "verdict %s len %u ttl %d", verdict(v), out.len, ttl_at(&out, 0));
	check(reason_count(XM_DIR_OUT, XM_R_ACCELERATED) == before + 1,
	      "egress counts accelerated on the interface", "");

	v = egress(0, 0, &s6, &in, &out);
	out.l3 = 14;
	check(v == XDP_PASS && ttl_at(&out, 1) == 64 && out.len == in.len &&
	      !memcmp(out.d + 6, IF_MAC, 6) && !memcmp(out.d + 12, in.d + 12, in.len - 12),
	      "egress IPv6: our MAC, hop limit unchanged", "ttl %d", ttl_at(&out, 1));

	v = egress(20, 0, &s4, &in, &out);
	out.l3 = 18;
	check(v == XDP_PASS && out.len == in.len + 4 && out.d[12] == 0x81 && out.d[13] == 0 &&
	      out.d[14] == 0 && out.d[15] == 20 && out.d[16] == 0x08 && out.d[17] == 0 &&
	      !memcmp(out.d, in.d, 6) && !memcmp(out.d + 6, IF_MAC, 6) &&
	      !memcmp(out.d + 18, in.d + 14, in.len - 14),
	      "egress: untagged in, VLAN 20 out: tag pushed, MACs in front", "len %u->%u",
	      in.len, out.len);

	sp = s4, sp.vlan = 10, sp.pcp = 5;
	v = egress(20, 0, &sp, &in, &out);
	out.l3 = 18;
	check(v == XDP_PASS && out.len == in.len && out.d[14] == (5 << 5) && out.d[15] == 20 &&
	      !memcmp(out.d + 16, in.d + 16, in.len - 16),
	      "egress: VLAN 10 in, VLAN 20 out: id rewritten, PCP kept", "tci %02x%02x",
	      out.d[14], out.d[15]);

	sp = s6, sp.vlan = 10;
	v = egress(0, 0, &sp, &in, &out);
	out.l3 = 14;
	check(v == XDP_PASS && out.len == in.len - 4 && out.d[12] == 0x86 && out.d[13] == 0xdd &&
	      !memcmp(out.d, in.d, 6) && !memcmp(out.d + 6, IF_MAC, 6) &&
	      !memcmp(out.d + 14, in.d + 18, in.len - 18),
	      "egress: VLAN 10 in, untagged out: tag popped", "len %u->%u", in.len, out.len);

	/* The threshold holds against the TTL before the hop: a copy with 63
	 * arrived with 64. */
	set_config(XM_CFG_POLICY);
	sp = s4, sp.ttl = 63;
	egress_policy_case("egress: threshold 64 keeps back a copy that arrived with TTL 64",
			   64, &sp, XDP_DROP, XM_R_TTL_THRESHOLD);
	sp = s4, sp.ttl = 64;
	v = egress(0, 64, &sp, &in, &out);
	out.l3 = 14;
	check(v == XDP_PASS && ttl_at(&out, 0) == 64,
	      "egress: a copy that arrived with TTL 65 passes threshold 64, leaves with 64",
	      "verdict %s", verdict(v));

	/* The lowest TTL a copy can have: 1, after the hop from 2.  No
	 * threshold below 2 keeps it back; 2 does. */
	sp = s4, sp.ttl = 1;
	egress_policy_case("egress: threshold 1 lets a copy that arrived with TTL 2 leave", 1,
			   &sp, XDP_PASS, XM_R_ACCELERATED);
	egress_policy_case("egress: threshold 2 keeps back a copy that arrived with TTL 2", 2,
			   &sp, XDP_DROP, XM_R_TTL_THRESHOLD);
	sp.ttl = 2;
	egress_policy_case("egress: threshold 2 lets a copy that arrived with TTL 3 leave", 2,
			   &sp, XDP_PASS, XM_R_ACCELERATED);

	/* Boundaries and rules: looked up only when the interface or the
	 * policy has them, and then they decide. */
	put_boundary();
	put_out_rule(0);
	egress_policy_case("egress: no boundary flag, no outbound rules: the tables are "
			   "not looked up, the copy leaves", 0, &s4, XDP_PASS, XM_R_ACCELERATED);
	iface_pol_flags = XM_IFPOL_BOUNDARY;
	egress_policy_case("egress: a boundary on the interface drops the copy (boundary)",
			   0, &s4, XDP_DROP, XM_R_BOUNDARY);
	iface_pol_flags = 0;
	set_config(XM_CFG_POLICY | XM_CFG_RULES_OUT_ANY);
	egress_policy_case("egress: an outbound rule for any interface drops the copy (policy)",
			   0, &s4, XDP_DROP, XM_R_POLICY);
	del_out_rule(0);
	put_out_rule(LO);
	set_config(XM_CFG_POLICY);
	iface_pol_flags = XM_IFPOL_RULES_OUT;
	egress_policy_case("egress: an outbound rule of the interface drops the copy (policy)",
			   0, &s4, XDP_DROP, XM_R_POLICY);
	iface_pol_flags = XM_IFPOL_RULES_IN;
	egress_policy_case("egress: inbound rules only: the copy leaves", 0, &s4, XDP_PASS,
			   XM_R_ACCELERATED);
	iface_pol_flags = 0;
	set_config(0);
	egress_policy_case("egress: no policy in force: the copy leaves, boundary or not", 0,
			   &s4, XDP_PASS, XM_R_ACCELERATED);
}

int main(void)
{
	struct bpf_map *map;
	int err;

	libbpf_set_print(NULL);
	ncpus = libbpf_num_possible_cpus();
	skel = xdp_mcast_test_bpf__open();
	if (!skel) {
		printf("not ok - open the test object\n");
		return 1;
	}
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.xm_pol_hits, 1024);
	bpf_map__set_max_entries(skel->maps.xm_pol_desc, 1024);
	err = xdp_mcast_test_bpf__load(skel);
	if (err == -EPERM) {
		printf("ok - accelerator BPF tests # SKIP needs root\n");
		return 0;
	}
	check(!err, "load the programs with the accelerator through the verifier", "%s",
	      strerror(-err));
	if (err)
		return 1;
	{
		/* One port set, row 0: lo, every tier. */
		struct bpf_devmap_val dv = { .ifindex = LO };
		__u32 idx, t;
		int fd = bpf_map_create(BPF_MAP_TYPE_DEVMAP_HASH, "t", 4, sizeof(dv), 1, NULL);

		dv.bpf_prog.fd = bpf_program__fd(skel->progs.xdp_mcast_egress);
		err = fd < 0 ? -errno : bpf_map_update_elem(fd, &dv.ifindex, &dv, 0) ? -errno : 0;
		for (t = 0; !err && t < XM_FWD_TIERS; t++) {
			idx = t;
			if (bpf_map__update_elem(skel->maps.xm_fwd_ports, &idx, sizeof(idx), &fd,
						 sizeof(fd), BPF_ANY))
				err = -errno;
		}
		check(!err, "a port set with the devmap egress program in xm_fwd_ports", "%s",
		      strerror(-err));
		if (fd >= 0)
			close(fd);
	}
	ingress_tests();
	copies_tests();
	fwd_cache_tests();
	egress_tests();
	xdp_mcast_test_bpf__destroy(skel);
	return failures ? 1 : 0;
}
