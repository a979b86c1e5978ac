// SPDX-License-Identifier: GPL-2.0-only
/*
 * The readers' walks of xm_flows and xm_ifaces, run from user space with
 * BPF_PROG_TEST_RUN (syscall programs): every flow, and every registered
 * interface, written in the table's order into an array user space maps.
 * The flow walk merges the per-CPU values as xm_flow_merge() does.
 * Against batched lookups the flows cost 40% less (docs/bench.md,
 * mcast-top), and the interfaces a fraction: a batched lookup of an
 * array copies every entry, registered or not, to user space.
 *
 * User space reuses the pinned tables for the two maps below and sets the
 * constants and array sizes before load.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "walk_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__type(key, struct xm_flow_key);
	__type(value, struct xm_flow);
	__uint(max_entries, 1);
} xm_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xm_iface);
	__uint(max_entries, 1);
} xm_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xm_iface_rec);
	__uint(max_entries, XM_MAX_IFACES);
} out_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xm_flow_entry);
	__uint(max_entries, 1);
} out_flows SEC(".maps");

const volatile __u32 ncpu = 1;		/* possible CPUs */
const volatile __u32 flows_cap = 1;	/* records a walk writes at most: xm_flows' size */

/* Records the last run wrote. */
__u32 ifaces_count, flows_count;

static __always_inline void merge(struct xm_flow *m, const struct xm_flow *f)
{
	if (!f->packets)
		return;
	m->packets += f->packets;
	m->bytes += f->bytes;
	m->copies += f->copies;
	m->reason_mask |= f->reason_mask;
	if (f->first_seen_ns && (!m->first_seen_ns || f->first_seen_ns < m->first_seen_ns))
		m->first_seen_ns = f->first_seen_ns;
	if (f->last_seen_ns >= m->last_seen_ns) {
		m->last_seen_ns = f->last_seen_ns;
		m->last_reason = f->last_reason;
	}
}

/* One flow: val is this CPU's value; the others are looked up by key. */
static long flow_one(void *map, const struct xm_flow_key *key, const struct xm_flow *val,
		     void *ctx)
{
	__u32 i = flows_count, me = bpf_get_smp_processor_id(), c;
	struct xm_flow_entry *e;

	if (i >= flows_cap)
		return 1;	/* cannot happen: flows_cap is the table's size */
	e = bpf_map_lookup_elem(&out_flows, &i);
	if (!e)
		return 1;
	__builtin_memcpy(&e->key, key, sizeof(e->key));
	__builtin_memset(&e->flow, 0, sizeof(e->flow));
	for (c = 0; c < XM_WALK_MAX_CPUS && c < ncpu; c++) {
		const struct xm_flow *f = c == me ? val :
					  bpf_map_lookup_percpu_elem(&xm_flows, key, c);

		if (f)
			merge(&e->flow, f);
	}
	flows_count = i + 1;
	return 0;
}

SEC("syscall")
int walk_flows(void *ctx)
{
	flows_count = 0;
	bpf_for_each_map_elem(&xm_flows, flow_one, NULL, 0);
	return 0;
}

static long iface_one(void *map, const __u32 *ifindex, const struct xm_iface *val, void *ctx)
{
	__u32 i = ifaces_count;
	struct xm_iface_rec *e;

	if (!val->slot)
		return 0;
	e = bpf_map_lookup_elem(&out_ifaces, &i);
	if (!e)
		return 1;	/* XM_MAX_IFACES: no more slots exist */
	e->ifindex = *ifindex;
	__builtin_memcpy(&e->cfg, val, sizeof(e->cfg));
	ifaces_count = i + 1;
	return 0;
}

SEC("syscall")
int walk_ifaces(void *ctx)
{
	ifaces_count = 0;
	bpf_for_each_map_elem(&xm_ifaces, iface_one, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
