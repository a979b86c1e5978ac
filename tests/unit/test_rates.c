// SPDX-License-Identifier: GPL-2.0-only
/*
 * The observers' pure parts, with AddressSanitizer and UBSan: rates over
 * two readings (counter resets, CPUs that come and go), the flow tracker
 * (2/10/40 s averages, flows evicted between readings or created anew,
 * new and stale flows, the sparkline series), the Prometheus text of a
 * made-up snapshot (names, HELP and TYPE, top-N folding, escaping),
 * mcast-top's rows of a made-up snapshot (members, groups, sort order and
 * its ties) and the sorted order a reader keeps between readings.
 * Prints TAP.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "rates.h"
#include "snapshot.h"
#include "stats.h"
#include "top.h"

#include "tap.h"

#define SEC 1000000000ull

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-6 * (fabs(b) > 1 ? fabs(b) : 1);
}

static void test_rate(void)
{
	struct xm_counter a = { 100, 6400 }, b = { 300, 19200 };
	struct xm_rate r = xm_rate(a, b, 2 * SEC);

	check(near(r.pps, 100) && near(r.bps, 51200) && !r.reset, "rate: packets and bits a second",
	      "pps %f bps %f", r.pps, r.bps);
	r = xm_rate(b, a, 2 * SEC);
	check(r.reset && near(r.pps, 50) && near(r.bps, 25600),
	      "rate: a counter that went down was reset; what it holds counts as new",
	      "reset %d pps %f", r.reset, r.pps);
	r = xm_rate(a, b, 0);
	check(r.pps == 0 && r.bps == 0, "rate: no interval, no rate", "");
	r = xm_rate(a, a, SEC);
	check(r.pps == 0 && !r.reset, "rate: an idle counter is 0, not a reset", "");
	a = (struct xm_counter){ 10, 1000 };
	b = (struct xm_counter){ 20, 900 };
	r = xm_rate(a, b, SEC);
	check(r.reset && near(r.pps, 20), "rate: bytes down alone is a reset too", "");
}

/* Per-CPU readings of one counter with a CPU count that changes between
 * them: the sum is what the rate sees. */
static void test_cpu_change(void)
{
	struct xm_counter four[4] = { { 10, 1000 }, { 20, 2000 }, { 30, 3000 }, { 40, 4000 } };
	struct xm_counter two[2] = { { 15, 1500 }, { 25, 2500 } };
	struct xm_counter six[6] = { { 15, 1500 }, { 25, 2500 }, { 30, 3000 }, { 40, 4000 },
				     { 0, 0 }, { 0, 0 } };
	struct xm_counter before = xm_counter_sum(four, 4);
	struct xm_rate r;

	r = xm_rate(before, xm_counter_sum(two, 2), SEC);
	check(r.reset && r.pps >= 0 && near(r.pps, 40),
	      "CPU count change: CPUs gone with their counts read as a reset, never negative",
	      "reset %d pps %f", r.reset, r.pps);
	r = xm_rate(before, xm_counter_sum(six, 6), SEC);
	check(!r.reset && near(r.pps, 10) && near(r.bps, 8000),
	      "CPU count change: CPUs added (zero) leave the rate to the CPUs that counted",
	      "reset %d pps %f", r.reset, r.pps);
	{
		struct xm_flow f4[4] = { { .packets = 5, .bytes = 500, .first_seen_ns = 7,
					   .last_seen_ns = 9 } };
		struct xm_flow f2[2] = { { .packets = 5, .bytes = 500, .first_seen_ns = 7,
					   .last_seen_ns = 9 } };
		struct xm_flow m4 = xm_flow_merge(f4, 4), m2 = xm_flow_merge(f2, 2);

		check(m4.packets == m2.packets && m4.first_seen_ns == m2.first_seen_ns,
		      "CPU count change: a flow merges the same over 2 or 4 CPUs", "");
	}
}

static struct xm_flow_entry flow(uint32_t ifindex, uint32_t group, uint32_t source,
				 uint64_t packets, uint64_t first_ns, uint64_t last_ns)
{
	struct xm_flow_entry e = { 0 };

	e.key.ifindex = ifindex;
	e.key.family = XM_AF_INET;
	e.key.group[0] = htonl(group);
	e.key.source[0] = htonl(source);
	e.flow.packets = packets;
	e.flow.bytes = packets * 100;
	e.flow.first_seen_ns = first_ns;
	e.flow.last_seen_ns = last_ns;
	return e;
}

static const struct xm_tracked *find(const struct xm_tracker *t, uint32_t group)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].key.group[0] == htonl(group))
			return &t->v[i];
	return NULL;
}

#define G_A 0xef010101
#define G_B 0xef010102
#define G_C 0xef010103

static void test_tracker_basics(void)
{
	struct xm_tracker t;
	struct xm_flow_entry cur[3];
	const struct xm_tracked *a, *b, *c;
	uint64_t t0 = 1000 * SEC;
	int rc;

	xm_tracker_init(&t, 3 * SEC);
	cur[0] = flow(2, G_A, 1, 1000, t0 - 5 * SEC, t0);
	cur[1] = flow(2, G_B, 1, 500, t0 - 5 * SEC, t0);
	rc = xm_tracker_update(&t, cur, 2, t0);
	a = find(&t, G_A);
	check(!rc && t.n == 2 && a && a->avg[0].pps == 0 && a->last.pps == 0 && !a->flags,
	      "tracker: the first reading has no rates and no new flows", "rc %d", rc);

	cur[0] = flow(2, G_A, 1, 1100, t0 - 5 * SEC, t0 + SEC);
	cur[1] = flow(2, G_B, 1, 500, t0 - 5 * SEC, t0);
	cur[2] = flow(2, G_C, 1, 50, t0 + SEC / 2, t0 + SEC);
	rc = xm_tracker_update(&t, cur, 3, t0 + SEC);
	a = find(&t, G_A);
	b = find(&t, G_B);
	c = find(&t, G_C);
	check(!rc && a && near(a->last.pps, 100) && near(a->avg[0].pps, 100) &&
	      near(a->avg[2].bps, 80000), "tracker: 1 s later, every window is that second",
	      "last %f avg0 %f", a ? a->last.pps : -1, a ? a->avg[0].pps : -1);
	check(c && (c->flags & XM_TF_NEW) && c->last.pps == 0 && near(c->avg[0].pps, 50),
	      "tracker: a flow that appears is new, and its packets count since the checkpoint",
	      "flags %u avg0 %f", c ? c->flags : 0, c ? c->avg[0].pps : -1);
	check(b && b->avg[0].pps == 0 && !(b->flags & XM_TF_NEW),
	      "tracker: an idle flow has rate 0 and is not new", "");

	/* B is evicted between two readings; A is evicted and created anew
	 * (later first_seen, fewer packets). */
	cur[0] = flow(2, G_A, 1, 30, t0 + 1.5 * SEC, t0 + 2 * SEC);
	cur[1] = flow(2, G_C, 1, 150, t0 + SEC / 2, t0 + 2 * SEC);
	rc = xm_tracker_update(&t, cur, 2, t0 + 2 * SEC);
	a = find(&t, G_A);
	check(!rc && t.n == 2 && !find(&t, G_B), "tracker: a flow evicted between readings is gone",
	      "n %zu", t.n);
	check(a && a->last.pps >= 0 && near(a->last.pps, 30) && near(a->avg[0].pps, 15) &&
	      a->avg[2].pps >= 0,
	      "tracker: a flow created anew counts from zero, never a negative rate",
	      "last %f avg0 %f", a ? a->last.pps : -1, a ? a->avg[0].pps : -1);
	cur[0] = flow(2, G_A, 1, 40, t0 + 1.5 * SEC, t0 + 3 * SEC);
	cur[1] = flow(2, G_B, 1, 20, t0 + 2.5 * SEC, t0 + 3 * SEC);
	cur[2] = flow(2, G_C, 1, 150, t0 + SEC / 2, t0 + 2 * SEC);
	rc = xm_tracker_update(&t, cur, 3, t0 + 3 * SEC);
	b = find(&t, G_B);
	check(!rc && b && (b->flags & XM_TF_NEW) && b->last.pps == 0 && b->appeared_ns == t0 + 3 * SEC,
	      "tracker: an evicted flow that comes back is a new flow", "");
	rc = xm_tracker_update(&t, cur, 3, t0 + 7 * SEC);
	c = find(&t, G_C);
	a = find(&t, G_A);
	check(!rc && c && (c->flags & XM_TF_STALE) && !(c->flags & XM_TF_NEW) && a &&
	      (a->flags & XM_TF_STALE), "tracker: no packet for the stale time: stale", "");
	cur[0] = flow(2, G_A, 1, 41, t0 + 1.5 * SEC, t0 + 8 * SEC);
	rc = xm_tracker_update(&t, cur, 3, t0 + 8 * SEC);
	a = find(&t, G_A);
	check(!rc && a && !(a->flags & XM_TF_STALE), "tracker: a packet makes it fresh again", "");
	rc = xm_tracker_update(&t, NULL, 0, t0 + 9 * SEC);
	check(!rc && t.n == 0 && t.nfree == t.pool_n, "tracker: an empty reading forgets every flow "
	      "and gives back every history slot", "n %zu free %u of %u", t.n, t.nfree, t.pool_n);
	xm_tracker_free(&t);
}

/* 10 packets a second for 60 s, then 110 a second for 10 s, read every
 * second: the windows see different rates, exactly. */
static void test_tracker_windows(void)
{
	struct xm_rate series[XM_HIST_SLOTS];
	struct xm_tracker t;
	struct xm_flow_entry e;
	const struct xm_tracked *a;
	uint64_t t0 = 5 * SEC, pk = 0;
	int s, n, ok = 1, rc = 0;

	xm_tracker_init(&t, 3 * SEC);
	for (s = 0; s <= 70 && !rc; s++) {
		if (s > 0)
			pk += s <= 60 ? 10 : 110;
		e = flow(3, G_A, 9, pk, t0, t0 + s * SEC);
		rc = xm_tracker_update(&t, &e, 1, t0 + s * SEC);
	}
	a = find(&t, G_A);
	check(!rc && a && near(a->avg[0].pps, 110) && near(a->avg[1].pps, 110) &&
	      near(a->avg[2].pps, 35) && near(a->avg[2].bps, 35 * 800),
	      "tracker: 2 s and 10 s averages see the new rate, 40 s the mix",
	      "avg %f %f %f", a ? a->avg[0].pps : -1, a ? a->avg[1].pps : -1,
	      a ? a->avg[2].pps : -1);
	n = a ? xm_tracker_series(&t, a, series, XM_HIST_SLOTS - 1) : 0;
	for (s = 0; s < n; s++)
		ok &= near(series[s].pps, s >= n - 5 ? 110 : 10);
	check(n == XM_HIST_SLOTS - 1 && ok,
	      "tracker: the sparkline series holds a minute of 2 s intervals, oldest first",
	      "n %d first %f last %f", n, n ? series[0].pps : -1, n ? series[n - 1].pps : -1);
	n = a ? xm_tracker_series(&t, a, series, 3) : 0;
	check(n == 3 && near(series[0].pps, 110) && near(series[2].pps, 110),
	      "tracker: a shorter series is the newest intervals", "n %d", n);
	xm_tracker_free(&t);
}

/* Readings in any order (a hash table's): flows are matched by key, the
 * order index sorts them by key, and flows that come and go in the middle
 * keep every other flow's rates. */
static void test_tracker_order(void)
{
	struct xm_flow_entry cur[64];
	struct xm_tracker t;
	int round, i, n, rc = 0, sorted = 1, rates = 1;

	xm_tracker_init(&t, 3 * SEC);
	for (round = 0; round < 6 && !rc; round++) {
		/* 50 flows, reversed on odd rounds, flow 7 gone in round 3,
		 * flow 60 new from round 4; 10 packets a second each. */
		for (i = n = 0; i < 61; i++) {
			int f = round % 2 ? 60 - i : i;

			if ((f >= 50 && f != 60) || (f == 7 && round == 3) || (f == 60 && round < 4))
				continue;
			cur[n++] = flow(1, 0xef000000 + f * 7919 % 61, 1, 10 * (round + 1), SEC,
					(round + 1) * SEC);
		}
		rc = xm_tracker_update(&t, cur, n, (round + 1) * SEC);
		for (i = 1; i < (int)t.n; i++)
			sorted &= xm_flow_key_cmp(&t.v[t.order[i - 1]].key, &t.v[t.order[i]].key) < 0;
		for (i = 0; round >= 1 && i < (int)t.n; i++) {
			const struct xm_tracked *f = &t.v[i];
			bool fresh = f->key.group[0] == htonl(0xef000000 + 60 * 7919 % 61) ||
				     (f->key.group[0] == htonl(0xef000000 + 7 * 7919 % 61) && round == 4);

			/* A flow back after a gap counts from zero: 50 packets over 1 s. */
			rates &= fresh || near(f->last.pps, 10);
		}
	}
	check(!rc && t.n == 51 && sorted && rates,
	      "tracker: readings in any order are matched by key and sorted by the order index",
	      "rc %d n %zu sorted %d rates %d", rc, t.n, sorted, rates);
	xm_tracker_free(&t);
}

/* Many flows in and out: slots are reused, nothing leaks (ASan). */
static void test_tracker_churn(void)
{
	struct xm_flow_entry *cur = calloc(3000, sizeof(*cur));
	struct xm_tracker t;
	int round, i, n, rc = 0;

	xm_tracker_init(&t, 3 * SEC);
	for (round = 0; round < 20 && !rc; round++) {
		for (i = n = 0; i < 3000; i++)
			if ((i + round) % 3)
				cur[n++] = flow(1, 0xef000000 + i, 1, round + 1, SEC, (round + 1) * SEC);
		rc = xm_tracker_update(&t, cur, n, (round + 1) * SEC);
	}
	check(!rc && t.n == 2000 && t.pool_n <= 3000, "tracker: churn reuses history slots",
	      "n %zu pool %u", t.n, t.pool_n);
	xm_tracker_free(&t);
	free(cur);
}

/* ---- Prometheus text ---- */

static char *render(const struct xm_snapshot *s, int top)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	xm_metrics_write(f, s, top);
	fclose(f);
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

/* Every sample follows the HELP and TYPE of its metric, each given once. */
static bool well_formed(const char *text, char *why, size_t len)
{
	char *copy = strdup(text), *line, *save = NULL, declared[96] = "";
	char seen[64][96];
	int nseen = 0, i;
	bool ok = true;

	for (line = strtok_r(copy, "\n", &save); line && ok; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%95s", name);
			for (i = 0; i < nseen; i++)
				if (!strcmp(seen[i], name)) {
					snprintf(why, len, "HELP twice for %s", name);
					ok = false;
				}
			if (nseen < 64)
				strcpy(seen[nseen++], name);
			snprintf(declared, sizeof(declared), "%s", name);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			if (strncmp(line + 7, declared, strlen(declared))) {
				snprintf(why, len, "TYPE without its HELP: %s", line);
				ok = false;
			}
			continue;
		}
		sscanf(line, "%95[^{ ]", name);
		if (strcmp(name, declared) || strncmp(name, "xdp_mcast_", 10)) {
			snprintf(why, len, "sample of %.60s under %.60s", name, declared);
			ok = false;
		}
	}
	free(copy);
	return ok;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool perm_sorts(const struct xm_order *o, const uint32_t *keys, uint32_t n)
{
	uint32_t i;

	for (i = 1; i < n; i++)
		if (keys[o->perm[i - 1]] > keys[o->perm[i]])
			return false;
	return o->n == n;
}

/* The order a reader keeps: reused only for the very same keys. */
static void test_order(void)
{
	uint32_t k1[5] = { 50, 10, 40, 20, 30 }, k2[5] = { 50, 10, 40, 20, 5 };
	uint32_t k3[4] = { 50, 10, 40, 20 };
	struct xm_order o = { 0 };
	bool same = true;
	int err;

	err = xm_order_sort(&o, k1, 5, sizeof(k1[0]), u32_cmp, &same);
	check(!err && !same && perm_sorts(&o, k1, 5), "order: a first reading is sorted",
	      "err %d same %d", err, same);
	err = xm_order_sort(&o, k1, 5, sizeof(k1[0]), u32_cmp, &same);
	check(!err && same && perm_sorts(&o, k1, 5), "order: the same keys keep their order", "");
	err = xm_order_sort(&o, k2, 5, sizeof(k2[0]), u32_cmp, &same);
	check(!err && !same && perm_sorts(&o, k2, 5) && o.perm[0] == 4,
	      "order: as many keys, one of them another: sorted again", "perm[0] %u", o.perm[0]);
	err = xm_order_sort(&o, k3, 4, sizeof(k3[0]), u32_cmp, &same);
	check(!err && !same && perm_sorts(&o, k3, 4), "order: a key fewer: sorted again", "");
	err = xm_order_sort(&o, k3, 0, sizeof(k3[0]), u32_cmp, &same);
	check(!err && !same && o.n == 0, "order: no key at all", "");
	xm_order_free(&o);
}

static const char *row_group(const struct top *t, int i, char *buf)
{
	return inet_ntop(AF_INET, t->rows[i]->f->key.group, buf, INET_ADDRSTRLEN);
}

/*
 * mcast-top's rows over a made-up snapshot: members per flow through the
 * snapshot's group index (a group whose memberships list no source) and
 * through its sources (one that does), distinct groups, and the sort:
 * by value, ties in key order whatever the table's order, both directions.
 */
static void test_top_rows(void)
{
	struct xm_snap_iface ifs[1] = { 0 };
	struct xm_flow_entry flows[6];
	struct xm_member_entry members[3] = { 0 };
	struct xm_member_src_entry srcs[1] = { 0 };
	uint32_t by_group[3] = { 0, 1, 2 };
	struct xm_group_slot slots[64] = { 0 };
	struct top t;
	char b[INET_ADDRSTRLEN], order[160] = "";
	int i, err, o;

	memset(&t, 0, sizeof(t));
	xm_tracker_init(&t.tr, 3 * SEC);
	ifs[0].e.ifindex = 2;
	strcpy(ifs[0].name, "up0");
	/* In the table's order, not the keys': packets 5, 9, 5, 1, 9, 5. */
	flows[0] = flow(2, G_C, 1, 5, SEC, SEC);
	flows[1] = flow(2, G_B, 2, 9, SEC, SEC);
	flows[2] = flow(2, G_A, 3, 5, SEC, SEC);
	flows[3] = flow(2, G_C, 4, 1, SEC, SEC);
	flows[4] = flow(2, G_A, 1, 9, SEC, SEC);
	flows[5] = flow(2, G_B, 1, 5, SEC, SEC);
	/* G_A: two interfaces with any source; G_B: source 1 only. */
	for (i = 0; i < 3; i++) {
		members[i].key.ifindex = 3 + i;
		members[i].key.family = XM_AF_INET;
		members[i].key.group[0] = htonl(i < 2 ? G_A : G_B);
		members[i].m.filter_mode = i < 2 ? XM_FILTER_EXCLUDE : XM_FILTER_INCLUDE;
	}
	members[2].first_src = 0;
	members[2].nsrc = 1;
	srcs[0].key.g = members[2].key;
	srcs[0].key.source[0] = htonl(1);
	srcs[0].v.forward = 1;
	for (i = 0; i < 2; i++) {
		uint32_t g = i ? G_B : G_A, h;
		__be32 a[4] = { htonl(g), 0, 0, 0 };

		h = xm_group_hash(XM_AF_INET, a) & 63;
		while (slots[h].family)
			h = (h + 1) & 63;
		slots[h].family = XM_AF_INET;
		memcpy(slots[h].group, a, sizeof(a));
		slots[h].first = i ? 2 : 0;
		slots[h].fixed = i ? -1 : 2;
	}
	t.cur.t_ns = 10 * SEC;
	t.cur.ifs = ifs;
	t.cur.nifs = 1;
	t.cur.flows = flows;
	t.cur.nflows = 6;
	t.cur.members = members;
	t.cur.nmembers = 3;
	t.cur.by_group = by_group;
	t.cur.srcs = srcs;
	t.cur.nsrcs = 1;
	t.cur.group_slots = slots;
	t.cur.group_slots_size = 64;
	t.sort = TOP_COL_PACKETS;
	err = top_update(&t);
	for (i = o = 0; !err && i < t.nrows; i++)
		o += snprintf(order + o, sizeof(order) - o, "%s%s/%u:%d", i ? " " : "",
			      row_group(&t, i, b), ntohl(t.rows[i]->f->key.source[0]),
			      t.rows[i]->members);
	check(!err && t.nrows == 6 && t.groups == 3, "top: six rows, three groups",
	      "err %d rows %d groups %d", err, t.nrows, t.groups);
	check(!strcmp(order, "239.1.1.1/1:2 239.1.1.2/2:0 239.1.1.1/3:2 239.1.1.2/1:1 "
			     "239.1.1.3/1:0 239.1.1.3/4:0"),
	      "top: most packets first, ties in key order; members by group and by source",
	      "%s", order);
	t.ascending = true;
	err = top_rows(&t);
	for (i = o = 0, order[0] = '\0'; !err && i < t.nrows; i++)
		o += snprintf(order + o, sizeof(order) - o, "%s%s/%u", i ? " " : "",
			      row_group(&t, i, b), ntohl(t.rows[i]->f->key.source[0]));
	check(!strcmp(order, "239.1.1.3/4 239.1.1.1/3 239.1.1.2/1 239.1.1.3/1 239.1.1.1/1 "
			     "239.1.1.2/2"),
	      "top: ascending, ties still in key order", "%s", order);
	top_set_filter(&t, "239.1.1.2");
	err = top_rows(&t);
	check(!err && t.nrows == 2 && t.rows[0]->f->key.group[0] == htonl(G_B) &&
	      t.rows[1]->f->key.group[0] == htonl(G_B), "top: a filter keeps its rows, sorted",
	      "rows %d", t.nrows);
	top_set_filter(&t, "");
	t.sort = TOP_COL_GROUP;
	t.ascending = false;
	err = top_rows(&t);
	for (i = o = 0, order[0] = '\0'; !err && i < t.nrows; i++)
		o += snprintf(order + o, sizeof(order) - o, "%s%s/%u", i ? " " : "",
			      row_group(&t, i, b), ntohl(t.rows[i]->f->key.source[0]));
	check(!strcmp(order, "239.1.1.3/1 239.1.1.3/4 239.1.1.2/1 239.1.1.2/2 239.1.1.1/1 "
			     "239.1.1.1/3"),
	      "top: by group, descending; sources in key order", "%s", order);
	/* The snapshot is the test's: nothing of it is freed. */
	memset(&t.cur, 0, sizeof(t.cur));
	xm_tracker_free(&t.tr);
	free(t.ifs);
	free(t.rows);
	free(t.sort_scratch);
	free(t.gtab);
	free(t.flow_members);
}

static void test_metrics_text(void)
{
	struct xm_snap_iface ifs[2] = { 0 };
	struct xm_flow_entry flows[4];
	struct xm_member_entry members[1] = { 0 };
	uint32_t by_group[1] = { 0 };
	struct xm_snapshot s = { 0 };
	char why[160] = "", *text;

	ifs[0].e.ifindex = 2;
	strcpy(ifs[0].name, "up0");
	ifs[0].reasons[XM_DIR_IN][XM_R_FORWARD] = (struct xm_counter){ 170, 11220 };
	ifs[0].reasons[XM_DIR_IN][XM_R_BOUNDARY] = (struct xm_counter){ 20, 1320 };
	ifs[0].snoop[1] = 7;	/* reports_v1 */
	ifs[1].e.ifindex = 3;
	strcpy(ifs[1].name, "we\"ird\\");
	flows[0] = flow(2, G_A, 1, 100, SEC, SEC);
	flows[1] = flow(2, G_B, 1, 50, SEC, SEC);
	flows[2] = flow(2, G_B, 2, 60, SEC, SEC);
	flows[3] = flow(3, G_C, 1, 10, SEC, SEC);
	members[0].key.ifindex = 3;
	members[0].key.family = XM_AF_INET;
	members[0].key.group[0] = htonl(G_A);
	s.ifs = ifs;
	s.nifs = 2;
	s.flows = flows;
	s.nflows = 4;
	s.members = members;
	s.by_group = by_group;
	s.nmembers = 1;
	s.flows_max = 1000;
	s.members_max = 100;
	s.globals[XM_G_FLOWS_CREATED] = 4;

	text = render(&s, 1);
	check(well_formed(text, why, sizeof(why)),
	      "metrics: one HELP and TYPE per metric, before its samples, all prefixed", "%s", why);
	check(has_line(text, "xdp_mcast_packets_total{interface=\"up0\",direction=\"in\","
		       "reason=\"boundary\"} 20") &&
	      has_line(text, "xdp_mcast_bytes_total{interface=\"up0\",direction=\"in\","
		       "reason=\"forward\"} 11220") &&
	      has_line(text, "# TYPE xdp_mcast_packets_total counter"),
	      "metrics: per-interface, per-direction, per-reason counters", "%s", text);
	check(has_line(text, "xdp_mcast_flows 4") && has_line(text, "xdp_mcast_flows_capacity 1000") &&
	      has_line(text, "xdp_mcast_table_fill_ratio{table=\"flows\"} 0.004") &&
	      has_line(text, "xdp_mcast_table_fill_ratio{table=\"memberships\"} 0.01") &&
	      has_line(text, "xdp_mcast_flows_created_total 4") &&
	      has_line(text, "# TYPE xdp_mcast_flows gauge"),
	      "metrics: flow gauges, table fill as a ratio, global counters", "");
	check(has_line(text, "xdp_mcast_memberships{interface=\"we\\\"ird\\\\\"} 1") &&
	      has_line(text, "xdp_mcast_snooping_events_total{interface=\"up0\",event=\"reports_v1\"} 7"),
	      "metrics: memberships and snooping per interface, label values escaped", "");
	/* By bytes: B (11000) > A (10000) > C (1000). */
	check(has_line(text, "xdp_mcast_groups 3") && has_line(text, "xdp_mcast_groups_folded 2") &&
	      has_line(text, "xdp_mcast_group_packets_total{group=\"239.1.1.2\"} 110") &&
	      has_line(text, "xdp_mcast_group_packets_total{group=\"other\"} 110") &&
	      has_line(text, "xdp_mcast_group_flows{group=\"239.1.1.2\"} 2") &&
	      has_line(text, "xdp_mcast_group_memberships{group=\"other\"} 1") &&
	      !strstr(text, "group=\"239.1.1.1\""),
	      "metrics: top 1 group by bytes has its series, the others are summed as other", "");
	check(!strstr(text, "egress_copies"), "metrics: no per-egress series without the accelerator",
	      "");
	free(text);
	text = render(&s, 1000);
	check(has_line(text, "xdp_mcast_groups_folded 0") &&
	      has_line(text, "xdp_mcast_group_packets_total{group=\"other\"} 0") &&
	      has_line(text, "xdp_mcast_group_packets_total{group=\"239.1.1.1\"} 100") &&
	      has_line(text, "xdp_mcast_group_memberships{group=\"239.1.1.1\"} 1"),
	      "metrics: top N beyond the groups there are: nothing folded", "");
	free(text);
	text = render(&s, 0);
	check(has_line(text, "xdp_mcast_groups_folded 3") &&
	      has_line(text, "xdp_mcast_group_bytes_total{group=\"other\"} 22000"),
	      "metrics: top 0 folds every group", "");
	free(text);
}

int main(void)
{
	test_rate();
	test_cpu_change();
	test_tracker_basics();
	test_tracker_windows();
	test_tracker_churn();
	test_tracker_order();
	test_metrics_text();
	test_order();
	test_top_rows();
	return failures ? 1 : 0;
}
