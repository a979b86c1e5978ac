/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The groups the router itself listens to: every group a socket (or the
 * kernel, or another daemon) has joined on one of the router's interfaces,
 * as /proc/net/igmp and /proc/net/igmp6 list them.  The accelerator leaves
 * such a group's traffic to the kernel where the kernel can both deliver
 * it locally and forward it (docs/accelerate.md, "Local listeners").
 *
 * The kernel announces a device joining or leaving a group on
 * RTNLGRP_IPV4_MCADDR and RTNLGRP_IPV6_MCADDR (RTM_NEWMULTICAST,
 * RTM_DELMULTICAST; Linux 6.13 and later).  Each announcement only wakes
 * the module, which then reads both files again: they are the whole truth,
 * on every kernel.  A kernel without the announcements is polled every
 * LISTENERS_POLL_MS instead, and so is one whose socket lost some
 * (ENOBUFS).
 *
 * Link-local groups (224.0.0.0/24, IPv6 scope 2 and below) are left out:
 * every interface joins 224.0.0.1 and ff02::1, and such groups are never
 * accelerated anyway.
 */
#ifndef XM_LISTENERS_H
#define XM_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define LISTENERS_POLL_MS	1000

struct xm_listener {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t pad[3];
	uint32_t ifindex;	/* the interface that joined */
	__be32 group[4];	/* network order; IPv4 in [0] */
};

struct listeners;

/* The whole list, sorted by (family, group, ifindex), each time it
 * changed.  The array belongs to the module and lives until the next
 * call. */
typedef void (*listeners_cb)(void *ctx, const struct xm_listener *l, size_t n);

/* 0 or a negative errno.  Calls cb once with the list as read. */
int listeners_open(struct listeners **out, listeners_cb cb, void *ctx);
/* The notification socket, for poll() (-1 when polling). */
int listeners_fd(const struct listeners *ls);
/* Milliseconds until listeners_process() wants to run; -1 never. */
int listeners_timeout_ms(const struct listeners *ls);
/* Reads what the kernel sent and, on news or when due, the files again;
 * calls cb on a change. */
void listeners_process(struct listeners *ls);
void listeners_close(struct listeners *ls);

/* Parse the text of /proc/net/igmp (family AF_INET) or /proc/net/igmp6
 * (AF_INET6), appending to *l (realloc'ed, *n entries, *cap allocated).
 * Link-local groups are skipped.  0 or -ENOMEM.  (For the unit tests.) */
int listeners_parse(int family, const char *text, struct xm_listener **l, size_t *n,
		    size_t *cap);

/* Whether a group never leaves its link (224.0.0.0/24, ff0X:: with scope
 * X of 2 or less). */
bool xm_group_link_local(int family, const __be32 group[4]);

#endif
