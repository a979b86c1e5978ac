// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rates.h"

#define TF_FRESH	0x80	/* created by this update (internal) */

const unsigned int xm_window_sec[XM_WINDOWS] = { 2, 10, 40 };

struct xm_rate xm_rate(struct xm_counter then, struct xm_counter now, uint64_t dt_ns)
{
	struct xm_rate r = { 0 };
	double sec = dt_ns / 1e9;

	if (now.packets < then.packets || now.bytes < then.bytes) {
		r.reset = true;
		then.packets = then.bytes = 0;
	}
	if (!dt_ns)
		return r;
	r.pps = (now.packets - then.packets) / sec;
	r.bps = (now.bytes - then.bytes) * 8.0 / sec;
	return r;
}

void xm_tracker_init(struct xm_tracker *t, uint64_t stale_ns)
{
	memset(t, 0, sizeof(*t));
	t->stale_ns = stale_ns;
	t->ck_head = -1;
}

void xm_tracker_free(struct xm_tracker *t)
{
	free(t->v);
	free(t->order);
	free(t->spare);
	free(t->index);
	free(t->old2new);
	free(t->fresh);
	free(t->spare_order);
	for (int k = 0; k < XM_HIST_SLOTS; k++)
		free(t->pool[k]);
	free(t->free_slots);
	xm_tracker_init(t, t->stale_ns);
}

static int hist_alloc(struct xm_tracker *t, uint32_t *out)
{
	if (t->nfree) {
		*out = t->free_slots[--t->nfree];
		return 0;
	}
	if (t->pool_n == t->pool_cap) {
		uint32_t cap = t->pool_cap ? t->pool_cap * 2 : 1024;
		uint32_t *f;
		int k;

		for (k = 0; k < XM_HIST_SLOTS; k++) {
			void *p = realloc(t->pool[k], (size_t)cap * sizeof(*t->pool[k]));

			if (!p)
				return -ENOMEM;
			t->pool[k] = p;
		}
		f = realloc(t->free_slots, (size_t)cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		t->free_slots = f;
		t->pool_cap = cap;
	}
	*out = t->pool_n++;
	return 0;
}

static void hist_release(struct xm_tracker *t, uint32_t slot)
{
	t->free_slots[t->nfree++] = slot;	/* room: nfree < pool_n <= pool_cap */
}

static struct xm_counter flow_counter(const struct xm_flow *f)
{
	return (struct xm_counter){ .packets = f->packets, .bytes = f->bytes };
}

/* Checkpoint i back from the newest (0 = newest), as a ring index. */
static int ck_index(const struct xm_tracker *t, int back)
{
	return (t->ck_head - back + XM_HIST_SLOTS) % XM_HIST_SLOTS;
}

/* For each window, the checkpoint its average starts from: the newest at
 * least the window old, else the oldest; -1 when that is now. */
static void window_starts(const struct xm_tracker *t, int k[XM_WINDOWS])
{
	int w, back;

	for (w = 0; w < XM_WINDOWS; w++) {
		uint64_t span = (uint64_t)xm_window_sec[w] * 1000000000ull;

		for (back = 0; back < t->ck_count - 1; back++)
			if (t->now_ns - t->ck_t[ck_index(t, back)] >= span)
				break;
		k[w] = ck_index(t, back);
		if (t->ck_t[k[w]] >= t->now_ns)
			k[w] = -1;
	}
}

/* xm_rate() with the interval as its inverse (per = 1 / seconds, 0 for
 * none): one multiplication instead of a division, for every flow. */
static inline struct xm_rate rate_per(struct xm_counter then, struct xm_counter now, double per)
{
	struct xm_rate r = { 0 };

	if (now.packets < then.packets || now.bytes < then.bytes) {
		r.reset = true;
		then.packets = then.bytes = 0;
	}
	r.pps = (now.packets - then.packets) * per;
	r.bps = (now.bytes - then.bytes) * 8.0 * per;
	return r;
}

/* What compute() needs of the update, the same for every flow. */
struct span {
	int k[XM_WINDOWS];		/* window_starts() */
	double per[XM_WINDOWS];		/* 1 / seconds since checkpoint k */
	double per_last;		/* 1 / seconds since the previous update */
};

static void compute(struct xm_tracker *t, struct xm_tracked *f, bool known_before,
		    const struct span *sp)
{
	struct xm_counter now = flow_counter(&f->flow), base;
	int w;

	f->last = known_before ? rate_per(f->prev, now, sp->per_last) : (struct xm_rate){ 0 };
	/* A count that went down was reset: counted from zero, as xm_rate(). */
	f->copies_pps = !known_before ? 0 :
		(f->flow.copies - (f->flow.copies >= f->prev_copies ? f->prev_copies : 0)) *
		sp->per_last;
	for (w = 0; w < XM_WINDOWS; w++) {
		if (sp->k[w] < 0) {
			f->avg[w] = (struct xm_rate){ 0 };
			continue;
		}
		/* A flow unknown at the checkpoint arrived after it: from zero. */
		base = t->pool[sp->k[w]][f->hist];
		if (base.packets == XM_HIST_ABSENT)
			base.packets = base.bytes = 0;
		f->avg[w] = rate_per(base, now, sp->per[w]);
	}
	f->flags &= ~(XM_TF_NEW | XM_TF_STALE);
	if (f->appeared_ns && t->now_ns - f->appeared_ns < XM_NEW_NS)
		f->flags |= XM_TF_NEW;
	if (f->flow.last_seen_ns && t->now_ns > f->flow.last_seen_ns &&
	    t->now_ns - f->flow.last_seen_ns >= t->stale_ns)
		f->flags |= XM_TF_STALE;
}

static bool same_key(const struct xm_flow_key *a, const struct xm_flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* A flow the tracker knew: its new reading, the old one kept as prev. */
static void update_known(struct xm_tracker *t, struct xm_tracked *f, const struct xm_flow *now)
{
	int k;

	f->prev = flow_counter(&f->flow);
	f->prev_copies = f->flow.copies;
	if (now->first_seen_ns > f->flow.first_seen_ns && f->flow.first_seen_ns) {
		/* Evicted and created anew since: its history is of another
		 * flow. */
		f->prev = (struct xm_counter){ 0 };
		f->prev_copies = 0;
		for (k = 0; k < XM_HIST_SLOTS; k++)
			t->pool[k][f->hist].packets = XM_HIST_ABSENT;
	}
	f->flow = *now;
}

/* Room for n flows in the scratch arrays and an index of old flows. */
static int scratch_grow(struct xm_tracker *t, size_t n)
{
	size_t cap = t->scratch_cap;
	uint32_t **arrays[] = { &t->old2new, &t->fresh, &t->spare_order, &t->order };
	size_t i;

	if (n <= cap && t->order)
		return 0;
	cap = n > 1024 ? n + n / 4 : 1024;
	for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		uint32_t *p = realloc(*arrays[i], cap * sizeof(uint32_t));

		if (!p)
			return -ENOMEM;
		*arrays[i] = p;
	}
	t->scratch_cap = cap;
	return 0;
}

/* The hash table of the keys of v[0..n), for the flows that moved. */
static int index_build(struct xm_tracker *t)
{
	uint32_t size = 64, i;

	while (size < 2 * t->n)
		size *= 2;
	if (size != t->index_size) {
		free(t->index);
		t->index = malloc((size_t)size * sizeof(*t->index));
		t->index_size = t->index ? size : 0;
		if (!t->index)
			return -ENOMEM;
	}
	memset(t->index, 0xff, (size_t)size * sizeof(*t->index));
	for (i = 0; i < t->n; i++) {
		uint32_t h = xm_flow_key_hash(&t->v[i].key) & (size - 1);

		while (t->index[h] != UINT32_MAX)
			h = (h + 1) & (size - 1);
		t->index[h] = i;
	}
	return 0;
}

static uint32_t index_find(const struct xm_tracker *t, const struct xm_flow_key *k)
{
	uint32_t h = xm_flow_key_hash(k) & (t->index_size - 1);

	for (; t->index[h] != UINT32_MAX; h = (h + 1) & (t->index_size - 1))
		if (same_key(&t->v[t->index[h]].key, k))
			return t->index[h];
	return UINT32_MAX;
}

/* qsort_r context: the flows whose indexes are sorted. */
static int order_cmp(const void *a, const void *b, void *ctx)
{
	const struct xm_tracked *v = ctx;

	return xm_flow_key_cmp(&v[*(const uint32_t *)a].key, &v[*(const uint32_t *)b].key);
}

/* A flow's checkpoint and rates, once its reading is in. */
static void finish(struct xm_tracker *t, struct xm_tracked *f, bool checkpoint,
		   const struct span *sp)
{
	bool known = !(f->flags & TF_FRESH);

	if (checkpoint)
		t->pool[t->ck_head][f->hist] = flow_counter(&f->flow);
	f->flags &= ~TF_FRESH;
	compute(t, f, known && t->prev_ns, sp);
}

int xm_tracker_update(struct xm_tracker *t, const struct xm_flow_entry *cur, size_t n,
		      uint64_t now_ns)
{
	struct xm_tracked *next = t->spare;
	size_t i, j, j0, o, nfresh = 0, nord = 0, a, b;
	bool indexed = false, checkpoint, first = t->updates == 0;
	uint32_t *order;
	struct span sp;
	int k;

	/* The clock first: every flow's rates use it. */
	t->prev_ns = t->updates ? t->now_ns : 0;
	t->now_ns = now_ns;
	t->updates++;
	checkpoint = t->ck_count == 0 || now_ns - t->ck_t[t->ck_head] >= XM_HIST_STEP_NS;
	if (checkpoint) {
		t->ck_head = (t->ck_head + 1) % XM_HIST_SLOTS;
		t->ck_t[t->ck_head] = now_ns;
		if (t->ck_count < XM_HIST_SLOTS)
			t->ck_count++;
	}
	window_starts(t, sp.k);
	for (k = 0; k < XM_WINDOWS; k++)
		sp.per[k] = sp.k[k] >= 0 ? 1e9 / (t->now_ns - t->ck_t[sp.k[k]]) : 0;
	sp.per_last = t->prev_ns && t->now_ns > t->prev_ns ? 1e9 / (t->now_ns - t->prev_ns) : 0;

	/* The flows that come where the previous reading had them, up to
	 * the first that does not (all of them when no flow came or went):
	 * updated where they are, in one pass. */
	for (j0 = 0; j0 < n && j0 < t->n && same_key(&t->v[j0].key, &cur[j0].key); j0++) {
		update_known(t, &t->v[j0], &cur[j0].flow);
		finish(t, &t->v[j0], checkpoint, &sp);
	}
	if (j0 == n && n == t->n)
		return 0;

	/* Flows came or went: the rest is matched into the other array. */
	if (t->spare_cap < n || !next) {
		free(t->spare);
		t->spare_cap = n > 1024 ? n + n / 4 : 1024;
		next = t->spare = malloc(t->spare_cap * sizeof(*next));
		if (!next) {
			t->spare_cap = 0;
			goto nomem;
		}
	}
	if (scratch_grow(t, n > t->n ? n : t->n))
		goto nomem;
	memset(t->old2new, 0xff, t->n * sizeof(uint32_t));
	for (j = 0; j < j0; j++) {
		next[j] = t->v[j];
		t->old2new[j] = j;
	}
	for (i = j = j0; j < n; j++) {
		uint32_t p = UINT32_MAX;

		/* Where the previous reading had it, else the hash table. */
		if (i < t->n && same_key(&t->v[i].key, &cur[j].key)) {
			p = i;
		} else if (t->n) {
			if (!indexed && index_build(t))
				goto nomem;
			indexed = true;
			p = index_find(t, &cur[j].key);
		}
		if (p != UINT32_MAX && t->old2new[p] == UINT32_MAX) {
			t->old2new[p] = j;
			i = p + 1;
			next[j] = t->v[p];
			update_known(t, &next[j], &cur[j].flow);
			continue;
		}
		memset(&next[j], 0, sizeof(next[j]));
		next[j].key = cur[j].key;
		/* Flows there from the first reading are not new. */
		next[j].appeared_ns = first ? 0 : now_ns;
		if (hist_alloc(t, &next[j].hist))
			goto nomem;	/* slots were moved around: start over */
		for (k = 0; k < XM_HIST_SLOTS; k++)
			t->pool[k][next[j].hist].packets = XM_HIST_ABSENT;
		next[j].flags = TF_FRESH;
		next[j].flow = cur[j].flow;
		t->fresh[nfresh++] = j;
	}
	for (i = 0; i < t->n; i++)
		if (t->old2new[i] == UINT32_MAX)
			hist_release(t, t->v[i].hist);	/* evicted: forget it */

	/* The key order: the old one without the evicted flows, merged with
	 * the new flows, sorted among themselves. */
	order = t->spare_order;
	for (o = 0; o < t->n; o++)
		if (t->old2new[t->order[o]] != UINT32_MAX)
			t->spare_order[nord++] = t->old2new[t->order[o]];
	qsort_r(t->fresh, nfresh, sizeof(*t->fresh), order_cmp, next);
	t->spare_order = t->order;
	for (a = b = o = 0; a < nord || b < nfresh; o++) {
		if (b == nfresh || (a < nord && order_cmp(&order[a], &t->fresh[b], next) < 0))
			t->spare_order[o] = order[a++];
		else
			t->spare_order[o] = t->fresh[b++];
	}
	t->order = t->spare_order;
	t->spare_order = order;

	t->spare = t->v;
	t->v = next;
	{
		size_t c = t->cap;

		t->cap = t->spare_cap;
		t->spare_cap = c;
	}
	t->n = n;
	for (o = j0; o < n; o++)
		finish(t, &t->v[o], checkpoint, &sp);
	return 0;
nomem:
	xm_tracker_free(t);
	return -ENOMEM;
}

int xm_tracker_series(const struct xm_tracker *t, const struct xm_tracked *f,
		      struct xm_rate *out, int nslots)
{
	int have = t->ck_count - 1, i, back;

	if (nslots > have)
		nslots = have;
	if (nslots < 0)
		nslots = 0;
	for (i = 0; i < nslots; i++) {
		/* Interval i (oldest first) runs from checkpoint back+1 to back. */
		struct xm_counter a, b;
		int ka, kb;

		back = nslots - 1 - i;
		ka = ck_index(t, back + 1);
		kb = ck_index(t, back);
		a = t->pool[ka][f->hist];
		b = t->pool[kb][f->hist];
		if (b.packets == XM_HIST_ABSENT) {
			out[i] = (struct xm_rate){ 0 };
			continue;
		}
		if (a.packets == XM_HIST_ABSENT)
			a.packets = a.bytes = 0;
		out[i] = xm_rate(a, b, t->ck_t[kb] - t->ck_t[ka]);
	}
	return nslots;
}
