/* SPDX-License-Identifier: GPL-2.0-only */
/* IGMP and MLD queries as whole Ethernet frames, for an AF_PACKET socket:
 * the querier sends on trunks too, with the VLAN tag of the link. */
#ifndef XM_QUERY_H
#define XM_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "mship.h"

#define XM_QUERY_FRAME_MAX	1536

/* Build the frame for action a, from source MAC smac, into buf.  Returns
 * its length, or 0 when it does not fit or the action is malformed. */
size_t xm_query_build(const struct xm_mship_action *a, const uint8_t smac[6],
		      uint8_t *buf, size_t len);

#endif
