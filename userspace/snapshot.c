// SPDX-License-Identifier: GPL-2.0-only
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

/* The accelerator's per-egress counters, if pinned with our layout. */
static int open_egress(const char *dir, bool *percpu)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = open_opt(dir, XM_MAP_EGRESS_CTR);

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.key_size != sizeof(struct xm_egress_key) ||
	    info.value_size != sizeof(struct xm_counter)) {
		close(fd);
		return -1;
	}
	*percpu = info.type == BPF_MAP_TYPE_PERCPU_HASH ||
		  info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	return fd;
}

int xm_reader_open(struct xm_reader *r, const char *pin_dir)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->members_fd = r->member_src_fd = r->snoop_fd = r->egress_fd = -1;
	r->ncpu = libbpf_num_possible_cpus();
	if (r->ncpu < 0)
		return r->ncpu;
	err = xm_state_open(pin_dir, &r->st);
	if (err)
		return err;
	r->members_fd = open_opt(pin_dir, XM_MAP_MEMBERS);
	r->member_src_fd = open_opt(pin_dir, XM_MAP_MEMBER_SRC);
	r->snoop_fd = open_opt(pin_dir, XM_MAP_SNOOP_CTR);
	r->egress_fd = open_egress(pin_dir, &r->egress_percpu);
	return 0;
}

void xm_reader_close(struct xm_reader *r)
{
	int *fds[] = { &r->members_fd, &r->member_src_fd, &r->snoop_fd, &r->egress_fd };
	size_t i;

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

static int member_cmp(const void *a, const void *b)
{
	return xm_member_key_cmp(&((const struct xm_member_entry *)a)->key,
			      &((const struct xm_member_entry *)b)->key);
}

static int src_cmp(const void *a, const void *b)
{
	const struct xm_member_src_entry *x = a, *y = b;
	int d = xm_member_key_cmp(&x->key.g, &y->key.g);

	return d ? d : memcmp(x->key.source, y->key.source, sizeof(x->key.source));
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
	s->members = calloc(n ? n : 1, sizeof(*s->members));
	s->by_group = calloc(n ? n : 1, sizeof(*s->by_group));
	s->srcs = calloc(ns ? ns : 1, sizeof(*s->srcs));
	if (!s->members || !s->by_group || !s->srcs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		s->members[i].key = mk[i];
		s->members[i].m = mv[i];
	}
	for (i = 0; i < ns; i++) {
		s->srcs[i].key = sk[i];
		s->srcs[i].v = sv[i];
	}
	qsort(s->members, n, sizeof(*s->members), member_cmp);
	qsort(s->srcs, ns, sizeof(*s->srcs), src_cmp);
	/* Both sorted by membership: one merge gives each its sources. */
	for (i = k = 0; i < n; i++) {
		while (k < ns && xm_member_key_cmp(&s->srcs[k].key.g, &s->members[i].key) < 0)
			k++;
		s->members[i].first_src = k;
		while (k < ns && !xm_member_key_cmp(&s->srcs[k].key.g, &s->members[i].key))
			k++;
		s->members[i].nsrc = k - s->members[i].first_src;
	}
	for (i = 0; i < n; i++)
		s->by_group[i] = i;
	qsort_r(s->by_group, n, sizeof(*s->by_group), by_group_cmp, s->members);
	s->nmembers = n;
	s->nsrcs = ns;
out:
	free(mk);
	free(mv);
	free(sk);
	free(sv);
	return err;
}

static int egress_cmp(const void *a, const void *b)
{
	const struct xm_egress_entry *x = a, *y = b;
	int d = xm_flow_key_cmp(&x->key.flow, &y->key.flow);

	if (d)
		return d;
	return x->key.egress_ifindex < y->key.egress_ifindex ? -1 :
	       x->key.egress_ifindex > y->key.egress_ifindex;
}

static int read_egress(struct xm_reader *r, struct xm_snapshot *s)
{
	int per = r->egress_percpu ? r->ncpu : 1, n, i;
	struct xm_egress_key *k = NULL;
	struct xm_counter *v = NULL;

	if (r->egress_fd < 0)
		return 0;
	n = read_map(r->egress_fd, sizeof(*k), per * sizeof(*v), (void **)&k, (void **)&v);
	if (n < 0)
		return n;
	s->egress = calloc(n ? n : 1, sizeof(*s->egress));
	if (!s->egress) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		s->egress[i].key = k[i];
		s->egress[i].c = xm_counter_sum(&v[(size_t)i * per], per);
	}
	qsort(s->egress, n, sizeof(*s->egress), egress_cmp);
	s->negress = n;
	free(k);
	free(v);
	return 0;
}

static int read_ifaces(struct xm_reader *r, struct xm_snapshot *s)
{
	struct xm_iface_entry *ifs;
	uint32_t i, c, idx;
	int n, err = 0;

	n = xm_list_ifaces(r->st.ifaces_fd, &ifs);
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
		for (c = 0; c < XM_SNOOP_SLOTS && r->snoop_fd >= 0; c++) {
			idx = si->e.cfg.slot * XM_SNOOP_SLOTS + c;
			if (bpf_map_lookup_elem(r->snoop_fd, &idx, &si->snoop[c]))
				si->snoop[c] = 0;
		}
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
		s->nflows = xm_read_flows(r->st.flows_fd, r->st.flow_cache_fd, &s->flows);
		if (s->nflows < 0) {
			err = s->nflows;
			s->nflows = 0;
		}
	}
	if (!err && (what & XM_SNAP_MEMBERS))
		err = read_members(r, s);
	if (!err && (what & XM_SNAP_EGRESS))
		err = read_egress(r, s);
	if (err)
		xm_snapshot_free(s);
	return err;
}

void xm_snapshot_free(struct xm_snapshot *s)
{
	free(s->ifs);
	free(s->flows);
	free(s->members);
	free(s->by_group);
	free(s->srcs);
	free(s->egress);
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
