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
 *     (bench_policy.c), each a separately loaded copy with its own maps:
 *     a. XDP, one flow: the decision is taken once and then read from the
 *        flow's cache slot (the operational case);
 *     b. XDP, 4096 flows in round robin: every packet misses the flow
 *        cache and takes the whole decision;
 *     c. the TC egress program, which has no cache: every packet decides.
 *
 * Before measuring, a warm-up run of every program checks that it takes
 * the path meant: the verdict, the counter it must count in (the
 * per-interface reason, and the policy rule that must decide), the flows
 * in xm_flows.  Results are printed, never judged: the exit status is 0
 * unless something failed.
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
#define POLICY_FLOWS	4096	/* table 3b: every packet misses the cache */

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
	int target;		/* its xdp_mcast in bench_targets */
	int policy;		/* rules and boundaries installed, -1: none */
	struct bench_policy pol;
};

enum {
	INST_BASE,		/* no policy: tables 1 and 2, baseline of 3 */
	INST_COPY,		/* no policy, a second copy: the noise of 3 */
	INST_POLICY,		/* then one per policy size */
	N_INST = INST_POLICY + N_POLICIES,
};
#define TARGET_PASS	0	/* bench_targets[0] is xdp_pass */

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
	struct expect expect[2];
	int nexpect;
	struct inst *flows_in;	/* check the flows exist in its xm_flows */
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
	struct meas m[MAX_MEAS];
	int n;
};

struct bench {
	struct xdp_pass_bpf *empty;
	struct bench_helpers_bpf *helpers;
	struct inst inst[N_INST];
	int empty_fd, tc_pass_fd, rotate_fd;
	struct frame frames[N_SCENARIOS];
	struct frame flow_frame;
	struct set sets[MAX_SETS];
	int nsets;
	/* sets of each table, by index in sets[] */
	int cost_set[N_SCENARIOS], flow_set[N_FLOW_ROWS];
	int pol_one, pol_flows, pol_tc;
	double flow_hits[N_FLOW_ROWS];	/* fraction of runs that hit the cache */
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
		fd = b->rotate_fd;
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
	if (policy > 0) {
		err = bench_policy_size_maps(in->skel, policy);
		if (err) {
			pr_err("cannot size the policy maps: %s\n", strerror(-err));
			return err;
		}
	}
	err = xdp_mcast_bpf__load(in->skel);
	if (err) {
		pr_err("cannot load xdp_mcast: %s%s\n", strerror(-err),
		       err == -EPERM ? " (run as root)" : "");
		return err;
	}
	if (bpf_map__update_elem(in->skel->maps.xm_ifaces, &ifindex, sizeof(ifindex),
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
	if (policy >= 0) {
		err = bench_policy_install(in->skel, policy, &in->pol);
		if (err)
			return err;
	}
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
	if (bpf_map__update_elem(b->helpers->maps.bench_targets, &zero, sizeof(zero),
				 &b->empty_fd, sizeof(b->empty_fd), BPF_ANY)) {
		err = -errno;
		pr_err("cannot put xdp_pass in bench_targets: %s\n", strerror(-err));
		return err;
	}

	n = b->skip_policy ? INST_COPY : N_INST;
	for (i = 0; i < n; i++) {
		static char labels[N_POLICIES][32];
		const char *label = i == INST_BASE ? "no policy" : "no policy, 2nd copy";
		int policy = -1;

		if (i >= INST_POLICY) {
			policy = policy_sizes[i - INST_POLICY];
			snprintf(labels[i - INST_POLICY], sizeof(labels[0]), "%d rules",
				 policy);
			label = labels[i - INST_POLICY];
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
	return s;
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
	for (k = 0; k < N_INST; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_XDP, in->xdp_fd, mc4, XDP_PASS);
		expect_forward(m, in, XM_DIR_IN);
		expect_rule(m, in, XM_DIR_IN, PATH_32_ALLOW);
		if (k >= INST_POLICY)
			m->target_ratio = POLICY_TARGET;
	}

	b->pol_flows = b->nsets;
	s = new_set(b, "policy-xdp-flows", "mcast-ipv4-udp, 4096 flows");
	for (k = 0; k < N_INST; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_XDP, in->xdp_fd, &b->flow_frame, XDP_PASS);
		behind_rotate(m, in->target, POLICY_FLOWS);
		expect_forward(m, in, XM_DIR_IN);
		expect_rule(m, in, XM_DIR_IN, PATH_24_ALLOW);
		if (k >= INST_POLICY)
			m->target_ratio = POLICY_TARGET;
	}

	b->pol_tc = b->nsets;
	s = new_set(b, "policy-tc", "mcast-ipv4-udp, TC egress");
	for (k = 0; k < N_INST; k++) {
		struct inst *in = &b->inst[k];

		m = add_meas(s, in->label, RUN_TC, in->tc_fd, mc4, TC_ACT_OK);
		expect_forward(m, in, XM_DIR_OUT);
		expect_rule(m, in, XM_DIR_OUT, PATH_32_ALLOW);
		if (k >= INST_POLICY)
			m->target_ratio = POLICY_TARGET;
	}
	add_meas(s, "empty TC program", RUN_TC, b->tc_pass_fd, mc4, TC_ACT_OK);
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

/* 0 when every flow the measurement sends is in xm_flows. */
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
			__u32 repeat = b->repeat / 10;

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

/*
 * The share of round-robin runs that find their flow in the flow cache.
 * In a round robin a flow finds its slot as it left it only when no other
 * flow of the round maps to the same slot, so this counts the flows alone
 * in their slot.  Which slot a flow takes is found by running its frame
 * once and looking for its key in this CPU's part of xm_flow_cache.
 */
static int cache_hits(struct bench *b, struct inst *in, __u32 flows, double *share)
{
	int fd = bpf_map__fd(in->skel->maps.xm_flow_cache);
	__u32 nslots = XM_FLOW_CACHE_SLOTS, count, i, j, alone = 0;
	struct meas probe = { .kind = RUN_XDP, .prog_fd = in->xdp_fd, .target = -1 };
	struct xm_flow_slot *v = calloc((size_t)nslots * b->ncpu, sizeof(*v));
	__u32 *keys = calloc(nslots, sizeof(*keys));
	__u32 *per_slot = calloc(nslots, sizeof(*per_slot));
	__u32 *slot_of = calloc(flows, sizeof(*slot_of));
	struct frame f = b->flow_frame;
	__u32 ns, verdict, out_batch;
	int err = 0;

	probe.frame = &f;
	if (!v || !keys || !per_slot || !slot_of) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < flows; i++) {
		struct xm_flow_key key;

		flow_key_of(&b->flow_frame, i, &key);
		memcpy(f.data + f.src_word, source_word(&key), sizeof(__u32));
		err = run_once(b, &probe, 1, &ns, &verdict);
		if (err)
			goto out;
		count = nslots;
		if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, v, &count, NULL) &&
		    errno != ENOENT) {
			err = -errno;
			goto out;
		}
		for (j = 0; j < count; j++) {
			struct xm_flow_slot *s = &v[(size_t)j * b->ncpu + b->cpu];

			if (s->valid && !memcmp(&s->key, &key, sizeof(key)))
				break;
		}
		if (j == count) {
			pr_err("flow %u of %u is in no slot of %s\n", i, flows,
			       XM_MAP_FLOW_CACHE);
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

				err = run_once(b, m, b->repeat, &m->ns[t], &verdict);
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

static void print_policy_set(const struct bench *b, int si, const char *title,
			     double front)
{
	const struct set *s = &b->sets[si];
	double base = s->m[0].median;
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

static void print_policies(const struct bench *b)
{
	int i;

	printf("3. policy: xdp-mcast without a policy, and with N rules and boundaries "
	       "each way\n\n");
	printf("%-8s %10s %9s %7s %8s %7s %6s %8s\n", "policy", "boundaries",
	       "rules", "group", "source", "text", "parse", "install");
	printf("%-8s %10s %9s %7s %8s %7s %6s %8s\n", "N", "(lo)", "per dir", "nodes",
	       "entries", "MB", "s", "s");
	for (i = INST_POLICY; i < N_INST; i++) {
		const struct bench_policy *p = &b->inst[i].pol;

		printf("%-8d %10d %9d %7d %8d %7.1f %6.2f %8.2f\n", p->size,
		       p->sum.boundaries, p->rules, p->sum.group_nodes,
		       p->sum.source_entries, p->text_len / 1e6, p->parse_s, p->apply_s);
	}
	printf("\n");
	print_policy_set(b, b->pol_one, "3a. XDP ingress, one flow: the decision "
			 "cached in the flow's slot", 0);
	print_policy_set(b, b->pol_flows, "3b. XDP ingress, 4096 flows in round robin "
			 "behind xdp_rotate: every packet decides", front_ns(b, N_FLOW_ROWS - 1));
	print_policy_set(b, b->pol_tc, "3c. TC egress (no cache): every packet decides", 0);
	printf("ratio: ns/pkt / the no-policy row of the same table; net: the same "
	       "with\nthe front (table 2, 4096 flows) taken out of both, which is what "
	       "3b is\njudged on.  The 2nd copy is the same no-policy program loaded "
	       "again:\nits ratio shows the noise between two copies.\n\n");
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
	for (i = INST_POLICY; i < N_INST && !b->skip_policy; i++) {
		const struct bench_policy *p = &b->inst[i].pol;

		printf("%s{\"size\":%d,\"boundaries\":%d,\"rules_per_dir\":%d,"
		       "\"group_nodes\":%d,\"source_entries\":%d,\"text_bytes\":%zu,"
		       "\"parse_s\":%.3f,\"install_s\":%.3f}", i > INST_POLICY ? "," : "",
		       p->size, p->sum.boundaries, p->rules, p->sum.group_nodes,
		       p->sum.source_entries, p->text_len, p->parse_s, p->apply_s);
	}
	printf("],\"sets\":[");
	for (i = 0; i < b->nsets; i++) {
		const struct set *s = &b->sets[i];
		double front = i == b->pol_flows && !b->skip_policy ?
			       front_ns(b, N_FLOW_ROWS - 1) : 0;

		printf("%s{\"table\":\"%s\",\"name\":\"%s\",\"programs\":[", i ? "," : "",
		       s->table, s->name);
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
		"flows, and with policies of 0 to 100000 rules, through\n"
		"BPF_PROG_TEST_RUN.  Needs root.\n"
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
		err = cache_hits(b, &b->inst[INST_BASE], flow_counts[i], &b->flow_hits[i]);
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
