// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_xdp: what xdp-mcast costs per packet.
 *
 * Every figure comes from bpf_prog_test_run_opts() with a large repeat
 * count: the kernel reports the mean time of one run, in whole
 * nanoseconds.  Programs that are compared are measured in one "set": each
 * trial runs every program of the set back to back, in an order that
 * reverses from one trial to the next, and a figure is the median of the
 * trials.  The process is pinned to one CPU.  Three tables:
 *
 *  1. cost: xdp-mcast next to the empty XDP program, one frame (one flow)
 *     per scenario: the steady state, every lookup a hit.
 *  2. flows: one multicast group fed by 1, 64, 256 or 4096 sources in
 *     round robin, so that the flow cache misses as it would on a busy
 *     link.  test_run repeats one frame, so the programs run behind
 *     xdp_rotate (bench_helpers.bpf.c), which gives the frame the next
 *     source before every run and tail-calls the program under test.
 *  3. policy: xdp-mcast without a policy against the same program with a
 *     policy of 0, 10, 1000 and 100000 rules and boundaries
 *     (bench_policy.c), each a separately loaded copy with its own maps.
 *     The steady state, which the target is judged on:
 *     a. XDP, one flow: the decision read from the flow's cache slot;
 *     b. XDP, 4096 flows in round robin: every packet misses its cache
 *        slot and reads the decision from the flow's xm_flows entry;
 *     c. TC egress, one flow: the lookups read from xm_egress_cache.
 *     And the price of a new flow, every packet walking the tries:
 *     d. XDP, 4096 flows in round robin through copies whose xm_flows
 *        holds 1024: every packet misses both its slot and its entry;
 *     e. TC egress, 4096 flows in round robin behind tc_rotate, more than
 *        the 256 slots of xm_egress_cache.
 *     The copies of d and e share the policy maps of those of a to c, so
 *     both decide against the same tries.
 *
 * Before measuring, a warm-up run of every program checks that it takes
 * the path meant: the verdict, the counter it must count in (the
 * per-interface reason, the policy rule that must decide, and in d a new
 * flow per run), the flows and their decisions in xm_flows.  After
 * measuring, the caches are probed for the share of runs that hit them.
 * Results are printed, never judged: the exit status is 0 unless
 * something failed.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/utsname.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "bench_helpers.h"
#include "bench_helpers.skel.h"
#include "log.h"
#include "util.h"
#include "xdp_mcast_kern_user.h"
#include "xdp_pass.skel.h"

#define DEF_REPEAT	2000000
#define DEF_TRIALS	7
#define MAX_TRIALS	1000
#define BENCH_SLOT	1
#define BENCH_TTL	16
#define PAYLOAD_LEN	18	/* IPv4 UDP frame of 60 bytes, the minimum */
#define UNICAST_TARGET	1.1
#define MCAST_TARGET	2.5
#define POLICY_TARGET	1.3
#define MAX_MEAS	8
#define MAX_SETS	16

/* Flows of table 2: powers of two, at most 2^BENCH_FLOW_BITS. */
static const __u32 flow_counts[] = { 1, 64, 256, 4096 };
#define N_FLOW_ROWS	ARRAY_SIZE(flow_counts)
#define POLICY_FLOWS	4096	/* tables 3b, 3d, 3e: more than the cache slots */
#define NEW_FLOW_TABLE	1024	/* xm_flows of the copies of 3d: < POLICY_FLOWS */
#define NEW_FLOW_SHARE	4	/* 3d and 3e run repeat / 4 times: their runs
				 * take hundreds of ns, and whole-ns rounding
				 * matters less there */
_Static_assert(POLICY_FLOWS == 4096 && POLICY_FLOWS > XM_FLOW_CACHE_SLOTS,
	       "3b, 3d and 3e share table 2's last front");

static const int policy_sizes[] = { 0, 10, 1000, 100000 };
#define N_POLICIES	ARRAY_SIZE(policy_sizes)

/* ---- frames ---- */

struct scenario {
	const char *name;
	bool multicast;
	int family;		/* AF_INET or AF_INET6 */
	const char *src;
	const char *dst;
	__u8 mac[ETH_ALEN];	/* destination MAC */
	__u16 vlan;		/* 802.1Q id, 0 = untagged */
};

enum { SC_UNI4, SC_UNI6, SC_MC4, SC_MC6, SC_MC4_VLAN, N_SCENARIOS };

static const struct scenario scenarios[N_SCENARIOS] = {
	[SC_UNI4] = { "unicast-ipv4-udp", false, AF_INET, "192.0.2.1", "192.0.2.2",
		      { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }, 0 },
	[SC_UNI6] = { "unicast-ipv6-udp", false, AF_INET6, "2001:db8::1", "2001:db8::2",
		      { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }, 0 },
	[SC_MC4] = { "mcast-ipv4-udp", true, AF_INET, BENCH_SOURCE, BENCH_GROUP,
		     { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 }, 0 },
	[SC_MC6] = { "mcast-ipv6-udp", true, AF_INET6, "2001:db8::1", "ff0e::1:1",
		     { 0x33, 0x33, 0x00, 0x01, 0x00, 0x01 }, 0 },
	[SC_MC4_VLAN] = { "mcast-ipv4-vlan", true, AF_INET, BENCH_SOURCE, BENCH_GROUP,
			  { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 }, 100 },
};

/* The round-robin frame: mcast-ipv4-udp from BENCH_FLOW_BASE. */
static const struct scenario rotating = {
	"mcast-ipv4-flows", true, AF_INET, BENCH_FLOW_BASE, BENCH_GROUP,
	{ 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 }, 0
};

struct frame {
	__u8 data[128];
	__u32 len;
	__u32 src_word;		/* offset of the source address's last 32 bits */
	struct xm_flow_key key;	/* the flow as xdp-mcast keys it on BENCH_IFINDEX */
};

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

static void *put(struct frame *f, const void *hdr, size_t len)
{
	void *p = f->data + f->len;

	memcpy(p, hdr, len);
	f->len += len;
	return p;
}

static __u16 ip_checksum(const void *hdr, size_t len)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Ethernet, an optional 802.1Q tag, IPv4 or IPv6, UDP, a zero payload.
 * The UDP checksum stays 0: nothing on the path reads it. */
static int build_frame(const struct scenario *s, struct frame *f)
{
	static const __u8 src_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const __u8 payload[PAYLOAD_LEN];
	__u16 l3_proto = s->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
	struct udphdr udp = {
		.source = htons(5000),
		.dest = htons(5001),
		.len = htons(sizeof(udp) + PAYLOAD_LEN),
	};
	struct ethhdr eth = { 0 };

	memset(f, 0, sizeof(*f));
	memcpy(eth.h_dest, s->mac, ETH_ALEN);
	memcpy(eth.h_source, src_mac, ETH_ALEN);
	eth.h_proto = htons(s->vlan ? ETH_P_8021Q : l3_proto);
	put(f, &eth, sizeof(eth));
	if (s->vlan) {
		struct vlan_tag tag = {
			.tci = htons(s->vlan),
			.encap_proto = htons(l3_proto),
		};

		put(f, &tag, sizeof(tag));
	}

	f->key.ifindex = BENCH_IFINDEX;
	f->key.vlan = s->vlan;
	if (s->family == AF_INET) {
		struct iphdr ip = {
			.version = 4,
			.ihl = 5,
			.tot_len = htons(sizeof(ip) + sizeof(udp) + PAYLOAD_LEN),
			.ttl = BENCH_TTL,
			.protocol = IPPROTO_UDP,
		};

		if (inet_pton(AF_INET, s->src, &ip.saddr) != 1 ||
		    inet_pton(AF_INET, s->dst, &ip.daddr) != 1)
			return -EINVAL;
		ip.check = ip_checksum(&ip, sizeof(ip));
		f->src_word = f->len + offsetof(struct iphdr, saddr);
		put(f, &ip, sizeof(ip));
		f->key.family = XM_AF_INET;
		f->key.group[0] = ip.daddr;
		f->key.source[0] = ip.saddr;
	} else {
		struct ipv6hdr ip6 = {
			.version = 6,
			.payload_len = htons(sizeof(udp) + PAYLOAD_LEN),
			.nexthdr = IPPROTO_UDP,
			.hop_limit = BENCH_TTL,
		};

		if (inet_pton(AF_INET6, s->src, &ip6.saddr) != 1 ||
		    inet_pton(AF_INET6, s->dst, &ip6.daddr) != 1)
			return -EINVAL;
		f->src_word = f->len + offsetof(struct ipv6hdr, saddr) + 12;
		put(f, &ip6, sizeof(ip6));
		f->key.family = XM_AF_INET6;
		memcpy(f->key.group, &ip6.daddr, sizeof(f->key.group));
		memcpy(f->key.source, &ip6.saddr, sizeof(f->key.source));
	}
	put(f, &udp, sizeof(udp));
	put(f, payload, sizeof(payload));
	return 0;
}

/* The word of the source address that xdp_rotate changes: its last. */
static __be32 *source_word(struct xm_flow_key *key)
{
	return &key->source[key->family == XM_AF_INET ? 0 : 3];
}

/* Flow i of the round robin over f's source, as xdp_rotate writes it. */
static void flow_key_of(const struct frame *f, __u32 i, struct xm_flow_key *key)
{
	__be32 *w;

	*key = f->key;
	w = source_word(key);
	*w = htonl(bench_flow_word(ntohl(*w), i));
}

/* ---- programs and what is measured ---- */

enum run_kind { RUN_XDP, RUN_TC };

/* A copy of xdp-mcast with its own maps, and the policy installed in it. */
struct inst {
	const char *label;
	struct xdp_mcast_bpf *skel;
	int xdp_fd;
	int tc_fd;
	int target;		/* its programs in bench_targets, bench_tc_targets */
	int policy;		/* rules and boundaries installed, -1: none */
	struct bench_policy pol;
	struct inst *shares;	/* whose interface and policy maps it uses */
	__u32 flows_max;	/* xm_flows entries, 0: the default */
};

enum {
	INST_BASE,		/* no policy: tables 1 and 2, baseline of 3 */
	INST_COPY,		/* no policy, a second copy: the noise of 3 */
	INST_POLICY,		/* then one per policy size */
	N_STEADY = INST_POLICY + N_POLICIES,
	/* Then the same again for new flows (3d, 3e): copy N_STEADY + k has
	 * copy k's interface and policy maps, its own small xm_flows and its
	 * own caches. */
	INST_NEW = N_STEADY,
	N_INST = 2 * N_STEADY,
};
#define TARGET_PASS	0	/* xdp_pass and tc_pass in the program arrays */
_Static_assert(N_INST < BENCH_TARGETS, "a program array slot per copy");

/* A per-CPU xm_counter that the warm-up must raise by exactly its runs. */
struct expect {
	struct bpf_map *map;
	__u32 idx;
	const char *what;
};

/* One program on one frame, trial after trial. */
struct meas {
	const char *label;
	enum run_kind kind;
	int prog_fd;		/* run directly when target < 0 */
	int target;		/* index in bench_targets behind xdp_rotate */
	__u32 flows;		/* flows in round robin behind xdp_rotate */
	const struct frame *frame;
	__u32 verdict;
	struct expect expect[3];
	int nexpect;
	struct inst *flows_in;	/* check the flows and their decisions in its xm_flows */
	double target_ratio;	/* 0: none */
	__u32 *ns;		/* one figure per trial, ns per run */
	double median;
	__u32 min, max;
};

/* Programs measured against each other; m[0] is the baseline of the
 * ratios. */
struct set {
	const char *table;
	const char *name;
	__u32 repeat;		/* runs per trial */
	struct meas m[MAX_MEAS];
	int n;
};

struct bench {
	struct xdp_pass_bpf *empty;
	struct bench_helpers_bpf *helpers;
	struct inst inst[N_INST];
	int empty_fd, tc_pass_fd, rotate_fd, tc_rotate_fd;
	struct frame frames[N_SCENARIOS];
	struct frame flow_frame;
	struct set sets[MAX_SETS];
	int nsets;
	/* sets of each table, by index in sets[] */
	int cost_set[N_SCENARIOS], flow_set[N_FLOW_ROWS];
	int pol_one, pol_flows, pol_tc, pol_new_xdp, pol_new_tc;
	/* fraction of runs that hit the cache: xm_flow_cache in table 2,
	 * xm_egress_cache in 3c and 3e (of the largest policy's copies) */
	double flow_hits[N_FLOW_ROWS], tc_hits_one, tc_hits_new;
	__u32 repeat;
	int trials;
	int cpu;
	int ncpu;
	bool skip_policy;
};

static struct meas *add_meas(struct set *s, const char *label, enum run_kind kind,
			     int prog_fd, const struct frame *f, __u32 verdict)
{
	struct meas *m = &s->m[s->n++];

	m->label = label;
	m->kind = kind;
	m->prog_fd = prog_fd;
	m->target = -1;
	m->flows = 1;
	m->frame = f;
	m->verdict = verdict;
	return m;
}

/* Run m behind the front of its kind, xdp_rotate or tc_rotate, which
 * tail-calls the program at index target of its program array. */
static void behind_rotate(struct meas *m, int target, __u32 flows)
{
	m->target = target;
	m->flows = flows;
}

static void expect(struct meas *m, struct bpf_map *map, long idx, const char *what)
{
	if (idx < 0)
		return;
	m->expect[m->nexpect++] = (struct expect){ map, idx, what };
}

static void expect_forward(struct meas *m, struct inst *in, int dir)
{
	expect(m, in->skel->maps.xm_reasons,
	       XM_REASON_INDEX(dir, BENCH_SLOT, XM_R_FORWARD), "forward on lo");
}

static void expect_rule(struct meas *m, struct inst *in, int dir,
			enum bench_path_rule r)
{
	if (in->policy > 0)
		expect(m, in->skel->maps.xm_pol_hits, bench_policy_hit(&in->pol, dir, r),
		       "the allow rule's hit counter");
}

/* Every run a flow that is in neither its cache slot nor xm_flows: it is
 * created, and (under a policy) its decision taken from the tries. */
static void expect_new_flow(struct meas *m, struct inst *in)
{
	expect(m, in->skel->maps.xm_global, XM_G_FLOWS_CREATED, "flows created");
}

/* ---- running ---- */

static int run_once(struct bench *b, const struct meas *m, __u32 repeat,
		    __u32 *ns, __u32 *verdict)
{
	const struct frame *f = m->frame;
	struct xdp_md xctx = {
		.data_end = f->len,	/* the kernel insists on it */
		.ingress_ifindex = BENCH_IFINDEX,
	};
	struct __sk_buff sctx = { .ifindex = BENCH_IFINDEX };	/* sent by the host */
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->data,
		.data_size_in = f->len,
		.repeat = repeat,
	);
	int fd = m->prog_fd;

	if (m->kind == RUN_XDP) {
		opts.ctx_in = &xctx;
		opts.ctx_size_in = sizeof(xctx);
	} else {
		opts.ctx_in = &sctx;
		opts.ctx_size_in = sizeof(sctx);
	}
	if (m->target >= 0) {
		__be32 w;

		memcpy(&w, f->data + f->src_word, sizeof(w));
		b->helpers->bss->target = m->target;
		b->helpers->bss->word_off = f->src_word;
		b->helpers->bss->flow_base = ntohl(w);
		b->helpers->bss->flow_mask = m->flows - 1;
		b->helpers->bss->seq = 0;
		fd = m->kind == RUN_XDP ? b->rotate_fd : b->tc_rotate_fd;
	}
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*ns = opts.duration;
	*verdict = opts.retval;
	return 0;
}

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

/* ---- loading ---- */

/* Give in the interface and policy maps of in->shares: the same lo and
 * the same tries, already filled. */
static int share_maps(struct inst *in)
{
	struct xdp_mcast_bpf *from = in->shares->skel, *to = in->skel;
	struct { struct bpf_map *to, *from; } maps[] = {
		{ to->maps.xm_ifaces, from->maps.xm_ifaces },
		{ to->maps.xm_config, from->maps.xm_config },
		{ to->maps.xm_boundary, from->maps.xm_boundary },
		{ to->maps.xm_rule_grp, from->maps.xm_rule_grp },
		{ to->maps.xm_rule_src, from->maps.xm_rule_src },
		{ to->maps.xm_pol_hits, from->maps.xm_pol_hits },
		{ to->maps.xm_pol_desc, from->maps.xm_pol_desc },
	};
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		err = bpf_map__reuse_fd(maps[i].to, bpf_map__fd(maps[i].from));
		if (err) {
			pr_err("cannot share map '%s' of '%s': %s\n",
			       bpf_map__name(maps[i].from), in->shares->label,
			       strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Load a copy of xdp-mcast.  Without in->shares it registers lo and
 * installs its policy; with it, it uses those of in->shares. */
static int load_inst(struct bench *b, struct inst *in, const char *label,
		     int policy, int target)
{
	struct xm_iface ifc = { .slot = BENCH_SLOT, .name = BENCH_IFNAME };
	__u32 ifindex = BENCH_IFINDEX;
	struct bpf_map *map;
	int err;

	in->label = label;
	in->policy = policy;
	in->target = target;
	in->skel = xdp_mcast_bpf__open();
	if (!in->skel) {
		err = -errno;
		pr_err("cannot open the xdp_mcast skeleton: %s\n", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, in->skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err) {
			pr_err("cannot unpin map '%s': %s\n", bpf_map__name(map),
			       strerror(-err));
			return err;
		}
	}
	if (in->shares)
		err = share_maps(in);
	else if (policy > 0)
		err = bench_policy_size_maps(in->skel, policy);
	else
		err = 0;
	if (!err && in->flows_max)
		err = bpf_map__set_max_entries(in->skel->maps.xm_flows, in->flows_max);
	if (err) {
		pr_err("cannot set up the maps of '%s': %s\n", label, strerror(-err));
		return err;
	}
	err = xdp_mcast_bpf__load(in->skel);
	if (err) {
		pr_err("cannot load xdp_mcast: %s%s\n", strerror(-err),
		       err == -EPERM ? " (run as root)" : "");
		return err;
	}
	/* A shared xm_ifaces has lo, with its policy flags: leave it be. */
	if (!in->shares &&
	    bpf_map__update_elem(in->skel->maps.xm_ifaces, &ifindex, sizeof(ifindex),
				 &ifc, sizeof(ifc), BPF_ANY)) {
		err = -errno;
		pr_err("cannot register ifindex %u in %s: %s\n", ifindex,
		       XM_MAP_IFACES, strerror(-err));
		return err;
	}
	in->xdp_fd = bpf_program__fd(in->skel->progs.xdp_mcast);
	in->tc_fd = bpf_program__fd(in->skel->progs.tc_mcast_egress);
	if (bpf_map__update_elem(b->helpers->maps.bench_targets, &target,
				 sizeof(target), &in->xdp_fd, sizeof(in->xdp_fd),
				 BPF_ANY)) {
		err = -errno;
		pr_err("cannot put xdp_mcast in bench_targets: %s\n", strerror(-err));
		return err;
	}
	if (bpf_map__update_elem(b->helpers->maps.bench_tc_targets, &target,
				 sizeof(target), &in->tc_fd, sizeof(in->tc_fd),
				 BPF_ANY)) {
		err = -errno;
		pr_err("cannot put tc_mcast_egress in bench_tc_targets: %s\n",
		       strerror(-err));
		return err;
	}
	if (in->shares)
		in->pol = in->shares->pol;
	else if (policy >= 0)
		return bench_policy_install(in->skel, policy, &in->pol);
	return 0;
}

static int load_programs(struct bench *b)
{
	__u32 zero = TARGET_PASS;
	int i, n, err;

	b->empty = xdp_pass_bpf__open_and_load();
	if (!b->empty) {
		err = -errno;
		pr_err("cannot load xdp_pass: %s\n", strerror(-err));
		return err;
	}
	b->helpers = bench_helpers_bpf__open_and_load();
	if (!b->helpers) {
		err = -errno;
		pr_err("cannot load bench_helpers: %s\n", strerror(-err));
		return err;
	}
	b->empty_fd = bpf_program__fd(b->empty->progs.xdp_pass);
	b->tc_pass_fd = bpf_program__fd(b->helpers->progs.tc_pass);
	b->rotate_fd = bpf_program__fd(b->helpers->progs.xdp_rotate);
	b->tc_rotate_fd = bpf_program__fd(b->helpers->progs.tc_rotate);
	if (bpf_map__update_elem(b->helpers->maps.bench_targets, &zero, sizeof(zero),
				 &b->empty_fd, sizeof(b->empty_fd), BPF_ANY) ||
	    bpf_map__update_elem(b->helpers->maps.bench_tc_targets, &zero, sizeof(zero),
				 &b->tc_pass_fd, sizeof(b->tc_pass_fd), BPF_ANY)) {
		err = -errno;
		pr_err("cannot put the empty programs in the program arrays: %s\n",
		       strerror(-err));
		return err;
	}

	n = b->skip_policy ? INST_COPY : N_INST;
	for (i = 0; i < n; i++) {
		static char labels[N_POLICIES][32];
		int k = i % N_STEADY;
		const char *label = k == INST_BASE ? "no policy" : "no policy, 2nd copy";
		int policy = -1;

		if (k >= INST_POLICY) {
			policy = policy_sizes[k - INST_POLICY];
			snprintf(labels[k - INST_POLICY], sizeof(labels[0]), "%d rules",
				 policy);
			label = labels[k - INST_POLICY];
		}
		if (i >= INST_NEW) {
			b->inst[i].shares = &b->inst[k];
			b->inst[i].flows_max = NEW_FLOW_TABLE;
		}
		err = load_inst(b, &b->inst[i], label, policy, i + 1);
		if (err)
			return err;
	}
	return 0;
}

/* ---- the sets ---- */

static struct set *new_set(struct bench *b, const char *table, const char *name)
{
	struct set *s = &b->sets[b->nsets++];

	s->table = table;
	s->name = name;
	s->repeat = b->repeat;
	return s;
}

static __u32 new_flow_repeat(const struct bench *b)
{
	__u32 r = b->repeat / NEW_FLOW_SHARE;

	return r > 20 * POLICY_FLOWS ? r : 20 * POLICY_FLOWS;
}

static void plan(struct bench *b)
{
	static char flow_names[N_FLOW_ROWS][24];
	struct inst *base = &b->inst[INST_BASE];
	const struct frame *mc4 = &b->frames[SC_MC4];
	struct meas *m;
	struct set *s;
	size_t i;
	int k;

	for (i = 0; i < N_SCENARIOS; i++) {
		b->cost_set[i] = b->nsets;
		s = new_set(b, "cost", scenarios[i].name);
		add_meas(s, "empty", RUN_XDP, b->empty_fd, &b->frames[i], XDP_PASS);
		m = add_meas(s, "xdp-mcast", RUN_XDP, base->xdp_fd, &b->frames[i], XDP_PASS);
		m->target_ratio = scenarios[i].multicast ? MCAST_TARGET : UNICAST_TARGET;
		if (scenarios[i].multicast) {
			expect_forward(m, base, XM_DIR_IN);
			m->flows_in = base;
		}
	}

	for (i = 0; i < N_FLOW_ROWS; i++) {
		snprintf(flow_names[i], sizeof(flow_names[i]), "%u flow%s", flow_counts[i],
			 flow_counts[i] > 1 ? "s" : "");
		b->flow_set[i] = b->nsets;
		s = new_set(b, "flows", flow_names[i]);
		m = add_meas(s, "empty", RUN_XDP, b->empty_fd, &b->flow_frame, XDP_PASS);
		behind_rotate(m, TARGET_PASS, flow_counts[i]);
		m = add_meas(s, "xdp-mcast", RUN_XDP, base->xdp_fd, &b->flow_frame, XDP_PASS);
		behind_rotate(m, base->target, flow_counts[i]);
		expect_forward(m, base, XM_DIR_IN);
		m->flows_in = base;
	}
	if (b->skip_policy)
		return;

	b->pol_one = b->nsets;
	s = new_set(b, "policy-xdp-one-flow", "mcast-ipv4-udp, one flow");
	for (k = 0; k < N_STEADY; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_XDP, in->xdp_fd, mc4, XDP_PASS);
		expect_forward(m, in, XM_DIR_IN);
		expect_rule(m, in, XM_DIR_IN, PATH_32_ALLOW);
		if (k >= INST_POLICY)
			m->target_ratio = POLICY_TARGET;
	}

	b->pol_flows = b->nsets;
	s = new_set(b, "policy-xdp-flows", "mcast-ipv4-udp, 4096 flows, decision from xm_flows");
	for (k = 0; k < N_STEADY; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_XDP, in->xdp_fd, &b->flow_frame, XDP_PASS);
		behind_rotate(m, in->target, POLICY_FLOWS);
		expect_forward(m, in, XM_DIR_IN);
		expect_rule(m, in, XM_DIR_IN, PATH_24_ALLOW);
		m->flows_in = in;
		if (k >= INST_POLICY)
			m->target_ratio = POLICY_TARGET;
	}

	b->pol_tc = b->nsets;
	s = new_set(b, "policy-tc", "mcast-ipv4-udp, TC egress, one flow");
	for (k = 0; k < N_STEADY; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_TC, in->tc_fd, mc4, TC_ACT_OK);
		expect_forward(m, in, XM_DIR_OUT);
		expect_rule(m, in, XM_DIR_OUT, PATH_32_ALLOW);
		if (k >= INST_POLICY)
			m->target_ratio = POLICY_TARGET;
	}
	add_meas(s, "empty TC program", RUN_TC, b->tc_pass_fd, mc4, TC_ACT_OK);

	/* New flows: no target, the price of a decision taken from the tries. */
	b->pol_new_xdp = b->nsets;
	s = new_set(b, "policy-xdp-new-flows", "mcast-ipv4-udp, 4096 new flows");
	s->repeat = new_flow_repeat(b);
	for (k = INST_NEW; k < N_INST; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_XDP, in->xdp_fd, &b->flow_frame, XDP_PASS);
		behind_rotate(m, in->target, POLICY_FLOWS);
		expect_forward(m, in, XM_DIR_IN);
		expect_rule(m, in, XM_DIR_IN, PATH_24_ALLOW);
		expect_new_flow(m, in);
	}

	b->pol_new_tc = b->nsets;
	s = new_set(b, "policy-tc-new-flows", "mcast-ipv4-udp, TC egress, 4096 flows");
	s->repeat = new_flow_repeat(b);
	for (k = INST_NEW; k < N_INST; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_TC, in->tc_fd, &b->flow_frame, TC_ACT_OK);
		behind_rotate(m, in->target, POLICY_FLOWS);
		expect_forward(m, in, XM_DIR_OUT);
		expect_rule(m, in, XM_DIR_OUT, PATH_24_ALLOW);
	}
	m = add_meas(s, "empty TC program", RUN_TC, b->tc_pass_fd, &b->flow_frame,
		     TC_ACT_OK);
	behind_rotate(m, TARGET_PASS, POLICY_FLOWS);
}

/* ---- checks ---- */

/* The packets of one xm_counter slot, summed over the CPUs. */
static int percpu_packets(struct bench *b, struct bpf_map *map, __u32 idx,
			  __u64 *packets)
{
	struct xm_counter *v = calloc(b->ncpu, sizeof(*v));
	int err = 0, i;

	if (!v)
		return -ENOMEM;
	if (bpf_map__lookup_elem(map, &idx, sizeof(idx), v, b->ncpu * sizeof(*v), 0)) {
		err = -errno;
		goto out;
	}
	*packets = 0;
	for (i = 0; i < b->ncpu; i++)
		*packets += v[i].packets;
out:
	free(v);
	return err;
}

/* 0 when every flow the measurement sends is in xm_flows, holding (under
 * a policy) its decision on this CPU. */
static int flows_exist(struct bench *b, const struct meas *m)
{
	const struct frame *f = m->frame;
	struct inst *in = m->flows_in;
	struct xm_flow *v = calloc(b->ncpu, sizeof(*v));
	struct xm_flow_key key;
	char addr[XM_ADDR_STRLEN];
	int err = 0;
	__u32 i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < m->flows && !err; i++) {
		if (m->target >= 0)
			flow_key_of(f, i, &key);
		else
			key = f->key;
		if (bpf_map__lookup_elem(in->skel->maps.xm_flows, &key, sizeof(key), v,
					 b->ncpu * sizeof(*v), 0)) {
			err = -errno;
			pr_err("%s: no flow from %s in %s\n", in->label,
			       xm_format_addr(key.family, key.source, addr, sizeof(addr)),
			       XM_MAP_FLOWS);
		} else if (in->policy >= 0 && !v[b->cpu].pol_epoch) {
			err = -EPROTO;
			pr_err("%s: the flow from %s holds no decision in %s\n", in->label,
			       xm_format_addr(key.family, key.source, addr, sizeof(addr)),
			       XM_MAP_FLOWS);
		}
	}
	free(v);
	return err;
}

/* Run each program once with a shorter repeat, discarded: it creates the
 * flows, warms the caches, and checks the path. */
static int warm_up(struct bench *b)
{
	__u64 before[2], after;
	__u32 ns, verdict;
	int i, k, e, err;

	for (i = 0; i < b->nsets; i++) {
		struct set *s = &b->sets[i];

		for (k = 0; k < s->n; k++) {
			struct meas *m = &s->m[k];
			__u32 repeat = s->repeat / 10;

			if (repeat < 2 * m->flows)
				repeat = 2 * m->flows;
			for (e = 0; e < m->nexpect; e++) {
				err = percpu_packets(b, m->expect[e].map, m->expect[e].idx,
						     &before[e]);
				if (err)
					goto read_failed;
			}
			err = run_once(b, m, repeat, &ns, &verdict);
			if (err) {
				pr_err("%s, %s: test run failed: %s\n", s->name, m->label,
				       strerror(-err));
				return err;
			}
			if (verdict != m->verdict) {
				pr_err("%s, %s: returned %u, expected %u\n", s->name,
				       m->label, verdict, m->verdict);
				return -EPROTO;
			}
			for (e = 0; e < m->nexpect; e++) {
				err = percpu_packets(b, m->expect[e].map, m->expect[e].idx,
						     &after);
				if (err)
					goto read_failed;
				if (after - before[e] != repeat) {
					pr_err("%s, %s: %s counted %llu of %u frames\n", s->name,
					       m->label, m->expect[e].what,
					       (unsigned long long)(after - before[e]), repeat);
					return -EPROTO;
				}
			}
			if (m->flows_in) {
				err = flows_exist(b, m);
				if (err)
					return -EPROTO;
			}
		}
	}
	for (i = 0; i < N_INST; i++) {
		__u64 unregistered;

		if (!b->inst[i].skel)
			continue;
		err = percpu_packets(b, b->inst[i].skel->maps.xm_global,
				     XM_G_UNREGISTERED_IFACE, &unregistered);
		if (err)
			goto read_failed;
		if (unregistered) {
			pr_err("%s: %llu frames counted on an unregistered interface\n",
			       b->inst[i].label, (unsigned long long)unregistered);
			return -EPROTO;
		}
	}
	return 0;

read_failed:
	pr_err("cannot read the counters: %s\n", strerror(-err));
	return err;
}

/* The flow as tc_mcast_egress keys its xm_egress_cache slot: addresses
 * IPv4-mapped, as struct pol_pkt has them. */
static void egress_addrs(const struct xm_flow_key *key, __be32 group[4],
			 __be32 source[4])
{
	if (key->family == XM_AF_INET) {
		__be32 mapped[4] = { 0, 0, htonl(0x0000ffff), 0 };

		memcpy(group, mapped, sizeof(mapped));
		memcpy(source, mapped, sizeof(mapped));
		group[3] = key->group[0];
		source[3] = key->source[0];
	} else {
		memcpy(group, key->group, sizeof(key->group));
		memcpy(source, key->source, sizeof(key->source));
	}
}

/* Whether v, one CPU's value of a cache slot, holds the flow key: of
 * xm_flow_cache for XDP, of xm_egress_cache for TC. */
static bool slot_holds(enum run_kind kind, const void *v, const struct xm_flow_key *key)
{
	const struct xm_flow_slot *s = v;
	const struct xm_egress_slot *e = v;
	__be32 group[4], source[4];

	if (kind == RUN_XDP)
		return s->valid && !memcmp(&s->key, key, sizeof(*key));
	egress_addrs(key, group, source);
	return e->epoch && e->ifindex == key->ifindex &&
	       !memcmp(e->group, group, sizeof(group)) &&
	       !memcmp(e->source, source, sizeof(source));
}

/*
 * The share of runs that find their flow in in's cache: xm_flow_cache for
 * the XDP program, xm_egress_cache for the TC program (which fills it only
 * under a policy).  The flows are those of frame f, rotated over flows
 * sources as the front rotates them, or f's own when not rotated.  In a
 * round robin a flow finds its slot as it left it only when no other flow
 * of the round maps to the same slot, so this counts the flows alone in
 * their slot.  Which slot a flow takes is found by running its frame once
 * through the program and looking for it in this CPU's part of the cache.
 */
static int cache_hits(struct bench *b, struct inst *in, enum run_kind kind,
		      const struct frame *f, bool rotated, __u32 flows, double *share)
{
	struct bpf_map *map = kind == RUN_XDP ? in->skel->maps.xm_flow_cache :
						in->skel->maps.xm_egress_cache;
	size_t stride = (bpf_map__value_size(map) + 7) & ~(size_t)7;
	__u32 nslots = bpf_map__max_entries(map), count, i, j, alone = 0;
	struct meas probe = {
		.kind = kind,
		.prog_fd = kind == RUN_XDP ? in->xdp_fd : in->tc_fd,
		.target = -1,
	};
	char *v = calloc((size_t)nslots * b->ncpu, stride);
	__u32 *keys = calloc(nslots, sizeof(*keys));
	__u32 *per_slot = calloc(nslots, sizeof(*per_slot));
	__u32 *slot_of = calloc(flows, sizeof(*slot_of));
	struct frame pf = *f;
	__u32 ns, verdict, out_batch;
	int err = 0;

	probe.frame = &pf;
	if (!v || !keys || !per_slot || !slot_of) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < flows; i++) {
		struct xm_flow_key key = f->key;

		if (rotated) {
			flow_key_of(f, i, &key);
			memcpy(pf.data + pf.src_word, source_word(&key), sizeof(__u32));
		}
		err = run_once(b, &probe, 1, &ns, &verdict);
		if (err)
			goto out;
		count = nslots;
		if (bpf_map_lookup_batch(bpf_map__fd(map), NULL, &out_batch, keys, v,
					 &count, NULL) && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		for (j = 0; j < count; j++)
			if (slot_holds(kind, v + ((size_t)j * b->ncpu + b->cpu) * stride, &key))
				break;
		if (j == count) {
			pr_err("%s: flow %u of %u is in no slot of %s\n", in->label, i,
			       flows, bpf_map__name(map));
			err = -EPROTO;
			goto out;
		}
		slot_of[i] = keys[j];
		per_slot[keys[j] % nslots]++;
	}
	for (i = 0; i < flows; i++)
		alone += per_slot[slot_of[i] % nslots] == 1;
	*share = (double)alone / flows;
out:
	free(v);
	free(keys);
	free(per_slot);
	free(slot_of);
	return err;
}

/* ---- measuring ---- */

static int measure(struct bench *b)
{
	__u32 verdict;
	int t, i, k, err;

	for (t = 0; t < b->trials; t++) {
		for (i = 0; i < b->nsets; i++) {
			struct set *s = &b->sets[i];

			for (k = 0; k < s->n; k++) {
				struct meas *m = &s->m[t % 2 ? s->n - 1 - k : k];

				err = run_once(b, m, s->repeat, &m->ns[t], &verdict);
				if (err) {
					pr_err("%s, %s: test run failed: %s\n", s->name,
					       m->label, strerror(-err));
					return err;
				}
			}
		}
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static void summarise(struct meas *m, int trials)
{
	__u32 sorted[MAX_TRIALS];

	memcpy(sorted, m->ns, trials * sizeof(sorted[0]));
	qsort(sorted, trials, sizeof(sorted[0]), cmp_u32);
	m->min = sorted[0];
	m->max = sorted[trials - 1];
	if (trials % 2)
		m->median = sorted[trials / 2];
	else
		m->median = (sorted[trials / 2 - 1] + (double)sorted[trials / 2]) / 2;
}

static double ratio(double x, double base)
{
	return base > 0 ? x / base : 0;
}

static bool met(double r, double target)
{
	return r > 0 && r <= target;
}

/* What the front (xdp_rotate and its tail call) adds to every run: the
 * empty program behind it, less the empty program alone. */
static double front_ns(const struct bench *b, int flow_row)
{
	return b->sets[b->flow_set[flow_row]].m[0].median -
	       b->sets[b->cost_set[SC_MC4]].m[0].median;
}

/* What tc_rotate and its tail call add to every run: tc_pass behind it
 * (the last row of 3e) less tc_pass alone (the last row of 3c). */
static double tc_front_ns(const struct bench *b)
{
	const struct set *n = &b->sets[b->pol_new_tc], *c = &b->sets[b->pol_tc];

	return n->m[n->n - 1].median - c->m[c->n - 1].median;
}

/* The front of policy set si, 0 for the sets that run without one. */
static double set_front(const struct bench *b, int si)
{
	if (b->skip_policy)
		return 0;
	if (si == b->pol_flows || si == b->pol_new_xdp)
		return front_ns(b, N_FLOW_ROWS - 1);
	if (si == b->pol_new_tc)
		return tc_front_ns(b);
	return 0;
}

/* The ratio of two figures taken behind the front, with the front taken
 * out of both. */
static double net_ratio(double x, double base, double front)
{
	return ratio(x - front, base - front);
}

/* ---- output ---- */

static const char *range(const struct meas *m, char *buf, size_t len)
{
	snprintf(buf, len, "%u-%u", m->min, m->max);
	return buf;
}

static void print_cost(const struct bench *b)
{
	char e[24], x[24];
	size_t i;

	printf("1. cost: xdp-mcast next to the empty XDP program, one frame per scenario\n\n");
	printf("%-17s %7s %9s %7s %6s %6s  %-6s  %-9s %s\n", "scenario", "empty",
	       "xdp-mcast", "diff", "ratio", "target", "result", "empty", "xdp-mcast");
	printf("%-17s %7s %9s %7s %6s %6s  %-6s  %-9s %s\n", "", "ns/pkt", "ns/pkt",
	       "ns", "", "", "", "min-max", "min-max");
	for (i = 0; i < N_SCENARIOS; i++) {
		const struct set *s = &b->sets[b->cost_set[i]];
		const struct meas *e0 = &s->m[0], *m = &s->m[1];
		double r = ratio(m->median, e0->median);

		printf("%-17s %7.1f %9.1f %+7.1f %5.2fx %5.2fx  %-6s  %-9s %s\n", s->name,
		       e0->median, m->median, m->median - e0->median, r, m->target_ratio,
		       met(r, m->target_ratio) ? "met" : "missed",
		       range(e0, e, sizeof(e)), range(m, x, sizeof(x)));
	}
	printf("\n");
}

static void print_flows(const struct bench *b)
{
	double empty = b->sets[b->cost_set[SC_MC4]].m[0].median;
	char e[24], x[24];
	size_t i;

	printf("2. flows: mcast-ipv4-udp from 1 to 4096 sources in round robin, "
	       "behind xdp_rotate\n\n");
	printf("%-10s %6s %8s %9s %7s %6s %6s  %-9s %s\n", "flows", "cache", "empty",
	       "xdp-mcast", "diff", "net", "front", "empty", "xdp-mcast");
	printf("%-10s %6s %8s %9s %7s %6s %6s  %-9s %s\n", "", "hits", "+front",
	       "+front", "ns", "ratio", "ns", "min-max", "min-max");
	for (i = 0; i < N_FLOW_ROWS; i++) {
		const struct set *s = &b->sets[b->flow_set[i]];
		const struct meas *e0 = &s->m[0], *m = &s->m[1];
		double diff = m->median - e0->median;

		printf("%-10s %5.0f%% %8.1f %9.1f %+7.1f %5.2fx %+6.1f  %-9s %s\n", s->name,
		       100 * b->flow_hits[i], e0->median, m->median, diff,
		       ratio(empty + diff, empty), front_ns(b, i),
		       range(e0, e, sizeof(e)), range(m, x, sizeof(x)));
	}
	printf("\ncache hits: runs that find their flow in its xm_flow_cache slot "
	       "(probed);\nnet ratio: (empty + diff) / empty, with empty = %.1f ns from "
	       "table 1,\nthe ratio xdp-mcast would have next to the empty program "
	       "without the front;\nfront: what xdp_rotate and its tail call add "
	       "(empty+front - empty).\n\n", empty);
}

static void print_policy_set(const struct bench *b, int si, const char *title)
{
	const struct set *s = &b->sets[si];
	double base = s->m[0].median, front = set_front(b, si);
	char x[24];
	int k;

	printf("%s\n\n", title);
	printf("%-20s %7s %7s %6s %6s %6s  %-6s  %s\n", "policy", "ns/pkt", "diff",
	       "ratio", front ? "net" : "", "target", "result", "min-max");
	for (k = 0; k < s->n; k++) {
		const struct meas *m = &s->m[k];
		double r = ratio(m->median, base), nr = net_ratio(m->median, base, front);
		double judged = front ? nr : r;
		char rs[16] = "", ts[16] = "-", res[16] = "-";

		if (front)
			snprintf(rs, sizeof(rs), "%5.2fx", nr);
		if (m->target_ratio) {
			snprintf(ts, sizeof(ts), "%5.2fx", m->target_ratio);
			snprintf(res, sizeof(res), "%s",
				 met(judged, m->target_ratio) ? "met" : "missed");
		}
		printf("%-20s %7.1f %+7.1f %5.2fx %6s %6s  %-6s  %s\n", m->label,
		       m->median, m->median - base, r, rs, ts, res,
		       range(m, x, sizeof(x)));
	}
	printf("\n");
}

/* 3f: the ns each policy adds over no policy, cached next to uncached. */
static void print_policy_summary(const struct bench *b)
{
	const int si[] = { b->pol_one, b->pol_flows, b->pol_new_xdp, b->pol_tc,
			   b->pol_new_tc };
	size_t j;
	int k;

	printf("3f. what the policy adds, ns/pkt over no policy: steady state next to "
	       "a new flow\n\n");
	printf("%-20s %9s %9s %9s   %9s %9s\n", "", "XDP slot", "XDP flow", "XDP new",
	       "TC cache", "TC new");
	printf("%-20s %9s %9s %9s   %9s %9s\n", "policy", "(3a)", "(3b)", "(3d)",
	       "(3c)", "(3e)");
	for (k = INST_COPY; k < N_STEADY; k++) {
		printf("%-20s", b->inst[k].label);
		for (j = 0; j < ARRAY_SIZE(si); j++) {
			const struct set *s = &b->sets[si[j]];

			printf(" %+9.1f%s", s->m[k].median - s->m[0].median,
			       j == 2 ? "  " : "");
		}
		printf("\n");
	}
	printf("\n");
}

static void print_policies(const struct bench *b)
{
	char t3c[128], t3d[192], t3e[160];
	int i;

	printf("3. policy: xdp-mcast without a policy, and with N rules and boundaries "
	       "each way\n\n");
	printf("%-8s %10s %9s %7s %8s %7s %6s %8s\n", "policy", "boundaries",
	       "rules", "group", "source", "text", "parse", "install");
	printf("%-8s %10s %9s %7s %8s %7s %6s %8s\n", "N", "(lo)", "per dir", "nodes",
	       "entries", "MB", "s", "s");
	for (i = INST_POLICY; i < N_STEADY; i++) {
		const struct bench_policy *p = &b->inst[i].pol;

		printf("%-8d %10d %9d %7d %8d %7.1f %6.2f %8.2f\n", p->size,
		       p->sum.boundaries, p->rules, p->sum.group_nodes,
		       p->sum.source_entries, p->text_len / 1e6, p->parse_s, p->apply_s);
	}
	printf("\nSteady state (the target is judged here):\n\n");
	print_policy_set(b, b->pol_one, "3a. XDP ingress, one flow: the decision from "
			 "the flow's cache slot");
	print_policy_set(b, b->pol_flows, "3b. XDP ingress, 4096 flows in round robin "
			 "behind xdp_rotate: every packet\n    misses its cache slot "
			 "(table 2) and reads the decision from its xm_flows entry");
	snprintf(t3c, sizeof(t3c), "3c. TC egress, one flow: the lookups from its "
		 "xm_egress_cache slot (hits %.0f%%)", 100 * b->tc_hits_one);
	print_policy_set(b, b->pol_tc, t3c);
	printf("A new flow, or the first packet of a flow after a reload (no target):\n\n");
	snprintf(t3d, sizeof(t3d), "3d. XDP ingress, 4096 flows in round robin "
		 "behind xdp_rotate, xm_flows of %d:\n    every packet misses its "
		 "slot and its entry, creates the flow, walks the tries\n    "
		 "(repeat %u)", NEW_FLOW_TABLE, b->sets[b->pol_new_xdp].repeat);
	print_policy_set(b, b->pol_new_xdp, t3d);
	snprintf(t3e, sizeof(t3e), "3e. TC egress, 4096 flows in round robin behind "
		 "tc_rotate: xm_egress_cache hits %.0f%%,\n    every packet walks the "
		 "tries (repeat %u)", 100 * b->tc_hits_new, b->sets[b->pol_new_tc].repeat);
	print_policy_set(b, b->pol_new_tc, t3e);
	print_policy_summary(b);
	printf("ratio: ns/pkt / the no-policy row of the same table; net: the same "
	       "with the\nfront taken out of both (xdp_rotate: table 2, 4096 flows, "
	       "%+.1f ns; tc_rotate:\n3e's empty TC program less 3c's, %+.1f ns), "
	       "which is what 3b is judged on.\nThe 2nd copy is the same no-policy "
	       "program loaded again: its ratio shows\nthe noise between two copies. "
	       "The copies of 3d and 3e share the policy maps\nof those of 3a-3c; "
	       "3d's warm-up checks that every packet created its flow.\n\n",
	       front_ns(b, N_FLOW_ROWS - 1), tc_front_ns(b));
}

static void print_table(const struct bench *b, const struct utsname *u)
{
	printf("xdp-mcast bench: kernel %s, CPU %d of %ld, repeat %u, median of %d "
	       "trials\n\n", u->release, b->cpu, sysconf(_SC_NPROCESSORS_ONLN),
	       b->repeat, b->trials);
	print_cost(b);
	print_flows(b);
	if (!b->skip_policy)
		print_policies(b);
	printf("ns/pkt: median over the trials of the kernel's mean time per run "
	       "(whole ns);\nmin-max: the fastest and the slowest trial.\n");
}

static void print_json(const struct bench *b, const struct utsname *u)
{
	int i, k, t;

	printf("{\"kernel\":\"%s\",\"cpu\":%d,\"cpus\":%ld,\"repeat\":%u,\"trials\":%d,",
	       u->release, b->cpu, sysconf(_SC_NPROCESSORS_ONLN), b->repeat, b->trials);
	printf("\"flows\":[");
	for (i = 0; i < (int)N_FLOW_ROWS; i++)
		printf("%s{\"flows\":%u,\"cache_hits\":%.4f,\"front_ns\":%.1f}",
		       i ? "," : "", flow_counts[i], b->flow_hits[i], front_ns(b, i));
	printf("],\"policies\":[");
	for (i = INST_POLICY; i < N_STEADY && !b->skip_policy; i++) {
		const struct bench_policy *p = &b->inst[i].pol;

		printf("%s{\"size\":%d,\"boundaries\":%d,\"rules_per_dir\":%d,"
		       "\"group_nodes\":%d,\"source_entries\":%d,\"text_bytes\":%zu,"
		       "\"parse_s\":%.3f,\"install_s\":%.3f}", i > INST_POLICY ? "," : "",
		       p->size, p->sum.boundaries, p->rules, p->sum.group_nodes,
		       p->sum.source_entries, p->text_len, p->parse_s, p->apply_s);
	}
	printf("],");
	if (!b->skip_policy)
		printf("\"egress_cache_hits\":{\"one_flow\":%.4f,\"flows\":%u,"
		       "\"rotated\":%.4f},", b->tc_hits_one, POLICY_FLOWS, b->tc_hits_new);
	printf("\"sets\":[");
	for (i = 0; i < b->nsets; i++) {
		const struct set *s = &b->sets[i];
		double front = set_front(b, i);

		printf("%s{\"table\":\"%s\",\"name\":\"%s\",", i ? "," : "",
		       s->table, s->name);
		if (front)
			printf("\"front_ns\":%.1f,", front);
		printf("\"repeat\":%u,\"programs\":[", s->repeat);
		for (k = 0; k < s->n; k++) {
			const struct meas *m = &s->m[k];
			double r = ratio(m->median, s->m[0].median);

			printf("%s{\"label\":\"%s\",\"flows\":%u,\"median_ns\":%.1f,"
			       "\"min_ns\":%u,\"max_ns\":%u,\"ratio\":%.3f", k ? "," : "",
			       m->label, m->flows, m->median, m->min, m->max, r);
			if (front)
				printf(",\"net_ratio\":%.3f",
				       net_ratio(m->median, s->m[0].median, front));
			if (m->target_ratio)
				printf(",\"target\":%.2f,\"met\":%s", m->target_ratio,
				       met(front ? net_ratio(m->median, s->m[0].median, front) : r,
					   m->target_ratio) ? "true" : "false");
			printf(",\"trials_ns\":[");
			for (t = 0; t < b->trials; t++)
				printf("%s%u", t ? "," : "", m->ns[t]);
			printf("]}");
		}
		printf("]}");
	}
	printf("]}\n");
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_xdp [-j] [-r REPEAT] [-t TRIALS] [-c CPU] [-P] [-v]\n"
		"Per-packet cost of xdp-mcast next to an empty XDP program, over many\n"
		"flows, and with policies of 0 to 100000 rules (decisions cached, and\n"
		"for new flows), through BPF_PROG_TEST_RUN.  Needs root.\n"
		"  -j          JSON output\n"
		"  -r REPEAT   runs per trial (default %d)\n"
		"  -t TRIALS   trials per figure, the median is shown (default %d)\n"
		"  -c CPU      CPU to run on (default: the current one)\n"
		"  -P          skip the policy tables\n"
		"  -v          show libbpf's messages\n"
		"  -h          this help\n", DEF_REPEAT, DEF_TRIALS);
}

static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void bench_free(struct bench *b)
{
	int i, k;

	for (i = 0; i < b->nsets; i++)
		for (k = 0; k < b->sets[i].n; k++)
			free(b->sets[i].m[k].ns);
	for (i = 0; i < N_INST; i++)
		xdp_mcast_bpf__destroy(b->inst[i].skel);
	bench_helpers_bpf__destroy(b->helpers);
	xdp_pass_bpf__destroy(b->empty);
}

static int bench_run(struct bench *b)
{
	size_t i;
	int s, k, err;

	for (i = 0; i < N_SCENARIOS; i++) {
		if (build_frame(&scenarios[i], &b->frames[i])) {
			pr_err("%s: bad address in the scenario table\n", scenarios[i].name);
			return -EINVAL;
		}
	}
	if (build_frame(&rotating, &b->flow_frame))
		return -EINVAL;

	err = load_programs(b);
	if (err)
		return err;
	plan(b);
	for (s = 0; s < b->nsets; s++) {
		for (k = 0; k < b->sets[s].n; k++) {
			b->sets[s].m[k].ns = calloc(b->trials, sizeof(__u32));
			if (!b->sets[s].m[k].ns)
				return -ENOMEM;
		}
	}
	err = warm_up(b);
	if (!err)
		err = measure(b);
	for (i = 0; i < N_FLOW_ROWS && !err; i++)
		err = cache_hits(b, &b->inst[INST_BASE], RUN_XDP, &b->flow_frame, true,
				 flow_counts[i], &b->flow_hits[i]);
	if (!err && !b->skip_policy)
		err = cache_hits(b, &b->inst[N_STEADY - 1], RUN_TC, &b->frames[SC_MC4],
				 false, 1, &b->tc_hits_one);
	if (!err && !b->skip_policy)
		err = cache_hits(b, &b->inst[N_INST - 1], RUN_TC, &b->flow_frame, true,
				 POLICY_FLOWS, &b->tc_hits_new);
	if (err)
		return err;
	for (s = 0; s < b->nsets; s++)
		for (k = 0; k < b->sets[s].n; k++)
			summarise(&b->sets[s].m[k], b->trials);
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b = { .repeat = DEF_REPEAT, .trials = DEF_TRIALS, .cpu = -1 };
	bool json = false;
	struct utsname u;
	long v;
	int opt, err;

	xm_log_set_prog("bench_xdp");
	while ((opt = getopt(argc, argv, "jr:t:c:Pvh")) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'r':
			if (parse_num(optarg, 1, UINT32_MAX, &v)) {
				pr_err("bad repeat '%s'\n", optarg);
				return EX_USAGE;
			}
			b.repeat = v;
			break;
		case 't':
			if (parse_num(optarg, 1, MAX_TRIALS, &v)) {
				pr_err("bad trial count '%s' (1..%d)\n", optarg, MAX_TRIALS);
				return EX_USAGE;
			}
			b.trials = v;
			break;
		case 'c':
			if (parse_num(optarg, 0, CPU_SETSIZE - 1, &v)) {
				pr_err("bad CPU '%s'\n", optarg);
				return EX_USAGE;
			}
			b.cpu = v;
			break;
		case 'P':
			b.skip_policy = true;
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

	b.ncpu = libbpf_num_possible_cpus();
	if (b.ncpu < 0) {
		pr_err("cannot count the CPUs: %s\n", strerror(-b.ncpu));
		return EX_OSERR;
	}
	if (b.cpu < 0)
		b.cpu = sched_getcpu();
	if (b.cpu >= b.ncpu || pin_cpu(b.cpu))
		return EX_OSERR;

	err = bench_run(&b);
	if (!err) {
		if (json)
			print_json(&b, &u);
		else
			print_table(&b, &u);
	}
	bench_free(&b);
	if (!err)
		return 0;
	return err == -EPERM ? EX_NOPERM : EX_SOFTWARE;
}
