/* SPDX-License-Identifier: GPL-2.0-only */
/* The subcommands of xdp-mcast.  Each returns 0 or a negative errno, after
 * saying what went wrong; main() turns that into an exit code. */
#ifndef XM_LOADER_H
#define XM_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "ifaces.h"
#include "pins.h"
#include "xdp_mcast_kern_user.h"

struct load_opts {
	const char *pin_dir;
	enum xm_attach_mode mode;
	uint32_t flows;		/* flow table size; 0 = keep / default */
	uint32_t max_ifindex;	/* xm_ifaces size; 0 = keep / default */
	uint32_t policy_size;	/* policy table size; 0 = keep / default */
	uint32_t groups;	/* xm_members size; 0 = keep / default */
	uint32_t group_sources;	/* xm_member_src size; 0 = keep / default */
	bool check_mac;
};

/* The two programs, pinned or freshly loaded and pinned. */
struct xm_progs {
	int xdp_fd;
	int tc_fd;
};

int xm_progs_get(const struct load_opts *o, struct xm_progs *pr);
void xm_progs_close(struct xm_progs *pr);

/* Loading in steps, under the pin directory's lock from begin to end:
 * what the daemon does with its phyints. */
struct xm_load_ctx {
	const struct load_opts *o;
	int lock_fd;
	struct xm_progs progs;
	struct xm_state st;
};

int xm_load_begin(const struct load_opts *o, struct xm_load_ctx *lc);
int xm_load_attach(struct xm_load_ctx *lc, const char *ifname, enum xm_attach_mode mode);
/* Detach one interface, keeping the shared state even when it was the
 * last one (the daemon's phyints come and go with its config). */
int xm_load_detach(struct xm_load_ctx *lc, const char *ifname);
void xm_load_end(struct xm_load_ctx *lc);

/* Our egress program is on the interface's clsact egress hook. */
bool xm_tc_attached(uint32_t ifindex);

int xm_cmd_load(const struct load_opts *o, char **ifnames, int n);
int xm_cmd_unload(const char *pin_dir, char **ifnames, int n, bool all);
int xm_cmd_status(const char *pin_dir, bool json);
int xm_cmd_stats(const char *pin_dir, bool json, const char *ifname);
int xm_cmd_policy(const char *pin_dir, bool json);
int xm_cmd_groups(const char *pin_dir, bool json, const char *ifname);
int xm_cmd_routes(const char *pin_dir, bool json, const char *ifname);
int xm_cmd_check(const char *path);
int xm_cmd_reload(const char *pidfile);

struct daemon_opts {
	struct load_opts load;
	const char *config;
	const char *pidfile;
	bool keep;		/* leave the data path in place on exit */
};

int xm_cmd_daemon(const struct daemon_opts *o);

/* Not loaded: say so in one line for the command at hand. */
int xm_report_not_loaded(const char *pin_dir, int err);

#endif
