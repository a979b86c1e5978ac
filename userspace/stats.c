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

/* Add what the per-CPU flow caches hold and xm_flows does not have yet.  v
 * is sorted; flows only in the caches are appended. */
static int merge_cache(int cache_fd, int ncpu, struct xm_flow_entry **v, size_t *n,
		       size_t *cap, bool *appended)
{
	struct xm_flow_slot *slots = calloc(ncpu, sizeof(*slots));
	size_t sorted = *n;
	uint32_t i;
	int c, err = 0;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < XM_FLOW_CACHE_SLOTS && !err; i++) {
		if (bpf_map_lookup_elem(cache_fd, &i, slots))
			continue;
		for (c = 0; c < ncpu && !err; c++) {
			const struct xm_flow_slot *s = &slots[c];
			struct xm_flow_entry probe, *e;
			struct xm_flow pending = { 0 };

			if (!s->valid || !s->packets)
				continue;
			probe.key = s->key;
			e = bsearch(&probe, *v, sorted, sizeof(**v), entry_cmp);
			for (size_t k = sorted; !e && k < *n; k++)
				if (!xm_flow_key_cmp(&(*v)[k].key, &s->key))
					e = &(*v)[k];
			if (!e) {
				/* Evicted from xm_flows while its counts waited here. */
				pending.first_seen_ns = s->last_seen_ns;
				*appended = true;
				err = push_entry(v, n, cap, &s->key, &pending, 1);
				e = &(*v)[*n - 1];
			}
			pending = e->flow;
			pending.packets += s->packets;
			pending.bytes += s->bytes;
			pending.copies += s->copies;
			pending.reason_mask |= s->reason_mask;
			if (s->last_seen_ns >= pending.last_seen_ns) {
				pending.last_seen_ns = s->last_seen_ns;
				pending.last_reason = s->last_reason;
			}
			e->flow = pending;
		}
	}
	free(slots);
	return err;
}

int xm_read_flows(int flows_fd, int cache_fd, struct xm_flow_entry **out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xm_flow_entry *v = NULL;
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
	if (!err && n)
		qsort(v, n, sizeof(*v), entry_cmp);
	if (!err && cache_fd >= 0) {
		bool appended = false;

		err = merge_cache(cache_fd, ncpu, &v, &n, &cap, &appended);
		if (appended)
			qsort(v, n, sizeof(*v), entry_cmp);
	}
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	return (int)n;
}

/* Sum the per-CPU counters at keys idx[0..n) of a per-CPU array. */
static int read_summed(int fd, const uint32_t *idx, uint32_t n, struct xm_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xm_counter *percpu;
	uint32_t i;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		if (bpf_map_lookup_elem(fd, &idx[i], percpu))
			err = -errno;
		else
			out[i] = xm_counter_sum(percpu, ncpu);
	}
	free(percpu);
	return err;
}

int xm_read_reasons(int reasons_fd, uint32_t dir, uint32_t slot,
		    struct xm_counter out[XM_REASON_SLOTS])
{
	uint32_t idx[XM_REASON_SLOTS], r;

	for (r = 0; r < XM_REASON_SLOTS; r++)
		idx[r] = XM_REASON_INDEX(dir, slot, r);
	return read_summed(reasons_fd, idx, XM_REASON_SLOTS, out);
}

int xm_read_globals(int global_fd, uint64_t out[XM_G_COUNT])
{
	struct xm_counter sums[XM_G_COUNT];
	uint32_t idx[XM_G_COUNT], i;
	int err;

	for (i = 0; i < XM_G_COUNT; i++)
		idx[i] = i;
	err = read_summed(global_fd, idx, XM_G_COUNT, sums);
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
