/* SPDX-License-Identifier: GPL-2.0-only */
/* The subcommands of xdp-mcast.  Each returns 0 or a negative errno, after
 * saying what went wrong; main() turns that into an exit code. */
#ifndef XM_LOADER_H
#define XM_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "xdp_mcast_kern_user.h"

struct load_opts {
	const char *pin_dir;
	enum xm_attach_mode mode;
	uint32_t flows;		/* flow table size; 0 = keep / default */
	bool check_mac;
};

int xm_cmd_load(const struct load_opts *o, char **ifnames, int n);
int xm_cmd_unload(const char *pin_dir, char **ifnames, int n, bool all);
int xm_cmd_status(const char *pin_dir, bool json);
int xm_cmd_stats(const char *pin_dir, bool json, const char *ifname);

/* Shared by load, unload and the readers. */
struct xm_iface_entry {
	uint32_t ifindex;
	struct xm_iface cfg;
};

/* The registered interfaces sorted by ifindex; *out is malloc'ed. */
int xm_list_ifaces(int ifaces_fd, struct xm_iface_entry **out);
const char *xm_attach_mode_name(uint8_t mode);
/* The interface's current name, or the one it had at load time. */
const char *xm_iface_name(const struct xm_iface_entry *e, char *buf);
/* Not loaded: say so in one line for the command at hand. */
int xm_report_not_loaded(const char *pin_dir, int err);

#endif
