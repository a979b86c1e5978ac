// SPDX-License-Identifier: GPL-2.0-only
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "stats.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* the kernel's own, seen through bpf() */
#endif

#define XM_REASON_NAME(id, name, verdict) [XM_R_##id] = name,
const char *const xm_reason_names[XM_R_COUNT] = { XM_REASONS(XM_REASON_NAME) };
#define XM_GLOBAL_NAME(id, name) [XM_G_##id] = name,
const char *const xm_global_names[XM_G_COUNT] = { XM_GLOBALS(XM_GLOBAL_NAME) };

struct xm_counter xm_counter_sum(const struct xm_counter *percpu, int ncpu)
{
	struct xm_counter sum = { 0 };
	int i;

	for (i = 0; i < ncpu; i++) {
		sum.packets += percpu[i].packets;
		sum.bytes += percpu[i].bytes;
	}
	return sum;
}

struct xm_flow xm_flow_merge(const struct xm_flow *percpu, int ncpu)
{
	struct xm_flow m = { 0 };
	int i;

	for (i = 0; i < ncpu; i++) {
		const struct xm_flow *f = &percpu[i];

		if (!f->packets)
			continue;
		m.packets += f->packets;
		m.bytes += f->bytes;
		m.copies += f->copies;
		m.reason_mask |= f->reason_mask;
		if (f->first_seen_ns && (!m.first_seen_ns || f->first_seen_ns < m.first_seen_ns))
			m.first_seen_ns = f->first_seen_ns;
		if (f->last_seen_ns >= m.last_seen_ns) {
			m.last_seen_ns = f->last_seen_ns;
			m.last_reason = f->last_reason;
		}
	}
	return m;
}

/* Addresses compare as memcmp() would, 8 bytes at a time: the sorts of
 * 100000 flows spend their time here. */
static inline int addr_cmp(const __be32 *a, const __be32 *b)
{
	uint64_t x, y;
	int i;

	for (i = 0; i < 4; i += 2) {
		memcpy(&x, &a[i], 8);
		memcpy(&y, &b[i], 8);
		if (x != y) {
			x = be64toh(x);
			y = be64toh(y);
			return x < y ? -1 : 1;
		}
	}
	return 0;
}

int xm_flow_key_cmp(const struct xm_flow_key *a, const struct xm_flow_key *b)
{
	int d;

	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	d = addr_cmp(a->group, b->group);
	if (d)
		return d;
	d = addr_cmp(a->source, b->source);
	if (d)
		return d;
	return (int)a->vlan - (int)b->vlan;
}

static int entry_cmp(const void *a, const void *b)
{
	return xm_flow_key_cmp(&((const struct xm_flow_entry *)a)->key,
			       &((const struct xm_flow_entry *)b)->key);
}

static int push_entry(struct xm_flow_entry **v, size_t *n, size_t *cap,
		      const struct xm_flow_key *key, const struct xm_flow *percpu,
		      int ncpu)
{
	struct xm_flow_entry *grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		grown = realloc(*v, *cap * sizeof(**v));
		if (!grown)
			return -ENOMEM;
		*v = grown;
	}
	(*v)[*n].key = *key;
	(*v)[*n].flow = xm_flow_merge(percpu, ncpu);
	(*n)++;
	return 0;
}

/* One key at a time: slow, but works on every kernel, and tolerates
 * entries evicted between the two calls. */
static int read_flows_by_key(int fd, int ncpu, struct xm_flow *percpu,
			     struct xm_flow_entry **v, size_t *n, size_t *cap)
{
	struct xm_flow_key key, next;
	void *prev = NULL;
	int err;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, percpu))
			continue;
		err = push_entry(v, n, cap, &key, percpu, ncpu);
		if (err)
			return err;
	}
	return 0;
}

#define FLOW_BATCH 4096

/* Batched lookups: a few syscalls for the whole table. */
static int read_flows_batch(int fd, int ncpu, struct xm_flow_entry **v,
			    size_t *n, size_t *cap)
{
	struct xm_flow_key *keys = calloc(FLOW_BATCH, sizeof(*keys));
	struct xm_flow *vals = calloc((size_t)FLOW_BATCH * ncpu, sizeof(*vals));
	__u32 in_batch, out_batch, count, i;
	void *in = NULL;
	int err = 0, rc;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = FLOW_BATCH;
		rc = bpf_map_lookup_batch(fd, in, &out_batch, keys, vals, &count, NULL);
		if (rc && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		for (i = 0; i < count && !err; i++)
			err = push_entry(v, n, cap, &keys[i], &vals[(size_t)i * ncpu], ncpu);
		if (err || rc)
			break;	/* rc with ENOENT: the table is done */
		in_batch = out_batch;
		in = &in_batch;
	}
out:
	free(keys);
	free(vals);
	return err;
}

uint64_t xm_flow_key_hash(const struct xm_flow_key *k)
{
	uint64_t w[5], h = 0x9e3779b97f4a7c15ull;
	int i;

	_Static_assert(sizeof(*k) == sizeof(w), "a flow key is 5 words");
	memcpy(w, k, sizeof(w));
	for (i = 0; i < 5; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

/* The slots of the caches with counts not yet in xm_flows, found again by
 * key in a small open-addressing table (the flows come in any order). */

struct pending {
	struct xm_flow_slot s;
	bool used;
};

static void add_slot(struct xm_flow *f, const struct xm_flow_slot *s)
{
	f->packets += s->packets;
	f->bytes += s->bytes;
	f->copies += s->copies;
	f->reason_mask |= s->reason_mask;
	if (s->last_seen_ns >= f->last_seen_ns) {
		f->last_seen_ns = s->last_seen_ns;
		f->last_reason = s->last_reason;
	}
}

int xm_flows_add_cache(int cache_fd, int ncpu, struct xm_flow_entry *v, size_t *n)
{
	size_t cap = (size_t)XM_FLOW_CACHE_SLOTS * ncpu, np = 0, tsize = 64, k, n0;
	struct xm_flow_slot *slots = calloc(cap, sizeof(*slots));
	struct pending *p = calloc(cap, sizeof(*p));
	uint32_t *table = NULL;
	int err = 0;

	if (!slots || !p) {
		err = -ENOMEM;
		goto out;
	}
	err = xm_array_read(cache_fd, 0, XM_FLOW_CACHE_SLOTS, ncpu * sizeof(*slots), slots);
	if (err)
		goto out;
	for (k = 0; k < cap; k++)
		if (slots[k].valid && slots[k].packets)
			p[np++].s = slots[k];
	if (!np)
		goto out;
	while (tsize < 2 * np)
		tsize *= 2;
	table = malloc(tsize * sizeof(*table));
	if (!table) {
		err = -ENOMEM;
		goto out;
	}
	memset(table, 0xff, tsize * sizeof(*table));
	/* One flow may wait in several CPUs' slots: each is added. */
	for (k = 0; k < np; k++) {
		size_t h = xm_flow_key_hash(&p[k].s.key) & (tsize - 1);

		while (table[h] != UINT32_MAX)
			h = (h + 1) & (tsize - 1);
		table[h] = k;
	}
	for (k = 0; k < *n; k++) {
		size_t h = xm_flow_key_hash(&v[k].key) & (tsize - 1);

		for (; table[h] != UINT32_MAX; h = (h + 1) & (tsize - 1)) {
			struct pending *q = &p[table[h]];

			if (!q->used && !xm_flow_key_cmp(&q->s.key, &v[k].key)) {
				add_slot(&v[k].flow, &q->s);
				q->used = true;
			}
		}
	}
	/* Evicted from xm_flows while its counts waited in a cache: a flow of
	 * its own, seen from its last frame on, appended once. */
	for (k = 0, n0 = *n; k < np; k++) {
		struct xm_flow_entry *e = NULL;
		size_t j;

		if (p[k].used)
			continue;
		for (j = n0; j < *n && !e; j++)
			if (!xm_flow_key_cmp(&v[j].key, &p[k].s.key))
				e = &v[j];
		if (!e) {
			e = &v[(*n)++];
			memset(e, 0, sizeof(*e));
			e->key = p[k].s.key;
			e->flow.first_seen_ns = p[k].s.last_seen_ns;
		}
		add_slot(&e->flow, &p[k].s);
	}
out:
	free(table);
	free(p);
	free(slots);
	return err;
}

static int read_unsorted(int flows_fd, int cache_fd, struct xm_flow_entry **out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xm_flow_entry *v = NULL, *grown;
	struct xm_flow *percpu;
	size_t n = 0, cap = 0;
	int err;

	if (ncpu < 0)
		return ncpu;
	err = read_flows_batch(flows_fd, ncpu, &v, &n, &cap);
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUPP) {
		n = 0;
		percpu = calloc(ncpu, sizeof(*percpu));
		err = percpu ? read_flows_by_key(flows_fd, ncpu, percpu, &v, &n, &cap)
			     : -ENOMEM;
		free(percpu);
	}
	if (!err && cache_fd >= 0) {
		grown = realloc(v, (n + (size_t)XM_FLOW_CACHE_SLOTS * ncpu) * sizeof(*v));
		if (grown)
			v = grown;
		err = grown ? xm_flows_add_cache(cache_fd, ncpu, v, &n) : -ENOMEM;
	}
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	return (int)n;
}

int xm_read_flows_unsorted(int flows_fd, int cache_fd, struct xm_flow_entry **out)
{
	return read_unsorted(flows_fd, cache_fd, out);
}

int xm_read_flows(int flows_fd, int cache_fd, struct xm_flow_entry **out)
{
	int n = read_unsorted(flows_fd, cache_fd, out);

	if (n > 1)
		qsort(*out, n, sizeof(**out), entry_cmp);
	return n;
}

int xm_array_read(int fd, uint32_t first, uint32_t n, size_t vsz, void *out)
{
	uint32_t prev = first - 1, next, count = n, i, *keys;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err = 0;

	if (!n)
		return 0;
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	/* A batch starts after the key it is given. */
	if (bpf_map_lookup_batch(fd, first ? &prev : NULL, &next, keys, out, &count, &opts) &&
	    errno != ENOENT)
		err = -errno;
	else if (count != n || keys[0] != first || keys[n - 1] != first + n - 1)
		err = -ERANGE;	/* the array is shorter than that */
	free(keys);
	if (err != -EINVAL && err != -EOPNOTSUPP && err != -ENOTSUPP)
		return err;
	/* No batches for arrays (kernels before 5.6): one key at a time. */
	for (i = 0; i < n; i++) {
		uint32_t k = first + i;

		if (bpf_map_lookup_elem(fd, &k, (char *)out + i * vsz))
			return -errno;
	}
	return 0;
}

/* Sum the per-CPU counters at keys first..first+n of a per-CPU array. */
static int read_summed(int fd, uint32_t first, uint32_t n, struct xm_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xm_counter *percpu;
	uint32_t i;
	int err;

	if (ncpu < 0)
		return ncpu;
	percpu = calloc((size_t)n * ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	err = xm_array_read(fd, first, n, ncpu * sizeof(*percpu), percpu);
	for (i = 0; i < n && !err; i++)
		out[i] = xm_counter_sum(percpu + (size_t)i * ncpu, ncpu);
	free(percpu);
	return err;
}

int xm_read_reasons(int reasons_fd, uint32_t dir, uint32_t slot,
		    struct xm_counter out[XM_REASON_SLOTS])
{
	return read_summed(reasons_fd, XM_REASON_INDEX(dir, slot, 0), XM_REASON_SLOTS, out);
}

int xm_read_globals(int global_fd, uint64_t out[XM_G_COUNT])
{
	struct xm_counter sums[XM_G_COUNT];
	uint32_t i;
	int err;

	err = read_summed(global_fd, 0, XM_G_COUNT, sums);
	for (i = 0; i < XM_G_COUNT && !err; i++)
		out[i] = sums[i].packets;
	return err;
}

int xm_clear_reasons(int reasons_fd, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xm_counter *zero;
	uint32_t r, idx;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (r = 0; r < 2 * XM_REASON_SLOTS && !err; r++) {
		idx = XM_REASON_INDEX(r / XM_REASON_SLOTS, slot, r % XM_REASON_SLOTS);
		if (bpf_map_update_elem(reasons_fd, &idx, zero, BPF_ANY))
			err = -errno;
	}
	free(zero);
	return err;
}
