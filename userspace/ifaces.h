/* SPDX-License-Identifier: GPL-2.0-only */
/* The interfaces registered in xm_ifaces (an ARRAY indexed by ifindex). */
#ifndef XM_IFACES_H
#define XM_IFACES_H

#include <net/if.h>
#include <stdint.h>

#include "xdp_mcast_kern_user.h"

struct xm_iface_entry {
	uint32_t ifindex;
	struct xm_iface cfg;
};

/* The registered interfaces (slot != 0) by ifindex; *out is malloc'ed.
 * Returns the count or a negative errno. */
int xm_list_ifaces(int ifaces_fd, struct xm_iface_entry **out);

/* The whole table, indexed by ifindex; *out is malloc'ed.  Returns the
 * number of entries or a negative errno. */
int xm_ifaces_read_all(int ifaces_fd, struct xm_iface **out);

/* Forget an interface: its entry becomes all zeroes. */
int xm_iface_unregister(int ifaces_fd, uint32_t ifindex);

/* The interface's current name, or the one it had when it was loaded. */
const char *xm_iface_name(const struct xm_iface_entry *e, char buf[IF_NAMESIZE]);

const char *xm_attach_mode_name(uint8_t mode);

/* The interface's Ethernet address; all zeroes when it has none. */
int xm_iface_mac(const char *ifname, uint8_t mac[6]);

/* An 802.1Q device stands for its lower device with a tag: *lower and
 * *vid are set to those; any other interface is its own lower, vid 0.
 * Returns 0 or -ENODEV. */
int xm_iface_port(uint32_t ifindex, uint32_t *lower, uint16_t *vid);

#endif
