// SPDX-License-Identifier: GPL-2.0-only
/* xdp-mcast policy: the policy in force, read back from the pinned maps
 * (not from a config file), with its hit counters. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conf.h"
#include "ifaces.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "policy.h"
#include "stats.h"
#include "util.h"

struct pol_entry {
	struct xm_pol_desc d;
	struct xm_counter hits;
};

static const char *desc_prefix(uint8_t family, uint8_t len, const __be32 *addr,
			       char *buf, size_t n)
{
	struct xm_prefix p = { .family = family, .len = len };

	memcpy(p.addr, addr, sizeof(p.addr));
	return xm_prefix_format(&p, buf, n);
}

static const char *ifname_of(uint32_t ifindex, char buf[IF_NAMESIZE])
{
	if (!ifindex)
		return "any";
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%u", ifindex);
	return buf;
}

static int read_entries(const struct xm_policy_maps *m, uint32_t base, uint32_t n,
			struct pol_entry **out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xm_counter *percpu = calloc(ncpu > 0 ? ncpu : 1, sizeof(*percpu));
	struct pol_entry *v = calloc(n ? n : 1, sizeof(*v));
	uint32_t i, idx;
	int err = 0;

	if (ncpu < 0 || !percpu || !v) {
		err = ncpu < 0 ? ncpu : -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		idx = base + i;
		if (bpf_map_lookup_elem(m->desc_fd, &idx, &v[i].d) ||
		    bpf_map_lookup_elem(m->hits_fd, &idx, percpu)) {
			err = -errno;
			goto out;
		}
		v[i].hits = xm_counter_sum(percpu, ncpu);
	}
out:
	free(percpu);
	if (err)
		free(v);
	else
		*out = v;
	return err;
}

static void print_json(const struct xm_config *cfg, struct xm_iface_entry *ifs, int nifs,
		       const struct pol_entry *v, uint32_t n)
{
	char name[IF_NAMESIZE], buf[XM_PREFIX_STRLEN];
	uint8_t gen = cfg->epoch & 1;
	struct json j;
	uint32_t k;
	int i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_u64(&j, "epoch", cfg->epoch);
	json_bool(&j, "active", cfg->flags & XM_CFG_POLICY);
	json_array_begin(&j, "interfaces");
	for (i = 0; i < nifs; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "name", xm_iface_name(&ifs[i], name));
		json_u64(&j, "ifindex", ifs[i].ifindex);
		json_u64(&j, "ttl_threshold", ifs[i].cfg.pol[gen].ttl_threshold);
		json_array_begin(&j, "boundaries");
		for (k = 0; k < n; k++) {
			if (v[k].d.kind != XM_POL_BOUNDARY || v[k].d.ifindex != ifs[i].ifindex)
				continue;
			json_object_begin(&j, NULL);
			json_string(&j, "prefix", desc_prefix(v[k].d.group_family,
				    v[k].d.group_len, v[k].d.group, buf, sizeof(buf)));
			json_u64(&j, "packets", v[k].hits.packets);
			json_u64(&j, "bytes", v[k].hits.bytes);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "rules");
	for (k = 0; k < n; k++) {
		const struct xm_pol_desc *d = &v[k].d;

		if (d->kind != XM_POL_RULE)
			continue;
		json_object_begin(&j, NULL);
		json_string(&j, "action", d->deny ? "deny" : "allow");
		json_string(&j, "direction", d->dir == XM_DIR_IN ? "in" : "out");
		json_string(&j, "iface", ifname_of(d->ifindex, name));
		json_string(&j, "group", desc_prefix(d->group_family, d->group_len, d->group,
						     buf, sizeof(buf)));
		if (d->source_family)
			json_string(&j, "source", desc_prefix(d->source_family, d->source_len,
							      d->source, buf, sizeof(buf)));
		else
			json_null(&j, "source");
		json_bool(&j, "audit", d->audit);
		json_u64(&j, "line", d->line);
		json_u64(&j, "packets", v[k].hits.packets);
		json_u64(&j, "bytes", v[k].hits.bytes);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static void print_text(const struct xm_config *cfg, struct xm_iface_entry *ifs, int nifs,
		       const struct pol_entry *v, uint32_t n)
{
	char name[IF_NAMESIZE], g[XM_PREFIX_STRLEN], s[XM_PREFIX_STRLEN];
	uint8_t gen = cfg->epoch & 1;
	uint32_t k;
	int i;

	printf("policy epoch %u%s\n", cfg->epoch,
	       cfg->flags & XM_CFG_POLICY ? "" : " (no policy installed)");
	for (i = 0; i < nifs; i++) {
		printf("phyint %s ttl-threshold %u\n", xm_iface_name(&ifs[i], name),
		       ifs[i].cfg.pol[gen].ttl_threshold);
		for (k = 0; k < n; k++) {
			if (v[k].d.kind != XM_POL_BOUNDARY || v[k].d.ifindex != ifs[i].ifindex)
				continue;
			printf("  boundary %-24s %12llu pkts %14llu bytes\n",
			       desc_prefix(v[k].d.group_family, v[k].d.group_len,
					   v[k].d.group, g, sizeof(g)),
			       (unsigned long long)v[k].hits.packets,
			       (unsigned long long)v[k].hits.bytes);
		}
	}
	for (k = 0; k < n; k++) {
		const struct xm_pol_desc *d = &v[k].d;

		if (d->kind != XM_POL_RULE)
			continue;
		desc_prefix(d->group_family, d->group_len, d->group, g, sizeof(g));
		if (d->source_family)
			desc_prefix(d->source_family, d->source_len, d->source, s, sizeof(s));
		printf("%-5s %-3s %-10s group %-20s%s%-20s%s %12llu pkts (line %u)\n",
		       d->deny ? "deny" : "allow", d->dir == XM_DIR_IN ? "in" : "out",
		       ifname_of(d->ifindex, name), g, d->source_family ? " source " : "",
		       d->source_family ? s : "", d->audit ? " audit" : "",
		       (unsigned long long)v[k].hits.packets, d->line);
	}
}

int xm_cmd_policy(const char *pin_dir, bool json)
{
	struct xm_iface_entry *ifs = NULL;
	struct pol_entry *v = NULL;
	struct xm_policy_maps m;
	struct xm_config cfg;
	uint32_t base;
	int nifs, err;

	err = xm_policy_maps_open(pin_dir, &m);
	if (err)
		return xm_report_not_loaded(pin_dir, err);
	err = xm_policy_current(&m, &cfg, &base);
	if (!err)
		err = read_entries(&m, base, cfg.flags & XM_CFG_POLICY ? cfg.nhits : 0, &v);
	nifs = err ? 0 : xm_list_ifaces(m.ifaces_fd, &ifs);
	if (nifs < 0)
		err = nifs;
	if (err) {
		pr_err("cannot read the policy: %s\n", strerror(-err));
		goto out;
	}
	if (json)
		print_json(&cfg, ifs, nifs, v, cfg.flags & XM_CFG_POLICY ? cfg.nhits : 0);
	else
		print_text(&cfg, ifs, nifs, v, cfg.flags & XM_CFG_POLICY ? cfg.nhits : 0);
out:
	free(ifs);
	free(v);
	xm_policy_maps_close(&m);
	return err;
}
