// SPDX-License-Identifier: GPL-2.0-only
/*
 * The forwarding table (fwd.h): routes of three origins in, the data
 * path's entries out.
 *
 * Every change recomputes the whole table in memory and writes only the
 * difference: the routes are merged per key by precedence and resolved
 * (VLAN devices to their lower device and tag, outgoing interfaces to a
 * port set), both the new table and the one in force are sorted by key,
 * and one walk over the two writes, rewrites or deletes each entry.
 *
 * Port sets (the inner devmaps, one per TTL tier) are shared by every
 * entry with the same outgoing interfaces and thresholds, and never edited
 * once built: an entry moves to another set with one update of its own
 * value.  A set nobody uses any more is taken out of xm_fwd_ports, and
 * that update returns only once no program runs that could still hold the
 * old value (the kernel waits for map-in-map updates), so its row can be
 * given to a new set at once.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "fwd.h"
#include "ifaces.h"
#include "listeners.h"
#include "log.h"
#include "pins.h"
#include "util.h"
#include "xdp_mcast_kern_user.h"

/* A key: what a route is about. */
struct rkey {
	uint8_t family;
	uint8_t src_len;
	uint8_t grp_len;
	uint8_t pad;
	__be32 src[4];
	__be32 grp[4];
};

struct port {
	uint32_t ifindex;	/* lower device */
	uint8_t thr;
};

struct pset {
	struct pset *next;	/* hash chain */
	uint32_t id;		/* row in xm_fwd_ports / XM_FWD_TIERS */
	uint32_t refs;
	uint32_t nports;
	uint32_t hash;
	struct port ports[];	/* by ifindex */
};

/* An entry, as computed and as written. */
struct fent {
	struct rkey key;
	uint8_t origin;
	bool wild;		/* in xm_fwd_wild, not xm_fwd */
	struct xm_fwd_entry e;	/* e.ports from ps */
	struct pset *ps;	/* NULL when no outgoing interface */
};

#define PSET_BUCKETS	4096

struct fwd {
	int fwd_fd, wild_fd, ports_fd, ifaces_fd, config_fd, egress_fd;
	uint32_t max_sets;
	uint32_t *free_ids;	/* stack of unused set ids */
	uint32_t nfree;
	struct pset *psets[PSET_BUCKETS];
	size_t npsets;
	struct xm_mroute *routes[3];
	size_t nroutes[3];
	struct fent *cur;	/* in force, sorted by key */
	size_t ncur;
	size_t not_accelerated;
	struct xm_listener *listeners;	/* the router's own groups */
	size_t nlisteners;
	bool wild_on;
};

static const int precedence[3] = {
	[XM_ORIGIN_MEMBERSHIP] = 1,
	[XM_ORIGIN_KERNEL] = 2,
	[XM_ORIGIN_STATIC] = 3,
};

const char *fwd_origin_name(enum xm_mroute_origin o)
{
	switch (o) {
	case XM_ORIGIN_MEMBERSHIP:
		return "membership";
	case XM_ORIGIN_STATIC:
		return "static";
	case XM_ORIGIN_KERNEL:
		return "kernel";
	}
	return "?";
}

static int host_bits(uint8_t family)
{
	return family == AF_INET ? 32 : 128;
}

static int rkey_cmp(const struct rkey *a, const struct rkey *b)
{
	return memcmp(a, b, sizeof(*a));
}

static void rkey_of(struct rkey *k, const struct xm_mroute *r)
{
	memset(k, 0, sizeof(*k));
	k->family = r->family;
	k->src_len = r->src_len;
	k->grp_len = r->grp_len;
	memcpy(k->src, r->src, sizeof(k->src));
	memcpy(k->grp, r->grp, sizeof(k->grp));
}

/* ---- port sets ---- */

static uint32_t pset_hash(const struct port *p, uint32_t n)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < n; i++) {
		h = (h ^ p[i].ifindex) * 16777619u;
		h = (h ^ p[i].thr) * 16777619u;
	}
	return h;
}

/* The distinct thresholds of a set, ascending; their count. */
static int pset_tiers(const struct port *p, uint32_t n, uint8_t thr[XM_FWD_TIERS])
{
	bool seen[256] = { false };
	int t = 0, v;
	uint32_t i;

	for (i = 0; i < n; i++)
		seen[p[i].thr] = true;
	for (v = 0; v < 256; v++) {
		if (!seen[v])
			continue;
		if (t == XM_FWD_TIERS)
			return -1;
		thr[t++] = v;
	}
	return t;
}

/* Take a set's rows out; each delete waits until no program can hold the
 * inner map any more. */
static void pset_unpublish(struct fwd *f, uint32_t id)
{
	uint32_t t, idx, inner;

	for (t = 0; t < XM_FWD_TIERS; t++) {
		idx = id * XM_FWD_TIERS + t;
		if (!bpf_map_lookup_elem(f->ports_fd, &idx, &inner))
			bpf_map_delete_elem(f->ports_fd, &idx);
	}
}

/* Build the inner maps of a new set and publish them at its row. */
static int pset_publish(struct fwd *f, struct pset *ps)
{
	uint8_t thr[XM_FWD_TIERS];
	int ntiers = pset_tiers(ps->ports, ps->nports, thr), t, err = 0;
	uint32_t i, n, idx;

	for (t = 0; t < ntiers && !err; t++) {
		int fd;

		for (n = 0, i = 0; i < ps->nports; i++)
			n += ps->ports[i].thr <= thr[t];
		fd = bpf_map_create(BPF_MAP_TYPE_DEVMAP_HASH, "xm_fwd_set", sizeof(uint32_t),
				    sizeof(struct bpf_devmap_val), n ? n : 1, NULL);
		if (fd < 0)
			return -errno;
		for (i = 0; i < ps->nports && !err; i++) {
			struct bpf_devmap_val v = { .ifindex = ps->ports[i].ifindex };

			if (ps->ports[i].thr > thr[t])
				continue;
			v.bpf_prog.fd = f->egress_fd;
			if (bpf_map_update_elem(fd, &v.ifindex, &v, BPF_ANY))
				err = -errno;
		}
		idx = ps->id * XM_FWD_TIERS + t;
		if (!err && bpf_map_update_elem(f->ports_fd, &idx, &fd, BPF_ANY))
			err = -errno;
		close(fd);
	}
	if (err)
		pset_unpublish(f, ps->id);
	return err;
}

static struct pset *pset_get(struct fwd *f, const struct port *p, uint32_t n, int *err)
{
	uint32_t h = pset_hash(p, n);
	struct pset **b = &f->psets[h % PSET_BUCKETS], *ps;

	for (ps = *b; ps; ps = ps->next)
		if (ps->hash == h && ps->nports == n && !memcmp(ps->ports, p, n * sizeof(*p))) {
			ps->refs++;
			return ps;
		}
	if (!f->nfree) {
		*err = -ENOSPC;
		return NULL;
	}
	ps = calloc(1, sizeof(*ps) + n * sizeof(*p));
	if (!ps) {
		*err = -ENOMEM;
		return NULL;
	}
	ps->id = f->free_ids[--f->nfree];
	ps->refs = 1;
	ps->nports = n;
	ps->hash = h;
	memcpy(ps->ports, p, n * sizeof(*p));
	*err = pset_publish(f, ps);
	if (*err) {
		f->free_ids[f->nfree++] = ps->id;
		free(ps);
		return NULL;
	}
	ps->next = *b;
	*b = ps;
	f->npsets++;
	return ps;
}

static void pset_put(struct fwd *f, struct pset *ps)
{
	struct pset **b;

	if (!ps || --ps->refs)
		return;
	for (b = &f->psets[ps->hash % PSET_BUCKETS]; *b != ps; b = &(*b)->next)
		;
	*b = ps->next;
	pset_unpublish(f, ps->id);
	f->free_ids[f->nfree++] = ps->id;
	f->npsets--;
	free(ps);
}

/* ---- interfaces ---- */

static bool iface_registered(struct fwd *f, uint32_t ifindex)
{
	struct xm_iface v;

	return !bpf_map_lookup_elem(f->ifaces_fd, &ifindex, &v) && v.slot;
}

/* The tag each port sends with, as the routes ask; first route wins. */
struct port_vlan {
	uint32_t ifindex;
	uint16_t vid;
};

struct vlans {
	struct port_vlan *v;
	size_t n, cap;
};

/* Whether port may send with vid: yes when no route asked for another. */
static bool vlan_claim(struct vlans *vl, uint32_t ifindex, uint16_t vid)
{
	size_t i;

	for (i = 0; i < vl->n; i++)
		if (vl->v[i].ifindex == ifindex)
			return vl->v[i].vid == vid;
	if (vl->n == vl->cap) {
		size_t cap = vl->cap ? 2 * vl->cap : 16;
		struct port_vlan *nv = realloc(vl->v, cap * sizeof(*nv));

		if (!nv)
			return false;
		vl->v = nv;
		vl->cap = cap;
	}
	vl->v[vl->n++] = (struct port_vlan){ ifindex, vid };
	return true;
}

static void vlans_write(struct fwd *f, const struct vlans *vl)
{
	struct xm_iface *all;
	int n, i;
	size_t j;

	n = xm_ifaces_read_all(f->ifaces_fd, &all);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		uint16_t want = 0;

		if (!all[i].slot)
			continue;
		for (j = 0; j < vl->n; j++)
			if (vl->v[j].ifindex == (uint32_t)i)
				want = vl->v[j].vid;
		if (all[i].egress_vlan == want)
			continue;
		all[i].egress_vlan = want;
		bpf_map_update_elem(f->ifaces_fd, &i, &all[i], BPF_ANY);
	}
	free(all);
}

/* ---- computing the table ---- */

struct cand {
	struct rkey key;
	int prec;
	const struct xm_mroute *r;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = rkey_cmp(&x->key, &y->key);

	if (c)
		return c;
	if (x->prec != y->prec)
		return y->prec - x->prec;		/* highest precedence first */
	return x->r < y->r ? 1 : x->r > y->r;		/* then the last given */
}

static int port_cmp(const void *a, const void *b)
{
	const struct port *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static bool host_route(const struct rkey *k)
{
	int hb = host_bits(k->family);

	return k->grp_len == hb && (k->src_len == 0 || k->src_len == hb);
}

/*
 * Resolve route r into entry *out.  Returns false when the route cannot
 * be accelerated as it is: the kernel keeps it.
 */
static bool resolve(struct fwd *f, const struct xm_mroute *r, struct vlans *vl,
		    struct fent *out, int *err)
{
	struct port ports[XM_MROUTE_MAX_OIF];
	uint32_t iif, n = 0, i, j;
	uint16_t iif_vid;
	uint8_t thr[XM_FWD_TIERS];
	int ntiers, t;

	*err = 0;
	if (xm_iface_port(r->iif, &iif, &iif_vid))
		return false;
	if (r->iif_vlan)
		iif_vid = r->iif_vlan;
	out->e.iif = iif;
	out->e.iif_vlan = iif_vid;
	for (i = 0; i < r->noif && i < XM_MROUTE_MAX_OIF; i++) {
		uint32_t lower;
		uint16_t vid;

		if (r->oif[i].ttl_threshold == 255)
			continue;	/* ipmr: not an outgoing interface */
		if (xm_iface_port(r->oif[i].ifindex, &lower, &vid))
			return false;
		if (r->oif[i].vlan)
			vid = r->oif[i].vlan;
		if (lower == iif) {
			if (vid == iif_vid)
				continue;	/* never back where it came from */
			return false;	/* another VLAN of the ingress port */
		}
		if (!iface_registered(f, lower) || !vlan_claim(vl, lower, vid))
			return false;
		for (j = 0; j < n && ports[j].ifindex != lower; j++)
			;
		if (j < n)
			return false;	/* two VLANs on one port */
		ports[n++] = (struct port){ lower, r->oif[i].ttl_threshold };
	}
	qsort(ports, n, sizeof(ports[0]), port_cmp);
	ntiers = pset_tiers(ports, n, thr);
	if (ntiers < 0)
		return false;
	out->e.ntiers = ntiers;
	memcpy(out->e.thr, thr, sizeof(thr));
	for (t = 0; t < ntiers; t++)	/* as pset_publish() fills the tiers */
		for (i = 0; i < n; i++)
			out->e.nports[t] += ports[i].thr <= thr[t];
	out->ps = NULL;
	if (n) {
		out->ps = pset_get(f, ports, n, err);
		if (!out->ps)
			return false;
		out->e.ports = out->ps->id;
	}
	return true;
}

static void lpm_key(struct xm_fwd_lpm_key *lk, const struct rkey *k)
{
	memset(lk, 0, sizeof(*lk));
	if (k->family == AF_INET) {
		lk->group[2] = htonl(0xffff);
		lk->group[3] = k->grp[0];
		lk->source[2] = htonl(0xffff);
		lk->source[3] = k->src[0];
		lk->prefixlen = 96 + k->grp_len + (k->src_len ? 96 + k->src_len : 0);
	} else {
		memcpy(lk->group, k->grp, 16);
		memcpy(lk->source, k->src, 16);
		lk->prefixlen = k->grp_len + k->src_len;
	}
}

static void hash_key(struct xm_fwd_key *hk, const struct rkey *k)
{
	memset(hk, 0, sizeof(*hk));
	hk->family = k->family;
	memcpy(hk->group, k->grp, 16);
	memcpy(hk->source, k->src, 16);
}

static int entry_write(struct fwd *f, const struct fent *e)
{
	struct xm_fwd_lpm_key lk;
	struct xm_fwd_key hk;
	int rc;

	if (e->wild) {
		lpm_key(&lk, &e->key);
		rc = bpf_map_update_elem(f->wild_fd, &lk, &e->e, BPF_ANY);
	} else {
		hash_key(&hk, &e->key);
		rc = bpf_map_update_elem(f->fwd_fd, &hk, &e->e, BPF_ANY);
	}
	return rc ? -errno : 0;
}

static void entry_delete(struct fwd *f, const struct fent *e)
{
	struct xm_fwd_lpm_key lk;
	struct xm_fwd_key hk;

	if (e->wild) {
		lpm_key(&lk, &e->key);
		bpf_map_delete_elem(f->wild_fd, &lk);
	} else {
		hash_key(&hk, &e->key);
		bpf_map_delete_elem(f->fwd_fd, &hk);
	}
}

static bool entry_same(const struct fent *a, const struct fent *b)
{
	return a->wild == b->wild && a->ps == b->ps && !memcmp(&a->e, &b->e, sizeof(a->e));
}

static void set_wild_flag(struct fwd *f, bool on)
{
	struct xm_config cfg;
	uint32_t zero = 0;

	if (f->wild_on == on || bpf_map_lookup_elem(f->config_fd, &zero, &cfg))
		return;
	cfg.flags = on ? cfg.flags | XM_CFG_FWD_WILD : cfg.flags & ~XM_CFG_FWD_WILD;
	if (!bpf_map_update_elem(f->config_fd, &zero, &cfg, BPF_ANY))
		f->wild_on = on;
}

/* A listener as the entries see it: the port and VLAN that joined. */
struct lport {
	uint8_t family;
	uint16_t vid;
	uint32_t port;
	__be32 group[4];
};

static int lport_cmp(const void *a, const void *b)
{
	const struct lport *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->group, y->group, sizeof(x->group));
	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->vid < y->vid ? -1 : x->vid > y->vid;
}

/* The listeners resolved to ports, sorted; NULL and *n 0 when none. */
static struct lport *lports_get(const struct fwd *f, size_t *n)
{
	struct lport *lp;
	size_t i;

	*n = 0;
	if (!f->nlisteners)
		return NULL;
	lp = calloc(f->nlisteners, sizeof(*lp));
	if (!lp)
		return NULL;
	for (i = 0; i < f->nlisteners; i++) {
		const struct xm_listener *l = &f->listeners[i];
		struct lport *x = &lp[*n];

		if (xm_iface_port(l->ifindex, &x->port, &x->vid))
			continue;
		x->family = l->family;
		memcpy(x->group, l->group, sizeof(x->group));
		(*n)++;
	}
	qsort(lp, *n, sizeof(*lp), lport_cmp);
	return lp;
}

/* Whether the router listens to the entry's group on its incoming port
 * and VLAN: then the kernel delivers the group's frames locally when they
 * are passed.  Only exact groups: a prefix route covers many. */
static bool entry_has_listener(const struct fent *e, const struct lport *lp, size_t n)
{
	struct lport k = { .family = e->key.family, .vid = e->e.iif_vlan, .port = e->e.iif };

	if (!n || e->key.grp_len != host_bits(e->key.family))
		return false;
	memcpy(k.group, e->key.grp, sizeof(k.group));
	return bsearch(&k, lp, n, sizeof(*lp), lport_cmp) != NULL;
}

/*
 * The flags of an entry: its origin, and for a group the router listens
 * to on the incoming interface, XM_FWD_F_LISTENER; XM_FWD_F_KERNEL too
 * when the route is the kernel's own, since only then does the kernel
 * forward what we pass as well as deliver it (ipmr forwards by its MFC; a
 * route of the config or of memberships is not in it).  docs/accelerate.md
 * says why the others stay accelerated.
 */
static void entry_flags(struct fent *e, const struct lport *lp, size_t n)
{
	e->e.flags = (uint8_t)(((e->origin + 1) << XM_FWD_F_ORIGIN_SHIFT) & XM_FWD_F_ORIGIN_MASK);
	if (!entry_has_listener(e, lp, n))
		return;
	e->e.flags |= XM_FWD_F_LISTENER;
	if (e->origin == XM_ORIGIN_KERNEL)
		e->e.flags |= XM_FWD_F_KERNEL;
}

static void warn_unserved(const struct fent *e)
{
	char g[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], dev[IF_NAMESIZE];
	int af = e->key.family;

	inet_ntop(af, e->key.grp, g, sizeof(g));
	inet_ntop(af, e->key.src, s, sizeof(s));
	pr_warn("the router listens to %s on %s, but its route (%s, %s) comes from the %s, "
		"which the kernel does not forward: it stays accelerated and the local "
		"listener gets nothing (docs/accelerate.md, local listeners)\n", g,
		if_indextoname(e->e.iif, dev) ? dev : "?", e->key.src_len ? s : "*", g,
		e->origin == XM_ORIGIN_STATIC ? "config" : "memberships");
}

/*
 * The entries changed: bump xm_config.fwd_epoch, so that the flow caches'
 * copies of entries are looked up again from the next packet on.  Called
 * after the map writes and before a port set's rows are given up, so that
 * no cached copy outlives the row it names.
 */
static int fwd_epoch_bump(struct fwd *f)
{
	struct xm_config cfg;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(f->config_fd, &zero, &cfg))
		return -errno;
	cfg.fwd_epoch++;
	return bpf_map_update_elem(f->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/* Compute the table from every origin's routes and write the difference. */
static int commit(struct fwd *f)
{
	struct vlans vl = { 0 };
	struct cand *c;
	struct fent *next;
	struct lport *lp;
	size_t nc = 0, nn = 0, i, j, o, ncand, nlp;
	bool any_wild = false, changed = false;
	int err = 0, e;

	ncand = f->nroutes[0] + f->nroutes[1] + f->nroutes[2];
	c = calloc(ncand ? ncand : 1, sizeof(*c));
	next = calloc(ncand ? ncand : 1, sizeof(*next));
	if (!c || !next) {
		free(c);
		free(next);
		return -ENOMEM;
	}
	for (o = 0; o < 3; o++)
		for (i = 0; i < f->nroutes[o]; i++) {
			rkey_of(&c[nc].key, &f->routes[o][i]);
			c[nc].prec = precedence[o];
			c[nc].r = &f->routes[o][i];
			nc++;
		}
	qsort(c, nc, sizeof(*c), cand_cmp);

	lp = lports_get(f, &nlp);
	f->not_accelerated = 0;
	for (i = 0; i < nc; i++) {
		struct fent *ne = &next[nn];
		int hb = host_bits(c[i].key.family);

		if (i && !rkey_cmp(&c[i].key, &c[i - 1].key))
			continue;	/* a route of lower precedence */
		memset(ne, 0, sizeof(*ne));
		ne->key = c[i].key;
		ne->origin = c[i].r->origin;
		ne->wild = !host_route(&ne->key);
		if (ne->wild && ne->key.src_len && ne->key.grp_len != hb) {
			f->not_accelerated++;	/* a source prefix needs one group */
			continue;
		}
		if (!resolve(f, c[i].r, &vl, ne, &e)) {
			if (e && !err)
				err = e;
			f->not_accelerated++;
			continue;
		}
		entry_flags(ne, lp, nlp);
		nn++;
	}
	free(lp);
	/* A (*,G) whose G has wildcard source routes goes with them, so the
	 * longest match in xm_fwd_wild decides between them. */
	for (i = 0; i < nn; i++) {
		if (!next[i].wild || next[i].key.grp_len != host_bits(next[i].key.family))
			continue;
		for (j = 0; j < nn; j++)
			if (!next[j].wild && !next[j].key.src_len &&
			    next[j].key.family == next[i].key.family &&
			    !memcmp(next[j].key.grp, next[i].key.grp, 16))
				next[j].wild = true;
	}
	for (i = 0; i < nn; i++)
		any_wild |= next[i].wild;

	vlans_write(f, &vl);
	if (any_wild)
		set_wild_flag(f, true);
	/* Both sorted by key: one walk writes what is new or changed and
	 * deletes what went. */
	for (i = 0, j = 0; i < nn || j < f->ncur;) {
		int cmp = i == nn ? 1 : j == f->ncur ? -1 : rkey_cmp(&next[i].key, &f->cur[j].key);

		if (cmp <= 0 && (next[i].e.flags & (XM_FWD_F_LISTENER | XM_FWD_F_KERNEL)) ==
		    XM_FWD_F_LISTENER && (cmp < 0 || !(f->cur[j].e.flags & XM_FWD_F_LISTENER)))
			warn_unserved(&next[i]);
		if (cmp < 0) {
			e = entry_write(f, &next[i++]);
			changed = true;
		} else if (cmp > 0) {
			entry_delete(f, &f->cur[j++]);
			changed = true;
			e = 0;
		} else {
			e = 0;
			if (!entry_same(&next[i], &f->cur[j])) {
				e = entry_write(f, &next[i]);
				changed = true;
				if (next[i].wild != f->cur[j].wild)
					entry_delete(f, &f->cur[j]);
			}
			i++;
			j++;
		}
		if (e && !err)
			err = e;
	}
	if (!any_wild)
		set_wild_flag(f, false);
	if (changed) {
		e = fwd_epoch_bump(f);
		if (e && !err)
			err = e;
	}
	for (j = 0; j < f->ncur; j++)
		pset_put(f, f->cur[j].ps);
	free(f->cur);
	f->cur = next;
	f->ncur = nn;
	free(c);
	free(vl.v);
	if (err)
		pr_err("forwarding table: %s\n", strerror(-err));
	return err;
}

int fwd_set_routes(struct fwd *f, enum xm_mroute_origin origin,
		   const struct xm_mroute *r, size_t n)
{
	struct xm_mroute *copy = NULL;
	size_t i;

	if ((unsigned int)origin > XM_ORIGIN_KERNEL)
		return -EINVAL;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, r, n * sizeof(*copy));
		for (i = 0; i < n; i++)
			copy[i].origin = origin;
	}
	free(f->routes[origin]);
	f->routes[origin] = copy;
	f->nroutes[origin] = n;
	return commit(f);
}

int fwd_set_iface(struct fwd *f, uint32_t ifindex, enum xm_fwd_mode mode,
		  enum xm_fwd_role role)
{
	char name[IF_NAMESIZE];
	struct xm_iface v;

	if (bpf_map_lookup_elem(f->ifaces_fd, &ifindex, &v) || !v.slot)
		return -ENODEV;
	v.fwd_mode = mode;
	v.fwd_role = role;
	if (if_indextoname(ifindex, name))
		xm_iface_mac(name, v.mac);
	return bpf_map_update_elem(f->ifaces_fd, &ifindex, &v, BPF_ANY) ? -errno : 0;
}

int fwd_set_listeners(struct fwd *f, const struct xm_listener *l, size_t n)
{
	struct xm_listener *copy = NULL;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, l, n * sizeof(*copy));
	}
	free(f->listeners);
	f->listeners = copy;
	f->nlisteners = n;
	return commit(f);
}

int fwd_refresh(struct fwd *f)
{
	return commit(f);
}

void fwd_stats(const struct fwd *f, struct fwd_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int o = 0; o < 3; o++)
		out->routes[o] = f->nroutes[o];
	out->entries = f->ncur;
	out->port_sets = f->npsets;
	out->not_accelerated = f->not_accelerated;
}

/* Empty a pinned map: what an earlier daemon left is recomputed. */
static void map_clear(int fd, size_t key_size)
{
	char key[64], next[64];

	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

int fwd_init(struct fwd **out, const char *pin_dir)
{
	struct { int *fd; const char *name; } maps[6];
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), i;
	char path[PATH_MAX];
	struct fwd *f;
	int err = 0;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	maps[0].fd = &f->fwd_fd, maps[0].name = XM_MAP_FWD;
	maps[1].fd = &f->wild_fd, maps[1].name = XM_MAP_FWD_WILD;
	maps[2].fd = &f->ports_fd, maps[2].name = XM_MAP_FWD_PORTS;
	maps[3].fd = &f->ifaces_fd, maps[3].name = XM_MAP_IFACES;
	maps[4].fd = &f->config_fd, maps[4].name = XM_MAP_CONFIG;
	maps[5].fd = &f->egress_fd, maps[5].name = XM_PIN_EGRESS_PROG;
	for (i = 0; i < ARRAY_SIZE(maps); i++)
		*maps[i].fd = -1;
	for (i = 0; i < ARRAY_SIZE(maps) && !err; i++) {
		err = xm_pin_join(path, sizeof(path), pin_dir, maps[i].name);
		if (!err && (*maps[i].fd = bpf_obj_get(path)) < 0) {
			err = -errno;
			pr_err("cannot open '%s': %s (is the data path loaded?)\n", path,
			       strerror(errno));
		}
	}
	if (!err && bpf_obj_get_info_by_fd(f->ports_fd, &info, &len))
		err = -errno;
	if (!err) {
		f->max_sets = info.max_entries / XM_FWD_TIERS;
		f->free_ids = malloc(f->max_sets * sizeof(*f->free_ids));
		if (!f->free_ids)
			err = -ENOMEM;
	}
	if (err) {
		fwd_exit(f);
		return err;
	}
	for (i = 0; i < f->max_sets; i++)
		f->free_ids[f->nfree++] = f->max_sets - 1 - i;	/* 0 first */
	map_clear(f->fwd_fd, sizeof(struct xm_fwd_key));
	map_clear(f->wild_fd, sizeof(struct xm_fwd_lpm_key));
	f->wild_on = true;
	set_wild_flag(f, false);
	fwd_epoch_bump(f);
	for (i = 0; i < f->max_sets; i++)
		pset_unpublish(f, i);
	*out = f;
	return 0;
}

void fwd_exit(struct fwd *f)
{
	size_t i;

	if (!f)
		return;
	if (f->fwd_fd >= 0 && f->wild_fd >= 0 && f->ports_fd >= 0) {
		for (i = 0; i < f->ncur; i++)
			entry_delete(f, &f->cur[i]);
		if (f->ncur && f->config_fd >= 0)
			fwd_epoch_bump(f);
		for (i = 0; i < f->ncur; i++)
			pset_put(f, f->cur[i].ps);
	}
	if (f->config_fd >= 0 && f->wild_on)
		set_wild_flag(f, false);
	f->ncur = 0;
	fwd_close(f);
}

void fwd_close(struct fwd *f)
{
	size_t i;
	struct pset *ps, *n;

	if (!f)
		return;
	for (i = 0; i < PSET_BUCKETS; i++)
		for (ps = f->psets[i]; ps; ps = n) {
			n = ps->next;
			free(ps);
		}
	for (i = 0; i < 3; i++)
		free(f->routes[i]);
	free(f->listeners);
	free(f->cur);
	free(f->free_ids);
	if (f->fwd_fd >= 0)
		close(f->fwd_fd);
	if (f->wild_fd >= 0)
		close(f->wild_fd);
	if (f->ports_fd >= 0)
		close(f->ports_fd);
	if (f->ifaces_fd >= 0)
		close(f->ifaces_fd);
	if (f->config_fd >= 0)
		close(f->config_fd);
	if (f->egress_fd >= 0)
		close(f->egress_fd);
	free(f);
}
