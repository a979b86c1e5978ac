// SPDX-License-Identifier: GPL-2.0-only
/*
 * The small programs of the accelerator's throughput bench (bench/accel.sh,
 * docs/bench.md "The accelerator"); none is loaded outside the bench.
 *
 *   xdp_count  on a receiver (and on the router for the receive limit):
 *              count the frame in bench_cnt, drop it.
 *   xdp_bcast  the ceiling on the router: one broadcast redirect into
 *              bench_ports (the K receivers' veths), nothing else.
 *   xdp_pass_n the router's ingress for the kernel scenario: XDP_PASS, so
 *              that the veth has NAPI for the generator's frames.
 *   xdp_gen    the generator (bench_gen), run with BPF_PROG_TEST_RUN and
 *              BPF_F_TEST_XDP_LIVE_FRAMES: the frame pages are recycled
 *              without being copied again, so it writes the TTL and the
 *              checksum back on every run, counts the run, and XDP_TXes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} bench_ports SEC(".maps");

volatile const __u8 gen_ttl = 16;
volatile const __u16 gen_check;	/* the IPv4 header checksum with gen_ttl */

static __always_inline void count(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&bench_cnt, &zero);

	if (c)
		(*c)++;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	count();
	return XDP_DROP;
}

SEC("xdp")
int xdp_bcast(struct xdp_md *ctx)
{
	return bpf_redirect_map(&bench_ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

SEC("xdp")
int xdp_pass_n(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);

	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;
	ip->ttl = gen_ttl;
	ip->check = gen_check;
	count();
	return XDP_TX;
}
