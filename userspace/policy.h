/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compiling a policy (struct xm_conf) into the data path's maps, and
 * switching to it atomically: everything is written under the generation
 * the data path is not using, then one update of xm_config switches.
 */
#ifndef XM_POLICY_H
#define XM_POLICY_H

#include <stdint.h>

#include "conf.h"

struct xm_policy_maps {
	int config_fd;
	int ifaces_fd;
	int boundary_fd;
	int rule_grp_fd;
	int rule_src_fd;
	int hits_fd;
	int desc_fd;
	uint32_t hits_size;	/* entries of xm_pol_hits and xm_pol_desc */
};

int xm_policy_maps_open(const char *pin_dir, struct xm_policy_maps *m);
void xm_policy_maps_close(struct xm_policy_maps *m);

/* Interface name to ifindex, 0 when there is none. */
typedef uint32_t (*xm_ifindex_fn)(const char *name, void *ctx);

struct xm_policy_summary {
	uint32_t epoch;		/* now in force */
	int boundaries;		/* boundary prefixes installed */
	int rules;		/* rules of the config */
	int group_nodes;	/* xm_rule_grp entries */
	int source_entries;	/* xm_rule_src entries */
};

/* Install c and switch to it.  On failure the running policy is untouched
 * (what was written under the unused generation is removed again). */
int xm_policy_apply(const struct xm_policy_maps *m, const struct xm_conf *c,
		    xm_ifindex_fn ifindex_of, void *ctx,
		    struct xm_policy_summary *sum);

/* Switch the policy off and clear both generations. */
int xm_policy_clear(const struct xm_policy_maps *m);

/* The generation in force and the first xm_pol_hits index it uses. */
int xm_policy_current(const struct xm_policy_maps *m, struct xm_config *cfg,
		      uint32_t *hit_base);

#endif
