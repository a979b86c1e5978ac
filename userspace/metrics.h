/* SPDX-License-Identifier: GPL-2.0-only
 *
 * The Prometheus metrics: a snapshot in the text exposition format
 * (version 0.0.4).  Every metric is listed in docs/metrics.md.  A pure
 * function of the snapshot, so the unit tests check it without a kernel.
 */
#ifndef XM_METRICS_H
#define XM_METRICS_H

#include <stdio.h>

#include "snapshot.h"

#define XM_METRICS_TOP_DEFAULT	10	/* groups with their own series */
#define XM_METRICS_TOP_MAX	1000

/*
 * Writes every metric of s (read with XM_SNAP_ALL) to f.  Per-group series
 * exist for the top_groups groups with the most bytes counted in the flow
 * table; the other groups are summed into group="other", and
 * xdp_mcast_groups_folded says how many they are.
 */
void xm_metrics_write(FILE *f, const struct xm_snapshot *s, int top_groups);

#endif
