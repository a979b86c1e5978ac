/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading whole tables again and again (mcast-top's refreshes, the
 * metrics' scrapes): a walker that keeps what it needs between readings.
 *
 * Where it can, it walks the flows and the interfaces in the kernel with
 * its own small programs (walk.bpf.c, run with BPF_PROG_TEST_RUN), which
 * write one record an entry into arrays this process maps; the flow walk
 * merges the per-CPU values there.  On 2 CPUs the flows cost 40% less than
 * the batched lookups alone, before their merge (docs/bench.md), and the
 * interfaces a fraction (a batched lookup of xm_ifaces copies all its
 * 16384 entries).  The flow
 * walk looks each flow up once more for every other CPU, so with more
 * than XM_WALK_FAST_CPUS possible CPUs the flows are read with batched
 * lookups; so is everything where the programs do not load (kernels
 * before 5.19, no syscall programs).  The result is the same either way.
 *
 * The flow walk's lookups mark each flow referenced in the LRU (a BPF
 * lookup does, the system call's do not): docs/mcast-top.md, "Cost".
 *
 * The memberships are read with batched lookups: walking their mostly
 * empty buckets in a program measured no faster.
 */
#ifndef XM_WALK_H
#define XM_WALK_H

#include <stdbool.h>

#include "ifaces.h"
#include "stats.h"

#define XM_WALK_FAST_CPUS	8

struct xm_walker;

/* The tables' fds (cache_fd may be -1).  Never fails for want of the
 * programs: it falls back to batched lookups. */
int xm_walker_open(struct xm_walker **out, int ifaces_fd, int flows_fd, int cache_fd);
void xm_walker_close(struct xm_walker *w);

/* Every flow, merged over CPUs and with what the flow caches hold, in the
 * table's order (not sorted).  *out is the walker's memory (for the flow
 * walk, the array it wrote, mapped): valid until the next xm_walk_flows()
 * or xm_walker_close().  Returns the count or a negative errno. */
int xm_walk_flows(struct xm_walker *w, const struct xm_flow_entry **out);

/* The registered interfaces (xm_list_ifaces()), in ifindex order; *out
 * is malloc'ed.  Returns the count or a negative errno. */
int xm_walk_ifaces(struct xm_walker *w, struct xm_iface_entry **out);

/* Whether the flows are walked in the kernel (false: batched lookups). */
bool xm_walker_walks_flows(const struct xm_walker *w);

#endif
