/* SPDX-License-Identifier: GPL-2.0-only */
/* The xdp-mcast command line, parsed into a plain struct (unit-tested). */
#ifndef XM_CLI_H
#define XM_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define XM_PIDFILE_DEFAULT	"/run/xdp-mcast.pid"

enum xm_cmd {
	XM_CMD_NONE,
	XM_CMD_LOAD,
	XM_CMD_UNLOAD,
	XM_CMD_STATUS,
	XM_CMD_STATS,
	XM_CMD_DAEMON,
	XM_CMD_RELOAD,
	XM_CMD_CHECK,
	XM_CMD_POLICY,
	XM_CMD_GROUPS,
	XM_CMD_ROUTES,
	XM_CMD_HELP,
	XM_CMD_VERSION,
};

struct xm_cli {
	enum xm_cmd cmd;
	const char *pin_path;	/* NULL: environment or default */
	int verbose;
	bool json;
	bool all;
	bool skb_mode;
	bool no_mac_check;
	uint32_t flows;		/* 0: not given */
	uint32_t max_ifindex;	/* 0: not given */
	uint32_t policy_size;	/* 0: not given */
	uint32_t groups;	/* 0: not given */
	uint32_t group_sources;	/* 0: not given */
	const char *iface;	/* stats -i */
	const char *config;	/* daemon, check */
	const char *pidfile;	/* daemon, reload */
	bool keep;		/* daemon --keep */
	char **args;		/* the interfaces, in argv */
	int nargs;
};

/* Fills *cli; on a usage error writes a one-line message into err and
 * returns -1.  argv may be permuted (getopt). */
int xm_cli_parse(int argc, char **argv, struct xm_cli *cli, char *err, int errlen);

extern const char xm_usage[];

#endif
