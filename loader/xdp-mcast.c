// SPDX-License-Identifier: GPL-2.0-only
/* xdp-mcast: load, unload and inspect the XDP multicast classifier. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "util.h"

#ifndef XM_VERSION
#define XM_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
	struct daemon_opts dop = { 0 };
	struct load_opts lo = { 0 };
	struct xm_cli cli;
	const char *pin_dir;
	char err[256];
	int ret = 0;

	if (xm_cli_parse(argc, argv, &cli, err, sizeof(err))) {
		fprintf(stderr, "xdp-mcast: %s\n(xdp-mcast --help for usage)\n", err);
		return EX_USAGE;
	}
	xm_log_set_level(cli.verbose >= 2 ? XM_LOG_DEBUG :
			 cli.verbose ? XM_LOG_INFO : XM_LOG_WARN);
	xm_log_route_libbpf();
	pin_dir = xm_pin_dir(cli.pin_path);

	switch (cli.cmd) {
	case XM_CMD_HELP:
		fputs(xm_usage, stdout);
		return EX_OK;
	case XM_CMD_VERSION:
		printf("xdp-mcast %s\n", XM_VERSION);
		return EX_OK;
	case XM_CMD_LOAD:
	case XM_CMD_DAEMON:
		lo.pin_dir = pin_dir;
		lo.mode = cli.skb_mode ? XM_ATTACH_SKB : XM_ATTACH_NATIVE;
		lo.flows = cli.flows;
		lo.max_ifindex = cli.max_ifindex ? cli.max_ifindex + 1 : 0;
		lo.policy_size = cli.policy_size;
		lo.groups = cli.groups;
		lo.group_sources = cli.group_sources;
		lo.check_mac = !cli.no_mac_check;
		if (cli.cmd == XM_CMD_LOAD) {
			ret = xm_cmd_load(&lo, cli.args, cli.nargs);
			break;
		}
		dop.load = lo;
		dop.config = cli.config;
		dop.pidfile = cli.pidfile;
		dop.keep = cli.keep;
		xm_log_set_level(cli.verbose >= 2 ? XM_LOG_DEBUG : XM_LOG_INFO);
		ret = xm_cmd_daemon(&dop);
		break;
	case XM_CMD_RELOAD:
		ret = xm_cmd_reload(cli.pidfile);
		break;
	case XM_CMD_CHECK:
		ret = xm_cmd_check(cli.config);
		break;
	case XM_CMD_POLICY:
		ret = xm_cmd_policy(pin_dir, cli.json);
		break;
	case XM_CMD_GROUPS:
		ret = xm_cmd_groups(pin_dir, cli.json, cli.iface);
		break;
	case XM_CMD_ROUTES:
		ret = xm_cmd_routes(pin_dir, cli.json, cli.iface);
		break;
	case XM_CMD_UNLOAD:
		ret = xm_cmd_unload(pin_dir, cli.args, cli.nargs, cli.all);
		break;
	case XM_CMD_STATUS:
		ret = xm_cmd_status(pin_dir, cli.json);
		break;
	case XM_CMD_STATS:
		ret = xm_cmd_stats(pin_dir, cli.json, cli.iface);
		break;
	default:
		return EX_USAGE;
	}
	if (ret == -ENOEXEC)	/* a config with errors */
		return EX_CONFIG;
	return xm_errno_to_exit(ret);
}
