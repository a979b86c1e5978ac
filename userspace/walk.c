// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "walk.h"
#include "walk.skel.h"

/* An out_ array of the walk, mapped. */
struct out {
	void *mem;
	size_t len;
	uint32_t cap;
};

struct xm_walker {
	int ifaces_fd, flows_fd, cache_fd, ncpu;
	struct walk_bpf *skel;		/* NULL: batched lookups only */
	bool flows;			/* the flows are walked */
	struct out out_ifaces, out_flows;
	uint32_t flows_cap;		/* xm_flows' entries */
	struct xm_flow_entry *owned;	/* the last batched read, if any */
};

static uint32_t max_entries(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	return fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

static int out_map(struct out *o, struct bpf_map *m, size_t rec, int prot)
{
	void *p;

	o->len = (size_t)o->cap * rec;
	p = mmap(NULL, o->len, prot, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		return -errno;
	o->mem = p;
	return 0;
}

static void out_unmap(struct out *o)
{
	if (o->mem)
		munmap(o->mem, o->len);
	o->mem = NULL;
}

static void skel_close(struct xm_walker *w)
{
	out_unmap(&w->out_ifaces);
	out_unmap(&w->out_flows);
	walk_bpf__destroy(w->skel);
	w->skel = NULL;
	w->flows = false;
}

static int skel_open(struct xm_walker *w)
{
	struct walk_bpf *s;
	int err = 0;

	w->flows = w->ncpu <= XM_WALK_FAST_CPUS && w->ncpu <= XM_WALK_MAX_CPUS;
	s = w->skel = walk_bpf__open();
	if (!s)
		return -errno;
	w->out_ifaces.cap = XM_MAX_IFACES;
	w->flows_cap = max_entries(w->flows_fd);
	/* The walk's records, then room for the flows only the caches hold
	 * (xm_flows_add_cache() appends them there). */
	w->out_flows.cap = w->flows_cap + XM_FLOW_CACHE_SLOTS * w->ncpu;
	s->rodata->ncpu = w->ncpu;
	s->rodata->flows_cap = w->flows_cap;
	/* Without the flow walk, its maps stay one-entry placeholders. */
	bpf_program__set_autoload(s->progs.walk_flows, w->flows);
	if (w->flows)
		err = bpf_map__reuse_fd(s->maps.xm_flows, w->flows_fd) ?:
		      bpf_map__set_max_entries(s->maps.out_flows, w->out_flows.cap);
	err = err ?: bpf_map__reuse_fd(s->maps.xm_ifaces, w->ifaces_fd) ?:
		     walk_bpf__load(s) ?:
		     out_map(&w->out_ifaces, s->maps.out_ifaces, sizeof(struct xm_iface_rec),
			     PROT_READ);
	if (!err && w->flows)
		err = out_map(&w->out_flows, s->maps.out_flows, sizeof(struct xm_flow_entry),
			      PROT_READ | PROT_WRITE);
	if (err)
		skel_close(w);
	return err;
}

int xm_walker_open(struct xm_walker **out, int ifaces_fd, int flows_fd, int cache_fd)
{
	struct xm_walker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->ifaces_fd = ifaces_fd;
	w->flows_fd = flows_fd;
	w->cache_fd = cache_fd;
	w->ncpu = libbpf_num_possible_cpus();
	if (w->ncpu < 0) {
		err = w->ncpu;
		free(w);
		return err;
	}
	err = skel_open(w);
	if (err)
		pr_debug("reading the maps with batched lookups: cannot load "
			 "the walk: %s", strerror(-err));
	*out = w;
	return 0;
}

void xm_walker_close(struct xm_walker *w)
{
	if (!w)
		return;
	skel_close(w);
	free(w->owned);
	free(w);
}

bool xm_walker_walks_flows(const struct xm_walker *w)
{
	return w->flows;
}

static int run(const struct bpf_program *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	return bpf_prog_test_run_opts(bpf_program__fd(p), &opts) ? -errno : 0;
}

int xm_walk_flows(struct xm_walker *w, const struct xm_flow_entry **out)
{
	struct xm_flow_entry *v;
	size_t n;
	int err;

	free(w->owned);
	w->owned = NULL;
	if (!w->flows) {
		err = xm_read_flows_unsorted(w->flows_fd, w->cache_fd, &w->owned);
		*out = w->owned;
		return err;
	}
	err = run(w->skel->progs.walk_flows);
	if (err)
		return err;
	n = w->skel->bss->flows_count;
	if (n > w->flows_cap)
		return -EIO;
	/* Read where the walk wrote them: no copy. */
	v = w->out_flows.mem;
	err = w->cache_fd >= 0 ? xm_flows_add_cache(w->cache_fd, w->ncpu, v, &n) : 0;
	if (err)
		return err;
	*out = v;
	return (int)n;
}

static int iface_cmp(const void *a, const void *b)
{
	const struct xm_iface_entry *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

int xm_walk_ifaces(struct xm_walker *w, struct xm_iface_entry **out)
{
	const struct xm_iface_rec *rec;
	struct xm_iface_entry *v;
	uint32_t n, i;
	int err;

	if (!w->skel)
		return xm_list_ifaces(w->ifaces_fd, out);
	err = run(w->skel->progs.walk_ifaces);
	if (err)
		return err;
	n = w->skel->bss->ifaces_count;
	if (n > XM_MAX_IFACES)
		return -EIO;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	rec = w->out_ifaces.mem;
	for (i = 0; i < n; i++) {
		v[i].ifindex = rec[i].ifindex;
		v[i].cfg = rec[i].cfg;
	}
	qsort(v, n, sizeof(*v), iface_cmp);
	*out = v;
	return (int)n;
}
