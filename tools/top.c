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
	free(t->egress);
	free(t->ifs);
	free(t->rows);
}

static int egress_key_cmp(const struct xm_egress_key *a, const struct xm_egress_key *b)
{
	int d = xm_flow_key_cmp(&a->flow, &b->flow);

	if (d)
		return d;
	return a->egress_ifindex < b->egress_ifindex ? -1 : a->egress_ifindex > b->egress_ifindex;
}

/* Copies per egress, with their rates: the two readings merged by key. */
static int egress_rates(struct top *t)
{
	const struct xm_snapshot *c = &t->cur, *p = &t->prev;
	uint64_t dt = t->have_prev ? c->t_ns - p->t_ns : 0;
	int i, j = 0;

	free(t->egress);
	t->egress = NULL;
	t->negress = 0;
	if (!c->egress)
		return 0;
	t->egress = calloc(c->negress + 1, sizeof(*t->egress));
	if (!t->egress)
		return -ENOMEM;
	for (i = 0; i < c->negress; i++) {
		struct xm_counter then = { 0 };
		int d = 1;

		while (p->egress && j < p->negress &&
		       (d = egress_key_cmp(&p->egress[j].key, &c->egress[i].key)) < 0)
			j++;
		if (p->egress && j < p->negress && d == 0)
			then = p->egress[j].c;
		t->egress[i].key = c->egress[i].key;
		t->egress[i].c = c->egress[i].c;
		t->egress[i].rate = xm_rate(then, c->egress[i].c, dt);
	}
	t->negress = c->negress;
	return 0;
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
	for (i = 0; i < t->cur.nifs; i++) {
		const struct xm_snap_iface *si = &t->cur.ifs[i];
		const struct xm_snap_iface *pi = t->have_prev ? xm_snap_iface(&t->prev, si->e.ifindex)
							      : NULL;
		struct top_iface *ti = &t->ifs[i];

		ti->si = si;
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
				if (reason_drops[r]) {
					add_rate(&ti->drop, rate);
					add_rate(&ti->drops[r], rate);
				}
			}
	}
	return 0;
}

struct grp {
	uint8_t family;
	__be32 a[4];
};

static int grp_cmp(const void *a, const void *b)
{
	const struct grp *x = a, *y = b;

	return x->family != y->family ? x->family - y->family : memcmp(x->a, y->a, 16);
}

/* Distinct groups among the flows, on any interface. */
static int count_groups(struct top *t)
{
	struct grp *g = calloc(t->cur.nflows + 1, sizeof(*g));
	int i, n = 0;

	if (!g)
		return -ENOMEM;
	for (i = 0; i < t->cur.nflows; i++) {
		const struct xm_flow_key *k = &t->cur.flows[i].key;

		/* Flows of a group on one interface are next to each other. */
		if (n && g[n - 1].family == k->family && !memcmp(g[n - 1].a, k->group, 16))
			continue;
		g[n].family = k->family;
		memcpy(g[n].a, k->group, 16);
		n++;
	}
	qsort(g, n, sizeof(*g), grp_cmp);
	t->groups = 0;
	for (i = 0; i < n; i++)
		t->groups += i == 0 || grp_cmp(&g[i - 1], &g[i]);
	free(g);
	return 0;
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
	err = xm_tracker_update(&t->tr, t->cur.flows, t->cur.nflows, t->cur.t_ns);
	if (!err)
		err = egress_rates(t);
	if (!err)
		err = iface_rates(t);
	if (!err)
		err = count_groups(t);
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

static double col_value(const struct top_row *r, enum top_col c, uint64_t now)
{
	switch (c) {
	case TOP_COL_PPS:	return r->f->avg[0].pps;
	case TOP_COL_RATE2:	return r->f->avg[0].bps;
	case TOP_COL_RATE10:	return r->f->avg[1].bps;
	case TOP_COL_RATE40:	return r->f->avg[2].bps;
	case TOP_COL_PACKETS:	return r->f->flow.packets;
	case TOP_COL_BYTES:	return r->f->flow.bytes;
	case TOP_COL_MEMBERS:	return r->members;
	case TOP_COL_COPIES:	return r->has_copies ? r->copies_pps : -1;
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
	const struct top_row *x = a, *y = b;
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

int top_rows(struct top *t)
{
	struct sort_ctx ctx = { t->sort, t->ascending, t->cur.t_ns };
	const struct xm_snap_iface *si = NULL;
	size_t i;
	int n = 0, e = 0;

	free(t->rows);
	t->rows = calloc(t->tr.n + 1, sizeof(*t->rows));
	if (!t->rows) {
		t->nrows = 0;
		return -ENOMEM;
	}
	for (i = 0; i < t->tr.n; i++) {
		const struct xm_tracked *f = &t->tr.v[i];
		struct top_row *r = &t->rows[n];

		memset(r, 0, sizeof(*r));
		/* Flows come by interface: look each interface up once. */
		if (!si || si->e.ifindex != f->key.ifindex)
			si = xm_snap_iface(&t->cur, f->key.ifindex);
		r->f = f;
		r->ifname = si ? si->name : "?";
		/* Egress counters are sorted by flow like the tracker. */
		while (e < t->negress && xm_flow_key_cmp(&t->egress[e].key.flow, &f->key) < 0)
			e++;
		r->has_copies = t->egress != NULL;
		for (; e < t->negress && !xm_flow_key_cmp(&t->egress[e].key.flow, &f->key); e++)
			r->copies_pps += t->egress[e].rate.pps;
		if (!matches(t, f, r->ifname))
			continue;
		r->members = xm_members_of_flow(&t->cur, &f->key);
		r->drop_reason = top_reason_drops(f->flow.last_reason) ? (int)f->flow.last_reason : -1;
		for (int k = 0; r->drop_reason < 0 && k < XM_R_COUNT; k++)
			if ((f->flow.reason_mask & (1u << k)) && reason_drops[k])
				r->drop_reason = k;
		n++;
	}
	qsort_r(t->rows, n, sizeof(*t->rows), row_cmp, &ctx);
	t->nrows = n;
	return 0;
}
