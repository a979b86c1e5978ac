// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcast-top: a live view of the multicast flows, groups and drops of the
 * xdp-mcast data path, as top shows processes and iftop shows links.
 *
 * One renderer writes lines to a canvas: the terminal (ncurses), or plain
 * text frames on standard output (-b).  --json prints one object a frame
 * instead.  One poll loop waits for a key or the next refresh.
 * docs/mcast-top.md and mcast-top(1) describe the screen and the keys.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <ncurses.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctrl.h"
#include "json.h"
#include "log.h"
#include "pins.h"
#include "top.h"
#include "util.h"

#ifndef XM_VERSION
#define XM_VERSION "0.1.0"
#endif

static const char usage[] =
"Usage: mcast-top [OPTIONS]\n"
"\n"
"A live view of the multicast flows, groups and drops of xdp-mcast.\n"
"\n"
"Options:\n"
"  -d, --delay SECONDS  time between refreshes (default 2, at least 0.1)\n"
"  -i, --iface IFACE    only flows arriving on IFACE\n"
"  -s, --sort COLUMN    sort by COLUMN: iface, group, source, pps, 2s (default),\n"
"                       10s, 40s, packets, bytes, members, copies, idle\n"
"  -C, --no-color       no colours\n"
"  -b, --batch          plain text frames on standard output, no keys\n"
"  -n, --frames N       exit after N frames\n"
"  -j, --json           one JSON object per frame (schema in docs/mcast-top.md)\n"
"  -p, --pin-path DIR   pin directory (default " XM_PIN_DEFAULT ", or $" XM_PIN_ENV ")\n"
"  -h, --help           this text\n"
"  -V, --version        the version\n"
"\n"
"Keys: q quit, arrows or j/k move, s/> and < sort column, S direction,\n"
"f filter, i interface, p pause, b bits/bytes, Enter group detail, ? help.\n";

struct opts {
	double delay;
	const char *iface;
	int sort;
	bool no_color, batch, json;
	long frames;		/* 0: until q */
	const char *pin_dir;
};

/* Colour pairs. */
enum { C_NEW = 1, C_STALE, C_DROP, C_TITLE, C_SPARK };

struct ui {
	struct opts o;
	struct top t;
	bool curses, paused, bytes, detail, help, prompt;
	int sel, scroll;
	struct xm_flow_key sel_key;
	bool have_sel;
	uint8_t det_family;		/* the group of the detail view */
	__be32 det_group[4];
	char input[64];			/* the filter being typed */
	size_t input_len;
	int if_pos;			/* -1: all interfaces, else an index in t.cur.ifs */
	char status[128];		/* a message on the last line */
	long frames_done;
};

static volatile sig_atomic_t want_quit;

static void on_signal(int sig)
{
	want_quit = 1;
}

/* ---- numbers ---- */

/* v with a k/M/G/T suffix in at most 6 characters: "999", "1.23k", "12.3M". */
static const char *human(double v, const char *unit, char *buf, size_t len)
{
	static const char *const sfx[] = { "", "k", "M", "G", "T", "P" };
	unsigned int i = 0;

	while (v >= 999.5 && i + 1 < ARRAY_SIZE(sfx)) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f%s", v, unit);
	else
		snprintf(buf, len, v < 9.995 ? "%.2f%s%s" : v < 99.95 ? "%.1f%s%s" : "%.0f%s%s",
			 v, sfx[i], unit);
	return buf;
}

static const char *rate_str(const struct ui *u, double bps, char *buf, size_t len)
{
	return human(u->bytes ? bps / 8 : bps, u->bytes ? "B" : "b", buf, len);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the canvas: curses or plain lines ---- */

struct canvas {
	bool curses;
	int width, height;	/* height < 0: no limit */
	int y;
};

static bool room(const struct canvas *c)
{
	return c->height < 0 || c->y < c->height;
}

__attribute__((format(printf, 3, 4)))
static void put(struct canvas *c, int attr, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (!room(c))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > c->width && c->width < (int)sizeof(line))
		line[c->width] = '\0';
	if (c->curses) {
		attrset(attr);
		mvaddstr(c->y, 0, line);
		if ((int)strlen(line) < c->width)
			clrtoeol();
		attrset(A_NORMAL);
	} else {
		/* No trailing blanks in plain frames. */
		n = strlen(line);
		while (n && line[n - 1] == ' ')
			line[--n] = '\0';
		puts(line);
	}
	c->y++;
}

static int pair(const struct ui *u, int p)
{
	return u->curses && !u->o.no_color && has_colors() ? COLOR_PAIR(p) : 0;
}

/* ---- the flow table's columns ---- */

enum dcol { D_FLAG, D_IFACE, D_GROUP, D_SOURCE, D_PPS, D_R2, D_R10, D_R40, D_MBR,
	    D_IDLE, D_COPIES, D_REASON, D_PACKETS, D_BYTES, D_COUNT };

static const struct dcolspec {
	const char *title;
	int width, prio;
	bool left;
	int sort;		/* enum top_col, -1 */
} dcols[D_COUNT] = {
	[D_FLAG]	= { "",		1, 0, true, -1 },
	[D_IFACE]	= { "IFACE",	6, 0, true, TOP_COL_IFACE },
	[D_GROUP]	= { "GROUP",	15, 0, true, TOP_COL_GROUP },
	[D_SOURCE]	= { "SOURCE",	15, 0, true, TOP_COL_SOURCE },
	[D_PPS]		= { "PKT/S",	6, 1, false, TOP_COL_PPS },
	[D_R2]		= { "2S",	6, 1, false, TOP_COL_RATE2 },
	[D_R10]		= { "10S",	6, 2, false, TOP_COL_RATE10 },
	[D_R40]		= { "40S",	6, 2, false, TOP_COL_RATE40 },
	[D_MBR]		= { "MBR",	3, 3, false, TOP_COL_MEMBERS },
	[D_IDLE]	= { "IDLE",	5, 4, false, TOP_COL_IDLE },
	[D_COPIES]	= { "COPY/S",	6, 3, false, TOP_COL_COPIES },
	[D_REASON]	= { "REASON",	13, 5, true, -1 },
	[D_PACKETS]	= { "PACKETS",	10, 6, false, TOP_COL_PACKETS },
	[D_BYTES]	= { "BYTES",	12, 6, false, TOP_COL_BYTES },
};

/* Without an interface in accelerate mode COPY/S only says "-": it goes
 * last. */
static int col_prio(const struct ui *u, int d)
{
	return d == D_COPIES && !u->t.accelerating ? 7 : dcols[d].prio;
}

struct layout {
	bool on[D_COUNT];
	int width[D_COUNT];
};

/* The columns that fit in width, by priority; the addresses take what is
 * left, up to the longest address shown. */
static void lay_out(const struct ui *u, int width, struct layout *l)
{
	char buf[XM_ADDR_STRLEN];
	int used = -1, prio, d, i, longest = 15;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < u->t.nrows; i++) {
		const struct xm_flow_key *k = &u->t.rows[i]->f->key;
		int a = strlen(xm_format_addr(k->family, k->group, buf, sizeof(buf)));
		int b = strlen(xm_format_addr(k->family, k->source, buf, sizeof(buf)));

		longest = a > longest ? a : longest;
		longest = b > longest ? b : longest;
		if (longest >= 39 || i > 5000)	/* enough to know */
			break;
	}
	for (prio = 0; prio <= 7; prio++)
		for (d = 0; d < D_COUNT; d++)
			if (col_prio(u, d) == prio && used + 1 + dcols[d].width <= width) {
				l->on[d] = true;
				l->width[d] = dcols[d].width;
				used += 1 + dcols[d].width;
			}
	while (used < width && (l->width[D_GROUP] < longest || l->width[D_SOURCE] < longest)) {
		d = l->width[D_GROUP] <= l->width[D_SOURCE] ? D_GROUP : D_SOURCE;
		l->width[d]++;
		used++;
	}
}

static void cells(char *line, size_t len, const struct layout *l, const char *const *v)
{
	int d;

	line[0] = '\0';
	for (d = 0; d < D_COUNT; d++) {
		size_t at = strlen(line);

		if (!l->on[d])
			continue;
		snprintf(line + at, len - at, dcols[d].left ? "%s%-*.*s" : "%s%*.*s",
			 at ? " " : "", l->width[d], l->width[d], v[d]);
	}
}

static const char *idle_str(uint64_t now, uint64_t last, char *buf, size_t len)
{
	double s = now > last ? (now - last) / 1e9 : 0;

	if (!last)
		snprintf(buf, len, "-");
	else if (s < 100)
		snprintf(buf, len, "%.1f", s);
	else
		snprintf(buf, len, "%.0f", s);
	return buf;
}

static void row_text(const struct ui *u, const struct top_row *r, const struct layout *l,
		     char *line, size_t len)
{
	char v[D_COUNT][48];
	const char *p[D_COUNT];
	const struct xm_tracked *f = r->f;
	int d;

	snprintf(v[D_FLAG], sizeof(v[0]), "%s", f->flags & XM_TF_NEW ? "+" :
		 f->flags & XM_TF_STALE ? "~" : r->drop_reason >= 0 ? "!" : " ");
	if (f->key.vlan)
		snprintf(v[D_IFACE], sizeof(v[0]), "%s.%u", r->ifname, f->key.vlan);
	else
		snprintf(v[D_IFACE], sizeof(v[0]), "%s", r->ifname);
	xm_format_addr(f->key.family, f->key.group, v[D_GROUP], sizeof(v[0]));
	xm_format_addr(f->key.family, f->key.source, v[D_SOURCE], sizeof(v[0]));
	human(f->avg[0].pps, "", v[D_PPS], sizeof(v[0]));
	rate_str(u, f->avg[0].bps, v[D_R2], sizeof(v[0]));
	rate_str(u, f->avg[1].bps, v[D_R10], sizeof(v[0]));
	rate_str(u, f->avg[2].bps, v[D_R40], sizeof(v[0]));
	snprintf(v[D_MBR], sizeof(v[0]), "%d", r->members);
	idle_str(u->t.cur.t_ns, f->flow.last_seen_ns, v[D_IDLE], sizeof(v[0]));
	if (r->has_copies)
		human(r->copies_pps, "", v[D_COPIES], sizeof(v[0]));
	else
		snprintf(v[D_COPIES], sizeof(v[0]), "-");
	snprintf(v[D_REASON], sizeof(v[0]), "%s",
		 r->drop_reason >= 0 ? xm_reason_names[r->drop_reason] : "-");
	/* Totals exact in plain frames, short on the screen. */
	if (u->curses) {
		human(f->flow.packets, "", v[D_PACKETS], sizeof(v[0]));
		human(f->flow.bytes, "B", v[D_BYTES], sizeof(v[0]));
	} else {
		snprintf(v[D_PACKETS], sizeof(v[0]), "%" PRIu64, (uint64_t)f->flow.packets);
		snprintf(v[D_BYTES], sizeof(v[0]), "%" PRIu64, (uint64_t)f->flow.bytes);
	}
	for (d = 0; d < D_COUNT; d++)
		p[d] = v[d];
	cells(line, len, l, p);
}

/* ---- the header ---- */

static void draw_header(struct ui *u, struct canvas *c)
{
	const struct top *t = &u->t;
	char a[16], b[16], e[16], f[16], g[16], drops[256];
	int i, r, shown = 0, members_src = t->cur.nsrcs;
	const char *ifsel = u->if_pos >= 0 && u->if_pos < t->cur.nifs ?
			    t->cur.ifs[u->if_pos].name : u->o.iface ? u->o.iface : "all";

	put(c, A_BOLD, "mcast-top - every %.1fs - sort %s %s - iface %s%s%s%s%s", u->o.delay,
	    top_col_names[t->sort], t->ascending ? "asc" : "desc", ifsel,
	    t->filter.text[0] ? " - filter " : "", t->filter.text,
	    u->bytes ? " - bytes" : " - bits", u->paused ? " - PAUSED" : "");
	put(c, A_NORMAL, "flows %d/%u (%.1f%% full)  groups %d  memberships %d (%d sources)  "
	    "accelerator %s", t->cur.nflows, t->cur.flows_max,
	    t->cur.flows_max ? 100.0 * t->cur.nflows / t->cur.flows_max : 0.0, t->groups,
	    t->cur.nmembers, members_src, t->accelerating ? "on" : "-");
	put(c, A_BOLD | pair(u, C_TITLE), "%-10s %7s %8s %7s %8s %7s  %s", "INTERFACE", "IN P/S",
	    u->bytes ? "IN B/S" : "IN b/s", "OUT P/S", u->bytes ? "OUT B/S" : "OUT b/s",
	    "DROP/S", "DROPS BY REASON (/s)");
	for (i = 0; i < t->nifs; i++) {
		const struct top_iface *ti = &t->ifs[i];
		size_t o = 0;

		if (c->height >= 0 && shown >= 4 && t->nifs > 5) {
			put(c, A_DIM, "... and %d more interfaces", t->nifs - shown);
			break;
		}
		drops[0] = '\0';
		for (r = 0; r < XM_R_COUNT && o < sizeof(drops) - 40; r++)
			if (ti->drops[r].pps > 0 || (!u->curses && ti->si->reasons[0][r].packets &&
						      top_reason_drops(r)))
				o += snprintf(drops + o, sizeof(drops) - o, "%s%s %s", o ? ", " : "",
					      xm_reason_names[r], human(ti->drops[r].pps, "", g,
									sizeof(g)));
		put(c, A_NORMAL, "%-10.10s %7s %8s %7s %8s %7s  %s", ti->si->name,
		    human(ti->in.pps, "", a, sizeof(a)), rate_str(u, ti->in.bps, b, sizeof(b)),
		    human(ti->fwd.pps, "", e, sizeof(e)), rate_str(u, ti->fwd.bps, f, sizeof(f)),
		    human(ti->drop.pps, "", g, sizeof(g)), drops[0] ? drops : "-");
		shown++;
	}
	put(c, A_NORMAL, "%s", "");
}

/* ---- the flow table ---- */

static int rows_room(const struct canvas *c)
{
	return c->height < 0 ? INT32_MAX : c->height - c->y - 1;	/* and a status line */
}

static void draw_table(struct ui *u, struct canvas *c)
{
	const struct top *t = &u->t;
	char line[1024];
	const char *titles[D_COUNT];
	struct layout l;
	int d, i, n;

	lay_out(u, c->width, &l);
	for (d = 0; d < D_COUNT; d++)
		titles[d] = dcols[d].title;
	cells(line, sizeof(line), &l, titles);
	put(c, A_REVERSE | A_BOLD, "%-*s", c->width < 1000 ? c->width : 0, line);
	if (c->curses) {
		/* Mark the sort column. */
		int x = 0;

		for (d = 0; d < D_COUNT; d++) {
			if (!l.on[d])
				continue;
			if (dcols[d].sort == (int)t->sort)
				mvchgat(c->y - 1, x, l.width[d], A_BOLD | A_UNDERLINE, 0, NULL);
			x += l.width[d] + 1;
		}
	}
	n = rows_room(c);
	if (u->sel >= t->nrows)
		u->sel = t->nrows ? t->nrows - 1 : 0;
	if (u->sel < u->scroll)
		u->scroll = u->sel;
	if (n > 0 && u->sel >= u->scroll + n)
		u->scroll = u->sel - n + 1;
	if (!c->curses)
		u->scroll = 0;
	for (i = u->scroll; i < t->nrows && (c->height < 0 || i < u->scroll + n); i++) {
		const struct top_row *r = t->rows[i];
		int attr = A_NORMAL;

		if (r->f->flags & XM_TF_NEW)
			attr = A_BOLD | pair(u, C_NEW);
		else if (r->f->flags & XM_TF_STALE)
			attr = A_DIM | pair(u, C_STALE);
		else if (r->drop_reason >= 0)
			attr = pair(u, C_DROP);
		if (c->curses && i == u->sel)
			attr |= A_REVERSE;
		row_text(u, r, &l, line, sizeof(line));
		put(c, attr, "%-*s", c->curses ? c->width : 0, line);
	}
	if (!t->nrows)
		put(c, A_DIM, "%s", t->filter.text[0] || t->only_ifindex ?
		    "no flow matches the filter" : "no multicast flow seen yet");
}

/* ---- the detail view of one group ---- */

static const char spark_levels[] = " .:-=+*#";

/*
 * The accelerator's copies of the group, per flow and outgoing interface:
 * the ports of the flow's forwarding entry (all TTL tiers), each with the
 * flow's copies a second split evenly over them (with one TTL threshold in
 * the entry, exactly the flow's accelerated frames a second), then what the
 * interface sent and dropped at egress, all flows (xm_reasons, out).
 */
static void draw_egress(struct ui *u, struct canvas *c)
{
	const struct top *t = &u->t;
	char a[XM_ADDR_STRLEN], b[16], e[16], g[16], drops[256];
	uint32_t ports[XM_FWD_PORTS_MAX];
	int i, p, r, np, shown = 0;

	put(c, A_REVERSE | A_BOLD, "%-*s", c->curses ? c->width : 0,
	    "EGRESS     SOURCE           COPY/S  SENT/S  DROP/S  EGRESS DROPS BY REASON (/s)");
	for (i = 0; i < (int)t->tr.n && room(c); i++) {
		const struct xm_tracked *f = &t->tr.v[t->tr.order[i]];

		if (!xm_same_group(f->key.family, f->key.group, u->det_family, u->det_group))
			continue;
		np = xm_fwd_ports_of_flow(&t->r, &f->key, ports, XM_FWD_PORTS_MAX);
		for (p = 0; p < np && room(c); p++) {
			const struct xm_snap_iface *si = xm_snap_iface(&t->cur, ports[p]);
			const struct top_iface *ti = NULL;
			size_t o = 0;

			for (r = 0; si && r < t->nifs; r++)
				if (t->ifs[r].si == si)
					ti = &t->ifs[r];
			drops[0] = '\0';
			for (r = 0; ti && r < XM_R_COUNT && o < sizeof(drops) - 40; r++)
				if (ti->out_drops[r].pps > 0)
					o += snprintf(drops + o, sizeof(drops) - o, "%s%s %s",
						      o ? ", " : "", xm_reason_names[r],
						      human(ti->out_drops[r].pps, "", g, sizeof(g)));
			put(c, A_NORMAL, "%-10.10s %-15s %7s %7s %7s  %s", si ? si->name : "?",
			    xm_format_addr(f->key.family, f->key.source, a, sizeof(a)),
			    human(f->copies_pps / np, "", b, sizeof(b)),
			    ti ? human(ti->sent.pps, "", e, sizeof(e)) : "-",
			    ti ? human(ti->out_drop.pps, "", g, sizeof(g)) : "-",
			    drops[0] ? drops : "-");
			shown++;
		}
	}
	if (!shown)
		put(c, A_DIM, "-  (no flow of the group has an accelerator entry with an "
		    "outgoing interface)");
}

static void draw_detail(struct ui *u, struct canvas *c)
{
	const struct top *t = &u->t;
	const struct xm_snapshot *s = &t->cur;
	char gs[XM_ADDR_STRLEN], a[XM_ADDR_STRLEN], b[16], e[16], line[256];
	struct xm_rate series[XM_HIST_SLOTS] = { { 0 } }, one[XM_HIST_SLOTS];
	double pps = 0, bps = 0, max = 0;
	int i, k, nflows = 0, nser = 0, m;
	size_t o;

	xm_format_addr(u->det_family, u->det_group, gs, sizeof(gs));
	for (i = 0; i < (int)t->tr.n; i++) {
		const struct xm_tracked *f = &t->tr.v[i];

		if (!xm_same_group(f->key.family, f->key.group, u->det_family, u->det_group))
			continue;
		nflows++;
		pps += f->avg[0].pps;
		bps += f->avg[0].bps;
		nser = xm_tracker_series(&t->tr, f, one, XM_HIST_SLOTS - 1);
		for (k = 0; k < nser; k++) {
			series[k].pps += one[k].pps;
			series[k].bps += one[k].bps;
		}
	}
	put(c, A_BOLD, "group %s (%s) - %d flows - %s pkt/s, %s/s - Enter or Esc: back", gs,
	    xm_family_name(u->det_family), nflows, human(pps, "", b, sizeof(b)),
	    rate_str(u, bps, e, sizeof(e)));
	for (k = 0; k < nser; k++)
		max = series[k].bps > max ? series[k].bps : max;
	o = 0;
	for (k = 0; k < nser && o < sizeof(line) - 1; k++) {
		int lvl = max > 0 ? (int)ceil(series[k].bps / max * (sizeof(spark_levels) - 2)) : 0;

		line[o++] = spark_levels[lvl < 0 ? 0 : lvl];
	}
	line[o] = '\0';
	put(c, A_NORMAL, "last %ds, %ds a mark, top %s/s: [%s]", nser * (int)(XM_HIST_STEP_NS / 1000000000),
	    (int)(XM_HIST_STEP_NS / 1000000000), rate_str(u, max, b, sizeof(b)),
	    nser ? line : "collecting");
	put(c, A_NORMAL, "%s", "");

	put(c, A_REVERSE | A_BOLD, "%-*s", c->curses ? c->width : 0,
	    "MEMBERS   VLAN MODE    VER LAST REPORTER     EXPIRES SOURCES (+ forwarded, - blocked)");
	for (i = m = 0; i < s->nmembers; i++) {
		const struct xm_member_entry *me = &s->members[i];
		const struct xm_snap_iface *si = xm_snap_iface(s, me->key.ifindex);
		char exp[16], srcs[160];
		uint32_t j;

		if (!xm_same_group(me->key.family, me->key.group, u->det_family, u->det_group))
			continue;
		m++;
		if (me->m.expires_ns)
			snprintf(exp, sizeof(exp), "%.1fs", me->m.expires_ns > s->t_ns ?
				 (me->m.expires_ns - s->t_ns) / 1e9 : 0.0);
		else
			snprintf(exp, sizeof(exp), "%s", me->m.flags & XM_MEMBER_STATIC ? "static" : "-");
		o = 0;
		srcs[0] = '\0';
		for (j = 0; j < me->nsrc && o < sizeof(srcs) - XM_ADDR_STRLEN - 4; j++) {
			const struct xm_member_src_entry *se = &s->srcs[me->first_src + j];

			o += snprintf(srcs + o, sizeof(srcs) - o, "%s%s%c", j ? " " : "",
				      xm_format_addr(me->key.family, se->key.source, a, sizeof(a)),
				      se->v.forward ? '+' : '-');
		}
		put(c, A_NORMAL, "%-9.9s %4u %-7s %3u %-17s %7s %s", si ? si->name : "?",
		    me->key.vlan, me->m.filter_mode == XM_FILTER_EXCLUDE ? "exclude" : "include",
		    me->m.compat, xm_addr_is_zero(me->m.last_reporter) ? "-" :
		    xm_format_addr(me->key.family, me->m.last_reporter, a, sizeof(a)), exp,
		    me->nsrc ? srcs : me->m.filter_mode == XM_FILTER_EXCLUDE ? "(any source)" :
		    "(none)");
	}
	if (!m)
		put(c, A_DIM, "no listener on any interface");
	put(c, A_NORMAL, "%s", "");

	draw_egress(u, c);
	put(c, A_NORMAL, "%s", "");

	put(c, A_REVERSE | A_BOLD, "%-*s", c->curses ? c->width : 0,
	    "FLOWS OF THE GROUP");
	for (i = 0; i < t->nrows && room(c); i++) {
		const struct top_row *r = t->rows[i];
		struct layout l;

		if (!xm_same_group(r->f->key.family, r->f->key.group, u->det_family, u->det_group))
			continue;
		lay_out(u, c->width, &l);
		row_text(u, r, &l, line, sizeof(line));
		put(c, A_NORMAL, "%s", line);
	}
}

static void draw_help(struct ui *u, struct canvas *c)
{
	static const char *const lines[] = {
		"mcast-top keys",
		"",
		"  q            quit",
		"  Up/Down j/k  move; PgUp/PgDn, Home/End (g/G) jump",
		"  s or >       sort by the next column; < the previous one",
		"  S            reverse the sort direction",
		"  f            filter: group or source prefix (239.1.0.0/16),",
		"               start of an address, or an interface name; empty clears",
		"  i            cycle through the interfaces (all, then each one)",
		"  p            pause or resume the refreshes",
		"  b            rates in bits or bytes a second",
		"  Enter        details of the selected row's group; Enter or Esc returns",
		"  ?            this help; any key closes it",
		"",
		"Flags: + new flow, ~ stale (no packet lately), ! a drop reason seen",
		"Rates average the last 2, 10 and 40 s; MBR: interfaces with listeners",
		"COPY/S: copies the accelerator sends a second (- not accelerated)",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lines); i++)
		put(c, i ? A_NORMAL : A_BOLD, "%s", lines[i]);
}

static void draw(struct ui *u, struct canvas *c)
{
	if (u->help) {
		draw_help(u, c);
		return;
	}
	draw_header(u, c);
	if (u->detail)
		draw_detail(u, c);
	else
		draw_table(u, c);
}

/* ---- JSON frames ---- */

static void json_rate(struct json *j, const char *key, struct xm_rate r)
{
	json_object_begin(j, key);
	json_double(j, "pps", r.pps);
	json_double(j, "bps", r.bps);
	json_object_end(j);
}

static void print_json(struct ui *u)
{
	const struct top *t = &u->t;
	char addr[XM_ADDR_STRLEN];
	struct json j;
	int i, r, w;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_double(&j, "time", xm_mono_to_epoch(t->cur.t_ns));
	json_double(&j, "interval", t->have_prev ? (t->cur.t_ns - t->prev.t_ns) / 1e9 : 0.0);
	json_u64(&j, "flows_tracked", t->cur.nflows);
	json_u64(&j, "flows_max", t->cur.flows_max);
	json_double(&j, "table_fill", t->cur.flows_max ?
		    (double)t->cur.nflows / t->cur.flows_max : 0.0);
	json_u64(&j, "groups", t->groups);
	json_u64(&j, "memberships", t->cur.nmembers);
	json_bool(&j, "accelerator", t->accelerating > 0);
	json_array_begin(&j, "interfaces");
	for (i = 0; i < t->nifs; i++) {
		const struct top_iface *ti = &t->ifs[i];
		struct xm_counter in = { 0 }, drop = { 0 };

		for (r = 0; r < XM_R_COUNT; r++) {
			in.packets += ti->si->reasons[XM_DIR_IN][r].packets;
			in.bytes += ti->si->reasons[XM_DIR_IN][r].bytes;
			if (top_reason_drops(r)) {
				drop.packets += ti->si->reasons[XM_DIR_IN][r].packets +
						ti->si->reasons[XM_DIR_OUT][r].packets;
				drop.bytes += ti->si->reasons[XM_DIR_IN][r].bytes +
					      ti->si->reasons[XM_DIR_OUT][r].bytes;
			}
		}
		json_object_begin(&j, NULL);
		json_string(&j, "name", ti->si->name);
		json_u64(&j, "ifindex", ti->si->e.ifindex);
		json_object_begin(&j, "in");
		json_double(&j, "pps", ti->in.pps);
		json_double(&j, "bps", ti->in.bps);
		json_u64(&j, "packets", in.packets);
		json_u64(&j, "bytes", in.bytes);
		json_object_end(&j);
		json_object_begin(&j, "forwarded");
		json_double(&j, "pps", ti->fwd.pps);
		json_double(&j, "bps", ti->fwd.bps);
		json_u64(&j, "packets", ti->si->reasons[XM_DIR_OUT][XM_R_FORWARD].packets);
		json_u64(&j, "bytes", ti->si->reasons[XM_DIR_OUT][XM_R_FORWARD].bytes);
		json_object_end(&j);
		json_object_begin(&j, "drops");
		json_double(&j, "pps", ti->drop.pps);
		json_double(&j, "bps", ti->drop.bps);
		json_u64(&j, "packets", drop.packets);
		json_u64(&j, "bytes", drop.bytes);
		json_object_begin(&j, "by_reason");
		for (r = 0; r < XM_R_COUNT; r++) {
			if (!top_reason_drops(r))
				continue;
			json_object_begin(&j, xm_reason_names[r]);
			json_double(&j, "pps", ti->drops[r].pps);
			json_u64(&j, "packets", ti->si->reasons[XM_DIR_IN][r].packets +
				 ti->si->reasons[XM_DIR_OUT][r].packets);
			json_object_end(&j);
		}
		json_object_end(&j);
		json_object_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "flows");
	for (i = 0; i < t->nrows; i++) {
		const struct top_row *row = t->rows[i];
		const struct xm_tracked *f = row->f;

		json_object_begin(&j, NULL);
		json_string(&j, "iface", row->ifname);
		json_u64(&j, "ifindex", f->key.ifindex);
		json_u64(&j, "vlan", f->key.vlan);
		json_string(&j, "family", xm_family_name(f->key.family));
		json_string(&j, "group", xm_format_addr(f->key.family, f->key.group, addr,
							sizeof(addr)));
		json_string(&j, "source", xm_format_addr(f->key.family, f->key.source, addr,
							 sizeof(addr)));
		json_object_begin(&j, "avg");
		for (w = 0; w < XM_WINDOWS; w++) {
			snprintf(addr, sizeof(addr), "%us", xm_window_sec[w]);
			json_rate(&j, addr, f->avg[w]);
		}
		json_object_end(&j);
		json_u64(&j, "packets", f->flow.packets);
		json_u64(&j, "bytes", f->flow.bytes);
		json_u64(&j, "members", row->members);
		if (row->has_copies) {
			json_u64(&j, "copies", f->flow.copies);
			json_double(&j, "copies_pps", row->copies_pps);
		} else {
			json_null(&j, "copies");
			json_null(&j, "copies_pps");
		}
		json_double(&j, "idle", t->cur.t_ns > f->flow.last_seen_ns ?
			    (t->cur.t_ns - f->flow.last_seen_ns) / 1e9 : 0.0);
		if (row->drop_reason >= 0)
			json_string(&j, "drop_reason", xm_reason_names[row->drop_reason]);
		else
			json_null(&j, "drop_reason");
		json_bool(&j, "new", f->flags & XM_TF_NEW);
		json_bool(&j, "stale", f->flags & XM_TF_STALE);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
	fflush(stdout);
}

/* ---- keys ---- */

static void remember_selection(struct ui *u)
{
	u->have_sel = u->sel >= 0 && u->sel < u->t.nrows;
	if (u->have_sel)
		u->sel_key = u->t.rows[u->sel]->f->key;
}

/* Keep the cursor on the same flow after the rows changed. */
static void restore_selection(struct ui *u)
{
	int i;

	if (!u->have_sel)
		return;
	for (i = 0; i < u->t.nrows; i++)
		if (!xm_flow_key_cmp(&u->t.rows[i]->f->key, &u->sel_key)) {
			u->sel = i;
			return;
		}
}

static void apply_view(struct ui *u)
{
	remember_selection(u);
	if (top_rows(&u->t))
		snprintf(u->status, sizeof(u->status), "out of memory");
	restore_selection(u);
}

static void cycle_iface(struct ui *u)
{
	struct top *t = &u->t;

	u->if_pos = u->if_pos + 1 >= t->cur.nifs ? -1 : u->if_pos + 1;
	t->only_ifindex = u->if_pos >= 0 ? t->cur.ifs[u->if_pos].e.ifindex : 0;
	apply_view(u);
}

static void prompt_key(struct ui *u, int ch)
{
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		u->input[u->input_len] = '\0';
		top_set_filter(&u->t, u->input);
		u->prompt = false;
		u->sel = 0;
		apply_view(u);
	} else if (ch == 27) {
		u->prompt = false;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (u->input_len)
			u->input_len--;
	} else if (ch >= 0x20 && ch < 0x7f && u->input_len < sizeof(u->input) - 1) {
		u->input[u->input_len++] = ch;
	}
}

static void key(struct ui *u, int ch, int page)
{
	struct top *t = &u->t;

	if (u->prompt) {
		prompt_key(u, ch);
		return;
	}
	if (u->help) {
		if (ch != KEY_RESIZE)
			u->help = false;
		return;
	}
	u->status[0] = '\0';
	switch (ch) {
	case 'q':
		want_quit = 1;
		break;
	case KEY_UP:
	case 'k':
		if (u->sel > 0)
			u->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		if (u->sel + 1 < t->nrows)
			u->sel++;
		break;
	case KEY_PPAGE:
		u->sel = u->sel > page ? u->sel - page : 0;
		break;
	case KEY_NPAGE:
		u->sel = u->sel + page < t->nrows ? u->sel + page : t->nrows - 1;
		break;
	case KEY_HOME:
	case 'g':
		u->sel = 0;
		break;
	case KEY_END:
	case 'G':
		u->sel = t->nrows - 1;
		break;
	case 's':
	case '>':
		t->sort = (t->sort + 1) % TOP_COL_COUNT;
		apply_view(u);
		break;
	case '<':
		t->sort = (t->sort + TOP_COL_COUNT - 1) % TOP_COL_COUNT;
		apply_view(u);
		break;
	case 'S':
		t->ascending = !t->ascending;
		apply_view(u);
		break;
	case 'f':
		u->prompt = true;
		snprintf(u->input, sizeof(u->input), "%s", t->filter.text);
		u->input_len = strlen(u->input);
		break;
	case 'i':
		cycle_iface(u);
		break;
	case 'p':
		u->paused = !u->paused;
		break;
	case 'b':
		u->bytes = !u->bytes;
		break;
	case '?':
	case 'h':
		u->help = true;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (u->detail) {
			u->detail = false;
		} else if (u->sel < t->nrows) {
			u->detail = true;
			u->det_family = t->rows[u->sel]->f->key.family;
			memcpy(u->det_group, t->rows[u->sel]->f->key.group, sizeof(u->det_group));
		}
		break;
	case 27:
	case KEY_BACKSPACE:
	case KEY_LEFT:
		u->detail = false;
		break;
	default:
		break;
	}
	if (u->sel >= t->nrows)
		u->sel = t->nrows ? t->nrows - 1 : 0;
	if (u->sel < 0)
		u->sel = 0;
}

/* ---- the loops ---- */

static int refresh_data(struct ui *u)
{
	int err;

	remember_selection(u);
	err = top_refresh(&u->t);
	if (err) {
		snprintf(u->status, sizeof(u->status), "cannot read the maps: %s", strerror(-err));
		return err;
	}
	restore_selection(u);
	u->frames_done++;
	return 0;
}

static void screen(struct ui *u)
{
	struct canvas c = { .curses = true, .width = COLS, .height = LINES };

	erase();
	draw(u, &c);
	attrset(A_NORMAL);
	if (u->prompt)
		mvprintw(LINES - 1, 0, "filter (prefix, address start or interface; empty clears): %.*s",
			 (int)u->input_len, u->input);
	else if (u->status[0])
		mvprintw(LINES - 1, 0, "%s", u->status);
	else if (!u->help)
		mvprintw(LINES - 1, 0, "%d of %d flows shown - ? help, q quit", u->t.nrows,
			 u->t.cur.nflows);
	refresh();
}

static int page_rows(void)
{
	return LINES > 12 ? LINES - 12 : 1;
}

static int run_curses(struct ui *u)
{
	double next = 0;
	int err = 0;

	if (!initscr())
		return -ENOTTY;
	u->curses = true;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (!u->o.no_color && has_colors()) {
		start_color();
		use_default_colors();
		init_pair(C_NEW, COLOR_GREEN, -1);
		init_pair(C_STALE, COLOR_YELLOW, -1);
		init_pair(C_DROP, COLOR_RED, -1);
		init_pair(C_TITLE, COLOR_CYAN, -1);
		init_pair(C_SPARK, COLOR_GREEN, -1);
	}
	while (!want_quit) {
		double now = now_sec();
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int ms, ch;

		if (!u->paused && now >= next) {
			refresh_data(u);
			next = next && now - next < u->o.delay ? next + u->o.delay : now + u->o.delay;
			if (u->o.frames && u->frames_done >= u->o.frames)
				break;
		}
		screen(u);
		ms = u->paused ? -1 : (int)((next - now_sec()) * 1000) + 1;
		if (poll(&pfd, 1, ms < 0 && !u->paused ? 0 : ms) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		while ((ch = getch()) != ERR)
			key(u, ch, page_rows());
	}
	endwin();
	return err;
}

static int run_batch(struct ui *u)
{
	double next = now_sec();
	int err;

	for (;;) {
		err = refresh_data(u);
		if (err)
			return err;
		if (u->o.json) {
			print_json(u);
		} else {
			struct canvas c = { .curses = false, .width = 1000, .height = -1 };

			if (u->frames_done > 1)
				putchar('\n');
			draw(u, &c);
			fflush(stdout);
		}
		if (want_quit || (u->o.frames && u->frames_done >= u->o.frames))
			return 0;
		next += u->o.delay;
		while (!want_quit) {
			double left = next - now_sec();
			struct timespec ts;

			if (left <= 0)
				break;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);	/* a signal cuts it short */
		}
		if (want_quit)
			return 0;
	}
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iface", required_argument, NULL, 'i' },
		{ "sort", required_argument, NULL, 's' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "batch", no_argument, NULL, 'b' },
		{ "frames", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "pin-path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pin = NULL;
	uint64_t v;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->delay = 2;
	o->sort = TOP_COL_RATE2;
	while ((c = getopt_long(argc, argv, "d:i:s:Cbn:jp:hV", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			o->delay = strtod(optarg, &end);
			if (errno || *end || !(o->delay >= 0.1 && o->delay <= 3600)) {
				fprintf(stderr, "mcast-top: -d takes seconds from 0.1 to 3600, not '%s'\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 's':
			o->sort = top_col_by_name(optarg);
			if (o->sort < 0) {
				fprintf(stderr, "mcast-top: unknown column '%s' for -s\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'C':
			o->no_color = true;
			break;
		case 'b':
			o->batch = true;
			break;
		case 'n':
			if (!xm_parse_u64(optarg, 1, 1000000000, &v)) {
				fprintf(stderr, "mcast-top: -n takes a number of frames, not '%s'\n",
					optarg);
				return EX_USAGE;
			}
			o->frames = v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'p':
			pin = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(EX_OK);
		case 'V':
			printf("mcast-top %s\n", XM_VERSION);
			exit(EX_OK);
		default:
			fprintf(stderr, "(mcast-top --help for usage)\n");
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mcast-top: unexpected argument '%s'\n", argv[optind]);
		return EX_USAGE;
	}
	o->pin_dir = xm_pin_dir(pin);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct ui u = { .if_pos = -1 };
	int err, i;

	err = parse_opts(argc, argv, &u.o);
	if (err)
		return err;
	xm_log_set_prog("mcast-top");
	xm_log_route_libbpf();
	err = top_open(&u.t, u.o.pin_dir, (uint64_t)(fmax(2 * u.o.delay, 3) * 1e9));
	if (err) {
		if (err == -ENOENT)
			fprintf(stderr, "mcast-top: nothing is loaded under '%s' (xdp-mcast load or "
				"daemon first, or --pin-path)\n", u.o.pin_dir);
		else
			fprintf(stderr, "mcast-top: cannot open the maps under '%s': %s\n",
				u.o.pin_dir, strerror(-err));
		top_close(&u.t);
		return xm_errno_to_exit(err);
	}
	u.t.sort = u.o.sort;
	u.t.ascending = u.o.sort == TOP_COL_IFACE || u.o.sort == TOP_COL_GROUP ||
			u.o.sort == TOP_COL_SOURCE || u.o.sort == TOP_COL_IDLE;
	if (u.o.iface) {
		/* The interface must be loaded: its ifindex filters the rows. */
		struct xm_snapshot s;

		err = xm_snapshot_take(&u.t.r, 0, &s);
		for (i = 0; !err && i < s.nifs; i++)
			if (!strcmp(s.ifs[i].name, u.o.iface))
				u.t.only_ifindex = s.ifs[i].e.ifindex;
		xm_snapshot_free(&s);
		if (!err && !u.t.only_ifindex) {
			fprintf(stderr, "mcast-top: '%s' is not loaded\n", u.o.iface);
			top_close(&u.t);
			return EX_NOINPUT;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (u.o.batch || u.o.json || !isatty(STDOUT_FILENO))
		err = run_batch(&u);
	else
		err = run_curses(&u);
	if (u.o.iface && u.t.only_ifindex)
		u.if_pos = 0;	/* (nothing to undo) */
	top_close(&u.t);
	if (err) {
		fprintf(stderr, "mcast-top: %s\n", strerror(-err));
		return xm_errno_to_exit(err);
	}
	return EX_OK;
}
