// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs the benchmark runs around the ones it measures.
 *
 * BPF_PROG_TEST_RUN repeats one frame, so on its own it can only measure a
 * single flow.  xdp_rotate and tc_rotate stand in front of the program
 * under test: run n writes the source word of flow n mod (flow_mask + 1)
 * into the frame (bench_flow_word(), over the last 32 bits of the source
 * address), then tail-calls the program under test.  Every run is a
 * different flow, in round robin.  A program array holds programs of one
 * type only, so each front has its own.
 *
 * xdp_refresh stands in front of a program that changes the frame: the
 * accelerator takes the hop off at ingress, and a repeated run sees what
 * the run before left.  It writes the IPv4 TTL and header checksum back as
 * the frame was built, then tail-calls the program under test.
 *
 * tc_pass is the empty TC program, the baseline of the TC rows.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench_helpers.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, BENCH_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} bench_targets SEC(".maps");		/* XDP programs, behind xdp_rotate */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, BENCH_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} bench_tc_targets SEC(".maps");	/* TC programs, behind tc_rotate */

/* Set by the bench through the skeleton's bss before each test run. */
__u32 target;		/* index in the front's program array of the program under test */
__u32 word_off;		/* byte offset in the frame of the big-endian word */
__u32 flow_base;	/* host order: the word of the frame as built */
__u32 flow_mask;	/* flows - 1, flows a power of two */
__u32 seq;		/* runs so far */
__u32 ip_off;		/* xdp_refresh: byte offset in the frame of the IPv4 header */
__u32 ip_ttl;		/* ... its TTL as built */
__u32 ip_check;		/* ... its header checksum as built, as in the frame */

/* Give the frame the source of the next flow; -1 when it is too short. */
static __always_inline int rotate(void *data, void *end)
{
	__be32 *w = data + (word_off & BENCH_WORD_OFF_MAX);

	if ((void *)(w + 1) > end)
		return -1;
	*w = bpf_htonl(bench_flow_word(flow_base, seq++ & flow_mask));
	return 0;
}

SEC("xdp")
int xdp_rotate(struct xdp_md *ctx)
{
	if (rotate((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_targets, target);
	return XDP_ABORTED;	/* no program at that index */
}

SEC("xdp")
int xdp_refresh(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *ip = data + (ip_off & BENCH_WORD_OFF_MAX);

	if ((void *)(ip + 12) > end)
		return XDP_ABORTED;
	ip[8] = ip_ttl;
	*(__u16 *)(ip + 10) = ip_check;
	bpf_tail_call(ctx, &bench_targets, target);
	return XDP_ABORTED;	/* no program at that index */
}

SEC("tc")
int tc_rotate(struct __sk_buff *skb)
{
	if (rotate((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &bench_tc_targets, target);
	return TC_ACT_SHOT;	/* no program at that index */
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}
