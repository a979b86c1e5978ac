/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bench_xdp.c (the harness and the tables) and bench_policy.c (the
 * synthetic policies) share: the address plan of the measured packets and
 * the policies built around them.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <linux/types.h>

#include "policy.h"
#include "xdp_mcast.skel.h"

#define BENCH_IFINDEX		1	/* lo: exists in every namespace */
#define BENCH_IFNAME		"lo"

/* The multicast packets every policy is built around.  The single-flow
 * frame is BENCH_SOURCE -> BENCH_GROUP; the round-robin flows come from
 * sources in BENCH_FLOW_BASE/16 (bench_flow_word()) to BENCH_GROUP
 * (198.18.0.0/15 is the benchmarking range, RFC 2544). */
#define BENCH_GROUP		"239.1.1.1"
#define BENCH_SOURCE		"192.0.2.1"
#define BENCH_FLOW_BASE		"198.18.0.0"

/*
 * The rules of every policy (but the empty one) that decide the measured
 * packets, in both directions, in this order at the head of the file.  The
 * measured packets fall through all of them to an allow, so the verdict
 * stays pass and the frame keeps being counted:
 *   BENCH_SOURCE      -> BENCH_GROUP: PATH_32_ALLOW wins
 *   BENCH_FLOW_BASE+i -> BENCH_GROUP: PATH_24_ALLOW wins
 */
enum bench_path_rule {
	PATH_8_DENY,		/* deny group 239.0.0.0/8 */
	PATH_16_ALLOW,		/* allow group 239.1.0.0/16 source 192.0.2.0/24 */
	PATH_24_ALLOW,		/* allow group 239.1.1.0/24 source 198.18.0.0/15 */
	PATH_32_DENY,		/* deny group 239.1.1.1 source 203.0.113.0/24 */
	PATH_32_ALLOW,		/* allow group 239.1.1.1 source 192.0.2.1 */
	PATH_RULES
};

/* One installed policy of `size` rules and boundaries. */
struct bench_policy {
	int size;		/* what each direction's decision faces */
	int boundaries;		/* on lo; they apply both ways */
	int rules;		/* per direction; the file holds 2 * rules */
	size_t text_len;	/* bytes of xdp-mcast.conf text */
	double parse_s;		/* xm_conf_load_buffer() */
	double apply_s;		/* xm_policy_apply() */
	struct xm_policy_summary sum;
	__u32 hit_base;		/* first xm_pol_hits index of the epoch */
};

/* Size the policy maps of an opened, not yet loaded skeleton for a policy
 * of size rules and boundaries, as the loader's --policy-size would. */
int bench_policy_size_maps(struct xdp_mcast_bpf *skel, int size);

/* Write the policy of size rules and boundaries as xdp-mcast.conf text,
 * parse it with the config parser and install it with xm_policy_apply()
 * into the skeleton's maps.  lo must be registered in xm_ifaces already. */
int bench_policy_install(struct xdp_mcast_bpf *skel, int size,
			 struct bench_policy *p);

/* The xm_pol_hits index of path rule r in direction dir, or -1 when the
 * policy has no path rules (size 0). */
long bench_policy_hit(const struct bench_policy *p, int dir,
		      enum bench_path_rule r);

double bench_now(void);		/* CLOCK_MONOTONIC, seconds */

#endif
