// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_top: what one mcast-top refresh of 100000 flows costs, in CPU time
 * (user and system: CLOCK_PROCESS_CPUTIME_ID), against a baseline measured
 * in the same run on the same maps.
 *
 * The world: private network and mount namespaces (gone when this process
 * exits), a bpffs on a temporary directory, `xdp-mcast load -m skb --flows 131072
 * lo` pinning the real program and maps there; then xm_flows is filled with
 * FLOWS flows (their per-CPU values on every CPU, as a busy router has
 * them) in 10000 groups, and xm_members with 10000 memberships.
 *
 * Rows, each the min / median / max of ROUNDS runs, interleaved:
 *   iterate   the baseline: every key with bpf_map_get_next_key() and
 *             bpf_map_lookup_elem(), values merged, nothing else
 *   kernel    bpf_map_lookup_batch() alone, into buffers allocated once
 *   walk      xm_walk_flows(): the readers' walk in the kernel, merged,
 *             with the flow caches (what a refresh reads the flows with)
 *   batch     xm_read_flows(): batched lookups, merge, sort, flow caches
 *             (`xdp-mcast stats`)
 *   members   a snapshot without the flows: interfaces, their counters,
 *             the memberships (what a refresh reads besides the flows)
 *   refresh   top_refresh(): everything mcast-top does per refresh (the
 *             snapshot of interfaces, flows and memberships, the tracker's
 *             rates and checkpoints, members per flow, the sort of every
 *             row); the terminal and the batch and JSON frames refresh
 *             the same way, drawing and printing are not included
 *   metrics   one scrape's rendering in the daemon (snapshot + text)
 * Target: refresh under 50 ms of CPU.
 *
 *   bench_top [-n FLOWS] [-r ROUNDS] [-j] [-o ROW]...   (-o: only these rows)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "metrics.h"
#include "stats.h"
#include "top.h"
#include "util.h"

#define TARGET_MS	50.0

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int run(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -ECHILD;
}

static int fill_flows(int fd, int n, int ncpu)
{
	struct xm_flow_key *k = calloc(n, sizeof(*k));
	struct xm_flow *v = calloc((size_t)n * ncpu, sizeof(*v));
	uint64_t now = xm_now_mono_ns();
	__u32 count = n;
	int i, c, err;

	if (!k || !v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		k[i].ifindex = 1;
		k[i].family = XM_AF_INET;
		k[i].group[0] = htonl(0xef000000 + i / 10);		/* 239.0.x.y, 10 sources each */
		k[i].source[0] = htonl(0xc6120000 + i);			/* 198.18.0.0/15 */
		for (c = 0; c < ncpu; c++) {
			struct xm_flow *f = &v[(size_t)i * ncpu + c];

			f->packets = 1000 + i + c;
			f->bytes = f->packets * 1300;
			f->first_seen_ns = now - 60000000000ull;
			f->last_seen_ns = now - (uint64_t)(i % 5000) * 1000000;
			f->last_reason = XM_R_FORWARD;
			f->reason_mask = 1u << XM_R_FORWARD;
		}
	}
	err = bpf_map_update_batch(fd, k, v, &count, NULL) ? -errno : 0;
	free(k);
	free(v);
	return err;
}

static int fill_members(int fd, int n)
{
	struct xm_member_key k = { .ifindex = 1, .family = XM_AF_INET };
	struct xm_member m = { .filter_mode = XM_FILTER_EXCLUDE, .compat = 3 };
	int i;

	for (i = 0; i < n; i++) {
		k.group[0] = htonl(0xef000000 + i);
		if (bpf_map_update_elem(fd, &k, &m, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* The baseline: one key at a time, each flow merged over CPUs. */
static int iterate(int fd, int ncpu)
{
	struct xm_flow_key key, next;
	struct xm_flow *v = calloc(ncpu, sizeof(*v));
	volatile uint64_t sum = 0;
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		sum += xm_flow_merge(v, ncpu).packets;
		n++;
	}
	free(v);
	return n;
}

/* The kernel's share: the batched lookups alone, into buffers allocated once,
 * batch keys at a time; no merge, nothing else. */
static int kernel_read(int fd, int ncpu, uint32_t batch)
{
	static struct xm_flow_key *k;
	static struct xm_flow *v;
	static uint32_t cap;
	__u32 in, out, count;
	int n = 0, rc;
	bool first = true;

	if (cap < batch) {
		free(k);
		free(v);
		k = calloc(batch, sizeof(*k));
		v = calloc((size_t)batch * ncpu, sizeof(*v));
		cap = batch;
		if (!k || !v)
			return -ENOMEM;
	}
	do {
		count = batch;
		rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, k, v, &count, NULL);
		if (rc && errno != ENOENT)
			return -errno;
		n += count;
		in = out;
		first = false;
	} while (!rc);
	return n;
}

enum { R_ITER, R_KERNEL, R_WALK, R_BATCH, R_MEMBERS, R_REFRESH, R_METRICS, NROWS };
static const char *const row_names[NROWS] = { "iterate", "kernel", "walk", "batch", "members",
					       "refresh", "metrics" };
static const char *const row_what[NROWS] = {
	"baseline: get_next_key + lookup per flow, merged",
	"bpf_map_lookup_batch() alone, no merge",
	"xm_walk_flows(): the walk in the kernel, merged",
	"xm_read_flows(): batched lookups, merge, sort",
	"a snapshot of interfaces and memberships, no flows",
	"one mcast-top refresh (top_refresh)",
	"one metrics scrape rendered by the daemon",
};

int main(int argc, char **argv)
{
	int nflows = 100000, rounds = 15, kbatch = 4096, ncpu = libbpf_num_possible_cpus(), opt, r, i, err;
	double cpu[NROWS][64], wall[NROWS][64];
	char tmp[] = "/tmp/xm-bench-top.XXXXXX", bpffs[64], pin[96], self[512], bin[600];
	struct top t;
	bool json = false, only[NROWS] = { false }, any_only = false;
	int counted[NROWS] = { 0 };

	while ((opt = getopt(argc, argv, "n:r:jo:k:")) != -1) {
		switch (opt) {
		case 'n': nflows = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'j': json = true; break;
		case 'k': kbatch = atoi(optarg); break;
		case 'o':
			for (r = 0; r < NROWS && strcmp(optarg, row_names[r]); r++)
				;
			if (r == NROWS) {
				fprintf(stderr, "bench_top: -o iterate|kernel|walk|batch|members|refresh|metrics\n");
				return 64;
			}
			only[r] = any_only = true;
			break;
		default:
			fprintf(stderr, "usage: bench_top [-n FLOWS] [-r ROUNDS] [-j] [-o ROW]...\n");
			return 64;
		}
	}
	if (rounds < 1 || rounds > 64 || nflows < 1 || nflows > 131072) {
		fprintf(stderr, "bench_top: -r 1..64, -n 1..131072\n");
		return 64;
	}
	/* xdp-mcast next to this binary's directory: build/bench/.. */
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl < 0)
		return 1;
	self[sl] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(bin, sizeof(bin), "%s/../xdp-mcast", self);

	if (unshare(CLONE_NEWNET | CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "bench_top: cannot make private namespaces (root?): %s\n",
			strerror(errno));
		return 77;
	}
	if (!mkdtemp(tmp))
		return 1;
	snprintf(bpffs, sizeof(bpffs), "%s/bpf", tmp);
	snprintf(pin, sizeof(pin), "%s/xdp-mcast", bpffs);
	if (mkdir(bpffs, 0700) || mount("bpf", bpffs, "bpf", 0, NULL)) {
		fprintf(stderr, "bench_top: cannot mount a bpffs: %s\n", strerror(errno));
		return 1;
	}
	{
		char *const up[] = { "/usr/sbin/ip", "link", "set", "lo", "up", NULL };
		char *const load[] = { bin, "-p", pin, "load", "-m", "skb", "--flows", "131072", "lo", NULL };

		run(up);
		err = run(load);
		if (err) {
			fprintf(stderr, "bench_top: '%s load' failed\n", bin);
			goto out;
		}
	}
	err = top_open(&t, pin, 3000000000ull);
	if (!err)
		err = fill_flows(t.r.st.flows_fd, nflows, ncpu);
	if (!err)
		err = fill_members(t.r.members_fd, 10000);
	if (err) {
		fprintf(stderr, "bench_top: cannot fill the maps: %s\n", strerror(-err));
		goto out_top;
	}
	/* Warm up: the tracker has every flow and a checkpoint. */
	err = top_refresh(&t);
	for (i = 0; i < rounds && !err; i++) {
		for (r = 0; r < NROWS && !err; r++) {
			double c0 = cpu_ms(), w0 = wall_ms();
			const struct xm_flow_entry *walked;
			struct xm_flow_entry *flows = NULL;
			struct xm_snapshot s;
			char *buf = NULL;
			size_t len = 0;
			FILE *f;

			if (any_only && !only[r]) {
				cpu[r][i] = wall[r][i] = 0;
				continue;
			}
			switch (r) {
			case R_ITER:
				counted[r] = iterate(t.r.st.flows_fd, ncpu);
				break;
			case R_KERNEL:
				counted[r] = kernel_read(t.r.st.flows_fd, ncpu, kbatch);
				break;
			case R_WALK:
				counted[r] = xm_walk_flows(t.r.walk, &walked);
				break;
			case R_BATCH:
				counted[r] = xm_read_flows(t.r.st.flows_fd, t.r.st.flow_cache_fd, &flows);
				free(flows);
				break;
			case R_MEMBERS:
				err = xm_snapshot_take(&t.r, XM_SNAP_MEMBERS, &s);
				if (err)
					break;
				counted[r] = s.nmembers;
				xm_snapshot_free(&s);
				break;
			case R_REFRESH:
				err = top_refresh(&t);
				counted[r] = t.nrows;
				break;
			case R_METRICS:
				err = xm_snapshot_take(&t.r, XM_SNAP_ALL, &s);
				if (err)
					break;
				f = open_memstream(&buf, &len);
				xm_metrics_write(f, &s, XM_METRICS_TOP_DEFAULT);
				fclose(f);
				counted[r] = s.nflows;
				xm_snapshot_free(&s);
				free(buf);
				break;
			}
			cpu[r][i] = cpu_ms() - c0;
			wall[r][i] = wall_ms() - w0;
		}
	}
	if (err) {
		fprintf(stderr, "bench_top: a refresh failed: %s\n", strerror(-err));
		goto out_top;
	}
	for (r = 0; r < NROWS; r++) {
		qsort(cpu[r], rounds, sizeof(double), dcmp);
		qsort(wall[r], rounds, sizeof(double), dcmp);
	}
	if (json) {
		printf("{\"flows\":%d,\"cpus\":%d,\"rounds\":%d,\"target_ms\":%.0f,\"rows\":[", nflows,
		       ncpu, rounds, TARGET_MS);
		for (r = 0; r < NROWS; r++)
			printf("%s{\"name\":\"%s\",\"flows\":%d,\"cpu_ms\":{\"min\":%.2f,\"median\":%.2f,"
			       "\"max\":%.2f},\"wall_ms_median\":%.2f}", r ? "," : "", row_names[r],
			       counted[r], cpu[r][0], cpu[r][rounds / 2], cpu[r][rounds - 1],
			       wall[r][rounds / 2]);
		printf("],\"refresh_meets_target\":%s}\n",
		       cpu[R_REFRESH][rounds / 2] < TARGET_MS ? "true" : "false");
	} else {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("\nmcast-top: one refresh of %d flows, %d possible CPUs, %d rounds "
		       "(CPU ms: min / median / max; wall median)\n", nflows, ncpu, rounds);
		printf("%-8s %9s %26s %10s  %s\n", "", "flows", "CPU ms", "wall ms", "what");
		for (r = 0; r < NROWS; r++)
			printf("%-8s %9d %8.1f / %6.1f / %6.1f %10.1f  %s\n", row_names[r], counted[r],
			       cpu[r][0], cpu[r][rounds / 2], cpu[r][rounds - 1], wall[r][rounds / 2],
			       row_what[r]);
		printf("refresh / iterate (medians): %.2fx; target: refresh under %.0f ms CPU: %s\n",
		       cpu[R_REFRESH][rounds / 2] / cpu[R_ITER][rounds / 2], TARGET_MS,
		       cpu[R_REFRESH][rounds / 2] < TARGET_MS ? "met" : "MISSED");
		printf("peak RSS %ld MiB (the tracker keeps a minute of checkpoints a flow); "
		       "flows walked in the kernel: %s\n", ru.ru_maxrss / 1024,
		       xm_walker_walks_flows(t.r.walk) ? "yes" : "no (batched lookups)");
	}
out_top:
	top_close(&t);
out:
	umount2(bpffs, MNT_DETACH);
	rmdir(bpffs);
	rmdir(tmp);
	return err ? 1 : 0;
}
