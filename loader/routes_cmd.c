// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp-mcast routes: the accelerator's forwarding entries as the data path
 * holds them (xm_fwd, xm_fwd_wild, the port sets of xm_fwd_ports, the
 * ports' VLAN in xm_ifaces), with the origin and flags the daemon wrote
 * into each entry (docs/json.md has the schema).
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "ctrl.h"
#include "ifaces.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "mroute.h"
#include "pins.h"
#include "util.h"

struct oif {
	uint32_t ifindex;
	uint16_t vlan;		/* the port's egress tag */
	uint8_t thr;
};

struct route {
	uint8_t family;		/* XM_AF_* */
	uint8_t src_len, grp_len;
	__be32 src[4], grp[4];
	struct xm_fwd_entry e;
	uint32_t noif;
	struct oif oif[XM_FWD_PORTS_MAX];
};

static int route_cmp(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->grp, y->grp, sizeof(x->grp));
	if (c)
		return c;
	if (x->grp_len != y->grp_len)
		return x->grp_len < y->grp_len ? -1 : 1;
	if (x->src_len != y->src_len)
		return x->src_len < y->src_len ? -1 : 1;
	return memcmp(x->src, y->src, sizeof(x->src));
}

static int oif_cmp(const void *a, const void *b)
{
	const struct oif *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

struct maps {
	int fwd, wild, ports, ifaces;
	struct xm_iface *ifs;	/* by ifindex */
	int nifs;
};

/* The outgoing interfaces of entry r: tier t's inner map holds the ports
 * whose threshold is at most thr[t], so a port's threshold is that of the
 * lowest tier that has it. */
static void read_ports(const struct maps *m, struct route *r)
{
	uint32_t t, idx, id, key, next;
	uint32_t *prev;

	for (t = 0; t < r->e.ntiers && t < XM_FWD_TIERS; t++) {
		int fd;

		idx = r->e.ports * XM_FWD_TIERS + t;
		if (bpf_map_lookup_elem(m->ports, &idx, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		for (prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &key) {
			uint32_t i;

			key = next;
			for (i = 0; i < r->noif && r->oif[i].ifindex != key; i++)
				;
			if (i < r->noif || r->noif == XM_FWD_PORTS_MAX)
				continue;
			r->oif[r->noif].ifindex = key;
			r->oif[r->noif].thr = r->e.thr[t];
			r->oif[r->noif].vlan = (int)key < m->nifs ? m->ifs[key].egress_vlan : 0;
			r->noif++;
		}
		close(fd);
	}
	qsort(r->oif, r->noif, sizeof(r->oif[0]), oif_cmp);
}

static int grow(struct route **v, size_t n, size_t *cap)
{
	struct route *nv;

	if (n < *cap)
		return 0;
	*cap = *cap ? 2 * *cap : 64;
	nv = realloc(*v, *cap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

static bool v4_mapped(const __be32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

/* Both maps into *out; the count or a negative errno. */
static int read_routes(const struct maps *m, struct route **out)
{
	struct xm_fwd_key hk, hprev;
	struct xm_fwd_lpm_key lk, lprev;
	struct route *v = NULL, *r;
	size_t n = 0, cap = 0;
	bool first;

	for (first = true; !bpf_map_get_next_key(m->fwd, first ? NULL : &hprev, &hk); first = false) {
		hprev = hk;
		if (grow(&v, n, &cap))
			goto nomem;
		r = memset(&v[n], 0, sizeof(*r));
		if (bpf_map_lookup_elem(m->fwd, &hk, &r->e))
			continue;
		r->family = hk.family;
		r->grp_len = hk.family == XM_AF_INET ? 32 : 128;
		memcpy(r->grp, hk.group, sizeof(r->grp));
		memcpy(r->src, hk.source, sizeof(r->src));
		r->src_len = xm_addr_is_zero(hk.source) ? 0 : r->grp_len;
		n++;
	}
	/* xm_fwd_wild: prefixlen counts the group bits, then the source's;
	 * IPv4 is mapped (96 bits before each address). */
	for (first = true; !bpf_map_get_next_key(m->wild, first ? NULL : &lprev, &lk); first = false) {
		uint32_t len = lk.prefixlen;

		lprev = lk;
		if (grow(&v, n, &cap))
			goto nomem;
		r = memset(&v[n], 0, sizeof(*r));
		if (bpf_map_lookup_elem(m->wild, &lk, &r->e))
			continue;
		if (v4_mapped(lk.group) && len >= 96) {
			r->family = XM_AF_INET;
			r->grp[0] = lk.group[3];
			r->src[0] = lk.source[3];
			r->grp_len = len > 128 ? 32 : len - 96;
			r->src_len = len > 128 + 96 ? len - 128 - 96 : 0;
		} else {
			r->family = XM_AF_INET6;
			memcpy(r->grp, lk.group, sizeof(r->grp));
			memcpy(r->src, lk.source, sizeof(r->src));
			r->grp_len = len > 128 ? 128 : len;
			r->src_len = len > 128 ? len - 128 : 0;
		}
		n++;
	}
	for (size_t i = 0; i < n; i++)
		read_ports(m, &v[i]);
	qsort(v, n, sizeof(*v), route_cmp);
	*out = v;
	return (int)n;
nomem:
	free(v);
	return -ENOMEM;
}

static const char *origin_name(const struct xm_fwd_entry *e)
{
	unsigned int o = (e->flags & XM_FWD_F_ORIGIN_MASK) >> XM_FWD_F_ORIGIN_SHIFT;

	switch (o) {
	case XM_ORIGIN_MEMBERSHIP + 1:
		return "membership";
	case XM_ORIGIN_STATIC + 1:
		return "config";
	case XM_ORIGIN_KERNEL + 1:
		return "kernel";
	}
	return "unknown";
}

/* "10.0.0.1", "239.2.0.0/16", or "*" for any source. */
static const char *prefix(uint8_t family, const __be32 a[4], uint8_t len, bool src, char *buf,
			  size_t size)
{
	char addr[XM_ADDR_STRLEN];

	if (src && !len)
		return "*";
	xm_format_addr(family, a, addr, sizeof(addr));
	if (len == (family == XM_AF_INET ? 32 : 128))
		snprintf(buf, size, "%s", addr);
	else
		snprintf(buf, size, "%s/%u", addr, len);
	return buf;
}

static const char *ifname(uint32_t ifindex, char *buf)
{
	return if_indextoname(ifindex, buf) ? buf : "?";
}

static bool through(const struct route *r, uint32_t ifindex)
{
	uint32_t i;

	if (r->e.iif == ifindex)
		return true;
	for (i = 0; i < r->noif; i++)
		if (r->oif[i].ifindex == ifindex)
			return true;
	return false;
}

static void print_json(const struct route *v, int n)
{
	char buf[64], name[IF_NAMESIZE];
	struct json j;
	uint32_t k;
	int i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "routes");
	for (i = 0; i < n; i++) {
		const struct route *r = &v[i];

		json_object_begin(&j, NULL);
		json_string(&j, "family", xm_family_name(r->family));
		json_string(&j, "source", xm_format_addr(r->family, r->src, buf, sizeof(buf)));
		json_u64(&j, "source_len", r->src_len);
		json_string(&j, "group", xm_format_addr(r->family, r->grp, buf, sizeof(buf)));
		json_u64(&j, "group_len", r->grp_len);
		json_string(&j, "iif", ifname(r->e.iif, name));
		json_u64(&j, "ifindex", r->e.iif);
		json_u64(&j, "vlan", r->e.iif_vlan);
		json_string(&j, "origin", origin_name(&r->e));
		json_bool(&j, "kernel", r->e.flags & XM_FWD_F_KERNEL);
		json_bool(&j, "listener", r->e.flags & XM_FWD_F_LISTENER);
		json_array_begin(&j, "oifs");
		for (k = 0; k < r->noif; k++) {
			json_object_begin(&j, NULL);
			json_string(&j, "iface", ifname(r->oif[k].ifindex, name));
			json_u64(&j, "ifindex", r->oif[k].ifindex);
			json_u64(&j, "vlan", r->oif[k].vlan);
			json_u64(&j, "ttl_threshold", r->oif[k].thr);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static void print_text(const struct route *v, int n)
{
	char src[64], grp[64], name[IF_NAMESIZE], oifs[1024], flags[32];
	uint32_t k;
	int i;

	printf("%-26s %-26s %-12s %4s %-10s %-15s %s\n", "SOURCE", "GROUP", "IIF", "VLAN",
	       "ORIGIN", "FLAGS", "OIFS");
	for (i = 0; i < n; i++) {
		const struct route *r = &v[i];
		size_t len = 0;

		oifs[0] = 0;
		for (k = 0; k < r->noif && len < sizeof(oifs) - 64; k++) {
			len += snprintf(oifs + len, sizeof(oifs) - len, "%s%s", k ? " " : "",
					ifname(r->oif[k].ifindex, name));
			if (r->oif[k].vlan)
				len += snprintf(oifs + len, sizeof(oifs) - len, ".%u", r->oif[k].vlan);
			if (r->oif[k].thr > 1)
				len += snprintf(oifs + len, sizeof(oifs) - len, ":%u", r->oif[k].thr);
		}
		snprintf(flags, sizeof(flags), "%s%s%s",
			 r->e.flags & XM_FWD_F_KERNEL ? "kernel" : "",
			 (r->e.flags & (XM_FWD_F_KERNEL | XM_FWD_F_LISTENER)) ==
			 (XM_FWD_F_KERNEL | XM_FWD_F_LISTENER) ? "," : "",
			 r->e.flags & XM_FWD_F_LISTENER ? "listener" : "");
		printf("%-26s %-26s %-12s %4u %-10s %-15s %s\n",
		       prefix(r->family, r->src, r->src_len, true, src, sizeof(src)),
		       prefix(r->family, r->grp, r->grp_len, false, grp, sizeof(grp)),
		       ifname(r->e.iif, name), r->e.iif_vlan, origin_name(&r->e),
		       flags[0] ? flags : "-", r->noif ? oifs : "-");
	}
}

static int open_pin(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];

	if (xm_pin_join(path, sizeof(path), pin_dir, name))
		return -1;
	return bpf_obj_get(path);
}

int xm_cmd_routes(const char *pin_dir, bool json, const char *iface)
{
	struct maps m = { .fwd = -1, .wild = -1, .ports = -1, .ifaces = -1 };
	uint32_t want = iface ? if_nametoindex(iface) : 0, lower;
	struct route *v = NULL;
	uint16_t vid;
	int n, i, kept, err = 0;

	if (iface && !want) {
		pr_err("unknown interface '%s'\n", iface);
		return -ENODEV;
	}
	if (want && !xm_iface_port(want, &lower, &vid))
		want = lower;	/* a VLAN device: its port */
	m.fwd = open_pin(pin_dir, XM_MAP_FWD);
	m.wild = open_pin(pin_dir, XM_MAP_FWD_WILD);
	m.ports = open_pin(pin_dir, XM_MAP_FWD_PORTS);
	m.ifaces = open_pin(pin_dir, XM_MAP_IFACES);
	if (m.fwd < 0 || m.wild < 0 || m.ports < 0 || m.ifaces < 0) {
		err = xm_report_not_loaded(pin_dir, -ENOENT);
		goto out;
	}
	m.nifs = xm_ifaces_read_all(m.ifaces, &m.ifs);
	if (m.nifs < 0) {
		err = m.nifs;
		m.ifs = NULL;
		goto out;
	}
	n = read_routes(&m, &v);
	if (n < 0) {
		err = n;
		goto out;
	}
	for (i = kept = 0; i < n; i++)
		if (!want || through(&v[i], want))
			v[kept++] = v[i];
	if (json)
		print_json(v, kept);
	else
		print_text(v, kept);
out:
	free(v);
	free(m.ifs);
	if (m.fwd >= 0)
		close(m.fwd);
	if (m.wild >= 0)
		close(m.wild);
	if (m.ports >= 0)
		close(m.ports);
	if (m.ifaces >= 0)
		close(m.ifaces);
	return err;
}
