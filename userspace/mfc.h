/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's multicast forwarding cache (ipmr and ip6mr), mirrored
 * through rtnetlink: routes installed by smcroute, pimd or FRR become
 * struct xm_mroute records of origin XM_ORIGIN_KERNEL, so that an existing
 * multicast router is accelerated without changing its daemon.
 *
 * The module dumps both tables when opened, follows the RTNLGRP_IPV4_MROUTE
 * and RTNLGRP_IPV6_MROUTE notifications, and dumps again every
 * MFC_RESYNC_MS, because the kernel says nothing when a VIF goes away under
 * an entry.  Each time the table may have changed it hands the whole table
 * to the callback; the receiver (the forwarding table) applies the
 * difference.
 *
 * Mirrored: the entries of the default multicast routing table of each
 * family (ipmr's RT_TABLE_DEFAULT, ip6mr's RT_TABLE_MAIN: the ones
 * smcroute, pimd and FRR's default VRF use),
 * resolved ones only.  (S,G) entries keep their source; (*,G) entries
 * (source 0.0.0.0 or ::) become source prefix length 0; (*,*) entries are
 * left out.  An outgoing interface carries the entry's TTL threshold for
 * it (ipmr's ttls[vif], which smcroute and pimd fill from the VIF's
 * threshold; ip6mr has no thresholds and reports 1).
 */
#ifndef XM_MFC_H
#define XM_MFC_H

#include <stddef.h>

#include "mroute.h"

#define MFC_RESYNC_MS	5000

struct mfc;

/* The whole mirrored table, each time it may have changed.  The array
 * belongs to the module and lives until the next call. */
typedef void (*mfc_cb)(void *ctx, const struct xm_mroute *routes, size_t n);

/* 0 or a negative errno.  Calls cb once with the table as dumped. */
int mfc_open(struct mfc **out, mfc_cb cb, void *ctx);
/* The resync period (default MFC_RESYNC_MS; 0: never), from now on. */
void mfc_set_resync_ms(struct mfc *m, unsigned int ms);
/* The netlink socket, for poll(). */
int mfc_fd(const struct mfc *m);
/* Milliseconds until mfc_process() wants to run (the resync). */
int mfc_timeout_ms(const struct mfc *m);
/* Reads what the kernel sent, resyncs when due, calls cb on a change. */
void mfc_process(struct mfc *m);
/* The table as the module holds it now. */
const struct xm_mroute *mfc_routes(const struct mfc *m, size_t *n);
void mfc_close(struct mfc *m);

#endif
