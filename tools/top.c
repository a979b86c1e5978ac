// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "top.h"
#include "util.h"

#define TOP_COL_NAME(id, name) [TOP_COL_##id] = name,
const char *const top_col_names[TOP_COL_COUNT] = { TOP_COLUMNS(TOP_COL_NAME) };

#define XM_REASON_DROPS(id, name, verdict) [XM_R_##id] = (verdict) == XDP_DROP,
static const bool reason_drops[XM_R_COUNT] = { XM_REASONS(XM_REASON_DROPS) };

bool top_reason_drops(int reason)
{
	return reason >= 0 && reason < XM_R_COUNT && reason_drops[reason];
}

int top_col_by_name(const char *name)
{
	int i;

	for (i = 0; i < TOP_COL_COUNT; i++)
		if (!strcmp(top_col_names[i], name))
			return i;
	return -1;
}

int top_open(struct top *t, const char *pin_dir, uint64_t stale_ns)
{
	memset(t, 0, sizeof(*t));
	t->sort = TOP_COL_RATE2;
	xm_tracker_init(&t->tr, stale_ns);
	return xm_reader_open(&t->r, pin_dir);
}

void top_close(struct top *t)
{
	xm_reader_close(&t->r);
	xm_tracker_free(&t->tr);
	xm_snapshot_free(&t->cur);
	xm_snapshot_free(&t->prev);
	free(t->ifs);
	free(t->rows);
	free(t->sort_scratch);
	free(t->gtab);
	free(t->flow_members);
}

static void add_rate(struct xm_rate *to, struct xm_rate r)
{
	to->pps += r.pps;
	to->bps += r.bps;
	to->reset |= r.reset;
}

static int iface_rates(struct top *t)
{
	uint64_t dt = t->have_prev ? t->cur.t_ns - t->prev.t_ns : 0;
	int i, d, r;

	free(t->ifs);
	t->ifs = calloc(t->cur.nifs + 1, sizeof(*t->ifs));
	if (!t->ifs)
		return -ENOMEM;
	t->nifs = t->cur.nifs;
	t->accelerating = 0;
	for (i = 0; i < t->cur.nifs; i++) {
		const struct xm_snap_iface *si = &t->cur.ifs[i];
		const struct xm_snap_iface *pi = t->have_prev ? xm_snap_iface(&t->prev, si->e.ifindex)
							      : NULL;
		struct top_iface *ti = &t->ifs[i];

		ti->si = si;
		t->accelerating += si->e.cfg.fwd_mode == XM_FWD_ACCELERATE;
		for (d = XM_DIR_IN; d <= XM_DIR_OUT; d++)
			for (r = 0; r < XM_R_COUNT; r++) {
				struct xm_counter then = { 0 };
				struct xm_rate rate;

				/* A new interface counts from its first reading. */
				then = pi ? pi->reasons[d][r] : si->reasons[d][r];
				rate = xm_rate(then, si->reasons[d][r], dt);
				if (d == XM_DIR_IN)
					add_rate(&ti->in, rate);
				else if (r == XM_R_FORWARD)
					add_rate(&ti->fwd, rate);
				else if (r == XM_R_ACCELERATED)
					add_rate(&ti->sent, rate);
				if (reason_drops[r]) {
					add_rate(&ti->drop, rate);
					add_rate(&ti->drops[r], rate);
				}
				if (reason_drops[r] && d == XM_DIR_OUT) {
					add_rate(&ti->out_drop, rate);
					add_rate(&ti->out_drops[r], rate);
				}
			}
	}
	return 0;
}

/* t->gtab with at least size slots (a power of two), every one free. */
static int gtab_reset(struct top *t, uint32_t size)
{
	if (size > t->gtab_size) {
		struct top_group *g = realloc(t->gtab, size * sizeof(*g));

		if (!g)
			return -ENOMEM;
		memset(g, 0, size * sizeof(*g));
		t->gtab = g;
		t->gtab_size = size;
		t->gtab_gen = 0;
	}
	/* A slot is in use when its gen is this pass's: no clearing. */
	if (++t->gtab_gen == 0) {
		memset(t->gtab, 0, t->gtab_size * sizeof(*t->gtab));
		t->gtab_gen = 1;
	}
	return 0;
}

/* The slot of (family, group), taken with members if it was free; NULL
 * when more than half the table would be in use. */
static struct top_group *gtab_get(struct top *t, uint8_t family, const __be32 *group,
				  int32_t members, uint32_t *used)
{
	uint32_t mask = t->gtab_size - 1, h = xm_group_hash(family, group) & mask;
	struct top_group *g;

	for (g = &t->gtab[h]; g->gen == t->gtab_gen; g = &t->gtab[h = (h + 1) & mask])
		if (xm_same_group(g->family, g->group, family, group))
			return g;
	if (2 * (*used + 1) > t->gtab_size)
		return NULL;
	++*used;
	memcpy(g->group, group, sizeof(g->group));
	g->family = family;
	g->flowed = 0;
	g->gen = t->gtab_gen;
	g->members = members;
	return g;
}

/*
 * One hash pass over the groups: the groups with members go in first, with
 * the memberships wanting any of their sources; then each flow finds its
 * group there (t->flow_members, in the tracker's order) and counts the
 * distinct groups among the flows (t->groups).  The table is sized by the
 * groups of the last refresh, not by the flows: groups are far fewer, and
 * a small table stays in the cache.
 */
static int group_pass(struct top *t)
{
	const struct xm_snapshot *s = &t->cur;
	uint32_t size = 64, used, i;
	size_t want = 2 * ((size_t)s->nmembers + (t->groups > 0 ? t->groups : 1));
	/* Without the snapshot's group index, every flow asks the snapshot. */
	int32_t unknown = s->group_slots || !s->nmembers ? 0 : -1;
	int err;

	if (t->flow_members_cap < t->tr.n) {
		int32_t *m = realloc(t->flow_members, t->tr.n * sizeof(*m));

		if (!m)
			return -ENOMEM;
		t->flow_members = m;
		t->flow_members_cap = t->tr.n;
	}
	while (size < want)
		size *= 2;
again:
	err = gtab_reset(t, size);
	if (err)
		return err;
	used = 0;
	t->groups = 0;
	for (i = 0; s->group_slots && i < s->group_slots_size; i++) {
		const struct xm_group_slot *gs = &s->group_slots[i];

		if (gs->family && !gtab_get(t, gs->family, gs->group, gs->fixed, &used))
			goto grow;
	}
	for (i = 0; i < t->tr.n; i++) {
		const struct xm_flow_key *k = &t->tr.v[i].key;
		struct top_group *g = gtab_get(t, k->family, k->group, unknown, &used);

		if (!g)
			goto grow;
		t->groups += !g->flowed;
		g->flowed = 1;
		t->flow_members[i] = g->members >= 0 ? g->members : xm_members_of_flow(s, k);
	}
	return 0;
grow:
	size *= 2;
	goto again;
}

int top_refresh(struct top *t)
{
	struct xm_snapshot next;
	int err;

	err = xm_snapshot_take(&t->r, XM_SNAP_ALL, &next);
	if (err)
		return err;
	xm_snapshot_free(&t->prev);
	t->prev = t->cur;
	t->have_prev = t->prev.t_ns != 0;
	t->cur = next;
	return top_update(t);
}

int top_update(struct top *t)
{
	int err;

	err = xm_tracker_update(&t->tr, t->cur.flows, t->cur.nflows, t->cur.t_ns);
	if (!err)
		err = iface_rates(t);
	if (!err)
		err = group_pass(t);
	if (!err)
		err = top_rows(t);
	return err;
}

void top_set_filter(struct top *t, const char *text)
{
	struct xm_prefix p;

	memset(&t->filter, 0, sizeof(t->filter));
	snprintf(t->filter.text, sizeof(t->filter.text), "%s", text);
	if (text[0] && !xm_prefix_parse(text, &p, NULL, 0)) {
		t->filter.is_prefix = true;
		t->filter.family = p.family;
		t->filter.len = p.len;
		memcpy(t->filter.addr, p.addr, sizeof(p.addr));
	}
}

static bool in_prefix(const struct top_filter *f, uint8_t family, const __be32 *a)
{
	struct xm_prefix outer = { .family = f->family, .len = f->len };
	struct xm_prefix inner = { .family = family, .len = family == XM_AF_INET ? 32 : 128 };

	memcpy(outer.addr, f->addr, sizeof(outer.addr));
	memcpy(inner.addr, a, sizeof(inner.addr));
	return xm_prefix_contains(&outer, &inner);
}

static bool matches(const struct top *t, const struct xm_tracked *f, const char *ifname)
{
	const struct top_filter *flt = &t->filter;
	char buf[XM_ADDR_STRLEN];
	size_t n = strlen(flt->text);

	if (t->only_ifindex && f->key.ifindex != t->only_ifindex)
		return false;
	if (!n)
		return true;
	if (flt->is_prefix)
		return in_prefix(flt, f->key.family, f->key.group) ||
		       in_prefix(flt, f->key.family, f->key.source);
	if (!strcmp(ifname, flt->text))
		return true;
	if (!strncmp(xm_format_addr(f->key.family, f->key.group, buf, sizeof(buf)), flt->text, n))
		return true;
	return !strncmp(xm_format_addr(f->key.family, f->key.source, buf, sizeof(buf)),
			flt->text, n);
}

static inline double col_value(const struct top_row *r, enum top_col c, uint64_t now)
{
	switch (c) {
	case TOP_COL_PPS:	return r->f->avg[0].pps;
	case TOP_COL_RATE2:	return r->f->avg[0].bps;
	case TOP_COL_RATE10:	return r->f->avg[1].bps;
	case TOP_COL_RATE40:	return r->f->avg[2].bps;
	case TOP_COL_PACKETS:	return r->f->flow.packets;
	case TOP_COL_BYTES:	return r->f->flow.bytes;
	case TOP_COL_MEMBERS:	return r->members;
	case TOP_COL_COPIES:	return r->has_copies ? r->f->copies_pps : -1;
	case TOP_COL_IDLE:
		return now > r->f->flow.last_seen_ns ? (double)(now - r->f->flow.last_seen_ns) : 0;
	default:		return 0;
	}
}

struct sort_ctx {
	enum top_col col;
	bool ascending;
	uint64_t now;
};

static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct top_row *x = *(const struct top_row *const *)a;
	const struct top_row *y = *(const struct top_row *const *)b;
	const struct sort_ctx *c = arg;
	int d = 0;

	switch (c->col) {
	case TOP_COL_IFACE:
		d = strcmp(x->ifname, y->ifname);
		break;
	case TOP_COL_GROUP:
		d = x->f->key.family - y->f->key.family;
		if (!d)
			d = memcmp(x->f->key.group, y->f->key.group, 16);
		break;
	case TOP_COL_SOURCE:
		d = x->f->key.family - y->f->key.family;
		if (!d)
			d = memcmp(x->f->key.source, y->f->key.source, 16);
		break;
	default: {
		double vx = col_value(x, c->col, c->now), vy = col_value(y, c->col, c->now);

		d = vx < vy ? -1 : vx > vy;
		break;
	}
	}
	if (!c->ascending)
		d = -d;
	/* Ties in key order, whatever the direction: rows stay put. */
	return d ? d : xm_flow_key_cmp(&x->f->key, &y->f->key);
}

/* A double as an unsigned integer in the same order (no NaN here; -0 is 0). */
static uint64_t ordered_bits(double v)
{
	uint64_t u;

	if (v == 0)
		v = 0;
	memcpy(&u, &v, sizeof(u));
	return u >> 63 ? ~u : u | 1ull << 63;
}

struct radix_item {
	uint64_t key;
	uint32_t row;
};

/* Radix-sort a[0..n) by key (LSD, a byte a pass, stably), using b as
 * scratch; returns the sorted array.  Only the bytes set in vary differ
 * among the keys: the others take no pass. */
static struct radix_item *radix_sort(struct radix_item *a, struct radix_item *b, size_t n,
				     uint64_t vary)
{
	size_t count[256], i, v, sum;
	struct radix_item *tmp;
	int shift;

	for (shift = 0; shift < 64; shift += 8) {
		if (!((vary >> shift) & 0xff))
			continue;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(a[i].key >> shift) & 0xff]++;
		for (v = sum = 0; v < 256; v++) {
			size_t k = count[v];

			count[v] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			b[count[(a[i].key >> shift) & 0xff]++] = a[i];
		tmp = a;
		a = b;
		b = tmp;
	}
	return a;
}

/*
 * The rows: every flow the filter lets through, sorted by the view's
 * column, ties in key order.  The tracker holds the flows in the table's
 * order, and t->tr.order sorts them by key.  One pass over the flows in
 * their own order (sequential memory) builds the rows; a stable radix sort
 * orders them by key rank, then by column value.  Text columns (interface,
 * group, source) use row_cmp().
 */
int top_rows(struct top *t)
{
	struct sort_ctx ctx = { t->sort, t->ascending, t->cur.t_ns };
	bool numeric = t->sort != TOP_COL_IFACE && t->sort != TOP_COL_GROUP &&
		       t->sort != TOP_COL_SOURCE;
	const struct xm_snap_iface *si = NULL;
	size_t n = t->tr.n, i, k, m;
	struct radix_item *a, *b, *sorted;
	struct top_row *built;
	uint32_t *rank, drop_mask = 0;
	uint64_t *value, vary = 0, ranks = 0;

	if (t->rows_cap < n + 1) {
		free(t->rows);
		free(t->sort_scratch);
		t->rows_cap = n + n / 4 + 1;
		t->rows = malloc(t->rows_cap * sizeof(*t->rows));
		t->sort_scratch = malloc(t->rows_cap * (2 * sizeof(*a) + sizeof(*built) +
							sizeof(*rank) + sizeof(*value)));
		if (!t->rows || !t->sort_scratch) {
			free(t->rows);
			free(t->sort_scratch);
			t->rows = t->sort_scratch = NULL;
			t->rows_cap = 0;
			t->nrows = 0;
			return -ENOMEM;
		}
	}
	a = t->sort_scratch;
	b = a + t->rows_cap;
	built = (struct top_row *)(b + t->rows_cap);
	value = (uint64_t *)(built + t->rows_cap);
	rank = (uint32_t *)(value + t->rows_cap);
	for (k = 0; k < n; k++)
		rank[t->tr.order[k]] = k;
	for (k = 0; k < XM_R_COUNT; k++)
		drop_mask |= reason_drops[k] ? 1u << k : 0;
	for (i = m = 0; i < n; i++) {
		const struct xm_tracked *f = &t->tr.v[i];
		struct top_row *r = &built[m];

		/* Flows come by interface: look each interface up once. */
		if (!si || si->e.ifindex != f->key.ifindex)
			si = xm_snap_iface(&t->cur, f->key.ifindex);
		r->ifname = si ? si->name : "?";
		if (!matches(t, f, r->ifname))
			continue;
		r->f = f;
		r->has_copies = (si && si->e.cfg.fwd_mode == XM_FWD_ACCELERATE) || f->flow.copies;
		r->copies_pps = r->has_copies ? f->copies_pps : 0;
		r->members = t->flow_members[i];
		/* Its newest reason if that drops, else the first it saw that
		 * drops. */
		if (top_reason_drops(f->flow.last_reason))
			r->drop_reason = f->flow.last_reason;
		else if (f->flow.reason_mask & drop_mask)
			r->drop_reason = __builtin_ctz(f->flow.reason_mask & drop_mask);
		else
			r->drop_reason = -1;
		a[m].key = rank[i];
		a[m].row = m;
		ranks |= rank[i];
		if (numeric) {
			uint64_t key = ordered_bits(col_value(r, t->sort, ctx.now));

			value[m] = t->ascending ? key : ~key;
			vary |= value[m] ^ value[0];
		}
		m++;
	}
	t->nrows = m;
	if (!numeric) {
		for (k = 0; k < m; k++)
			t->rows[k] = &built[k];
		qsort_r(t->rows, m, sizeof(*t->rows), row_cmp, &ctx);
		return 0;
	}
	/* By key rank, then (stably) by value. */
	sorted = radix_sort(a, b, m, ranks);
	for (k = 0; k < m; k++)
		sorted[k].key = value[sorted[k].row];
	sorted = radix_sort(sorted, sorted == a ? b : a, m, vary);
	for (k = 0; k < m; k++)
		t->rows[k] = &built[sorted[k].row];
	return 0;
}
