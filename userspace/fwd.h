/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The accelerator's forwarding table: the routes of every source, merged,
 * and kept in the data path's maps (xm_fwd, xm_fwd_wild, xm_fwd_ports;
 * docs/accelerate.md).
 *
 * Each source of routes hands over its whole set whenever it changes:
 *
 *	fwd_init(&f, pin_dir);
 *	fwd_set_routes(f, XM_ORIGIN_STATIC, conf_routes, n);	   config
 *	fwd_set_routes(f, XM_ORIGIN_MEMBERSHIP, mship_routes, n);  snooping
 *	fwd_set_routes(f, XM_ORIGIN_KERNEL, mfc_routes, n);	   ipmr mirror
 *	...
 *	fwd_exit(f);
 *
 * fwd_set_routes() replaces every route of that origin and leaves the
 * others alone.  Routes are merged per key, the key being (family, source
 * prefix, group prefix): one route per key is in force, the one of the
 * origin of highest precedence, and its outgoing interfaces are taken
 * whole, never merged with those of another origin:
 *
 *	XM_ORIGIN_STATIC  >  XM_ORIGIN_KERNEL  >  XM_ORIGIN_MEMBERSHIP
 *
 * Between keys the data path picks the most specific: (S,G) before (*,G),
 * a longer group prefix before a shorter one, then a longer source prefix
 * (as the kernel's MFC prefers (S,G) over (*,G)).
 *
 * Only what changed is written, each key with one map update, so a packet
 * sees a key's old route or its new one, never a mix, and never two
 * copies on one interface.  Interfaces are ifindexes in the daemon's
 * network namespace; an 802.1Q device (eth1.20) stands for its lower
 * device with that tag, and so does xm_mroute_oif.vlan / iif_vlan on the
 * lower device itself.
 *
 * Every function returns 0 or a negative errno.  A route that cannot be
 * accelerated (an interface that is not a phyint in accelerate mode, two
 * VLANs on one port, ...) is left to the kernel and counted in
 * struct fwd_stats; that is not an error.
 */
#ifndef XM_FWD_H
#define XM_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listeners.h"
#include "mroute.h"
#include "xdp_mcast_kern_user.h"

struct fwd;

/* Open the pinned forwarding maps and the egress program under pin_dir
 * (the data path must be loaded) and adopt nothing: the table starts
 * empty and every pinned entry is cleared. */
int fwd_init(struct fwd **out, const char *pin_dir);

/* Replace every route of origin by the n routes r (n may be 0).  r is
 * copied.  Routes with the same key within one call: the last one wins. */
int fwd_set_routes(struct fwd *f, enum xm_mroute_origin origin,
		   const struct xm_mroute *r, size_t n);

/* An interface's forwarding mode and proxy role in xm_ifaces (it must be
 * loaded), and its MAC, read again.  Takes effect with the next packet;
 * call fwd_refresh() after the last one. */
int fwd_set_iface(struct fwd *f, uint32_t ifindex, enum xm_fwd_mode mode,
		  enum xm_fwd_role role);

/*
 * The groups the router itself has joined, per interface (listeners.h),
 * replacing the last list; l is copied.  An exact-group entry whose
 * incoming interface (port and VLAN) joined its group gets
 * XM_FWD_F_LISTENER, and XM_FWD_F_KERNEL as well when its route is the
 * kernel's: the data path then passes its frames and ipmr both delivers
 * them locally and forwards them.  A config or membership route is not in
 * the kernel's MFC, so the kernel would not forward it: it stays
 * accelerated, with a warning that the local listener gets nothing.
 */
int fwd_set_listeners(struct fwd *f, const struct xm_listener *l, size_t n);

/* Interfaces changed (a phyint's mode, an address, a MAC, a VLAN device):
 * resolve every route again and write what changed. */
int fwd_refresh(struct fwd *f);

struct fwd_stats {
	size_t routes[3];	/* by origin, as handed over */
	size_t entries;		/* keys in force in the maps */
	size_t port_sets;	/* distinct outgoing sets (inner maps) */
	size_t not_accelerated;	/* routes left to the kernel */
};
void fwd_stats(const struct fwd *f, struct fwd_stats *out);

/* Remove every entry this table wrote and close the maps. */
void fwd_exit(struct fwd *f);
/* Close the maps and leave the entries in place (daemon --keep). */
void fwd_close(struct fwd *f);

/* "membership", "static", "kernel". */
const char *fwd_origin_name(enum xm_mroute_origin o);

#endif
