// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_accel: what one accelerated frame costs in xdp_mcast with 1, 1000
 * and 1000000 forwarding entries (issue 5, docs/bench.md "The
 * accelerator").
 *
 * Three copies of xdp_mcast are loaded (unpinned, nothing attached), each
 * with its own xm_fwd holding N (S,G) entries; lo (ifindex 1) is a phyint
 * in accelerate mode, and every entry says: in on lo, out to a port set of
 * one devmap (lo).  The frame (192.0.2.1 -> 239.1.1.1, UDP, 60 bytes, TTL
 * 16) matches the first entry, so every run takes the whole accelerate
 * path: classify, flow cache, xm_fwd lookup, RPF, TTL tier, xm_fwd_ports,
 * bpf_redirect_map(BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS).
 *
 * BPF_PROG_TEST_RUN without BPF_F_TEST_XDP_LIVE_FRAMES: the figure is the
 * program up to its verdict (XDP_REDIRECT, checked), not the transmission
 * of the copies (the throughput bench, bench/accel.sh, measures that).
 * A repeated run sees the frame the run before left, and the accelerator
 * takes the hop off the frames it redirects: each run goes through
 * xdp_refresh (bench_helpers.bpf.c), which writes the TTL and checksum
 * back and tail-calls xdp_mcast.  The flow's entry is in its flow cache
 * slot after the first run, as for any steady flow; with -m the flow cache
 * is cut to one slot, not the flow's, so that every run looks the flow up
 * in xm_flows and its entry in xm_fwd, as a flow that keeps losing its slot
 * does.
 *
 * The three copies form one set: each trial runs each copy once, in an
 * order that reverses from one trial to the next; a figure is the median
 * of the trials, min-max printed.  Ratio = median(N) / median(1).
 *
 *   bench_accel [-r REPEAT] [-t TRIALS] [-c CPU] [-m] [-j]
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/utsname.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_mcast_kern_user.h"
#include "util.h"
#include "xdp_mcast.skel.h"
#include "bench_helpers.h"
#include "bench_helpers.skel.h"

#define IFINDEX		1	/* lo: in every namespace */
#define NSIZES		3
#define TARGET		1.2
#define MAX_TRIALS	101

static const unsigned int sizes[NSIZES] = { 1, 1000, 1000000 };

struct inst {
	struct xdp_mcast_bpf *skel;
	int prog_fd;
	__u32 target;		/* its index behind the front */
	unsigned int entries;
	__u32 ns[MAX_TRIALS];
	__u32 med, min, max;
};

static unsigned char frame[60];
static struct bench_helpers_bpf *front;	/* xdp_refresh, then the instance */
static int no_cache;	/* -m */


static void build_frame(void)
{
	struct ethhdr *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	static const unsigned char dst[6] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 };
	static const unsigned char src[6] = { 0x02, 0, 0, 0, 0, 1 };

	memcpy(eth->h_dest, dst, 6);
	memcpy(eth->h_source, src, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(sizeof(frame) - sizeof(*eth));
	ip->ttl = 16;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(0xc0000201);	/* 192.0.2.1 */
	ip->daddr = htonl(0xef010101);	/* 239.1.1.1 */
	ip->check = htons(xm_csum_fold(xm_csum_add(0, ip, sizeof(*ip))));
	udp->source = htons(5000);
	udp->dest = htons(5001);
	udp->len = htons(sizeof(frame) - sizeof(*eth) - sizeof(*ip));
}

static int fill(struct inst *in)
{
	struct xm_iface ifc = { .slot = 1, .name = "lo", .fwd_mode = XM_FWD_ACCELERATE };
	struct bpf_devmap_val v = { .ifindex = IFINDEX };
	struct xm_fwd_entry e = { .iif = IFINDEX, .ntiers = 1, .ports = 0, .nports = { 1 } };
	unsigned int done = 0, n, i, chunk = 10000;
	struct xm_fwd_key *keys;
	struct xm_fwd_entry *vals;
	__u32 ifindex = IFINDEX, idx = 0;
	int fd, fwd_fd;

	if (bpf_map__update_elem(in->skel->maps.xm_ifaces, &ifindex, sizeof(ifindex),
				 &ifc, sizeof(ifc), BPF_ANY))
		return -errno;
	fd = bpf_map_create(BPF_MAP_TYPE_DEVMAP_HASH, "xm_fwd_set", sizeof(__u32),
			    sizeof(v), 1, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(fd, &v.ifindex, &v, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(in->skel->maps.xm_fwd_ports), &idx, &fd, BPF_ANY)) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	keys = calloc(chunk, sizeof(*keys));
	vals = calloc(chunk, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	fwd_fd = bpf_map__fd(in->skel->maps.xm_fwd);
	while (done < in->entries) {
		n = in->entries - done < chunk ? in->entries - done : chunk;
		for (i = 0; i < n; i++) {
			keys[i].family = XM_AF_INET;
			/* 239.1.1.1 (the frame's) and the groups after it */
			keys[i].group[0] = htonl(0xef010101 + done + i);
			keys[i].source[0] = htonl(0xc0000201);
			vals[i] = e;
		}
		__u32 count = n;
		if (bpf_map_update_batch(fwd_fd, keys, vals, &count, NULL)) {
			int err = -errno;

			free(keys);
			free(vals);
			return err;
		}
		done += n;
	}
	free(keys);
	free(vals);
	return 0;
}

static int load(struct inst *in)
{
	struct bpf_map *map;
	int err;

	in->skel = xdp_mcast_bpf__open();
	if (!in->skel)
		return -errno;
	bpf_object__for_each_map(map, in->skel->obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_map__set_max_entries(in->skel->maps.xm_fwd,
				       in->entries > XM_FWD_DEFAULT ? in->entries : XM_FWD_DEFAULT);
	if (!err && no_cache)
		err = bpf_map__set_max_entries(in->skel->maps.xm_flow_cache, 1);
	if (err)
		return err;
	err = xdp_mcast_bpf__load(in->skel);
	if (err)
		return err;
	in->prog_fd = bpf_program__fd(in->skel->progs.xdp_mcast);
	return fill(in);
}

/* The front: xdp_refresh with the instances at indexes 0 .. NSIZES - 1. */
static int load_front(struct inst *in)
{
	const struct iphdr *ip = (const void *)(frame + sizeof(struct ethhdr));
	__u32 i;
	int fd;

	front = bench_helpers_bpf__open_and_load();
	if (!front)
		return -errno;
	front->bss->ip_off = sizeof(struct ethhdr);
	front->bss->ip_ttl = ip->ttl;
	front->bss->ip_check = ip->check;
	for (i = 0; i < NSIZES; i++) {
		fd = in[i].prog_fd;
		if (bpf_map__update_elem(front->maps.bench_targets, &i, sizeof(i), &fd, sizeof(fd),
					 BPF_ANY))
			return -errno;
		in[i].target = i;
	}
	return 0;
}

static int run(struct inst *in, __u32 repeat, __u32 *ns, __u32 *verdict)
{
	struct xdp_md ctx = { .data_end = sizeof(frame), .ingress_ifindex = IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = sizeof(frame),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = repeat,
	);

	front->bss->target = in->target;
	if (bpf_prog_test_run_opts(bpf_program__fd(front->progs.xdp_refresh), &opts))
		return -errno;
	*ns = opts.duration;
	*verdict = opts.retval;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench_accel [-r REPEAT] [-t TRIALS] [-c CPU] [-m] [-j]\n");
}

int main(int argc, char **argv)
{
	struct inst in[NSIZES] = { 0 };
	long repeat = 2000000, trials = 7, cpu = -1;
	int json = 0, c, i, t, err = 0;
	struct utsname u;

	while ((c = getopt(argc, argv, "r:t:c:mjh")) != -1) {
		switch (c) {
		case 'm': no_cache = 1; break;
		case 'r': repeat = strtol(optarg, NULL, 10); break;
		case 't': trials = strtol(optarg, NULL, 10); break;
		case 'c': cpu = strtol(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (repeat < 1 || repeat > 100000000 || trials < 1 || trials > MAX_TRIALS) {
		usage(stderr);
		return EX_USAGE;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("bench_accel: sched_setaffinity");
			return EX_OSERR;
		}
	}
	build_frame();
	for (i = 0; i < NSIZES && !err; i++) {
		in[i].entries = sizes[i];
		err = load(&in[i]);
	}
	if (!err)
		err = load_front(in);
	if (err) {
		fprintf(stderr, "bench_accel: cannot load: %s%s\n", strerror(-err),
			err == -EPERM ? " (run as root)" : "");
		return EX_OSERR;
	}
	for (i = 0; i < NSIZES; i++) {
		__u32 ns, verdict;

		err = run(&in[i], repeat / 10 + 1, &ns, &verdict);	/* warm-up */
		if (err) {
			fprintf(stderr, "bench_accel: %u entries: %s%s\n", sizes[i],
				strerror(-err), err == -EPERM ? " (run as root)" : "");
			return EX_OSERR;
		}
		if (verdict != XDP_REDIRECT) {
			fprintf(stderr, "bench_accel: %u entries: verdict %u, not XDP_REDIRECT\n",
				sizes[i], verdict);
			return EX_SOFTWARE;
		}
	}
	for (t = 0; t < trials; t++) {
		for (c = 0; c < NSIZES; c++) {
			struct inst *p = &in[t % 2 ? NSIZES - 1 - c : c];
			__u32 verdict;

			err = run(p, repeat, &p->ns[t], &verdict);
			if (err || verdict != XDP_REDIRECT) {
				fprintf(stderr, "bench_accel: run failed: %s, verdict %u\n",
					strerror(-err), verdict);
				return EX_SOFTWARE;
			}
		}
	}
	for (i = 0; i < NSIZES; i++) {
		qsort(in[i].ns, trials, sizeof(__u32), cmp_u32);
		in[i].med = in[i].ns[trials / 2];
		in[i].min = in[i].ns[0];
		in[i].max = in[i].ns[trials - 1];
	}
	uname(&u);
	if (json) {
		printf("{\"bench\":\"accel-cost\",\"kernel\":\"%s\",\"repeat\":%ld,\"trials\":%ld,"
		       "\"measured\":\"verdict\",\"flow_cache\":%s,\"rows\":[", u.release, repeat,
		       trials, no_cache ? "false" : "true");
		for (i = 0; i < NSIZES; i++)
			printf("%s{\"entries\":%u,\"ns\":%u,\"min\":%u,\"max\":%u,\"ratio\":%.3f}",
			       i ? "," : "", in[i].entries, in[i].med, in[i].min, in[i].max,
			       in[0].med ? (double)in[i].med / in[0].med : 0);
		printf("],\"target\":%.1f}\n", TARGET);
	} else {
		printf("accelerator: per-packet cost by forwarding entries (kernel %s)\n"
		       "BPF_PROG_TEST_RUN, up to the XDP_REDIRECT verdict (no live frames); "
		       "median of %ld trials of %ld runs%s\n\n", u.release, trials, repeat,
		       no_cache ? "; no flow cache (-m)" : "");
		printf("%-10s %8s %12s %8s\n", "entries", "ns/pkt", "min-max", "ratio");
		for (i = 0; i < NSIZES; i++) {
			char r[32];
			double ratio = in[0].med ? (double)in[i].med / in[0].med : 0;

			snprintf(r, sizeof(r), "%u-%u", in[i].min, in[i].max);
			printf("%-10u %8u %12s %7.2fx%s\n", in[i].entries, in[i].med, r, ratio,
			       i && ratio > TARGET ? "  (target 1.2x missed)" : "");
		}
	}
	bench_helpers_bpf__destroy(front);
	for (i = 0; i < NSIZES; i++)
		xdp_mcast_bpf__destroy(in[i].skel);
	return 0;
}
