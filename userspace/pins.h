/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pin directory: where the data path's state lives between commands
 * and across daemon restarts.  One directory per network namespace.
 */
#ifndef XM_PINS_H
#define XM_PINS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* --pin-path, else $XDP_MCAST_PIN_PATH, else the default. */
const char *xm_pin_dir(const char *opt);

/* Make sure dir can hold pins: its parent must be on a bpffs.  Mounts a
 * bpffs on /sys/fs/bpf when dir is below it and nothing is mounted there;
 * *mounted says whether that happened. */
int xm_bpffs_ensure(const char *dir, bool *mounted);

/* Create dir if asked and take an exclusive flock() on it, so that two
 * loaders never interleave.  Returns the fd to close, or a negative errno. */
int xm_pin_lock(const char *dir, bool create);

/* dir/name into buf; -ENAMETOOLONG when it does not fit. */
int xm_pin_join(char *buf, size_t len, const char *dir, const char *name);

/* The pinned maps, opened for reading and updating. */
struct xm_state {
	int ifaces_fd;
	int reasons_fd;
	int flows_fd;
	int global_fd;
	int flow_cache_fd;
};

/* -ENOENT when nothing is loaded under dir. */
int xm_state_open(const char *dir, struct xm_state *st);
void xm_state_close(struct xm_state *st);

#endif
