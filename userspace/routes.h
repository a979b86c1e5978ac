/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Two of the accelerator's route sources (the third, the kernel's MFC, is
 * mfc.c): the config's mroute lines, and the memberships of downstream
 * interfaces forwarded from the upstream one, as igmpproxy does it.
 * Both produce struct xm_mroute arrays for fwd_set_routes().
 */
#ifndef XM_ROUTES_H
#define XM_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "mroute.h"
#include "xdp_mcast_kern_user.h"

/* TTL threshold of the outgoing interfaces of static and membership
 * routes: smcroute's default VIF threshold.  Packets with TTL <= 1 are
 * never forwarded anyway, so this is "every packet". */
#define XM_ROUTE_TTL_DEFAULT	1

/* The config's mroute lines, interface names resolved with ifindex_of (a
 * name it does not know is skipped, with a count in *skipped).  *out is
 * malloc'ed (NULL when n is 0). */
int xm_routes_from_conf(const struct xm_conf *c, uint32_t (*ifindex_of)(const char *, void *),
			void *ctx, struct xm_mroute **out, size_t *n, size_t *skipped);

/* A membership as xm_members holds it, with its sources from
 * xm_member_src. */
struct xm_route_members {
	const struct xm_member_key *mk;
	const struct xm_member *mv;
	size_t nm;
	const struct xm_member_src_key *sk;
	const struct xm_member_src *sv;
	size_t ns;
};

/*
 * The routes that serve the memberships of the downstream interfaces
 * with traffic from upstream (an ifindex; 0: no routes at all).  Per
 * group G:
 *  - (*,G) to every port (interface, VLAN) in EXCLUDE mode, when any;
 *  - (S,G) for every source S that any port lists, to the EXCLUDE ports
 *    that do not block S and the INCLUDE ports that want S; left out when
 *    that is exactly the (*,G) set, and kept with no port at all when no
 *    port wants S while (*,G) exists (so S is dropped, not sent to all).
 * Memberships of other interfaces are ignored.  Sorted by family, group,
 * source.  *out is malloc'ed.
 */
int xm_routes_from_members(const struct xm_route_members *m, uint32_t upstream,
			   bool (*downstream)(uint32_t ifindex, void *ctx), void *ctx,
			   struct xm_mroute **out, size_t *n);

/* Read xm_members and xm_member_src into m (arrays malloc'ed; free with
 * xm_route_members_free()). */
int xm_route_members_read(int members_fd, int src_fd, struct xm_route_members *m);
void xm_route_members_free(struct xm_route_members *m);

#endif
