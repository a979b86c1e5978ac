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
	free(t->spare);
	free(t->pool);
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
		void *p = realloc(t->pool, (size_t)cap * sizeof(*t->pool));
		uint32_t *f;

		if (!p)
			return -ENOMEM;
		t->pool = p;
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

/* The rate from checkpoint ring index k to now; a flow unknown at the
 * checkpoint arrived after it, so it counts from zero. */
static struct xm_rate since_checkpoint(const struct xm_tracker *t, const struct xm_tracked *f,
				       int k)
{
	struct xm_counter base = t->pool[f->hist][k];

	if (base.packets == XM_HIST_ABSENT)
		base.packets = base.bytes = 0;
	return xm_rate(base, flow_counter(&f->flow), t->now_ns - t->ck_t[k]);
}

static void compute(struct xm_tracker *t, struct xm_tracked *f, bool known_before)
{
	int w, back, k;

	f->last = known_before ? xm_rate(f->prev, flow_counter(&f->flow), t->now_ns - t->prev_ns)
			       : (struct xm_rate){ 0 };
	for (w = 0; w < XM_WINDOWS; w++) {
		uint64_t span = (uint64_t)xm_window_sec[w] * 1000000000ull;

		/* The newest checkpoint at least span old, else the oldest. */
		for (back = 0; back < t->ck_count - 1; back++)
			if (t->now_ns - t->ck_t[ck_index(t, back)] >= span)
				break;
		k = ck_index(t, back);
		f->avg[w] = t->ck_t[k] < t->now_ns ? since_checkpoint(t, f, k)
						    : (struct xm_rate){ 0 };
	}
	f->flags &= ~(XM_TF_NEW | XM_TF_STALE);
	if (f->appeared_ns && t->now_ns - f->appeared_ns < XM_NEW_NS)
		f->flags |= XM_TF_NEW;
	if (f->flow.last_seen_ns && t->now_ns > f->flow.last_seen_ns &&
	    t->now_ns - f->flow.last_seen_ns >= t->stale_ns)
		f->flags |= XM_TF_STALE;
}

int xm_tracker_update(struct xm_tracker *t, const struct xm_flow_entry *cur, size_t n,
		      uint64_t now_ns)
{
	struct xm_tracked *next = t->spare;
	size_t i = 0, j = 0, o;
	bool checkpoint;
	int k;

	/* Two arrays take turns, so a refresh does not fault in fresh pages. */
	if (t->spare_cap < n || !next) {
		free(t->spare);
		t->spare_cap = n > 1024 ? n + n / 4 : 1024;
		next = t->spare = malloc(t->spare_cap * sizeof(*next));
		if (!next) {
			t->spare_cap = 0;
			return -ENOMEM;
		}
	}
	/* Both sides are sorted by key: one merge matches them. */
	for (o = 0; j < n; j++, o++) {
		int d = 1;

		while (i < t->n && (d = xm_flow_key_cmp(&t->v[i].key, &cur[j].key)) < 0)
			hist_release(t, t->v[i++].hist);	/* evicted: forget it */
		if (i < t->n && d == 0) {
			next[o] = t->v[i++];
			next[o].prev = flow_counter(&next[o].flow);
			if (cur[j].flow.first_seen_ns > next[o].flow.first_seen_ns &&
			    next[o].flow.first_seen_ns) {
				/* Evicted and created anew since: its history
				 * is of another flow. */
				next[o].prev = (struct xm_counter){ 0 };
				for (k = 0; k < XM_HIST_SLOTS; k++)
					t->pool[next[o].hist][k].packets = XM_HIST_ABSENT;
			}
		} else {
			memset(&next[o], 0, sizeof(next[o]));
			next[o].key = cur[j].key;
			/* Flows there from the first reading are not new. */
			next[o].appeared_ns = t->updates ? now_ns : 0;
			if (hist_alloc(t, &next[o].hist)) {
				/* Slots were already moved around: start over. */
				xm_tracker_free(t);
				return -ENOMEM;
			}
			for (k = 0; k < XM_HIST_SLOTS; k++)
				t->pool[next[o].hist][k].packets = XM_HIST_ABSENT;
			next[o].flags = TF_FRESH;
		}
		next[o].flow = cur[j].flow;
	}
	for (; i < t->n; i++)
		hist_release(t, t->v[i].hist);
	t->spare = t->v;
	t->v = next;
	{
		size_t c = t->cap;

		t->cap = t->spare_cap;
		t->spare_cap = c;
	}
	t->n = n;

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
	for (o = 0; o < n; o++) {
		struct xm_tracked *f = &t->v[o];
		bool known = !(f->flags & TF_FRESH);

		if (checkpoint)
			t->pool[f->hist][t->ck_head] = flow_counter(&f->flow);
		f->flags &= ~TF_FRESH;
		compute(t, f, known && t->prev_ns);
	}
	return 0;
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
		a = t->pool[f->hist][ka];
		b = t->pool[f->hist][kb];
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
