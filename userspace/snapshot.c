// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "snapshot.h"
#include "util.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

static int open_opt(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (xm_pin_join(path, sizeof(path), dir, name))
		return -1;
	return bpf_obj_get(path);
}

static uint32_t capacity(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	return fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

int xm_reader_open(struct xm_reader *r, const char *pin_dir)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->members_fd = r->member_src_fd = r->snoop_fd = -1;
	r->fwd_fd = r->fwd_wild_fd = r->fwd_ports_fd = -1;
	r->ncpu = libbpf_num_possible_cpus();
	if (r->ncpu < 0)
		return r->ncpu;
	err = xm_state_open(pin_dir, &r->st);
	if (err)
		return err;
	r->members_fd = open_opt(pin_dir, XM_MAP_MEMBERS);
	r->member_src_fd = open_opt(pin_dir, XM_MAP_MEMBER_SRC);
	r->snoop_fd = open_opt(pin_dir, XM_MAP_SNOOP_CTR);
	r->fwd_fd = open_opt(pin_dir, XM_MAP_FWD);
	r->fwd_wild_fd = open_opt(pin_dir, XM_MAP_FWD_WILD);
	r->fwd_ports_fd = open_opt(pin_dir, XM_MAP_FWD_PORTS);
	err = xm_walker_open(&r->walk, r->st.ifaces_fd, r->st.flows_fd, r->st.flow_cache_fd);
	if (err)
		xm_reader_close(r);
	return err;
}

void xm_reader_close(struct xm_reader *r)
{
	int *fds[] = { &r->members_fd, &r->member_src_fd, &r->snoop_fd, &r->fwd_fd,
		       &r->fwd_wild_fd, &r->fwd_ports_fd };
	size_t i;

	xm_walker_close(r->walk);
	r->walk = NULL;
	xm_order_free(&r->members_order);
	xm_order_free(&r->srcs_order);
	free(r->by_group);
	r->by_group = NULL;
	r->by_group_ok = false;
	xm_state_close(&r->st);
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/*
 * Every entry of a hash map: keys into *keys, values (vals_per_key of vsz
 * bytes each: the CPUs of a per-CPU map) into *vals.  Batched lookups,
 * and one key at a time where the kernel has no batches for the map.
 */
#define BATCH 4096

static int grow2(void **k, void **v, size_t *cap, size_t need, size_t ksz, size_t vsz)
{
	void *nk, *nv;
	size_t c = *cap;

	if (need <= c)
		return 0;
	while (c < need)
		c = c ? 2 * c : BATCH;
	nk = realloc(*k, c * ksz);
	if (!nk)
		return -ENOMEM;
	*k = nk;
	nv = realloc(*v, c * vsz);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

static int read_map(int fd, size_t ksz, size_t vsz, void **keys, void **vals)
{
	void *k = NULL, *v = NULL;
	size_t n = 0, cap = 0;
	__u32 in_batch, out_batch, count;
	void *in = NULL;
	char cur[64], next[64];
	void *prev = NULL;
	int rc, err = 0;

	for (;;) {
		err = grow2(&k, &v, &cap, n + BATCH, ksz, vsz);
		if (err)
			goto fail;
		count = BATCH;
		rc = bpf_map_lookup_batch(fd, in, &out_batch, (char *)k + n * ksz,
					  (char *)v + n * vsz, &count, NULL);
		if (rc && errno != ENOENT) {
			err = -errno;
			break;
		}
		n += count;
		if (rc)
			goto done;
		in_batch = out_batch;
		in = &in_batch;
	}
	if (err != -EINVAL && err != -EOPNOTSUPP && err != -ENOTSUPP)
		goto fail;
	n = 0;	/* no batches for this map: one key at a time */
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(cur, next, ksz);
		prev = cur;
		err = grow2(&k, &v, &cap, n + 1, ksz, vsz);
		if (err)
			goto fail;
		if (bpf_map_lookup_elem(fd, cur, (char *)v + n * vsz))
			continue;	/* gone meanwhile */
		memcpy((char *)k + n * ksz, cur, ksz);
		n++;
	}
done:
	*keys = k;
	*vals = v;
	return (int)n;
fail:
	free(k);
	free(v);
	return err;
}

int xm_member_key_cmp(const struct xm_member_key *a, const struct xm_member_key *b)
{
	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	if (a->vlan != b->vlan)
		return a->vlan < b->vlan ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->group, b->group, sizeof(a->group));
}

static int member_src_key_cmp(const struct xm_member_src_key *a,
			      const struct xm_member_src_key *b)
{
	int d = xm_member_key_cmp(&a->g, &b->g);

	return d ? d : memcmp(a->source, b->source, sizeof(a->source));
}

/* qsort_r context: the keys an order sorts. */
struct order_ctx {
	const char *keys;
	size_t ksz;
	int (*cmp)(const void *, const void *);
};

static int index_cmp(const void *a, const void *b, void *arg)
{
	const struct order_ctx *c = arg;

	return c->cmp(c->keys + *(const uint32_t *)a * c->ksz,
		      c->keys + *(const uint32_t *)b * c->ksz);
}

static int member_cmp_v(const void *a, const void *b)
{
	return xm_member_key_cmp(a, b);
}

static int member_src_cmp_v(const void *a, const void *b)
{
	return member_src_key_cmp(a, b);
}

void xm_order_free(struct xm_order *o)
{
	free(o->keys);
	free(o->perm);
	memset(o, 0, sizeof(*o));
}

int xm_order_sort(struct xm_order *o, const void *keys, uint32_t n, size_t ksz,
		  int (*cmp)(const void *, const void *), bool *same)
{
	struct order_ctx c = { keys, ksz, cmp };
	uint32_t i;

	*same = o->keys && o->n == n && !memcmp(o->keys, keys, (size_t)n * ksz);
	if (*same)
		return 0;
	free(o->keys);
	free(o->perm);
	o->n = 0;
	o->keys = malloc(n ? (size_t)n * ksz : 1);
	o->perm = malloc((n ? n : 1) * sizeof(*o->perm));
	if (!o->keys || !o->perm) {
		free(o->keys);
		free(o->perm);
		o->keys = NULL;
		o->perm = NULL;
		return -ENOMEM;
	}
	memcpy(o->keys, keys, (size_t)n * ksz);
	for (i = 0; i < n; i++)
		o->perm[i] = i;
	qsort_r(o->perm, n, sizeof(*o->perm), index_cmp, &c);
	o->n = n;
	return 0;
}

uint64_t xm_group_hash(uint8_t family, const __be32 *g)
{
	uint64_t w[2], h = family;

	memcpy(w, g, sizeof(w));
	h = (h ^ w[0]) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 32) ^ w[1]) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

/* The groups with members, hashed to where they start in by_group. */
static int index_groups(struct xm_snapshot *s)
{
	uint32_t size = 64, i, j, h;

	while (size < 2 * (uint32_t)s->nmembers)
		size *= 2;
	s->group_slots = calloc(size, sizeof(*s->group_slots));
	if (!s->group_slots)
		return -ENOMEM;
	s->group_slots_size = size;
	for (i = 0; i < (uint32_t)s->nmembers; i++) {
		const struct xm_member_key *m = &s->members[s->by_group[i]].key;
		const struct xm_member_key *p = i ? &s->members[s->by_group[i - 1]].key : NULL;
		struct xm_group_slot *g;

		if (p && xm_same_group(p->family, p->group, m->family, m->group))
			continue;
		h = xm_group_hash(m->family, m->group) & (size - 1);
		while (s->group_slots[h].family)
			h = (h + 1) & (size - 1);
		g = &s->group_slots[h];
		g->family = m->family;
		memcpy(g->group, m->group, sizeof(g->group));
		g->first = i;
		/* No source listed: EXCLUDE wants every source, INCLUDE none. */
		for (j = i; j < (uint32_t)s->nmembers; j++) {
			const struct xm_member_entry *e = &s->members[s->by_group[j]];

			if (!xm_same_group(e->key.family, e->key.group, m->family, m->group))
				break;
			if (e->nsrc) {
				g->fixed = -1;
				break;
			}
			g->fixed += e->m.filter_mode == XM_FILTER_EXCLUDE;
		}
	}
	return 0;
}

bool xm_same_group(uint8_t fa, const __be32 *a, uint8_t fb, const __be32 *b)
{
	return fa == fb && !memcmp(a, b, 16);
}

static int group_cmp(uint8_t fa, const __be32 *a, uint8_t fb, const __be32 *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a, b, 16);
}

/* qsort_r context: the members being indexed. */
static int by_group_cmp(const void *a, const void *b, void *ctx)
{
	const struct xm_member_entry *m = ctx;
	const struct xm_member_key *x = &m[*(const uint32_t *)a].key;
	const struct xm_member_key *y = &m[*(const uint32_t *)b].key;

	return group_cmp(x->family, x->group, y->family, y->group);
}

static int read_members(struct xm_reader *r, struct xm_snapshot *s)
{
	struct xm_member_key *mk = NULL;
	struct xm_member *mv = NULL;
	struct xm_member_src_key *sk = NULL;
	struct xm_member_src *sv = NULL;
	bool same_members, same_srcs;
	int n, ns, i, k, err = 0;

	if (r->members_fd < 0 || r->member_src_fd < 0)
		return 0;
	n = read_map(r->members_fd, sizeof(*mk), sizeof(*mv), (void **)&mk, (void **)&mv);
	if (n < 0)
		return n;
	ns = read_map(r->member_src_fd, sizeof(*sk), sizeof(*sv), (void **)&sk, (void **)&sv);
	if (ns < 0) {
		err = ns;
		goto out;
	}
	err = xm_order_sort(&r->members_order, mk, n, sizeof(*mk), member_cmp_v, &same_members) ?:
	      xm_order_sort(&r->srcs_order, sk, ns, sizeof(*sk), member_src_cmp_v, &same_srcs);
	if (err)
		goto out;
	r->by_group_ok &= same_members;
	s->members = calloc(n ? n : 1, sizeof(*s->members));
	s->by_group = malloc((n ? n : 1) * sizeof(*s->by_group));
	s->srcs = calloc(ns ? ns : 1, sizeof(*s->srcs));
	if (!s->members || !s->by_group || !s->srcs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint32_t p = r->members_order.perm[i];

		s->members[i].key = mk[p];
		s->members[i].m = mv[p];
	}
	for (i = 0; i < ns; i++) {
		uint32_t p = r->srcs_order.perm[i];

		s->srcs[i].key = sk[p];
		s->srcs[i].v = sv[p];
	}
	/* Both sorted by membership: one merge gives each its sources. */
	for (i = k = 0; i < n; i++) {
		while (k < ns && xm_member_key_cmp(&s->srcs[k].key.g, &s->members[i].key) < 0)
			k++;
		s->members[i].first_src = k;
		while (k < ns && !xm_member_key_cmp(&s->srcs[k].key.g, &s->members[i].key))
			k++;
		s->members[i].nsrc = k - s->members[i].first_src;
	}
	/* The memberships by group: as the last read's while the same
	 * memberships exist. */
	if (!r->by_group_ok) {
		uint32_t *bg = realloc(r->by_group, (n ? n : 1) * sizeof(*bg));

		if (!bg) {
			err = -ENOMEM;
			goto out;
		}
		r->by_group = bg;
		for (i = 0; i < n; i++)
			bg[i] = i;
		qsort_r(bg, n, sizeof(*bg), by_group_cmp, s->members);
		r->by_group_ok = true;
	}
	memcpy(s->by_group, r->by_group, n * sizeof(*s->by_group));
	s->nmembers = n;
	s->nsrcs = ns;
	err = index_groups(s);
out:
	free(mk);
	free(mv);
	free(sk);
	free(sv);
	return err;
}

static int read_ifaces(struct xm_reader *r, struct xm_snapshot *s)
{
	struct xm_iface_entry *ifs;
	uint32_t i;
	int n, err = 0;

	n = xm_walk_ifaces(r->walk, &ifs);
	if (n < 0)
		return n;
	s->ifs = calloc(n ? n : 1, sizeof(*s->ifs));
	if (!s->ifs) {
		free(ifs);
		return -ENOMEM;
	}
	for (i = 0; i < (uint32_t)n && !err; i++) {
		struct xm_snap_iface *si = &s->ifs[i];

		si->e = ifs[i];
		xm_iface_name(&ifs[i], si->name);
		err = xm_read_reasons(r->st.reasons_fd, XM_DIR_IN, si->e.cfg.slot,
				      si->reasons[XM_DIR_IN]);
		if (!err)
			err = xm_read_reasons(r->st.reasons_fd, XM_DIR_OUT, si->e.cfg.slot,
					      si->reasons[XM_DIR_OUT]);
		if (r->snoop_fd >= 0 &&
		    xm_array_read(r->snoop_fd, si->e.cfg.slot * XM_SNOOP_SLOTS, XM_SNOOP_SLOTS,
				  sizeof(si->snoop[0]), si->snoop))
			memset(si->snoop, 0, sizeof(si->snoop));
	}
	s->nifs = n;
	free(ifs);
	return err;
}

int xm_snapshot_take(struct xm_reader *r, unsigned int what, struct xm_snapshot *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->t_ns = xm_now_mono_ns();
	s->flows_max = capacity(r->st.flows_fd);
	s->members_max = capacity(r->members_fd);
	s->member_src_max = capacity(r->member_src_fd);
	err = read_ifaces(r, s);
	if (!err)
		err = xm_read_globals(r->st.global_fd, s->globals);
	if (!err && (what & XM_SNAP_FLOWS)) {
		s->nflows = xm_walk_flows(r->walk, &s->flows);
		if (s->nflows < 0) {
			err = s->nflows;
			s->nflows = 0;
		}
	}
	if (!err && (what & XM_SNAP_MEMBERS))
		err = read_members(r, s);
	if (err)
		xm_snapshot_free(s);
	return err;
}

void xm_snapshot_free(struct xm_snapshot *s)
{
	free(s->ifs);
	free(s->members);
	free(s->by_group);
	free(s->group_slots);
	free(s->srcs);
	memset(s, 0, sizeof(*s));
}

const struct xm_snap_iface *xm_snap_iface(const struct xm_snapshot *s, uint32_t ifindex)
{
	int lo = 0, hi = s->nifs;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (s->ifs[mid].e.ifindex == ifindex)
			return &s->ifs[mid];
		if (s->ifs[mid].e.ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool xm_member_wants(const struct xm_snapshot *s, const struct xm_member_entry *m,
		     const struct xm_flow_key *k)
{
	const struct xm_member_src_entry *src = NULL;
	uint32_t i;

	if (!xm_same_group(m->key.family, m->key.group, k->family, k->group))
		return false;
	for (i = 0; i < m->nsrc; i++)
		if (!memcmp(s->srcs[m->first_src + i].key.source, k->source, 16))
			src = &s->srcs[m->first_src + i];
	if (m->m.filter_mode == XM_FILTER_EXCLUDE)
		return !src || src->v.forward;
	return src && src->v.forward;
}

int xm_members_of_flow(const struct xm_snapshot *s, const struct xm_flow_key *k)
{
	int lo = 0, hi = s->nmembers, n = 0, i;

	/* The first membership of k's group in by_group. */
	if (s->group_slots) {
		uint32_t mask = s->group_slots_size - 1, h = xm_group_hash(k->family, k->group) & mask;
		const struct xm_group_slot *g;

		for (g = &s->group_slots[h]; g->family; g = &s->group_slots[h = (h + 1) & mask])
			if (xm_same_group(g->family, g->group, k->family, k->group))
				break;
		if (!g->family)
			return 0;
		if (g->fixed >= 0)
			return g->fixed;
		lo = hi = g->first;
	}
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct xm_member_key *m = &s->members[s->by_group[mid]].key;

		if (group_cmp(m->family, m->group, k->family, k->group) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < s->nmembers; i++) {
		const struct xm_member_entry *m = &s->members[s->by_group[i]];

		if (!xm_same_group(m->key.family, m->key.group, k->family, k->group))
			break;
		n += xm_member_wants(s, m, k);
	}
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int xm_fwd_ports_of_flow(const struct xm_reader *r, const struct xm_flow_key *k,
			 uint32_t *ifindex, int max)
{
	struct xm_fwd_key fk = { .family = k->family };
	struct xm_fwd_lpm_key lk = { .prefixlen = 256 };
	struct xm_fwd_entry e;
	uint32_t idx, id, key, next, *prev = NULL;
	int fd, n = 0;

	if (r->fwd_fd < 0 || r->fwd_ports_fd < 0)
		return -ENOENT;
	memcpy(fk.group, k->group, sizeof(fk.group));
	memcpy(fk.source, k->source, sizeof(fk.source));
	if (bpf_map_lookup_elem(r->fwd_fd, &fk, &e)) {
		memset(fk.source, 0, sizeof(fk.source));
		if (bpf_map_lookup_elem(r->fwd_fd, &fk, &e)) {
			/* The trie holds IPv4 mapped into IPv6, as the data path
			 * looks it up. */
			if (k->family == XM_AF_INET) {
				lk.group[2] = lk.source[2] = htonl(0xffff);
				lk.group[3] = k->group[0];
				lk.source[3] = k->source[0];
			} else {
				memcpy(lk.group, k->group, sizeof(lk.group));
				memcpy(lk.source, k->source, sizeof(lk.source));
			}
			if (r->fwd_wild_fd < 0 || bpf_map_lookup_elem(r->fwd_wild_fd, &lk, &e))
				return -ENOENT;
		}
	}
	if (!e.ntiers || e.ntiers > XM_FWD_TIERS || (e.flags & XM_FWD_F_KERNEL))
		return 0;
	/* The highest tier holds every port of the set. */
	idx = e.ports * XM_FWD_TIERS + e.ntiers - 1;
	if (bpf_map_lookup_elem(r->fwd_ports_fd, &idx, &id))
		return 0;	/* replaced meanwhile */
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	while (n < max && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		ifindex[n++] = key;
	}
	close(fd);
	qsort(ifindex, n, sizeof(*ifindex), cmp_u32);
	return n;
}
