// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_snoop: what IGMP and MLD snooping costs in the daemon.
 *
 * The bench makes its own world: a network and a mount namespace (both
 * gone when it exits), a veth pair xmb0/xmb1 in it, a bpffs on a
 * temporary directory, and `xdp-mcast load xmb0` pinning the real program
 * and its maps there.  The daemon's snooping module (snoop.c) then runs in
 * this process on those maps, so every map write is a real bpf() call.
 * Three tables:
 *
 *  1. throughput: IGMPv3 and MLDv2 reports, one record each (1 or 64
 *     sources), built in memory as the ring buffer delivers them and fed
 *     to snoop_event() in a round robin over many groups, one thread on
 *     one CPU: parse, state machine, map writes.  The first pass creates
 *     the groups; the passes after it refresh them (the steady state of
 *     hosts answering general queries).  One more pass splits a report's
 *     time: the module's if_indextoname() and map writes (each
 *     bpf_map_update_elem(), and each row of bpf_map_update_batch() in
 *     the deferred writes that end every pass) are timed in place (the link wraps them, see struct calls), parsing
 *     and the state machine apart.
 *  2. latency: real frames sent on xmb1 with an AF_PACKET socket, seen by
 *     the XDP program on xmb0, copied to the ring, read by a ppoll() loop
 *     on snoop_fd() and snoop_process(): snoop_latency() gives the time
 *     from the XDP program's bpf_ktime_get_ns() to the last map write.
 *  3. memory: malloc'd bytes and RSS of the state machine alone, and of
 *     the snooping module (state machine, its copy of what the maps hold,
 *     the maps), and the kernel's memlock of xm_members and xm_member_src,
 *     before and after creating 100000 groups.
 *
 * Every row checks that it did what it claims (groups in the state
 * machine, entries in the maps, every frame through the ring) and fails
 * the bench otherwise, and shows how much CPU the rest of the machine used
 * while it ran.  Targets are printed, never judged: the exit status is 0
 * unless something failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conf.h"
#include "ctrl.h"
#include "json.h"
#include "log.h"
#include "mship.h"
#include "snoop.h"
#include "util.h"
#include "xdp_mcast_kern_user.h"

extern char **environ;

#define IF_ROUTER	"xmb0"	/* xdp-mcast is loaded here */
#define IF_HOST		"xmb1"	/* its peer, where the hosts' frames come from */

#define TPUT_TARGET	200000.0	/* reports a second on one core */
#define LAT_TARGET_NS	1000000ull	/* p99 from XDP to the map */
#define DEF_SECONDS	1.0	/* least refresh time measured per row */
#define MIN_PASSES	3	/* refresh passes per row, at least */

/* The config every row runs under: no rate limit (the default ctrl-rate
 * of 1000 a second would refuse the rest), room for every group, and no
 * querier, so that no timer runs during a measurement. */
#define BENCH_CONF							\
	"phyint " IF_ROUTER " igmp 3 mld 2 querier off ctrl-rate 0 "	\
	"max-groups 1000000\n"

/* ---- the measured messages ---- */

/* One report: a single record for group number g, with nsrc sources. */
struct report {
	uint8_t family;		/* XM_AF_INET, XM_AF_INET6 */
	uint8_t rtype;		/* enum xm_rec_type */
	uint16_t nsrc;
};

/* Group g: 239.1.0.0 + g, or ff0e::1000:0 + g (global scope). */
static void group_addr(uint8_t family, uint32_t g, __be32 out[4])
{
	memset(out, 0, 16);
	if (family == XM_AF_INET) {
		out[0] = htonl(0xef010000u + g);
	} else {
		out[0] = htonl(0xff0e0000u);
		out[3] = htonl(0x10000000u + g);
	}
}

/* Source j of every group: 198.18.0.1 + j, or 2001:db8::1 + j. */
static void source_addr(uint8_t family, uint32_t j, __be32 out[4])
{
	memset(out, 0, 16);
	if (family == XM_AF_INET) {
		out[0] = htonl(0xc6120001u + j);
	} else {
		out[0] = htonl(0x20010db8u);
		out[3] = htonl(1 + j);
	}
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* The record, after the message's 8-byte header. */
static size_t put_record(uint8_t *p, const struct report *r, uint32_t g)
{
	size_t alen = r->family == XM_AF_INET ? 4 : 16;
	__be32 a[4];
	uint32_t j;

	p[0] = r->rtype;
	p[1] = 0;			/* aux data */
	put16(p + 2, r->nsrc);
	group_addr(r->family, g, a);
	memcpy(p + 4, a, alen);
	for (j = 0; j < r->nsrc; j++) {
		source_addr(r->family, j, a);
		memcpy(p + 4 + alen * (j + 1), a, alen);
	}
	return 4 + alen * (1 + r->nsrc);
}

/*
 * The IP packet of report r for group g, as a host sends it (RFC 3376 4,
 * RFC 3810 5): IPv4 from 192.0.2.10 to 224.0.0.22 with the router alert
 * option, TTL 1; IPv6 from fe80::10 to ff02::16 with a hop-by-hop router
 * alert, hop limit 1.  Checksums are correct.  Returns its length.
 */
static size_t build_packet(uint8_t *pkt, const struct report *r, uint32_t g)
{
	static const uint8_t ll_src[16] = { 0xfe, 0x80, [15] = 0x10 };
	static const uint8_t all_mld[16] = { 0xff, 0x02, [15] = 0x16 };
	size_t mlen, hlen;
	uint8_t *m;
	uint32_t sum;

	if (r->family == XM_AF_INET) {
		hlen = 24;
		m = pkt + hlen;
		memset(m, 0, 8);
		m[0] = XM_IGMP_V3_REPORT;
		put16(m + 6, 1);	/* records */
		mlen = 8 + put_record(m + 8, r, g);
		memset(pkt, 0, hlen);
		pkt[0] = 0x40 | hlen / 4;
		pkt[1] = 0xc0;		/* internetwork control */
		put16(pkt + 2, hlen + mlen);
		pkt[8] = 1;		/* TTL */
		pkt[9] = 2;		/* IGMP */
		put16(pkt + 12, 0xc000);	/* 192.0.2.10 */
		put16(pkt + 14, 0x020a);
		put16(pkt + 16, 0xe000);	/* 224.0.0.22 */
		put16(pkt + 18, 0x0016);
		pkt[20] = 0x94;		/* router alert, value 0 */
		pkt[21] = 4;
		memcpy(pkt + 10, (uint16_t[]){ csum_fold(csum_add(0, pkt, hlen)) }, 2);
		memcpy(m + 2, (uint16_t[]){ csum_fold(csum_add(0, m, mlen)) }, 2);
		return hlen + mlen;
	}
	hlen = 40 + 8;
	m = pkt + hlen;
	memset(m, 0, 8);
	m[0] = XM_MLD_V2_REPORT;
	put16(m + 6, 1);
	mlen = 8 + put_record(m + 8, r, g);
	memset(pkt, 0, hlen);
	pkt[0] = 0x60;
	put16(pkt + 4, 8 + mlen);
	pkt[6] = 0;			/* hop-by-hop */
	pkt[7] = 1;			/* hop limit */
	memcpy(pkt + 8, ll_src, 16);
	memcpy(pkt + 24, all_mld, 16);
	pkt[40] = 58;			/* ICMPv6 */
	pkt[41] = 0;			/* 8 bytes */
	pkt[42] = 5;			/* router alert: MLD */
	pkt[43] = 2;
	pkt[46] = 1;			/* PadN, 0 bytes */
	sum = csum_add(0, pkt + 8, 32);
	sum += mlen + 58;
	memcpy(m + 2, (uint16_t[]){ csum_fold(csum_add(sum, m, mlen)) }, 2);
	return hlen + mlen;
}

/*
 * n ring events, one per group in order, laid out one after the other as
 * the ring callback would see them (only the captured bytes are kept, so
 * 100000 of them fit in a few megabytes).
 */
struct events {
	uint8_t *mem;
	size_t stride;
	uint32_t n;
};

static const void *event_at(const struct events *e, uint32_t i, size_t *len)
{
	*len = e->stride;
	return e->mem + (size_t)i * e->stride;
}

static int events_build(struct events *e, const struct report *r, uint32_t n, uint32_t ifindex)
{
	uint8_t pkt[XM_CTRL_CAPTURE];
	struct xm_ctrl_event *ev;
	size_t len = build_packet(pkt, r, 0);
	uint32_t g;

	if (len > XM_CTRL_CAPTURE)
		return -EMSGSIZE;
	e->stride = (offsetof(struct xm_ctrl_event, data) + len + 7) & ~(size_t)7;
	e->n = n;
	e->mem = calloc(n, e->stride);
	if (!e->mem)
		return -ENOMEM;
	for (g = 0; g < n; g++) {
		ev = (struct xm_ctrl_event *)(e->mem + (size_t)g * e->stride);
		ev->ts_ns = 0;		/* no latency sample: this is not from XDP */
		ev->ifindex = ifindex;
		ev->family = r->family;
		ev->len = ev->frame_len = build_packet(ev->data, r, g);
		memcpy(ev->smac, (uint8_t[]){ 0x02, 0, 0, 0, 0, 0x10 }, 6);
	}
	return 0;
}

static void events_free(struct events *e)
{
	free(e->mem);
	e->mem = NULL;
}

/* ---- the world: namespaces, veth, bpffs, the loaded program ---- */

struct world {
	char tmp[64];		/* a directory of our own on /tmp */
	char bpffs[80];		/* tmp/bpf, a bpffs */
	char pin_dir[96];	/* bpffs/xdp-mcast */
	char log[80];		/* what the commands we run print */
	char xdp_mcast[PATH_MAX];
	uint32_t ifindex, peer_ifindex;
	struct xm_conf *conf;
	int members_fd, src_fd;
	bool mounted;
};

/* Run argv, its output into w->log; on failure show that output. */
static int run(const struct world *w, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	char line[512];
	int status, err;
	pid_t pid;
	FILE *f;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, w->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		pr_err("cannot run '%s': %s\n", argv[0], strerror(err));
		return -err;
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	pr_err("'%s %s' failed:\n", argv[0], argv[1]);
	f = fopen(w->log, "r");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	if (f)
		fclose(f);
	return -ECHILD;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* xdp-mcast next to this binary's directory: build/bench/.. */
static int find_xdp_mcast(struct world *w)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (w->xdp_mcast[0])
		return 0;
	if (n < 0)
		return -errno;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	if (snprintf(w->xdp_mcast, sizeof(w->xdp_mcast), "%s/../xdp-mcast", self) >=
	    (int)sizeof(w->xdp_mcast))
		return -ENAMETOOLONG;
	if (access(w->xdp_mcast, X_OK)) {
		pr_err("cannot find xdp-mcast at '%s' (make all, or -x PATH)\n", w->xdp_mcast);
		return -ENOENT;
	}
	return 0;
}

static int world_up(struct world *w)
{
	char *const ip_add[] = { "ip", "link", "add", IF_ROUTER, "type", "veth",
				 "peer", "name", IF_HOST, NULL };
	char *const ip_up0[] = { "ip", "link", "set", IF_ROUTER, "up", NULL };
	char *const ip_up1[] = { "ip", "link", "set", IF_HOST, "up", NULL };
	char *const load[] = { w->xdp_mcast, "-p", w->pin_dir, "load", IF_ROUTER, NULL };
	struct xm_conf_errors errs = { 0 };
	char path[PATH_MAX + 32];
	int err;

	w->members_fd = w->src_fd = -1;
	err = find_xdp_mcast(w);
	if (err)
		return err;
	/* Our own network and mount namespaces: the veth, the bpffs and the
	 * pins in it disappear with this process, however it ends. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
		err = -errno;
		pr_err("cannot make a network and mount namespace: %s (needs root)\n",
		       strerror(errno));
		return err;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	snprintf(w->tmp, sizeof(w->tmp), "/tmp/xm-bench-snoop.XXXXXX");
	if (!mkdtemp(w->tmp)) {
		w->tmp[0] = 0;
		return -errno;
	}
	snprintf(w->bpffs, sizeof(w->bpffs), "%s/bpf", w->tmp);
	snprintf(w->pin_dir, sizeof(w->pin_dir), "%s/xdp-mcast", w->bpffs);
	snprintf(w->log, sizeof(w->log), "%s/cmd.log", w->tmp);
	if (mkdir(w->bpffs, 0700) || mount("bpf", w->bpffs, "bpf", 0, NULL)) {
		err = -errno;
		pr_err("cannot mount a bpffs on '%s': %s\n", w->bpffs, strerror(errno));
		return err;
	}
	w->mounted = true;
	if ((err = run(w, ip_add)) || (err = run(w, ip_up0)) || (err = run(w, ip_up1)))
		return err;
	/* No IPv6 on the veth: the kernel's own MLD reports would join ours. */
	write_file("/proc/sys/net/ipv6/conf/" IF_ROUTER "/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/" IF_HOST "/disable_ipv6", "1");
	w->ifindex = if_nametoindex(IF_ROUTER);
	w->peer_ifindex = if_nametoindex(IF_HOST);
	if (!w->ifindex || !w->peer_ifindex)
		return -ENODEV;
	err = run(w, load);
	if (err)
		return err;
	err = xm_conf_load_buffer("bench_snoop", BENCH_CONF, strlen(BENCH_CONF), NULL,
				  &w->conf, &errs);
	if (err) {
		xm_conf_errors_print(&errs, stderr);
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", w->pin_dir, XM_MAP_MEMBERS);
	w->members_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", w->pin_dir, XM_MAP_MEMBER_SRC);
	w->src_fd = bpf_obj_get(path);
	if (w->members_fd < 0 || w->src_fd < 0) {
		err = -errno;
		pr_err("cannot open the pinned membership maps: %s\n", strerror(errno));
		return err;
	}
	return 0;
}

static void world_down(struct world *w)
{
	if (w->members_fd >= 0)
		close(w->members_fd);
	if (w->src_fd >= 0)
		close(w->src_fd);
	xm_conf_free(w->conf);
	if (w->mounted)
		umount2(w->bpffs, MNT_DETACH);	/* the pins, the link: XDP detaches */
	if (w->tmp[0]) {
		unlink(w->log);
		rmdir(w->bpffs);
		rmdir(w->tmp);
	}
}

/* ---- the maps ---- */

/* Every key of a hash map, read before any is deleted. */
static int map_keys(int fd, size_t ksize, uint8_t **out, size_t *n)
{
	size_t cap = 0;
	uint8_t *keys = NULL, *grown, *prev = NULL;

	*n = 0;
	for (;;) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 4096;
			grown = realloc(keys, cap * ksize);
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
			if (prev)
				prev = keys + (*n - 1) * ksize;
		}
		if (bpf_map_get_next_key(fd, prev, keys + *n * ksize))
			break;
		prev = keys + *n * ksize;
		(*n)++;
	}
	*out = keys;
	return errno == ENOENT ? 0 : -errno;
}

static long map_count(int fd, size_t ksize)
{
	uint8_t *keys;
	size_t n;
	int err = map_keys(fd, ksize, &keys, &n);

	free(keys);
	return err ? err : (long)n;
}

static int map_clear(int fd, size_t ksize)
{
	uint8_t *keys;
	size_t n, i;
	int err = map_keys(fd, ksize, &keys, &n);

	for (i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, keys + i * ksize))
			err = -errno;
	free(keys);
	return err;
}

static int maps_clear(const struct world *w)
{
	int err = map_clear(w->members_fd, sizeof(struct xm_member_key));

	return err ? err : map_clear(w->src_fd, sizeof(struct xm_member_src_key));
}

/* What the kernel charges for a map (bpftool's "memlock"), from fdinfo. */
static long map_memlock(int fd)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* A fresh snooping module on the world, and maps with nothing in them. */
static int snoop_fresh(const struct world *w, struct snoop **s)
{
	int err = maps_clear(w);

	if (err) {
		pr_err("cannot empty the membership maps: %s\n", strerror(-err));
		return err;
	}
	err = snoop_init(s, w->pin_dir, false);
	if (err)
		return err;
	err = snoop_apply(*s, w->conf);
	if (err) {
		snoop_exit(*s);
		*s = NULL;
	}
	return err;
}

/* Groups in the state machine and entries in the maps are what a row
 * meant to create. */
static int check_state(const struct world *w, const struct snoop *s, const char *row,
		       uint32_t groups, uint32_t nsrc)
{
	long members = map_count(w->members_fd, sizeof(struct xm_member_key));
	long sources = map_count(w->src_fd, sizeof(struct xm_member_src_key));
	size_t ngroups = snoop_ngroups(s);

	if (ngroups == groups && members == groups && sources == (long)groups * nsrc)
		return 0;
	pr_err("%s: expected %u groups with %u sources each; the state machine has %zu "
	       "groups, xm_members %ld entries, xm_member_src %ld\n",
	       row, groups, nsrc, ngroups, members, sources);
	return -EPROTO;
}

/* ---- 1. throughput ---- */

/*
 * The calls the module makes, timed where it makes them: bench/Build.mk
 * links this bench with -Wl,--wrap for each, so that libxm's calls come
 * here.  Only while on is set, for one pass after the measured ones.
 */
static struct calls {
	bool on;
	uint64_t ifname_n, ifname_ns;	/* if_indextoname(), the policy callback's */
	uint64_t write_n, write_ns;	/* bpf_map_update_elem(), and each row
					 * of bpf_map_update_batch() */
} calls;

char *__real_if_indextoname(unsigned int ifindex, char *name);
int __real_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int __real_bpf_map_update_batch(int fd, const void *keys, const void *values, __u32 *count,
				const struct bpf_map_batch_opts *opts);

char *__wrap_if_indextoname(unsigned int ifindex, char *name)
{
	uint64_t t0;
	char *r;

	if (!calls.on)
		return __real_if_indextoname(ifindex, name);
	t0 = xm_now_mono_ns();
	r = __real_if_indextoname(ifindex, name);
	calls.ifname_ns += xm_now_mono_ns() - t0;
	calls.ifname_n++;
	return r;
}

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	uint64_t t0;
	int r;

	if (!calls.on)
		return __real_bpf_map_update_elem(fd, key, value, flags);
	t0 = xm_now_mono_ns();
	r = __real_bpf_map_update_elem(fd, key, value, flags);
	calls.write_ns += xm_now_mono_ns() - t0;
	calls.write_n++;
	return r;
}

int __wrap_bpf_map_update_batch(int fd, const void *keys, const void *values, __u32 *count,
				const struct bpf_map_batch_opts *opts)
{
	uint64_t t0, n = *count;
	int r;

	if (!calls.on)
		return __real_bpf_map_update_batch(fd, keys, values, count, opts);
	t0 = xm_now_mono_ns();
	r = __real_bpf_map_update_batch(fd, keys, values, count, opts);
	calls.write_ns += xm_now_mono_ns() - t0;
	calls.write_n += n;
	return r;
}

struct tput_row {
	const char *name;
	struct report r;
	uint32_t groups;
	/* results */
	double others;		/* % of a CPU the rest of the machine took */
	double create;		/* reports a second, the first pass */
	double refresh, refresh_min, refresh_max;	/* median, the other passes */
	int passes;
	/* Where the time of a refresh goes, ns a report: the whole of one more
	 * pass; xm_ctrl_parse() alone, and the state machine without its
	 * callbacks (parse included), each timed apart; the calls the module
	 * made in that pass, timed in place (struct calls), and how many. */
	double total_ns, parse_ns, mship_ns, ifname_ns, write_ns;
	double ifnames, writes;	/* calls a report */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_s(void)
{
	return xm_now_mono_ns() / 1e9;
}

/*
 * What the rest of the machine ran while a row was measured, so that a
 * figure taken on a busy machine shows as such: CPU time of everything
 * but this process (the kernel's softirqs included), in % of one CPU.
 */
struct load {
	double t;
	unsigned long long busy, own;
};

static void load_snap(struct load *l)
{
	unsigned long long v[8] = { 0 }, ut = 0, st = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			&v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	if (f)
		fclose(f);
	/* user nice system idle iowait irq softirq steal */
	l->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	f = fopen("/proc/self/stat", "r");
	if (f && fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			&ut, &st) != 2)
		ut = st = 0;
	if (f)
		fclose(f);
	l->own = ut + st;
	l->t = now_s();
}

static double load_others(const struct load *a)
{
	struct load b;
	double ticks;

	load_snap(&b);
	ticks = (double)(b.busy - a->busy) - (double)(b.own - a->own);
	return ticks < 0 ? 0 : 100.0 * ticks / sysconf(_SC_CLK_TCK) / (b.t - a->t);
}

static double feed(struct snoop *s, const struct events *e)
{
	double t0 = now_s();
	const void *ev;
	size_t len;
	uint32_t i;

	for (i = 0; i < e->n; i++) {
		ev = event_at(e, i, &len);
		snoop_event(s, ev, len);
	}
	/* What the daemon defers to its next publish, within the time. */
	snoop_flush(s);
	return now_s() - t0;
}

#define MAX_PASSES	1000
#define SPLIT_PASSES	5

static double median(double *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

/* ns a report of xm_ctrl_parse() alone, and of the state machine (with no
 * callbacks: no policy, no map) after a first pass has made the groups. */
static int time_parts(const struct world *w, struct tput_row *t, const struct events *e)
{
	struct xm_ctrl_msg *msg = malloc(sizeof(*msg));
	double parse[SPLIT_PASSES], mship[SPLIT_PASSES], t0;
	struct xm_mship *m = xm_mship_new(NULL, 1);
	const struct xm_ctrl_event *ev;
	struct xm_mship_cfg cfg;
	int pass, err = -ENOMEM;
	size_t len;
	uint32_t i;

	xm_mship_cfg_default(&cfg);
	cfg.max_groups = t->groups;
	if (!msg || !m || xm_mship_iface_set(m, w->ifindex, 0, &cfg, snoop_now_ms()))
		goto out;
	for (pass = -1; pass < SPLIT_PASSES; pass++) {
		t0 = now_s();
		for (i = 0; i < e->n; i++) {
			ev = event_at(e, i, &len);
			xm_ctrl_parse(ev->data, ev->len, ev->ifindex, ev->vlan, msg);
		}
		if (pass >= 0)
			parse[pass] = (now_s() - t0) * 1e9 / e->n;
		t0 = now_s();
		for (i = 0; i < e->n; i++) {
			ev = event_at(e, i, &len);
			if (xm_ctrl_parse(ev->data, ev->len, ev->ifindex, ev->vlan, msg) ==
			    XM_CTRL_OK)
				xm_mship_input(m, msg, snoop_now_ms());
		}
		if (pass >= 0)
			mship[pass] = (now_s() - t0) * 1e9 / e->n;
	}
	err = xm_mship_ngroups(m) == t->groups ? 0 : -EPROTO;
	t->parse_ns = median(parse, SPLIT_PASSES);
	t->mship_ns = median(mship, SPLIT_PASSES);
out:
	xm_mship_free(m);
	free(msg);
	return err;
}

static int run_tput(const struct world *w, struct tput_row *t, double seconds)
{
	static double rates[MAX_PASSES];
	struct snoop *s = NULL;
	struct events e = { 0 };
	double spent = 0, dt;
	struct load load;
	int err;

	err = events_build(&e, &t->r, t->groups, w->ifindex);
	if (!err)
		err = snoop_fresh(w, &s);
	if (err)
		goto out;
	load_snap(&load);
	t->create = t->groups / feed(s, &e);
	err = check_state(w, s, t->name, t->groups, t->r.nsrc);
	for (t->passes = 0; !err && t->passes < MAX_PASSES &&
	     (t->passes < MIN_PASSES || spent < seconds); t->passes++) {
		dt = feed(s, &e);
		spent += dt;
		rates[t->passes] = t->groups / dt;
	}
	t->others = load_others(&load);
	if (!err)
		err = check_state(w, s, t->name, t->groups, t->r.nsrc);
	if (err)
		goto out;
	t->refresh = median(rates, t->passes);
	t->refresh_min = rates[0];
	t->refresh_max = rates[t->passes - 1];
	memset(&calls, 0, sizeof(calls));
	calls.on = true;
	t->total_ns = feed(s, &e) * 1e9 / e.n;
	calls.on = false;
	t->ifnames = (double)calls.ifname_n / e.n;
	t->ifname_ns = (double)calls.ifname_ns / e.n;
	t->writes = (double)calls.write_n / e.n;
	t->write_ns = (double)calls.write_ns / e.n;
	err = time_parts(w, t, &e);
	pr_info("%s, %u groups: create %.0f/s, refresh %.0f/s over %d passes\n", t->name,
		t->groups, t->create, t->refresh, t->passes);
out:
	snoop_exit(s);
	events_free(&e);
	return err;
}

/* ---- 2. latency ---- */

struct lat_row {
	const char *name;
	struct report r;
	uint32_t groups;	/* round robin */
	uint32_t frames;	/* sent; at most what snoop keeps samples of */
	uint32_t burst;		/* frames back to back */
	uint32_t gap_us;	/* from the start of one burst to the next */
	bool after;		/* run right after tables 1 and 3, not before */
	/* results */
	struct snoop_latency lat;
	double others;		/* % of a CPU the rest of the machine took */
};

struct sender {
	const struct world *w;
	const struct lat_row *row;
	atomic_bool done;
	int err;
};

static void ts_add_us(struct timespec *t, uint32_t us)
{
	t->tv_nsec += (long)us * 1000;
	while (t->tv_nsec >= 1000000000) {
		t->tv_nsec -= 1000000000;
		t->tv_sec++;
	}
}


/* Frames for every group, with the Ethernet header a host puts on. */
static uint8_t *frames_build(const struct lat_row *row, size_t *stride, size_t *len)
{
	static const uint8_t mac4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x16 };
	static const uint8_t mac6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x16 };
	static const uint8_t host[6] = { 0x02, 0, 0, 0, 0, 0x10 };
	uint8_t *mem, *f;
	uint32_t g;

	*stride = ETH_HLEN + XM_CTRL_CAPTURE;
	mem = calloc(row->groups, *stride);
	for (g = 0; mem && g < row->groups; g++) {
		f = mem + (size_t)g * *stride;
		memcpy(f, row->r.family == XM_AF_INET ? mac4 : mac6, 6);
		memcpy(f + 6, host, 6);
		put16(f + 12, row->r.family == XM_AF_INET ? ETH_P_IP : ETH_P_IPV6);
		*len = ETH_HLEN + build_packet(f + ETH_HLEN, &row->r, g);
	}
	return mem;
}

static void *sender_main(void *arg)
{
	struct sender *sd = arg;
	const struct lat_row *row = sd->row;
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = sd->w->peer_ifindex,
		.sll_halen = 6,
	};
	size_t stride, len = 0;
	uint8_t *frames = frames_build(row, &stride, &len);
	struct timespec next;
	uint32_t i, b;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0 || !frames) {
		sd->err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < row->frames; ) {
		ts_add_us(&next, row->gap_us);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		for (b = 0; b < row->burst && i < row->frames; b++, i++) {
			const uint8_t *f = frames + (size_t)(i % row->groups) * stride;

			memcpy(to.sll_addr, f, 6);
			if (sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
				sd->err = -errno;
				pr_err("cannot send on " IF_HOST ": %s\n", strerror(errno));
				goto out;
			}
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(frames);
	atomic_store(&sd->done, true);
	return NULL;
}

/* The daemon's loop, as loader/daemon.c runs it, until the sender is done
 * and the ring has been quiet for a while. */
static void daemon_loop(struct snoop *s, struct sender *sd)
{
	struct pollfd pfd = { .fd = snoop_fd(s), .events = POLLIN };
	uint64_t quiet_until = 0;

	for (;;) {
		int ms = snoop_timeout_ms(s);
		struct timespec ts = { 0, 10 * 1000000 };
		int n;

		if (ms >= 0 && ms < 10)
			ts.tv_nsec = (long)ms * 1000000;
		n = ppoll(&pfd, 1, &ts, NULL);
		snoop_process(s);
		if (!atomic_load(&sd->done)) {
			continue;
		} else if (!quiet_until || n > 0) {
			quiet_until = xm_now_mono_ns() + 50 * 1000000ull;
		} else if (xm_now_mono_ns() > quiet_until) {
			break;
		}
	}
}

static int run_lat(const struct world *w, struct lat_row *row, int sender_cpu)
{
	struct sender sd = { .w = w, .row = row };
	struct snoop *s = NULL;
	pthread_attr_t attr;
	struct load load;
	cpu_set_t set;
	pthread_t th;
	int err;

	err = snoop_fresh(w, &s);
	if (err)
		return err;
	CPU_ZERO(&set);
	CPU_SET(sender_cpu, &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	load_snap(&load);
	err = -pthread_create(&th, &attr, sender_main, &sd);
	pthread_attr_destroy(&attr);
	if (err) {
		snoop_exit(s);
		return err;
	}
	daemon_loop(s, &sd);
	pthread_join(th, NULL);
	row->others = load_others(&load);
	err = sd.err;
	snoop_latency(s, &row->lat);
	if (!err && row->lat.count != row->frames) {
		pr_err("%s: %u frames sent, %llu reached the maps\n", row->name, row->frames,
		       (unsigned long long)row->lat.count);
		err = -EPROTO;
	}
	if (!err)
		err = check_state(w, s, row->name, row->groups, row->r.nsrc);
	snoop_exit(s);
	pr_info("%s: p50 %llu ns, p99 %llu ns, max %llu ns\n", row->name,
		(unsigned long long)row->lat.p50_ns, (unsigned long long)row->lat.p99_ns,
		(unsigned long long)row->lat.max_ns);
	return err;
}

/* ---- 3. memory ---- */

struct mem_row {
	const char *name;
	bool module;		/* the snooping module with its maps; else mship alone */
	struct report r;
	uint32_t groups;
	/* results: growth while the groups were created */
	long heap;		/* malloc'd bytes, mallinfo2() */
	long rss;		/* resident bytes */
	long members_mem, src_mem;	/* kernel memlock, bytes; module rows */
	long members, sources;	/* entries, module rows */
};

struct mem_snap {
	long heap, rss;
};

static void mem_snap(struct mem_snap *m)
{
	struct mallinfo2 mi = mallinfo2();
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%*s %ld", &pages) != 1)
		pages = 0;
	if (f)
		fclose(f);
	m->heap = (long)(mi.uordblks + mi.hblkhd);	/* in the heap, and mmap'd */
	m->rss = pages * sysconf(_SC_PAGESIZE);
}

static int mem_mship(const struct world *w, struct mem_row *row, const struct events *e)
{
	struct xm_ctrl_msg *msg = malloc(sizeof(*msg));
	struct xm_mship_cfg cfg;
	struct mem_snap a, b;
	struct xm_mship *m;
	size_t len;
	uint32_t i;
	int err = 0;

	if (!msg)
		return -ENOMEM;
	xm_mship_cfg_default(&cfg);
	cfg.max_groups = row->groups;
	malloc_trim(0);
	mem_snap(&a);
	m = xm_mship_new(NULL, 1);
	if (!m || xm_mship_iface_set(m, w->ifindex, 0, &cfg, snoop_now_ms())) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < e->n; i++) {
		const struct xm_ctrl_event *ev = event_at(e, i, &len);

		if (xm_ctrl_parse(ev->data, ev->len, ev->ifindex, 0, msg) == XM_CTRL_OK)
			xm_mship_input(m, msg, snoop_now_ms());
	}
	mem_snap(&b);
	row->heap = b.heap - a.heap;
	row->rss = b.rss - a.rss;
	if (xm_mship_ngroups(m) != row->groups) {
		pr_err("%s: %zu groups in the state machine, %u expected\n", row->name,
		       xm_mship_ngroups(m), row->groups);
		err = -EPROTO;
	}
out:
	xm_mship_free(m);
	free(msg);
	return err;
}

static int mem_module(const struct world *w, struct mem_row *row, const struct events *e)
{
	struct snoop *s = NULL;
	struct mem_snap a, b;
	long mem0, src0;
	const void *ev;
	size_t len;
	uint32_t i;
	int err = snoop_fresh(w, &s);

	if (err)
		return err;
	mem0 = map_memlock(w->members_fd);
	src0 = map_memlock(w->src_fd);
	malloc_trim(0);
	mem_snap(&a);
	for (i = 0; i < e->n; i++) {
		ev = event_at(e, i, &len);
		snoop_event(s, ev, len);
	}
	snoop_flush(s);		/* the last turn's writes, as the daemon's loop ends it */
	mem_snap(&b);
	row->heap = b.heap - a.heap;
	row->rss = b.rss - a.rss;
	row->members_mem = map_memlock(w->members_fd) - mem0;
	row->src_mem = map_memlock(w->src_fd) - src0;
	row->members = row->groups;
	row->sources = (long)row->groups * row->r.nsrc;
	err = check_state(w, s, row->name, row->groups, row->r.nsrc);
	snoop_exit(s);
	return err;
}

static int run_mem(const struct world *w, struct mem_row *row)
{
	struct events e = { 0 };
	int err = events_build(&e, &row->r, row->groups, w->ifindex);

	if (!err)
		err = row->module ? mem_module(w, row, &e) : mem_mship(w, row, &e);
	events_free(&e);
	pr_info("%s: heap %+ld, rss %+ld\n", row->name, row->heap, row->rss);
	return err;
}

/* ---- the bench ---- */

#define V4_IN(n)	{ XM_AF_INET, XM_REC_IS_IN, n }
#define V6_IN(n)	{ XM_AF_INET6, XM_REC_IS_IN, n }
#define V4_EX0		{ XM_AF_INET, XM_REC_IS_EX, 0 }

/*
 * 64 sources go over 4000 groups, not 10000: xm_member_src holds
 * XM_MEMBER_SRC_DEFAULT (262144) records and the loader cannot size it,
 * so 4000 x 64 = 256000 is what fits.
 */
static struct tput_row tput_rows[] = {
	{ .name = "IGMPv3 IS_IN, 1 source", .r = V4_IN(1), .groups = 10000 },
	{ .name = "IGMPv3 IS_IN, 1 source", .r = V4_IN(1), .groups = 100000 },
	{ .name = "IGMPv3 IS_IN, 64 sources", .r = V4_IN(64), .groups = 4000 },
	{ .name = "MLDv2 IS_IN, 1 source", .r = V6_IN(1), .groups = 10000 },
	{ .name = "MLDv2 IS_IN, 1 source", .r = V6_IN(1), .groups = 100000 },
	{ .name = "MLDv2 IS_IN, 64 sources", .r = V6_IN(64), .groups = 4000 },
};

/* 4000 frames: snoop keeps the newest 4096 latency samples. */
static struct lat_row lat_rows[] = {
#define LAT_ROW(n, rep, b, gap, aft)						\
	{ .name = n, .r = rep, .groups = 1000, .frames = 4000, .burst = b, .gap_us = gap, \
	  .after = aft }
	LAT_ROW("IGMPv3, 1 source, 2000/s", V4_IN(1), 1, 500, false),
	LAT_ROW("MLDv2, 1 source, 2000/s", V6_IN(1), 1, 500, false),
	LAT_ROW("IGMPv3, bursts of 100 every 25 ms", V4_IN(1), 100, 25000, false),
	LAT_ROW("IGMPv3, 64 sources, 2000/s", V4_IN(64), 1, 500, false),
	LAT_ROW("IGMPv3, 1 source, 2000/s", V4_IN(1), 1, 500, true),
	LAT_ROW("MLDv2, 1 source, 2000/s", V6_IN(1), 1, 500, true),
#undef LAT_ROW
};

/* IS_EX {} is what IGMPv2-style hosts amount to: a group, no source.
 * The module's 4-source row stops at 65536 groups: 262144 records is all
 * xm_member_src holds. */
static struct mem_row mem_rows[] = {
	{ .name = "state machine", .r = V4_EX0, .groups = 100000 },
	{ .name = "state machine", .r = V4_IN(4), .groups = 100000 },
	{ .name = "snooping module", .module = true, .r = V4_EX0, .groups = 100000 },
	{ .name = "snooping module", .module = true, .r = V4_IN(4), .groups = 65536 },
};

struct bench {
	struct world w;
	bool skip_tput, skip_lat, skip_mem;
	int cpu, sender_cpu;
	double seconds;
	char cpu_model[128];
	char date[32];
};

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		int err = -errno;

		pr_err("cannot pin to CPU %d: %s\n", cpu, strerror(-err));
		return err;
	}
	return 0;
}

static void cpu_model(char *buf, size_t len)
{
	char line[256], *v;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) || !(v = strchr(line, ':')))
			continue;
		v += 1 + (v[1] == ' ');
		v[strcspn(v, "\n")] = 0;
		snprintf(buf, len, "%s", v);
		break;
	}
	if (f)
		fclose(f);
}

static int bench_run(struct bench *b)
{
	size_t i;
	int err = world_up(&b->w);

	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(lat_rows) && !err && !b->skip_lat; i++)
		if (!lat_rows[i].after)
			err = run_lat(&b->w, &lat_rows[i], b->sender_cpu);
	for (i = 0; i < ARRAY_SIZE(mem_rows) && !err && !b->skip_mem; i++)
		err = run_mem(&b->w, &mem_rows[i]);
	for (i = 0; i < ARRAY_SIZE(tput_rows) && !err && !b->skip_tput; i++)
		err = run_tput(&b->w, &tput_rows[i], b->seconds);
	/* The millions of map writes of tables 1 and 3 leave the kernel
	 * elements to free (docs/bench.md): measured again meanwhile. */
	for (i = 0; i < ARRAY_SIZE(lat_rows) && !err && !b->skip_lat; i++)
		if (lat_rows[i].after)
			err = run_lat(&b->w, &lat_rows[i], b->sender_cpu);
	return err;
}

static const char *verdict(bool met)
{
	return met ? "met" : "MISSED";
}

static void print_tput(const struct bench *b)
{
	size_t i;

	printf("\n1. Reports a second through snoop_event() (parse, state machine, map\n"
	       "   writes), one thread on CPU %d.  create: the first pass over the\n"
	       "   groups; refresh: the passes after it, median (min-max).\n"
	       "   others: CPU the rest of the machine used meanwhile (%% of one CPU).\n"
	       "   Target: %.0f reports/s, judged apart for creating and refreshing\n"
	       "   (a new source is a new map row: creating is bound by the kernel).\n\n",
	       b->cpu, TPUT_TARGET);
	printf("%-26s %7s %10s %24s %15s %7s\n", "report", "groups", "create/s", "refresh/s",
	       "target cr/ref", "others");
	for (i = 0; i < ARRAY_SIZE(tput_rows); i++) {
		const struct tput_row *t = &tput_rows[i];
		char range[64];

		snprintf(range, sizeof(range), "%.0f (%.0f-%.0f)", t->refresh, t->refresh_min,
			 t->refresh_max);
		printf("%-26s %7u %10.0f %24s %7s/%-7s %6.0f%%\n", t->name, t->groups, t->create,
		       range, verdict(t->create >= TPUT_TARGET), verdict(t->refresh >= TPUT_TARGET),
		       t->others);
	}
	printf("\n   Where a refresh's time goes, ns a report, from one more pass:\n"
	       "   total; parse (xm_ctrl_parse()) and state machine (xm_mship_input()\n"
	       "   without callbacks), timed apart; the policy callback's\n"
	       "   if_indextoname() and the map writes (bpf_map_update_elem(), and\n"
	       "   the rows of bpf_map_update_batch() in the deferred writes that end\n"
	       "   the pass), timed in place, with calls or rows a report; rest: the\n"
	       "   module's own work, total less the others.\n\n");
	printf("%-26s %7s %7s %6s %7s %14s %16s %7s\n", "report", "groups", "total", "parse",
	       "state", "if_indextoname", "map writes", "rest");
	printf("%-26s %7s %7s %6s %7s %14s %16s %7s\n", "", "", "", "", "machine", "", "",
	       "");
	for (i = 0; i < ARRAY_SIZE(tput_rows); i++) {
		const struct tput_row *t = &tput_rows[i];
		char in[32], w[32];

		snprintf(in, sizeof(in), "%.0f x %.0f", t->ifnames,
			 t->ifnames ? t->ifname_ns / t->ifnames : 0);
		snprintf(w, sizeof(w), "%.0f x %.0f", t->writes,
			 t->writes ? t->write_ns / t->writes : 0);
		printf("%-26s %7u %7.0f %6.0f %7.0f %14s %16s %7.0f\n", t->name, t->groups,
		       t->total_ns, t->parse_ns, t->mship_ns - t->parse_ns, in, w,
		       t->total_ns - t->mship_ns - t->ifname_ns - t->write_ns);
	}
}

static void print_lat(const struct bench *b)
{
	size_t i;

	printf("\n2. Latency from the XDP program (bpf_ktime_get_ns) to the last map\n"
	       "   write, frames sent on " IF_HOST " (sender on CPU %d, daemon loop on\n"
	       "   CPU %d).  others: as in 1.  Target: p99 under 1 ms.\n\n", b->sender_cpu,
	       b->cpu);
	printf("%-36s %7s %9s %9s %9s %7s %7s\n", "traffic", "reports", "p50", "p99", "max",
	       "target", "others");
	for (i = 0; i < ARRAY_SIZE(lat_rows); i++) {
		const struct lat_row *l = &lat_rows[i];

		if (l->after && (i == 0 || !lat_rows[i - 1].after))
			printf("   right after tables 1 and 3 (millions of map writes):\n");
		printf("%-36s %7llu %6.0f us %6.0f us %6.0f us %7s %6.0f%%\n", l->name,
		       (unsigned long long)l->lat.count, l->lat.p50_ns / 1e3,
		       l->lat.p99_ns / 1e3, l->lat.max_ns / 1e3,
		       verdict(l->lat.p99_ns < LAT_TARGET_NS), l->others);
	}
}

/* Per group, and per source beyond it, from a 0- and a 4-source row. */
static void per_unit(const struct mem_row *r0, const struct mem_row *r4, bool rss,
		     double *group, double *source)
{
	double v0 = rss ? r0->rss : r0->heap, v4 = rss ? r4->rss : r4->heap;

	*group = v0 / r0->groups;
	*source = (v4 - *group * r4->groups) / ((double)r4->groups * r4->r.nsrc);
}

static void print_mem(void)
{
	double g, s, gr, sr;
	size_t i;

	printf("\n3. Memory taken while the groups are created (IPv4; IS_EX {} for no\n"
	       "   source, IS_IN for 4): user space, malloc'd bytes (mallinfo2) and RSS;\n"
	       "   kernel, the maps' memlock (as bpftool shows it).\n\n");
	printf("%-16s %7s %7s %8s %8s %11s %11s\n", "", "groups", "sources", "heap MB",
	       "RSS MB", "xm_members", "member_src");
	printf("%-16s %7s %7s %8s %8s %11s %11s\n", "", "", "", "", "", "MB", "MB");
	for (i = 0; i < ARRAY_SIZE(mem_rows); i++) {
		const struct mem_row *m = &mem_rows[i];
		char k1[24] = "-", k2[24] = "-";

		if (m->module) {
			snprintf(k1, sizeof(k1), "%.1f", m->members_mem / 1e6);
			snprintf(k2, sizeof(k2), "%.1f", m->src_mem / 1e6);
		}
		printf("%-16s %7u %7u %8.1f %8.1f %11s %11s\n", m->name, m->groups,
		       m->r.nsrc * m->groups, m->heap / 1e6, m->rss / 1e6, k1, k2);
	}
	per_unit(&mem_rows[0], &mem_rows[1], false, &g, &s);
	per_unit(&mem_rows[0], &mem_rows[1], true, &gr, &sr);
	printf("\nstate machine    %4.0f B a group, %3.0f B a source (heap); %4.0f and %3.0f (RSS)\n",
	       g, s, gr, sr);
	per_unit(&mem_rows[2], &mem_rows[3], false, &g, &s);
	per_unit(&mem_rows[2], &mem_rows[3], true, &gr, &sr);
	printf("snooping module  %4.0f B a group, %3.0f B a source (heap); %4.0f and %3.0f (RSS)\n",
	       g, s, gr, sr);
	printf("kernel maps      %4.0f B an xm_members entry, %3.0f B an xm_member_src entry\n",
	       (double)mem_rows[2].members_mem / mem_rows[2].members,
	       (double)mem_rows[3].src_mem / mem_rows[3].sources);
}

static void print_table(const struct bench *b, const struct utsname *u)
{
	printf("\nIGMP and MLD snooping: %s, %s, Linux %s, %ld CPUs\n", b->date, b->cpu_model,
	       u->release, sysconf(_SC_NPROCESSORS_ONLN));
	if (!b->skip_tput)
		print_tput(b);
	if (!b->skip_lat)
		print_lat(b);
	if (!b->skip_mem)
		print_mem();
}

static void print_json(const struct bench *b, const struct utsname *u)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "bench", "snoop");
	json_string(&j, "date", b->date);
	json_string(&j, "cpu_model", b->cpu_model);
	json_string(&j, "kernel", u->release);
	json_i64(&j, "cpu", b->cpu);
	json_i64(&j, "sender_cpu", b->sender_cpu);
	json_array_begin(&j, "throughput");
	for (i = 0; i < ARRAY_SIZE(tput_rows) && !b->skip_tput; i++) {
		const struct tput_row *t = &tput_rows[i];

		json_object_begin(&j, NULL);
		json_string(&j, "report", t->name);
		json_u64(&j, "groups", t->groups);
		json_u64(&j, "sources", t->r.nsrc);
		json_double(&j, "create_per_s", t->create);
		json_double(&j, "refresh_per_s", t->refresh);
		json_double(&j, "refresh_min_per_s", t->refresh_min);
		json_double(&j, "refresh_max_per_s", t->refresh_max);
		json_i64(&j, "passes", t->passes);
		json_double(&j, "target_per_s", TPUT_TARGET);
		json_double(&j, "others_cpu_pct", t->others);
		json_double(&j, "split_total_ns", t->total_ns);
		json_double(&j, "parse_ns", t->parse_ns);
		json_double(&j, "state_machine_ns", t->mship_ns - t->parse_ns);
		json_double(&j, "if_indextoname_calls", t->ifnames);
		json_double(&j, "if_indextoname_ns", t->ifname_ns);
		json_double(&j, "map_writes", t->writes);
		json_double(&j, "map_writes_ns", t->write_ns);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "latency");
	for (i = 0; i < ARRAY_SIZE(lat_rows) && !b->skip_lat; i++) {
		const struct lat_row *l = &lat_rows[i];

		json_object_begin(&j, NULL);
		json_string(&j, "traffic", l->name);
		json_bool(&j, "after_tables_1_3", l->after);
		json_u64(&j, "reports", l->lat.count);
		json_u64(&j, "p50_ns", l->lat.p50_ns);
		json_u64(&j, "p99_ns", l->lat.p99_ns);
		json_u64(&j, "max_ns", l->lat.max_ns);
		json_u64(&j, "target_p99_ns", LAT_TARGET_NS);
		json_double(&j, "others_cpu_pct", l->others);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "memory");
	for (i = 0; i < ARRAY_SIZE(mem_rows) && !b->skip_mem; i++) {
		const struct mem_row *m = &mem_rows[i];

		json_object_begin(&j, NULL);
		json_string(&j, "what", m->name);
		json_u64(&j, "groups", m->groups);
		json_u64(&j, "sources", (uint64_t)m->groups * m->r.nsrc);
		json_i64(&j, "heap_bytes", m->heap);
		json_i64(&j, "rss_bytes", m->rss);
		if (m->module) {
			json_i64(&j, "xm_members_memlock_bytes", m->members_mem);
			json_i64(&j, "xm_member_src_memlock_bytes", m->src_mem);
		}
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_snoop [-j] [-c CPU] [-s SECONDS] [-T] [-L] [-M] [-x XDP_MCAST] [-v]\n"
		"IGMP and MLD snooping in the daemon: reports a second, latency from\n"
		"XDP to the maps, memory per group and per source.  Needs root; runs\n"
		"in namespaces of its own and leaves nothing behind.\n"
		"  -j          JSON output\n"
		"  -c CPU      CPU of the measured thread (default: the last one); the\n"
		"              latency sender runs on another\n"
		"  -s SECONDS  least refresh time measured per throughput row (default %.0f)\n"
		"  -T, -L, -M  skip the throughput, latency or memory table\n"
		"  -x PATH     the xdp-mcast binary (default: ../xdp-mcast from here)\n"
		"  -v          progress, and libbpf's messages\n"
		"  -h          this help\n", DEF_SECONDS);
}

int main(int argc, char **argv)
{
	static struct bench b = { .cpu = -1, .seconds = DEF_SECONDS };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool json = false;
	struct utsname u;
	time_t now = time(NULL);
	uint64_t v;
	int opt, err;

	xm_log_set_prog("bench_snoop");
	while ((opt = getopt(argc, argv, "jc:s:TLMx:vh")) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'c':
			if (!xm_parse_u64(optarg, 0, ncpu - 1, &v)) {
				pr_err("bad CPU '%s' (0..%ld)\n", optarg, ncpu - 1);
				return EX_USAGE;
			}
			b.cpu = v;
			break;
		case 's':
			if (!xm_parse_u64(optarg, 0, 60, &v)) {
				pr_err("bad time '%s' (0..60 seconds)\n", optarg);
				return EX_USAGE;
			}
			b.seconds = v;
			break;
		case 'T':
			b.skip_tput = true;
			break;
		case 'L':
			b.skip_lat = true;
			break;
		case 'M':
			b.skip_mem = true;
			break;
		case 'x':
			snprintf(b.w.xdp_mcast, sizeof(b.w.xdp_mcast), "%s", optarg);
			break;
		case 'v':
			xm_log_set_level(XM_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EX_USAGE;
	}
	xm_log_route_libbpf();
	uname(&u);
	strftime(b.date, sizeof(b.date), "%Y-%m-%d %H:%M", localtime(&now));
	cpu_model(b.cpu_model, sizeof(b.cpu_model));
	if (b.cpu < 0)
		b.cpu = ncpu - 1;
	b.sender_cpu = ncpu > 1 ? (b.cpu + 1) % ncpu : b.cpu;
	if (pin_cpu(b.cpu))
		return EX_OSERR;

	err = bench_run(&b);
	if (!err) {
		if (json)
			print_json(&b, &u);
		else
			print_table(&b, &u);
	}
	world_down(&b.w);
	if (!err)
		return 0;
	return err == -EPERM ? EX_NOPERM : EX_SOFTWARE;
}
