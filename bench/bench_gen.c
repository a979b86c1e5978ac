// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_gen: the generator and the reader of the accelerator's throughput
 * bench (bench/accel.sh).
 *
 *   bench_gen gen -o OBJ -n NETNS -i IFACE -s SOURCE -g GROUP -p PIN [-c CPU]
 *
 * Enters NETNS (ifindexes resolve in the caller's namespace), loads xdp_gen
 * from OBJ (bench_count.bpf.o), pins its run counter at PIN and injects a
 * 64-byte UDP frame SOURCE -> GROUP out of IFACE at the rate the CPU allows:
 * one BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES and a huge repeat
 * (each call costs milliseconds of set-up), XDP_TX on IFACE, whose peer is
 * the router.  Runs until SIGTERM or SIGINT.
 *
 *   bench_gen read -w SECONDS PIN...
 *
 * Reads the per-CPU counters pinned at each PIN (bench_cnt maps), sleeps,
 * reads them again, and prints one line: the window in nanoseconds, then
 * each counter's increase, in the order given.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"

#define FRAME_LEN	64
#define GEN_TTL		16

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}


static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int gen(int argc, char **argv)
{
	const char *obj_path = NULL, *netns = NULL, *ifname = NULL, *pin = NULL;
	struct in_addr src = { 0 }, grp = { 0 };
	unsigned char frame[FRAME_LEN] = { 0 };
	struct ethhdr *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct bpf_object *obj;
	struct bpf_program *prog, *p;
	struct sigaction sa = { .sa_handler = on_signal };
	struct ifreq ifr = { 0 };
	int c, cpu = -1, fd, sock, err;
	unsigned int ifindex;

	while ((c = getopt(argc, argv, "o:n:i:s:g:p:c:")) != -1) {
		switch (c) {
		case 'o': obj_path = optarg; break;
		case 'n': netns = optarg; break;
		case 'i': ifname = optarg; break;
		case 's': inet_pton(AF_INET, optarg, &src); break;
		case 'g': inet_pton(AF_INET, optarg, &grp); break;
		case 'p': pin = optarg; break;
		case 'c': cpu = atoi(optarg); break;
		default: return EX_USAGE;
		}
	}
	if (!obj_path || !ifname || !pin || !src.s_addr || !grp.s_addr) {
		fprintf(stderr, "bench_gen gen: -o, -i, -s, -g and -p are needed\n");
		return EX_USAGE;
	}
	if (pin_cpu(cpu)) {
		perror("bench_gen: sched_setaffinity");
		return EX_OSERR;
	}
	if (netns) {
		fd = open(netns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			perror("bench_gen: setns");
			return EX_OSERR;
		}
		close(fd);
	}
	ifindex = if_nametoindex(ifname);
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ifindex || sock < 0 || ioctl(sock, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "bench_gen: %s: %s\n", ifname, strerror(errno));
		return EX_OSERR;
	}
	close(sock);

	eth->h_dest[0] = 0x01;
	eth->h_dest[1] = 0x00;
	eth->h_dest[2] = 0x5e;
	eth->h_dest[3] = (ntohl(grp.s_addr) >> 16) & 0x7f;
	eth->h_dest[4] = (ntohl(grp.s_addr) >> 8) & 0xff;
	eth->h_dest[5] = ntohl(grp.s_addr) & 0xff;
	memcpy(eth->h_source, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eth));
	ip->ttl = GEN_TTL;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = src.s_addr;
	ip->daddr = grp.s_addr;
	ip->check = htons(xm_csum_fold(xm_csum_add(0, ip, sizeof(*ip))));
	udp->source = htons(5000);
	udp->dest = htons(5001);
	udp->len = htons(FRAME_LEN - sizeof(*eth) - sizeof(*ip));

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		fprintf(stderr, "bench_gen: %s: %s\n", obj_path, strerror(errno));
		return EX_OSERR;
	}
	prog = bpf_object__find_program_by_name(obj, "xdp_gen");
	if (!prog)
		return EX_SOFTWARE;
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, p == prog);
	{
		struct bpf_map *ro = bpf_object__find_map_by_name(obj, ".rodata");
		size_t sz;
		char *d = ro ? (char *)bpf_map__initial_value(ro, &sz) : NULL;
		struct { __u8 ttl; __u8 pad; __u16 check; } *rod = (void *)d;

		/* gen_ttl, then gen_check: the layout of bench_count.bpf.c */
		if (!d || sz < sizeof(*rod)) {
			fprintf(stderr, "bench_gen: no .rodata in %s\n", obj_path);
			return EX_SOFTWARE;
		}
		rod->ttl = GEN_TTL;
		rod->check = ip->check;
	}
	err = bpf_object__load(obj);
	if (!err)
		err = bpf_map__pin(bpf_object__find_map_by_name(obj, "bench_cnt"), pin);
	if (err) {
		fprintf(stderr, "bench_gen: load: %s\n", strerror(-err));
		return EX_OSERR;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		struct xdp_md ctx = {
			.data_end = FRAME_LEN,
			.ingress_ifindex = ifindex,
		};
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = frame,
			.data_size_in = FRAME_LEN,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.repeat = 1u << 31,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		);

		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts) && errno != EINTR) {
			fprintf(stderr, "bench_gen: test run: %s\n", strerror(errno));
			bpf_map__unpin(bpf_object__find_map_by_name(obj, "bench_cnt"), pin);
			return EX_OSERR;
		}
	}
	bpf_map__unpin(bpf_object__find_map_by_name(obj, "bench_cnt"), pin);
	bpf_object__close(obj);
	return 0;
}

static int read_all(int n, int *fds, int ncpu, __u64 *out)
{
	__u64 *v = calloc(ncpu, sizeof(*v));
	__u32 zero = 0;
	int i, c;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fds[i], &zero, v)) {
			free(v);
			return -errno;
		}
		for (out[i] = 0, c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

static int reader(int argc, char **argv)
{
	double window = 2;
	int c, i, n, ncpu = libbpf_num_possible_cpus();
	int *fds;
	__u64 *a, *b, t0, t1;

	while ((c = getopt(argc, argv, "w:")) != -1) {
		if (c != 'w')
			return EX_USAGE;
		window = atof(optarg);
	}
	n = argc - optind;
	if (n < 1 || ncpu < 1)
		return EX_USAGE;
	fds = calloc(n, sizeof(*fds));
	a = calloc(n, sizeof(*a));
	b = calloc(n, sizeof(*b));
	if (!fds || !a || !b)
		return EX_OSERR;
	for (i = 0; i < n; i++) {
		fds[i] = bpf_obj_get(argv[optind + i]);
		if (fds[i] < 0) {
			fprintf(stderr, "bench_gen: %s: %s\n", argv[optind + i], strerror(errno));
			return EX_OSERR;
		}
	}
	t0 = now_ns();
	if (read_all(n, fds, ncpu, a))
		return EX_OSERR;
	usleep(window * 1e6);
	t1 = now_ns();
	if (read_all(n, fds, ncpu, b))
		return EX_OSERR;
	printf("%llu", (unsigned long long)(t1 - t0));
	for (i = 0; i < n; i++)
		printf(" %llu", (unsigned long long)(b[i] - a[i]));
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "gen"))
		return gen(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "read"))
		return reader(argc - 1, argv + 1);
	fprintf(stderr, "usage: bench_gen gen -o OBJ -n NETNS -i IFACE -s SRC -g GROUP -p PIN [-c CPU]\n"
			"       bench_gen read [-w SECONDS] PIN...\n");
	return EX_USAGE;
}
