/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's snooping module: IGMP and MLD messages from the XDP
 * program's ring buffer into the membership state machine (mship.c), its
 * changes into xm_members and xm_member_src, its queries onto the wire
 * through an AF_PACKET socket, its counters into xm_snoop_ctr.
 *
 *	snoop_init(); snoop_apply(conf);
 *	loop: ppoll(snoop_fd(), until snoop_next_deadline()); snoop_process();
 *	snoop_exit();
 */
#ifndef XM_SNOOP_H
#define XM_SNOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "mship.h"

struct snoop;

/* Latency from a message's arrival in XDP to its last map update. */
struct snoop_latency {
	uint64_t count;
	uint64_t p50_ns, p99_ns, max_ns;
};

/* Open the pinned maps under pin_dir and start reading the ring.  send
 * false: queries are built but not sent (for the benchmark). */
int snoop_init(struct snoop **out, const char *pin_dir, bool send);
/* Follow conf: links for its phyints, their settings, static joins, and
 * the policy that forbids joins.  conf must stay valid until the next
 * call.  Interfaces must be loaded (their slots known). */
int snoop_apply(struct snoop *s, const struct xm_conf *conf);
/* The fd to poll for messages. */
int snoop_fd(const struct snoop *s);
/* Milliseconds until snoop_process() has timers to run; -1 none. */
int snoop_timeout_ms(const struct snoop *s);
/* Read what the ring holds, run timers, write the changes to the maps,
 * publish counters when due. */
void snoop_process(struct snoop *s);
/* Write now what snoop_process() would write at the end of its turn:
 * every group changed since the last write (see on_change() in snoop.c).
 * For callers of snoop_event(): benchmarks and tests. */
void snoop_flush(struct snoop *s);
/* Feed one raw event, as the ring callback does (the benchmark's way in). */
void snoop_event(struct snoop *s, const void *data, size_t len);
void snoop_latency(const struct snoop *s, struct snoop_latency *out);
size_t snoop_ngroups(const struct snoop *s);
/* Moves whenever a group appears, goes, or changes what it forwards (mode
 * or sources): the accelerator's membership routes are due again. */
uint64_t snoop_generation(const struct snoop *s);
/* Stop reading, publish the counters; the maps stay as they are. */
void snoop_exit(struct snoop *s);

/* CLOCK_MONOTONIC in milliseconds, what the state machine runs on. */
uint64_t snoop_now_ms(void);

#endif
