// SPDX-License-Identifier: GPL-2.0-only
/* xdp-mcast groups: the memberships the daemon has learned, from the
 * pinned xm_members and xm_member_src maps (docs/json.md has the schema). */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctrl.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "snapshot.h"
#include "util.h"

struct srcent {
	struct xm_member_src_key k;
	struct xm_member_src v;	/* expires_ns resolved: never XM_SRC_EXPIRES_GROUP */
};

struct group {
	struct xm_member_key key;
	struct xm_member m;
	const struct srcent *src;	/* its sources, in the sorted list */
	uint32_t nsrc;
};

static int group_cmp(const void *a, const void *b)
{
	return xm_member_key_cmp(&((const struct group *)a)->key, &((const struct group *)b)->key);
}

static int src_cmp(const void *a, const void *b)
{
	const struct srcent *x = a, *y = b;
	int d = xm_member_key_cmp(&x->k.g, &y->k.g);

	return d ? d : memcmp(x->k.source, y->k.source, sizeof(x->k.source));
}

/* Every key of a hash map with its value: *keys and *vals malloc'ed. */
static int read_all(int fd, size_t ksz, size_t vsz, void **keys, void **vals)
{
	char *k = NULL, *v = NULL, *grown, cur[64], next[64];
	void *prev = NULL;
	size_t n = 0, cap = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(cur, next, ksz);
		prev = cur;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			if (!(grown = realloc(k, cap * ksz)))
				goto nomem;
			k = grown;
			if (!(grown = realloc(v, cap * vsz)))
				goto nomem;
			v = grown;
		}
		if (bpf_map_lookup_elem(fd, cur, v + n * vsz))
			continue;	/* gone meanwhile */
		memcpy(k + n * ksz, cur, ksz);
		n++;
	}
	*keys = k;
	*vals = v;
	return (int)n;
nomem:
	free(k);
	free(v);
	return -ENOMEM;
}

static double expires_in(uint64_t expires_ns, uint64_t now)
{
	return expires_ns > now ? (expires_ns - now) / 1e9 : 0.0;
}

static const char *addr(uint8_t family, const __be32 a[4], char *buf)
{
	return xm_format_addr(family, a, buf, XM_ADDR_STRLEN);
}

/* A join line of the config: a static (*,G) is flagged; a static (S,G) is
 * a forwarded source that never expires. */
static bool is_static(const struct group *g)
{
	uint32_t s;

	if (g->m.flags & XM_MEMBER_STATIC)
		return true;
	for (s = 0; s < g->nsrc; s++)
		if (g->src[s].v.forward && !g->src[s].v.expires_ns)
			return true;
	return false;
}

static void print_json(struct group *g, int n)
{
	char name[IF_NAMESIZE], buf[XM_ADDR_STRLEN];
	uint64_t now = xm_now_mono_ns();
	struct json j;
	uint32_t s;
	int i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "groups");
	for (i = 0; i < n; i++) {
		const struct xm_member *m = &g[i].m;

		json_object_begin(&j, NULL);
		json_string(&j, "iface", if_indextoname(g[i].key.ifindex, name) ? name : "?");
		json_u64(&j, "ifindex", g[i].key.ifindex);
		json_u64(&j, "vlan", g[i].key.vlan);
		json_string(&j, "family", xm_family_name(g[i].key.family));
		json_string(&j, "group", addr(g[i].key.family, g[i].key.group, buf));
		json_string(&j, "filter_mode",
			    m->filter_mode == XM_FILTER_EXCLUDE ? "exclude" : "include");
		json_u64(&j, "compat_version", m->compat);
		json_bool(&j, "static", is_static(&g[i]));
		if (xm_addr_is_zero(m->last_reporter))
			json_null(&j, "last_reporter");
		else
			json_string(&j, "last_reporter", addr(g[i].key.family, m->last_reporter, buf));
		if (m->expires_ns)
			json_double(&j, "expires_in", expires_in(m->expires_ns, now));
		else
			json_null(&j, "expires_in");
		json_array_begin(&j, "sources");
		for (s = 0; s < g[i].nsrc; s++) {
			json_object_begin(&j, NULL);
			json_string(&j, "address", addr(g[i].key.family, g[i].src[s].k.source, buf));
			json_bool(&j, "forwarding", g[i].src[s].v.forward);
			if (g[i].src[s].v.expires_ns)
				json_double(&j, "expires_in",
					    expires_in(g[i].src[s].v.expires_ns, now));
			else
				json_null(&j, "expires_in");
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static void print_text(struct group *g, int n)
{
	char name[IF_NAMESIZE], buf[XM_ADDR_STRLEN], who[XM_ADDR_STRLEN];
	uint64_t now = xm_now_mono_ns();
	uint32_t s;
	int i;

	printf("%-12s %4s %-26s %-7s %3s %-26s %8s\n", "IFACE", "VLAN", "GROUP", "MODE",
	       "VER", "LAST REPORTER", "EXPIRES");
	for (i = 0; i < n; i++) {
		const struct xm_member *m = &g[i].m;
		char exp[16];

		if (m->expires_ns)
			snprintf(exp, sizeof(exp), "%.1fs", expires_in(m->expires_ns, now));
		else
			snprintf(exp, sizeof(exp), "%s", is_static(&g[i]) ? "static" : "-");
		printf("%-12s %4u %-26s %-7s %3u %-26s %8s\n",
		       if_indextoname(g[i].key.ifindex, name) ? name : "?", g[i].key.vlan,
		       addr(g[i].key.family, g[i].key.group, buf),
		       m->filter_mode == XM_FILTER_EXCLUDE ? "exclude" : "include", m->compat,
		       xm_addr_is_zero(m->last_reporter) ? "-" :
		       addr(g[i].key.family, m->last_reporter, who), exp);
		for (s = 0; s < g[i].nsrc; s++) {
			const struct xm_member_src *v = &g[i].src[s].v;

			if (v->expires_ns)
				snprintf(exp, sizeof(exp), "%.1fs", expires_in(v->expires_ns, now));
			else
				snprintf(exp, sizeof(exp), "-");
			printf("%-17s source %-34s %-9s %8s\n", "",
			       addr(g[i].key.family, g[i].src[s].k.source, buf),
			       v->forward ? "forwarded" : "blocked", exp);
		}
	}
}

int xm_cmd_groups(const char *pin_dir, bool json, const char *ifname)
{
	struct xm_member_key *keys = NULL;
	struct xm_member *vals = NULL;
	struct srcent *src = NULL;
	void *sk = NULL, *sv = NULL;
	struct group *g = NULL;
	char path[PATH_MAX];
	int mfd = -1, sfd = -1, n, ns, i, k, kept, err = 0;
	uint32_t want = ifname ? if_nametoindex(ifname) : 0;

	if (ifname && !want) {
		pr_err("unknown interface '%s'\n", ifname);
		return -ENODEV;
	}
	if (xm_pin_join(path, sizeof(path), pin_dir, XM_MAP_MEMBERS) ||
	    (mfd = bpf_obj_get(path)) < 0 ||
	    xm_pin_join(path, sizeof(path), pin_dir, XM_MAP_MEMBER_SRC) ||
	    (sfd = bpf_obj_get(path)) < 0) {
		err = xm_report_not_loaded(pin_dir, -ENOENT);
		goto out;
	}
	n = read_all(mfd, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);
	ns = n < 0 ? n : read_all(sfd, sizeof(struct xm_member_src_key),
				  sizeof(struct xm_member_src), &sk, &sv);
	if (n < 0 || ns < 0) {
		err = n < 0 ? n : ns;
		goto out;
	}
	src = calloc(ns ? ns : 1, sizeof(*src));
	g = calloc(n ? n : 1, sizeof(*g));
	if (!src || !g) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ns; i++) {
		src[i].k = ((struct xm_member_src_key *)sk)[i];
		src[i].v = ((struct xm_member_src *)sv)[i];
	}
	qsort(src, ns, sizeof(*src), src_cmp);
	for (i = kept = 0; i < n; i++) {
		if (want && keys[i].ifindex != want)
			continue;
		g[kept].key = keys[i];
		g[kept].m = vals[i];
		kept++;
	}
	qsort(g, kept, sizeof(*g), group_cmp);
	/* Both lists are sorted by group: one merge gives every group its sources. */
	for (i = k = 0; i < kept; i++) {
		while (k < ns && xm_member_key_cmp(&src[k].k.g, &g[i].key) < 0)
			k++;
		g[i].src = &src[k];
		for (g[i].nsrc = 0; k < ns && !xm_member_key_cmp(&src[k].k.g, &g[i].key); k++) {
			/* Refreshed by the group's latest report: its timer is the group's. */
			if (src[k].v.expires_ns == XM_SRC_EXPIRES_GROUP)
				src[k].v.expires_ns = g[i].m.src_expires_ns;
			g[i].nsrc++;
		}
	}
	if (json)
		print_json(g, kept);
	else
		print_text(g, kept);
out:
	free(keys);
	free(vals);
	free(sk);
	free(sv);
	free(src);
	free(g);
	if (mfd >= 0)
		close(mfd);
	if (sfd >= 0)
		close(sfd);
	return err;
}
