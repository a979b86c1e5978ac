// SPDX-License-Identifier: GPL-2.0-only
/*
 * The synthetic policies of the policy benchmark, written as
 * xdp-mcast.conf text and installed the way the daemon does it: parsed by
 * xm_conf_load_buffer(), compiled into the maps by xm_policy_apply().
 *
 * A policy of size N is what each direction's decision faces: B = N / 10
 * boundaries on lo (a boundary applies both ways) and R = N - B rules of
 * that direction.  Every rule is written twice, "in" and "out", so that the
 * XDP program (in) and the TC program (out) each meet N entries; the file
 * holds 2R rules and B boundaries.
 *
 *  - The PATH_RULES rules of bench.h come first: they decide the measured
 *    packets, which pass through a /8, /16, /24 and /32 group node and
 *    several source prefixes before an allow wins.
 *  - The other R - PATH_RULES rules, in turn: deny /32 group; allow /32
 *    group from a /32 source; deny /24 group; allow /24 group from a /24
 *    source; deny /16 group (no source the first time a /16 is used, a /24
 *    source after); allow /16 group from a /32 source.  /32 and /24 groups
 *    are spread over 232.0.0.0/5 by a bijection, so 239.1.1.1 lies among
 *    them as densely as any group (the tries are as deep on its path as
 *    anywhere); /16 groups are 228.0.0.0/6, where no /32 or /24 group
 *    nests under them and every /16 carries tens of sources.
 *  - Boundaries: "local" (239.255.0.0/16), "organization"
 *    (239.192.0.0/14), then /24s spread over 232.0.0.0/5, none holding
 *    239.1.1.1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "conf.h"
#include "log.h"
#include "util.h"

#define GROUPS_32_24	0xe8000000u	/* 232.0.0.0/5 */
#define GROUPS_16	0xe4000000u	/* 228.0.0.0/6 */
#define GROUPS_16_COUNT	1024		/* /16s in it */
#define SCOPE_PREFIXES	200		/* per scope line: 17 bytes each, < XM_CONF_LINE_MAX */

/* What no filler group may be: the measured group and its /24. */
#define PATH_GROUP_32	0xef010101u	/* 239.1.1.1 */
#define PATH_GROUP_24	0xef010100u	/* 239.1.1.0/24 */

static const char *const path_rules[PATH_RULES] = {
	[PATH_8_DENY]   = "deny %s any group 239.0.0.0/8",
	[PATH_16_ALLOW] = "allow %s any group 239.1.0.0/16 source 192.0.2.0/24",
	[PATH_24_ALLOW] = "allow %s any group 239.1.1.0/24 source 198.18.0.0/15",
	[PATH_32_DENY]  = "deny %s any group 239.1.1.1 source 203.0.113.0/24",
	[PATH_32_ALLOW] = "allow %s any group 239.1.1.1 source 192.0.2.1",
};

static const char *const dir_word[2] = { [XM_DIR_IN] = "in", [XM_DIR_OUT] = "out" };

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A bijection of [0, 2^bits) that scatters consecutive k: odd multipliers
 * and xor-shifts are each invertible modulo 2^bits. */
static __u32 spread(__u32 k, int bits)
{
	__u32 m = (1u << bits) - 1;

	k = (k * 0x9e3779b1u) & m;
	k ^= k >> (bits / 2);
	k = (k * 0x85ebca6bu) & m;
	k ^= k >> (bits / 2);
	return k;
}

static const char *ip4(__u32 host, char *buf)
{
	__be32 a = htonl(host);

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Address generators, each walking its own counter and skipping the
 * measured packet's group prefixes. */
struct gen {
	__u32 k32, k24, k16, kb;
};

static __u32 next_group_32(struct gen *g)
{
	__u32 a;

	do
		a = GROUPS_32_24 | spread(g->k32++, 27);
	while (a == PATH_GROUP_32);
	return a;
}

static __u32 next_group_24(struct gen *g)
{
	__u32 a;

	do
		a = GROUPS_32_24 | spread(g->k24++, 19) << 8;
	while (a == PATH_GROUP_24);
	return a;
}

static __u32 next_boundary_24(struct gen *g)
{
	__u32 a;

	do
		a = GROUPS_32_24 | spread(g->kb++, 19) << 8;
	while (a == PATH_GROUP_24);
	return a;
}

/* Filler rule j, without its direction: a format with one %s for it. */
static void filler_rule(struct gen *g, int j, char *buf, size_t len)
{
	char grp[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN];
	__u32 k, h, a;

	switch (j % 6) {
	case 0:
		snprintf(buf, len, "deny %%s any group %s", ip4(next_group_32(g), grp));
		break;
	case 1:
		a = next_group_32(g);
		snprintf(buf, len, "allow %%s any group %s source %s", ip4(a, grp),
			 ip4(0x0a000000u | spread(g->k32, 24), src));
		break;
	case 2:
		snprintf(buf, len, "deny %%s any group %s/24", ip4(next_group_24(g), grp));
		break;
	case 3:
		a = next_group_24(g);
		snprintf(buf, len, "allow %%s any group %s/24 source %s/24", ip4(a, grp),
			 ip4(0xac100000u | spread(g->k24, 12) << 8, src));
		break;
	default:
		/* One counter for both /16 kinds: (k mod 1024, k / 1024) never
		 * repeats, so neither does (group, source). */
		k = g->k16++;
		h = k / GROUPS_16_COUNT;
		a = GROUPS_16 | spread(k % GROUPS_16_COUNT, 10) << 16;
		if (j % 6 == 4 && h == 0)
			snprintf(buf, len, "deny %%s any group %s/16", ip4(a, grp));
		else if (j % 6 == 4)
			snprintf(buf, len, "deny %%s any group %s/16 source %s/24", ip4(a, grp),
				 ip4(0x64400000u | h << 8, src));
		else
			snprintf(buf, len, "allow %%s any group %s/16 source %s", ip4(a, grp),
				 ip4(0xc0a80000u | h << 8 | (k & 0xff), src));
		break;
	}
}

static void emit_both(FILE *f, const char *fmt)
{
	int d;

	for (d = XM_DIR_IN; d <= XM_DIR_OUT; d++) {
		fprintf(f, fmt, dir_word[d]);
		fputc('\n', f);
	}
}

/* The policy text; *len its length.  NULL when out of memory. */
static char *policy_text(int size, int boundaries, int rules, size_t *len)
{
	struct gen g = { 0 };
	char *text = NULL, line[160], pfx[INET_ADDRSTRLEN];
	int i, d, j, nscopes;
	FILE *f;

	f = open_memstream(&text, len);
	if (!f)
		return NULL;
	fprintf(f, "# bench_xdp: %d rules and boundaries each way\n", size);

	/* Boundaries: two predefined scopes, the rest in scopes of ours. */
	nscopes = 0;
	for (i = 2; i < boundaries; i++) {
		if ((i - 2) % SCOPE_PREFIXES == 0)
			fprintf(f, "%sscope bnd%d", i > 2 ? "\n" : "", nscopes++);
		fprintf(f, " %s/24", ip4(next_boundary_24(&g), pfx));
	}
	if (nscopes)
		fputc('\n', f);
	if (boundaries) {
		fprintf(f, "phyint %s ttl-threshold 1 boundary local", BENCH_IFNAME);
		if (boundaries > 1)
			fprintf(f, " boundary organization");
		for (i = 0; i < nscopes; i++)
			fprintf(f, " boundary bnd%d", i);
		fputc('\n', f);
	}

	/* Rules: the path first, in then out, so that rule i of the file is
	 * rule i of the xm_conf and its hit counter is hit_base + i. */
	for (d = XM_DIR_IN; d <= XM_DIR_OUT && rules; d++)
		for (i = 0; i < PATH_RULES; i++) {
			fprintf(f, path_rules[i], dir_word[d]);
			fputc('\n', f);
		}
	for (j = 0; j < rules - PATH_RULES; j++) {
		filler_rule(&g, j, line, sizeof(line));
		emit_both(f, line);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static __u32 roundup_pow2(__u32 v)
{
	__u32 p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int bench_policy_size_maps(struct xdp_mcast_bpf *skel, int size)
{
	/* Entries per LPM map: every rule of both directions, once more for
	 * the group nodes that inherit an enclosing rule, and room. */
	__u32 npol = roundup_pow2(2 * (__u32)size + size / 4 + 64);
	int err;

	if (npol < XM_POLICY_DEFAULT)
		npol = XM_POLICY_DEFAULT;
	err = bpf_map__set_max_entries(skel->maps.xm_boundary, npol);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.xm_rule_grp, npol);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.xm_rule_src, npol);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.xm_pol_hits, 2 * npol);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.xm_pol_desc, 2 * npol);
	return err;
}

static uint32_t ifindex_of(const char *name, void *ctx)
{
	return strcmp(name, BENCH_IFNAME) ? 0 : BENCH_IFINDEX;
}

int bench_policy_install(struct xdp_mcast_bpf *skel, int size,
			 struct bench_policy *p)
{
	struct xm_policy_maps m = {
		.config_fd = bpf_map__fd(skel->maps.xm_config),
		.ifaces_fd = bpf_map__fd(skel->maps.xm_ifaces),
		.boundary_fd = bpf_map__fd(skel->maps.xm_boundary),
		.rule_grp_fd = bpf_map__fd(skel->maps.xm_rule_grp),
		.rule_src_fd = bpf_map__fd(skel->maps.xm_rule_src),
		.hits_fd = bpf_map__fd(skel->maps.xm_pol_hits),
		.desc_fd = bpf_map__fd(skel->maps.xm_pol_desc),
		.hits_size = bpf_map__max_entries(skel->maps.xm_pol_hits),
	};
	struct xm_conf_errors errs;
	struct xm_conf *c = NULL;
	struct xm_config cfg;
	char name[64];
	double t0;
	char *text;
	int err, i;

	memset(p, 0, sizeof(*p));
	p->size = size;
	p->boundaries = size / 10;
	p->rules = size - p->boundaries;
	if (size && p->rules < PATH_RULES) {
		pr_err("a policy has 0 or at least %d rules and boundaries, not %d\n",
		       PATH_RULES, size);
		return -EINVAL;
	}
	text = policy_text(size, p->boundaries, p->rules, &p->text_len);
	if (!text)
		return -ENOMEM;

	snprintf(name, sizeof(name), "bench-policy-%d.conf", size);
	t0 = bench_now();
	err = xm_conf_load_buffer(name, text, p->text_len, NULL, &c, &errs);
	p->parse_s = bench_now() - t0;
	free(text);
	if (err) {
		for (i = 0; i < errs.count && i < XM_CONF_MAX_ERRORS; i++)
			pr_err("%s\n", errs.msg[i]);
		pr_err("policy of %d: the config parser refused it: %s\n", size,
		       strerror(-err));
		return err;
	}
	if (c->nrules != 2 * p->rules ||
	    (size && (c->rules[PATH_32_ALLOW].group.len != 32 ||
		      c->rules[PATH_RULES + PATH_32_ALLOW].dir != XM_DIR_OUT))) {
		pr_err("policy of %d: parsed %d rules, expected %d with the path first\n",
		       size, c->nrules, 2 * p->rules);
		xm_conf_free(c);
		return -EPROTO;
	}

	t0 = bench_now();
	err = xm_policy_apply(&m, c, ifindex_of, NULL, &p->sum);
	p->apply_s = bench_now() - t0;
	xm_conf_free(c);
	if (err) {
		pr_err("policy of %d: cannot install it: %s\n", size, strerror(-err));
		return err;
	}
	if (p->sum.boundaries != p->boundaries) {
		pr_err("policy of %d: %d boundaries installed, expected %d\n", size,
		       p->sum.boundaries, p->boundaries);
		return -EPROTO;
	}
	return xm_policy_current(&m, &cfg, &p->hit_base);
}

long bench_policy_hit(const struct bench_policy *p, int dir,
		      enum bench_path_rule r)
{
	if (!p->rules)
		return -1;
	return (long)p->hit_base + dir * PATH_RULES + r;
}
