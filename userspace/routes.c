// SPDX-License-Identifier: GPL-2.0-only
/* Static and membership routes for the accelerator (routes.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "routes.h"

int xm_routes_from_conf(const struct xm_conf *c, uint32_t (*ifindex_of)(const char *, void *),
			void *ctx, struct xm_mroute **out, size_t *n, size_t *skipped)
{
	struct xm_mroute *r;
	int i, j;

	*out = NULL;
	*n = *skipped = 0;
	if (!c->nmroutes)
		return 0;
	r = calloc(c->nmroutes, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < c->nmroutes; i++) {
		const struct xm_conf_mroute *m = &c->mroutes[i];
		struct xm_mroute *o = &r[*n];

		memset(o, 0, sizeof(*o));
		o->family = m->group.family == XM_AF_INET ? AF_INET : AF_INET6;
		o->origin = XM_ORIGIN_STATIC;
		o->grp_len = m->group.len;
		memcpy(o->grp, m->group.addr, sizeof(o->grp));
		if (m->source.family) {
			o->src_len = m->source.len;
			memcpy(o->src, m->source.addr, sizeof(o->src));
		}
		o->iif = ifindex_of(m->from, ctx);
		for (j = 0; j < m->nto; j++) {
			uint32_t ifi = ifindex_of(m->to[j], ctx);

			if (!ifi || ifi == o->iif)
				continue;
			o->oif[o->noif].ifindex = ifi;
			o->oif[o->noif].ttl_threshold = XM_ROUTE_TTL_DEFAULT;
			o->noif++;
		}
		if (!o->iif) {
			(*skipped)++;
			continue;
		}
		(*n)++;
	}
	*out = r;
	return 0;
}

/* ---- memberships ---- */

struct rm_ctx {
	const struct xm_route_members *m;
};

static int group_cmp(uint8_t fa, const __be32 *ga, uint8_t fb, const __be32 *gb)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(ga, gb, 16);
}

static const struct xm_route_members *sort_m;

static int member_idx_cmp(const void *a, const void *b)
{
	const struct xm_member_key *x = &sort_m->mk[*(const size_t *)a];
	const struct xm_member_key *y = &sort_m->mk[*(const size_t *)b];
	int c = group_cmp(x->family, x->group, y->family, y->group);

	if (c)
		return c;
	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return x->vlan < y->vlan ? -1 : x->vlan > y->vlan;
}

static int src_idx_cmp(const void *a, const void *b)
{
	const struct xm_member_src_key *x = &sort_m->sk[*(const size_t *)a];
	const struct xm_member_src_key *y = &sort_m->sk[*(const size_t *)b];

	return memcmp(x, y, sizeof(*x));
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* The sources of membership key k: a run of sidx. */
static void src_run(const struct xm_route_members *m, const size_t *sidx,
		    const struct xm_member_key *k, size_t *lo, size_t *hi)
{
	size_t a = 0, b = m->ns, mid;

	while (a < b) {		/* first >= k */
		mid = (a + b) / 2;
		if (memcmp(&m->sk[sidx[mid]].g, k, sizeof(*k)) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (a < m->ns && !memcmp(&m->sk[sidx[a]].g, k, sizeof(*k)))
		a++;
	*hi = a;
}

/* Whether port p (a member index) takes traffic from source s. */
static bool port_wants(const struct xm_route_members *m, const size_t *sidx, size_t p,
		       const __be32 *s)
{
	bool excl = m->mv[p].filter_mode == XM_FILTER_EXCLUDE;
	size_t lo, hi, i;

	src_run(m, sidx, &m->mk[p], &lo, &hi);
	for (i = lo; i < hi; i++)
		if (!memcmp(m->sk[sidx[i]].source, s, 16))
			return m->sv[sidx[i]].forward;
	return excl;
}

static void add_oif(struct xm_mroute *r, const struct xm_member_key *k)
{
	if (r->noif >= XM_MROUTE_MAX_OIF)
		return;
	r->oif[r->noif].ifindex = k->ifindex;
	r->oif[r->noif].vlan = k->vlan;
	r->oif[r->noif].ttl_threshold = XM_ROUTE_TTL_DEFAULT;
	r->noif++;
}

static bool same_oifs(const struct xm_mroute *a, const struct xm_mroute *b)
{
	return a->noif == b->noif && !memcmp(a->oif, b->oif, a->noif * sizeof(a->oif[0]));
}

static int push(struct xm_mroute **v, size_t *n, size_t *cap, const struct xm_mroute *r)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		struct xm_mroute *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *r;
	return 0;
}

int xm_routes_from_members(const struct xm_route_members *m, uint32_t upstream,
			   bool (*downstream)(uint32_t ifindex, void *ctx), void *ctx,
			   struct xm_mroute **out, size_t *n)
{
	size_t *midx = NULL, *sidx = NULL, nm = 0, i, j, k, cap = 0, nsrc;
	__be32 (*srcs)[4] = NULL;
	struct xm_mroute star, sg;
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!upstream || !m->nm)
		return 0;
	midx = malloc(m->nm * sizeof(*midx));
	sidx = malloc((m->ns ? m->ns : 1) * sizeof(*sidx));
	srcs = malloc((m->ns ? m->ns : 1) * sizeof(*srcs));
	if (!midx || !sidx || !srcs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m->nm; i++)
		if (m->mk[i].ifindex != upstream && downstream(m->mk[i].ifindex, ctx))
			midx[nm++] = i;
	for (i = 0; i < m->ns; i++)
		sidx[i] = i;
	sort_m = m;
	qsort(midx, nm, sizeof(*midx), member_idx_cmp);
	qsort(sidx, m->ns, sizeof(*sidx), src_idx_cmp);

	for (i = 0; i < nm && !err; i = j) {
		const struct xm_member_key *g = &m->mk[midx[i]];
		bool any_excl = false;

		for (j = i; j < nm; j++) {
			const struct xm_member_key *x = &m->mk[midx[j]];

			if (group_cmp(x->family, x->group, g->family, g->group))
				break;
		}
		memset(&star, 0, sizeof(star));
		star.family = g->family == XM_AF_INET ? AF_INET : AF_INET6;
		star.grp_len = g->family == XM_AF_INET ? 32 : 128;
		star.origin = XM_ORIGIN_MEMBERSHIP;
		memcpy(star.grp, g->group, sizeof(star.grp));
		star.iif = upstream;
		/* Every source any port of the group names. */
		for (nsrc = 0, k = i; k < j; k++) {
			size_t lo, hi, s;

			if (m->mv[midx[k]].filter_mode == XM_FILTER_EXCLUDE) {
				any_excl = true;
				add_oif(&star, &m->mk[midx[k]]);
			}
			src_run(m, sidx, &m->mk[midx[k]], &lo, &hi);
			for (s = lo; s < hi; s++)
				memcpy(srcs[nsrc++], m->sk[sidx[s]].source, 16);
		}
		qsort(srcs, nsrc, sizeof(*srcs), addr_cmp);
		if (any_excl)
			err = push(out, n, &cap, &star);
		for (k = 0; k < nsrc && !err; k++) {
			size_t p;

			if (k && !memcmp(srcs[k], srcs[k - 1], 16))
				continue;
			sg = star;
			sg.noif = 0;
			sg.src_len = sg.grp_len;
			memcpy(sg.src, srcs[k], 16);
			for (p = i; p < j; p++)
				if (port_wants(m, sidx, midx[p], srcs[k]))
					add_oif(&sg, &m->mk[midx[p]]);
			if (any_excl && same_oifs(&sg, &star))
				continue;
			if (!any_excl && !sg.noif)
				continue;	/* nobody: the kernel drops it too */
			err = push(out, n, &cap, &sg);
		}
	}
out:
	if (err) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	free(midx);
	free(sidx);
	free(srcs);
	return err;
}

/* Every key and value of a hash map, in the map's order. */
static int read_map(int fd, size_t ksz, size_t vsz, void **keys, void **vals, size_t *n)
{
	size_t cap = 0;
	char key[64], next[64];
	void *prev = NULL;
	int err = 0;

	*keys = *vals = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (*n == cap) {
			void *nk, *nv;

			cap = cap ? 2 * cap : 256;
			nk = realloc(*keys, cap * ksz);
			if (nk)
				*keys = nk;
			nv = nk ? realloc(*vals, cap * vsz) : NULL;
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			*vals = nv;
		}
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, (char *)*vals + *n * vsz))
			continue;	/* went away meanwhile */
		memcpy((char *)*keys + *n * ksz, key, ksz);
		(*n)++;
	}
	return err;
}

int xm_route_members_read(int members_fd, int src_fd, struct xm_route_members *m)
{
	void *k, *v;
	int err;

	memset(m, 0, sizeof(*m));
	err = read_map(members_fd, sizeof(*m->mk), sizeof(*m->mv), &k, &v, &m->nm);
	m->mk = k;
	m->mv = v;
	if (!err) {
		err = read_map(src_fd, sizeof(*m->sk), sizeof(*m->sv), &k, &v, &m->ns);
		m->sk = k;
		m->sv = v;
	}
	if (err)
		xm_route_members_free(m);
	return err;
}

void xm_route_members_free(struct xm_route_members *m)
{
	free((void *)m->mk);
	free((void *)m->mv);
	free((void *)m->sk);
	free((void *)m->sv);
	memset(m, 0, sizeof(*m));
}
