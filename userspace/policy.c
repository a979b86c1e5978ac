// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy compiler.  The data path does two longest-prefix lookups: the
 * group in xm_rule_grp gives a node, the source in that node's part of
 * xm_rule_src gives the action.  Precedence (longest group, then longest
 * source, then interface over 'any') is settled here, by materialising:
 *
 * - an interface with rules of its own gets its own tables, holding its
 *   rules and the 'any' rules; other interfaces use the 'any' tables;
 * - a group node G holds every rule whose group contains G, the nearest
 *   first, because a packet that reaches G (its longest matching group
 *   prefix) is matched by exactly those rules;
 * - within a node, rules are taken in precedence order, and a rule's
 *   source prefix is inserted only if no prefix inserted before it covers
 *   it: a covered rule could never win.  Longest-prefix match over what is
 *   inserted then returns the winner for every source.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ifaces.h"
#include "log.h"
#include "pins.h"
#include "policy.h"
#include "util.h"

int xm_policy_maps_open(const char *pin_dir, struct xm_policy_maps *m)
{
	struct { int *fd; const char *name; } maps[] = {
		{ &m->config_fd, XM_MAP_CONFIG },
		{ &m->ifaces_fd, XM_MAP_IFACES },
		{ &m->boundary_fd, XM_MAP_BOUNDARY },
		{ &m->rule_grp_fd, XM_MAP_RULE_GRP },
		{ &m->rule_src_fd, XM_MAP_RULE_SRC },
		{ &m->hits_fd, XM_MAP_POL_HITS },
		{ &m->desc_fd, XM_MAP_POL_DESC },
	};
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(maps); i++)
		*maps[i].fd = -1;
	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		err = xm_pin_join(path, sizeof(path), pin_dir, maps[i].name);
		if (err)
			goto fail;
		*maps[i].fd = bpf_obj_get(path);
		if (*maps[i].fd < 0) {
			err = -errno;
			goto fail;
		}
	}
	if (bpf_obj_get_info_by_fd(m->hits_fd, &info, &len)) {
		err = -errno;
		goto fail;
	}
	m->hits_size = info.max_entries;
	return 0;
fail:
	xm_policy_maps_close(m);
	return err;
}

void xm_policy_maps_close(struct xm_policy_maps *m)
{
	int *fds[] = { &m->config_fd, &m->ifaces_fd, &m->boundary_fd, &m->rule_grp_fd,
		       &m->rule_src_fd, &m->hits_fd, &m->desc_fd };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int xm_policy_current(const struct xm_policy_maps *m, struct xm_config *cfg,
		      uint32_t *hit_base)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(m->config_fd, &zero, cfg))
		return -errno;
	*hit_base = (cfg->epoch & 1) * (m->hits_size / 2);
	return 0;
}

/* A prefix as the tries store it: IPv4 mapped into ::ffff:0:0/96. */
static void mapped(const struct xm_prefix *p, __be32 out[4], uint32_t *bits)
{
	if (p->family == XM_AF_INET) {
		out[0] = out[1] = 0;
		out[2] = htonl(0xffff);
		out[3] = p->addr[0];
		*bits = XM_LPM_V4_BITS + p->len;
	} else {
		memcpy(out, p->addr, 16);
		*bits = p->len;
	}
}

/* The source a rule matches: its own, or every source of its family. */
static struct xm_prefix rule_source(const struct xm_conf_rule *r)
{
	struct xm_prefix any = { .family = r->group.family };

	return r->source.family ? r->source : any;
}

struct build {
	const struct xm_policy_maps *m;
	const struct xm_conf *c;
	uint8_t gen;
	uint32_t hit_base;
	uint32_t nhits;
	uint32_t next_node;
	struct xm_policy_summary *sum;
};

static int add_desc(struct build *b, const struct xm_pol_desc *d, uint32_t *hit)
{
	struct xm_counter *zero;
	uint32_t idx;
	int ncpu = libbpf_num_possible_cpus(), err = 0;

	if (b->nhits >= b->m->hits_size / 2) {
		pr_err("policy too large: more than %u rules and boundaries\n",
		       b->m->hits_size / 2);
		return -E2BIG;
	}
	idx = b->hit_base + b->nhits;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(b->m->hits_fd, &idx, zero, BPF_ANY) ||
	    bpf_map_update_elem(b->m->desc_fd, &idx, d, BPF_ANY))
		err = -errno;
	free(zero);
	*hit = b->nhits++;
	return err;
}

static int map_full(int err, const char *what)
{
	if (err == -ENOSPC || err == -E2BIG || err == -ENOMEM)
		pr_err("policy too large for the %s table (raise --policy-size)\n", what);
	return err;
}

static int add_boundaries(struct build *b, uint32_t ifindex,
			  const struct xm_conf_phyint *pi)
{
	struct xm_lpm_group_key key;
	struct xm_pol_action act;
	struct xm_pol_desc d;
	uint32_t bits, hit;
	int i, err;

	for (i = 0; i < pi->nboundaries; i++) {
		const struct xm_prefix *p = &pi->boundaries[i];

		memset(&d, 0, sizeof(d));
		d.kind = XM_POL_BOUNDARY;
		d.deny = 1;
		d.ifindex = ifindex;
		d.group_family = p->family;
		d.group_len = p->len;
		memcpy(d.group, p->addr, sizeof(d.group));
		d.line = pi->pos.line;
		err = add_desc(b, &d, &hit);
		if (err)
			return err;

		memset(&key, 0, sizeof(key));
		key.gen = b->gen;
		key.ifindex = ifindex;
		mapped(p, key.group, &bits);
		key.prefixlen = XM_LPM_GROUP_FIXED_BITS + bits;
		act = (struct xm_pol_action){ .hit = b->hit_base + hit, .deny = 1 };
		if (bpf_map_update_elem(b->m->boundary_fd, &key, &act, BPF_ANY))
			return map_full(-errno, "boundary");
		b->sum->boundaries++;
	}
	return 0;
}

/* A rule in one table: the rule and whether it names the interface. */
struct trule {
	const struct xm_conf_rule *r;
	uint32_t hit;
	bool own;
};

/* Order of group prefixes for the nesting walk: family, address, then
 * shorter first, so a prefix comes before everything it contains. */
static int group_order(const struct xm_prefix *a, const struct xm_prefix *b)
{
	int d;

	if (a->family != b->family)
		return a->family - b->family;
	d = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (d)
		return d;
	return (int)a->len - (int)b->len;
}

static int trule_cmp(const void *x, const void *y)
{
	const struct trule *a = x, *b = y;
	struct xm_prefix sa = rule_source(a->r), sb = rule_source(b->r);
	int d = group_order(&a->r->group, &b->r->group);

	if (d)
		return d;
	if (sa.len != sb.len)		/* longer source first */
		return (int)sb.len - (int)sa.len;
	return (int)b->own - (int)a->own;	/* own before any */
}

/* Install the rules of one table: direction dir, interface ifindex (0 for
 * the 'any' table).  v is sorted by trule_cmp, so rules with the same group
 * are adjacent and already in precedence order. */
static int add_table(struct build *b, uint8_t dir, uint32_t ifindex,
		     struct trule *v, int n)
{
	struct xm_prefix inserted[256];
	int stack[64], depth = 0;	/* start index in v of each open group */
	int i, j, k, s, ninserted, err;

	for (i = 0; i < n; i = j) {
		const struct xm_prefix *g = &v[i].r->group;
		struct xm_lpm_group_key gk;
		struct xm_rule_node node;
		uint32_t bits;

		for (j = i; j < n && xm_prefix_equal(&v[j].r->group, g); j++)
			;
		while (depth && !xm_prefix_contains(&v[stack[depth - 1]].r->group, g))
			depth--;

		node.node = ((uint32_t)b->gen << 31) | b->next_node++;
		ninserted = 0;
		/* This group's rules, then each enclosing group's, nearest first. */
		for (s = depth; s >= 0; s--) {
			int from = s == depth ? i : stack[s];
			int to = s == depth ? j : from;

			if (s < depth)
				for (to = from; to < n &&
				     xm_prefix_equal(&v[to].r->group, &v[from].r->group); to++)
					;
			for (k = from; k < to; k++) {
				struct xm_prefix src = rule_source(v[k].r);
				struct xm_lpm_source_key sk = { 0 };
				struct xm_pol_action act = { 0 };
				bool covered = false;
				int q;

				for (q = 0; q < ninserted && !covered; q++)
					covered = xm_prefix_contains(&inserted[q], &src);
				if (covered)
					continue;
				if (ninserted == ARRAY_SIZE(inserted)) {
					pr_err("policy too complex: more than %zu source prefixes "
					       "apply to group node %u\n", ARRAY_SIZE(inserted),
					       node.node);
					return -E2BIG;
				}
				inserted[ninserted++] = src;
				sk.node = node.node;
				mapped(&src, sk.source, &bits);
				sk.prefixlen = XM_LPM_SOURCE_FIXED_BITS + bits;
				act.hit = b->hit_base + v[k].hit;
				act.deny = v[k].r->deny;
				act.audit = v[k].r->audit;
				if (bpf_map_update_elem(b->m->rule_src_fd, &sk, &act, BPF_ANY))
					return map_full(-errno, "rule source");
				b->sum->source_entries++;
			}
		}

		memset(&gk, 0, sizeof(gk));
		gk.gen = b->gen;
		gk.dir = dir;
		gk.ifindex = ifindex;
		mapped(g, gk.group, &bits);
		gk.prefixlen = XM_LPM_GROUP_FIXED_BITS + bits;
		err = bpf_map_update_elem(b->m->rule_grp_fd, &gk, &node, BPF_ANY);
		if (err)
			return map_full(-errno, "rule group");
		b->sum->group_nodes++;

		if (depth == ARRAY_SIZE(stack)) {
			pr_err("policy too deep: more than %zu nested group prefixes\n",
			       ARRAY_SIZE(stack));
			return -E2BIG;
		}
		stack[depth++] = i;
	}
	return 0;
}

/* Build and install the table of (dir, iface); iface "" is the 'any' one. */
static int add_rules_for(struct build *b, uint8_t dir, const char *iface,
			 uint32_t ifindex, const uint32_t *hits)
{
	const struct xm_conf *c = b->c;
	struct trule *v = calloc(c->nrules ? c->nrules : 1, sizeof(*v));
	int i, n = 0, err;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < c->nrules; i++) {
		const struct xm_conf_rule *r = &c->rules[i];

		if (r->dir != dir)
			continue;
		if (r->iface[0] && strcmp(r->iface, iface))
			continue;
		v[n++] = (struct trule){ .r = r, .hit = hits[i], .own = r->iface[0] != 0 };
	}
	qsort(v, n, sizeof(*v), trule_cmp);
	err = add_table(b, dir, ifindex, v, n);
	free(v);
	return err;
}

/* Every key of an LPM map whose generation byte is gen, deleted.  The
 * generation is the first byte after prefixlen in the group keys; the
 * source keys carry it as the top bit of the node. */
static int clear_gen(int fd, size_t key_size, uint8_t gen, bool node_key)
{
	char *keys = NULL, *grown, cur[64], next[64];
	size_t n = 0, cap = 0, i;
	void *prev = NULL;
	int err = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		uint8_t g;

		memcpy(cur, next, key_size);
		prev = cur;
		if (node_key)
			g = ((struct xm_lpm_source_key *)cur)->node >> 31;
		else
			g = ((struct xm_lpm_group_key *)cur)->gen;
		if (g != gen)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			grown = realloc(keys, cap * key_size);
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		memcpy(keys + n * key_size, cur, key_size);
		n++;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

/* Zero pol[gen] of every interface. */
static int clear_ifaces_gen(int fd, uint8_t gen)
{
	struct xm_iface *v, zero = { 0 };
	int n, i, err = 0;

	n = xm_ifaces_read_all(fd, &v);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		uint32_t ifindex = i;

		if (!memcmp(&v[i].pol[gen], &zero.pol[gen], sizeof(zero.pol[gen])))
			continue;
		memset(&v[i].pol[gen], 0, sizeof(v[i].pol[gen]));
		if (bpf_map_update_elem(fd, &ifindex, &v[i], BPF_ANY))
			err = -errno;
	}
	free(v);
	return err;
}

static int clear_generation(const struct xm_policy_maps *m, uint8_t gen)
{
	int err = 0, e;

	e = clear_ifaces_gen(m->ifaces_fd, gen);
	err = err ? err : e;
	e = clear_gen(m->boundary_fd, sizeof(struct xm_lpm_group_key), gen, false);
	err = err ? err : e;
	e = clear_gen(m->rule_grp_fd, sizeof(struct xm_lpm_group_key), gen, false);
	err = err ? err : e;
	e = clear_gen(m->rule_src_fd, sizeof(struct xm_lpm_source_key), gen, true);
	return err ? err : e;
}

/* Wait until no packet can still be using the generation just retired:
 * XDP and TC programs run inside an RCU read-side section, which lasts
 * microseconds; this waits for far longer than any of them. */
static void retire_wait(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static bool names_iface(const struct xm_conf *c, const char *iface, uint8_t dir)
{
	int i;

	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].dir == dir && !strcmp(c->rules[i].iface, iface))
			return true;
	return false;
}

/* Every interface the policy names: phyints and rule interfaces. */
static int add_interfaces(struct build *b, xm_ifindex_fn ifindex_of, void *ctx,
			  const uint32_t *hits)
{
	const struct xm_conf *c = b->c;
	struct xm_iface entry;
	struct xm_ifpol val;
	uint32_t ifindex;
	int i, d, err;

	for (i = 0; i < c->nphyints + c->nrules; i++) {
		const struct xm_conf_phyint *pi = i < c->nphyints ? &c->phyints[i] : NULL;
		const char *name = pi ? pi->name : c->rules[i - c->nphyints].iface;
		int j;
		bool seen = false;

		if (!name[0])
			continue;
		for (j = 0; j < c->nphyints && !pi; j++)
			seen |= !strcmp(c->phyints[j].name, name);
		for (j = c->nphyints; j < i && !seen; j++)
			seen |= !strcmp(c->rules[j - c->nphyints].iface, name);
		if (seen)
			continue;	/* done already */

		ifindex = ifindex_of(name, ctx);
		if (!ifindex) {
			pr_err("interface '%s' of the policy does not exist\n", name);
			return -ENODEV;
		}
		memset(&val, 0, sizeof(val));
		if (pi) {
			val.ttl_threshold = pi->ttl_threshold > 0 ? pi->ttl_threshold : 0;
			if (pi->nboundaries)
				val.flags |= XM_IFPOL_BOUNDARY;
			err = add_boundaries(b, ifindex, pi);
			if (err)
				return err;
		}
		for (d = XM_DIR_IN; d <= XM_DIR_OUT; d++) {
			if (!names_iface(c, name, d))
				continue;
			val.flags |= d == XM_DIR_IN ? XM_IFPOL_RULES_IN : XM_IFPOL_RULES_OUT;
			err = add_rules_for(b, d, name, ifindex, hits);
			if (err)
				return err;
		}
		if (bpf_map_lookup_elem(b->m->ifaces_fd, &ifindex, &entry)) {
			pr_err("interface '%s' (ifindex %u) is beyond the interface table "
			       "(--max-ifindex)\n", name, ifindex);
			return -ERANGE;
		}
		entry.pol[b->gen] = val;
		if (bpf_map_update_elem(b->m->ifaces_fd, &ifindex, &entry, BPF_ANY))
			return -errno;
	}
	return 0;
}

int xm_policy_apply(const struct xm_policy_maps *m, const struct xm_conf *c,
		    xm_ifindex_fn ifindex_of, void *ctx,
		    struct xm_policy_summary *sum)
{
	struct xm_policy_summary dummy;
	struct xm_config cfg, next;
	struct build b = { .m = m, .c = c };
	uint32_t *hits = NULL, zero = 0, base;
	int i, d, err;

	sum = sum ? sum : &dummy;
	memset(sum, 0, sizeof(*sum));
	err = xm_policy_current(m, &cfg, &base);
	if (err)
		return err;
	b.gen = (cfg.epoch + 1) & 1;
	b.hit_base = b.gen * (m->hits_size / 2);
	b.sum = sum;

	err = clear_generation(m, b.gen);	/* leftovers of a failed apply */
	if (err)
		return err;
	hits = calloc(c->nrules ? c->nrules : 1, sizeof(*hits));
	if (!hits)
		return -ENOMEM;
	for (i = 0; i < c->nrules && !err; i++) {
		const struct xm_conf_rule *r = &c->rules[i];
		struct xm_pol_desc desc = {
			.kind = XM_POL_RULE, .dir = r->dir, .deny = r->deny, .audit = r->audit,
			.group_family = r->group.family, .group_len = r->group.len,
			.source_family = r->source.family, .source_len = r->source.len,
			.line = r->pos.line,
		};

		if (r->iface[0])
			desc.ifindex = ifindex_of(r->iface, ctx);
		memcpy(desc.group, r->group.addr, sizeof(desc.group));
		memcpy(desc.source, r->source.addr, sizeof(desc.source));
		err = add_desc(&b, &desc, &hits[i]);
	}
	sum->rules = c->nrules;
	if (!err)
		err = add_interfaces(&b, ifindex_of, ctx, hits);
	for (d = XM_DIR_IN; d <= XM_DIR_OUT && !err; d++)
		err = add_rules_for(&b, d, "", 0, hits);
	free(hits);
	if (err) {
		clear_generation(m, b.gen);
		return err;
	}

	next = (struct xm_config){
		.epoch = cfg.epoch + 1,
		.flags = (cfg.flags & ~XM_CFG_RULES_OUT_ANY) | XM_CFG_POLICY,
		.nhits = b.nhits,
		.fwd_epoch = cfg.fwd_epoch,
	};
	for (i = 0; i < c->nrules; i++)
		if (!c->rules[i].iface[0] && c->rules[i].dir == XM_DIR_OUT)
			next.flags |= XM_CFG_RULES_OUT_ANY;
	if (bpf_map_update_elem(m->config_fd, &zero, &next, BPF_ANY)) {
		err = -errno;
		clear_generation(m, b.gen);
		return err;
	}
	sum->epoch = next.epoch;
	retire_wait();
	return clear_generation(m, !b.gen);
}

int xm_policy_clear(const struct xm_policy_maps *m)
{
	struct xm_config cfg;
	uint32_t zero = 0, base;
	int err;

	err = xm_policy_current(m, &cfg, &base);
	if (err)
		return err;
	cfg.epoch++;
	cfg.flags &= ~(XM_CFG_POLICY | XM_CFG_RULES_OUT_ANY);
	cfg.nhits = 0;
	if (bpf_map_update_elem(m->config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	retire_wait();
	err = clear_generation(m, 0);
	return err ? err : clear_generation(m, 1);
}
