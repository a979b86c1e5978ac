// SPDX-License-Identifier: GPL-2.0-only
/*
 * Names follow Prometheus practice: one prefix, base units (bytes,
 * seconds, ratios), _total on counters, a HELP and a TYPE line before the
 * samples of each metric, and every label value escaped.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "snoop_ctr.h"
#include "util.h"

#define P "xdp_mcast_"

/* The global counters of xm_global, by their index. */
static const struct {
	const char *name;
	const char *help;
} global_metrics[] = {
	[XM_G_FLOWS_CREATED] = { P "flows_created_total",
		"Flows (interface, VLAN, group, source) added to the flow table." },
	[XM_G_FLOW_INSERT_FAILED] = { P "flow_insert_failures_total",
		"Frames whose new flow could not be added to the flow table." },
	[XM_G_UNREGISTERED_IFACE] = { P "unregistered_interface_frames_total",
		"Frames seen on an interface the loader did not register." },
	[XM_G_CTRL_CAPTURED] = { P "control_messages_captured_total",
		"IGMP and MLD messages copied to the snooping daemon." },
	[XM_G_CTRL_RING_FULL] = { P "control_ring_full_total",
		"IGMP and MLD copies lost to a full ring (the frames still passed)." },
};
_Static_assert(sizeof(global_metrics) / sizeof(global_metrics[0]) == XM_G_COUNT,
	       "every global counter has a metric (and docs/metrics.md a line)");

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void fmt_ratio(FILE *f, double v)
{
	fprintf(f, "%.6g\n", v);
}

struct group_sum {
	uint8_t family;
	__be32 group[4];
	uint64_t packets, bytes;
	uint32_t flows, members;
};

static int gs_addr_cmp(const void *a, const void *b)
{
	const struct group_sum *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->group, y->group, sizeof(x->group));
}

/* Most bytes first; the address breaks ties, so the order is stable. */
static int gs_traffic_cmp(const void *a, const void *b)
{
	const struct group_sum *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return gs_addr_cmp(a, b);
}

/* Groups of the flow table with their sums, and their memberships (groups
 * with members but no traffic count too): summed in a hash table by group,
 * the flows in any order. */
static int sum_groups(const struct xm_snapshot *s, struct group_sum **out)
{
	size_t max = (size_t)s->nflows + s->nmembers, size = 64, h;
	struct group_sum *g = calloc(max + 1, sizeof(*g));
	uint32_t *table;
	int n = 0, i;

	while (size < 2 * max)
		size *= 2;
	table = malloc(size * sizeof(*table));
	if (!g || !table) {
		free(g);
		free(table);
		return -1;
	}
	memset(table, 0xff, size * sizeof(*table));
	for (i = 0; i < s->nflows + s->nmembers; i++) {
		bool flow = i < s->nflows;
		uint8_t family = flow ? s->flows[i].key.family : s->members[i - s->nflows].key.family;
		const __be32 *a = flow ? s->flows[i].key.group : s->members[i - s->nflows].key.group;
		struct group_sum *e;

		for (h = xm_group_hash(family, a) & (size - 1); table[h] != UINT32_MAX;
		     h = (h + 1) & (size - 1))
			if (g[table[h]].family == family && !memcmp(g[table[h]].group, a, 16))
				break;
		if (table[h] == UINT32_MAX) {
			table[h] = n;
			g[n].family = family;
			memcpy(g[n].group, a, sizeof(g[n].group));
			n++;
		}
		e = &g[table[h]];
		if (flow) {
			e->packets += s->flows[i].flow.packets;
			e->bytes += s->flows[i].flow.bytes;
			e->flows++;
		} else {
			e->members++;
		}
	}
	free(table);
	*out = g;
	return n;
}

static void write_groups(FILE *f, const struct xm_snapshot *s, int top)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} per[] = {
		{ P "group_packets_total", "counter", "Frames of a group in the flow table, "
		  "all interfaces and sources (group=\"other\": the groups not in the top N).",
		  offsetof(struct group_sum, packets) },
		{ P "group_bytes_total", "counter", "Bytes of a group in the flow table, "
		  "all interfaces and sources.", offsetof(struct group_sum, bytes) },
		{ P "group_flows", "gauge", "Flows (interface, VLAN, source) of a group in "
		  "the flow table.", offsetof(struct group_sum, flows) },
		{ P "group_memberships", "gauge", "Interfaces (and VLANs) with listeners of "
		  "a group, learned by snooping or configured.",
		  offsetof(struct group_sum, members) },
	};
	struct group_sum *g = NULL, other = { 0 };
	char addr[XM_ADDR_STRLEN];
	int n = sum_groups(s, &g), i;
	size_t m;

	if (n < 0)
		n = 0;
	qsort(g, n, sizeof(*g), gs_traffic_cmp);
	if (top > n)
		top = n;
	for (i = top; i < n; i++) {
		other.packets += g[i].packets;
		other.bytes += g[i].bytes;
		other.flows += g[i].flows;
		other.members += g[i].members;
	}
	head(f, P "groups", "gauge", "Groups with traffic in the flow table or listeners.");
	fprintf(f, P "groups %d\n", n);
	head(f, P "groups_folded", "gauge", "Groups summed into group=\"other\" because they "
	     "are not among the top N by bytes (metrics top-groups N).");
	fprintf(f, P "groups_folded %d\n", n - top);
	for (m = 0; m < ARRAY_SIZE(per); m++) {
		bool u64 = per[m].off < offsetof(struct group_sum, flows);

		head(f, per[m].name, per[m].type, per[m].help);
		for (i = 0; i < top; i++) {
			const char *p = (const char *)&g[i] + per[m].off;

			fprintf(f, "%s{group=", per[m].name);
			label(f, xm_format_addr(g[i].family, g[i].group, addr, sizeof(addr)));
			fprintf(f, "} %" PRIu64 "\n", u64 ? *(const uint64_t *)p :
			       (uint64_t)*(const uint32_t *)p);
		}
		fprintf(f, "%s{group=\"other\"} %" PRIu64 "\n", per[m].name,
			u64 ? *(const uint64_t *)((const char *)&other + per[m].off) :
			(uint64_t)*(const uint32_t *)((const char *)&other + per[m].off));
	}
	free(g);
}

static void write_reasons(FILE *f, const struct xm_snapshot *s, bool bytes)
{
	const char *name = bytes ? P "bytes_total" : P "packets_total";
	int i, d, r;

	head(f, name, "counter", bytes ?
	     "Bytes of multicast frames (Ethernet header on, no FCS) by interface, "
	     "direction and the reason that decided them." :
	     "Multicast frames by interface, direction (in: XDP ingress, out: egress) "
	     "and the reason that decided them.");
	for (i = 0; i < s->nifs; i++)
		for (d = XM_DIR_IN; d <= XM_DIR_OUT; d++)
			for (r = 0; r < XM_R_COUNT; r++) {
				const struct xm_counter *c = &s->ifs[i].reasons[d][r];

				fprintf(f, "%s{interface=", name);
				label(f, s->ifs[i].name);
				fprintf(f, ",direction=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
					d == XM_DIR_IN ? "in" : "out", xm_reason_names[r],
					(uint64_t)(bytes ? c->bytes : c->packets));
			}
}

static void write_snooping(FILE *f, const struct xm_snapshot *s)
{
	const char *name;
	char buf[64];
	unsigned int c;
	int i;

	head(f, P "snooping_events_total", "counter", "IGMP and MLD snooping by interface: "
	     "messages seen and sent, state changes, refusals and messages ignored by "
	     "reason (event names as in xdp-mcast stats -j).");
	for (i = 0; i < s->nifs; i++)
		for (c = 0; c < XM_SNOOP_SLOTS; c++) {
			if (!(name = xm_snoop_ctr_name(c, buf, sizeof(buf))))
				continue;
			fprintf(f, P "snooping_events_total{interface=");
			label(f, s->ifs[i].name);
			fprintf(f, ",event=\"%s\"} %" PRIu64 "\n", name, s->ifs[i].snoop[c]);
		}
}

/* Entries per interface, counting a list sorted by ifindex in one pass. */
#define COUNT_BY_IFACE(s, arr, n, ifx, out)					\
	do {									\
		int _i = 0, _k;							\
		for (_k = 0; _k < (n); _k++) {					\
			while (_i < (s)->nifs && (s)->ifs[_i].e.ifindex < (arr)[_k].ifx) \
				_i++;						\
			if (_i < (s)->nifs && (s)->ifs[_i].e.ifindex == (arr)[_k].ifx) \
				(out)[_i]++;					\
		}								\
	} while (0)

static void write_memberships(FILE *f, const struct xm_snapshot *s)
{
	int *groups = calloc(s->nifs + 1, sizeof(int)), *srcs = calloc(s->nifs + 1, sizeof(int));
	int i;

	if (!groups || !srcs)
		goto out;
	COUNT_BY_IFACE(s, s->members, s->nmembers, key.ifindex, groups);
	COUNT_BY_IFACE(s, s->srcs, s->nsrcs, key.g.ifindex, srcs);
	head(f, P "memberships", "gauge", "Groups with listeners on an interface "
	     "(all VLANs), learned by snooping or configured.");
	for (i = 0; i < s->nifs; i++) {
		fprintf(f, P "memberships{interface=");
		label(f, s->ifs[i].name);
		fprintf(f, "} %d\n", groups[i]);
	}
	head(f, P "membership_sources", "gauge", "Source records of the memberships of "
	     "an interface (INCLUDE and EXCLUDE lists).");
	for (i = 0; i < s->nifs; i++) {
		fprintf(f, P "membership_sources{interface=");
		label(f, s->ifs[i].name);
		fprintf(f, "} %d\n", srcs[i]);
	}
out:
	free(groups);
	free(srcs);
}

static double fill(uint64_t used, uint64_t max)
{
	return max ? (double)used / max : 0.0;
}

void xm_metrics_write(FILE *f, const struct xm_snapshot *s, int top_groups)
{
	int i;

	write_reasons(f, s, false);
	write_reasons(f, s, true);
	for (i = 0; i < XM_G_COUNT; i++) {
		head(f, global_metrics[i].name, "counter", global_metrics[i].help);
		fprintf(f, "%s %" PRIu64 "\n", global_metrics[i].name, s->globals[i]);
	}
	head(f, P "interfaces", "gauge", "Interfaces the data path is loaded on.");
	fprintf(f, P "interfaces %d\n", s->nifs);
	head(f, P "flows", "gauge", "Entries of the flow table.");
	fprintf(f, P "flows %d\n", s->nflows);
	head(f, P "flows_capacity", "gauge", "Size of the flow table (an LRU: when full, "
	     "the least recently used flow makes room).");
	fprintf(f, P "flows_capacity %u\n", s->flows_max);
	head(f, P "table_fill_ratio", "gauge", "Entries of a table over its size, 0 to 1.");
	fprintf(f, P "table_fill_ratio{table=\"flows\"} ");
	fmt_ratio(f, fill(s->nflows, s->flows_max));
	fprintf(f, P "table_fill_ratio{table=\"memberships\"} ");
	fmt_ratio(f, fill(s->nmembers, s->members_max));
	fprintf(f, P "table_fill_ratio{table=\"membership_sources\"} ");
	fmt_ratio(f, fill(s->nsrcs, s->member_src_max));
	write_memberships(f, s);
	write_snooping(f, s);
	write_groups(f, s, top_groups);
}
