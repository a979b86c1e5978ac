// SPDX-License-Identifier: GPL-2.0-only
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "util.h"
#include "xdp_mcast_kern_user.h"

const char xm_usage[] =
"Usage: xdp-mcast [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  load [-m native|skb] [--flows N] [--max-ifindex N] [--policy-size N]\n"
"       [--groups N] [--group-sources N] [--no-mac-check] IFACE...\n"
"                       attach the classifier to each IFACE and pin its state\n"
"  unload IFACE... | --all\n"
"                       detach from each IFACE; the last one, or --all, removes the pins\n"
"  status [-j]          interfaces, attach modes, program and link ids, map fill\n"
"  stats [-j] [-i IFACE]\n"
"                       per-interface reason counters and per-flow counters\n"
"  daemon [-c FILE] [--keep] [--pidfile FILE] [load options]\n"
"                       attach every phyint of FILE, enforce its policy, reload on SIGHUP\n"
"  reload [--pidfile FILE]\n"
"                       make the running daemon read its config again\n"
"  check [-c FILE]      validate FILE and print the policy it yields\n"
"  policy [-j]          the policy in force, with per-rule and per-boundary hits\n"
"  groups [-j] [-i IFACE]\n"
"                       memberships learned by IGMP and MLD snooping\n"
"  routes [-j] [-i IFACE]\n"
"                       the accelerator's forwarding entries, their origin and flags\n"
"\n"
"Options:\n"
"  -p, --pin-path DIR   pin directory (default " XM_PIN_DEFAULT ", or $" XM_PIN_ENV ")\n"
"  -m, --mode MODE      XDP attach mode: native (default) or skb\n"
"      --flows N        flow table size (default 65536), set when first loaded\n"
"      --max-ifindex N  highest ifindex that can be loaded (default 16383), idem\n"
"      --policy-size N  entries of each policy table (default 131072), idem\n"
"      --groups N       memberships, all interfaces together (default 131072), idem\n"
"      --group-sources N\n"
"                       source records of all memberships (default 262144), idem\n"
"      --no-mac-check   do not drop frames whose MAC is not the group's MAC\n"
"  -a, --all            with unload: every interface and all state\n"
"  -c, --config FILE    with daemon and check: the config (default " XM_CONF_DEFAULT ")\n"
"      --keep           with daemon: leave the data path and policy in place on exit\n"
"      --pidfile FILE   with daemon and reload (default " XM_PIDFILE_DEFAULT ")\n"
"  -i, --iface IFACE    with stats, groups and routes: only this interface\n"
"  -j, --json           JSON output (schema in docs/json.md)\n"
"  -v, --verbose        more messages; twice for libbpf's debug output\n"
"  -h, --help           this text\n"
"  -V, --version        the version\n";

static const struct {
	const char *name;
	enum xm_cmd cmd;
	const char *opts;	/* short options the command accepts */
} commands[] = {
	{ "load",	XM_CMD_LOAD,	"mFMXPGS" },
	{ "unload",	XM_CMD_UNLOAD,	"a" },
	{ "status",	XM_CMD_STATUS,	"j" },
	{ "stats",	XM_CMD_STATS,	"ji" },
	{ "daemon",	XM_CMD_DAEMON,	"mFMXPGScKD" },
	{ "reload",	XM_CMD_RELOAD,	"D" },
	{ "check",	XM_CMD_CHECK,	"c" },
	{ "policy",	XM_CMD_POLICY,	"j" },
	{ "groups",	XM_CMD_GROUPS,	"ji" },
	{ "routes",	XM_CMD_ROUTES,	"ji" },
	{ "help",	XM_CMD_HELP,	"" },
	{ "version",	XM_CMD_VERSION,	"" },
};

enum {
	OPT_FLOWS = 'F', OPT_NO_MAC = 'M', OPT_MAX_IFINDEX = 'X', OPT_POLICY_SIZE = 'P',
	OPT_KEEP = 'K', OPT_PIDFILE = 'D', OPT_GROUPS = 'G', OPT_GROUP_SOURCES = 'S',
};

static const struct option long_opts[] = {
	{ "pin-path",	  required_argument, NULL, 'p' },
	{ "mode",	  required_argument, NULL, 'm' },
	{ "flows",	  required_argument, NULL, OPT_FLOWS },
	{ "no-mac-check", no_argument,	     NULL, OPT_NO_MAC },
	{ "max-ifindex",  required_argument, NULL, OPT_MAX_IFINDEX },
	{ "policy-size",  required_argument, NULL, OPT_POLICY_SIZE },
	{ "groups",	  required_argument, NULL, OPT_GROUPS },
	{ "group-sources", required_argument, NULL, OPT_GROUP_SOURCES },
	{ "all",	  no_argument,	     NULL, 'a' },
	{ "config",	  required_argument, NULL, 'c' },
	{ "keep",	  no_argument,	     NULL, OPT_KEEP },
	{ "pidfile",	  required_argument, NULL, OPT_PIDFILE },
	{ "iface",	  required_argument, NULL, 'i' },
	{ "json",	  no_argument,	     NULL, 'j' },
	{ "verbose",	  no_argument,	     NULL, 'v' },
	{ "help",	  no_argument,	     NULL, 'h' },
	{ "version",	  no_argument,	     NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int c)
{
	const struct option *o;

	for (o = long_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

int xm_cli_parse(int argc, char **argv, struct xm_cli *cli, char *err, int errlen)
{
	char seen[128] = { 0 };
	uint64_t v;
	size_t i;
	int c;

	memset(cli, 0, sizeof(*cli));
	optind = 0;
	opterr = 0;
	cli->config = XM_CONF_DEFAULT;
	cli->pidfile = XM_PIDFILE_DEFAULT;
	while ((c = getopt_long(argc, argv, "p:m:ac:i:jvhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			cli->pin_path = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "native") || !strcmp(optarg, "drv")) {
				cli->skb_mode = false;
			} else if (!strcmp(optarg, "skb") || !strcmp(optarg, "generic")) {
				cli->skb_mode = true;
			} else {
				snprintf(err, errlen, "unknown mode '%s' (native or skb)", optarg);
				return -1;
			}
			break;
		case OPT_FLOWS:
			if (!xm_parse_u64(optarg, 1, 1u << 26, &v)) {
				snprintf(err, errlen, "--flows takes a number from 1 to %u, not '%s'",
					 1u << 26, optarg);
				return -1;
			}
			cli->flows = v;
			break;
		case OPT_MAX_IFINDEX:
			if (!xm_parse_u64(optarg, 1, (1u << 24) - 1, &v)) {
				snprintf(err, errlen, "--max-ifindex takes a number from 1 to %u, "
					 "not '%s'", (1u << 24) - 1, optarg);
				return -1;
			}
			cli->max_ifindex = v;
			break;
		case OPT_POLICY_SIZE:
			if (!xm_parse_u64(optarg, 16, 1u << 24, &v)) {
				snprintf(err, errlen, "--policy-size takes a number from 16 to %u, "
					 "not '%s'", 1u << 24, optarg);
				return -1;
			}
			cli->policy_size = v;
			break;
		case OPT_GROUPS:
		case OPT_GROUP_SOURCES:
			if (!xm_parse_u64(optarg, 1, 1u << 24, &v)) {
				snprintf(err, errlen, "--%s takes a number from 1 to %u, not '%s'",
					 opt_name(c), 1u << 24, optarg);
				return -1;
			}
			*(c == OPT_GROUPS ? &cli->groups : &cli->group_sources) = v;
			break;
		case OPT_NO_MAC:
			cli->no_mac_check = true;
			break;
		case 'a':
			cli->all = true;
			break;
		case 'c':
			cli->config = optarg;
			break;
		case OPT_KEEP:
			cli->keep = true;
			break;
		case OPT_PIDFILE:
			cli->pidfile = optarg;
			break;
		case 'i':
			cli->iface = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'v':
			cli->verbose++;
			break;
		case 'h':
			cli->cmd = XM_CMD_HELP;
			return 0;
		case 'V':
			cli->cmd = XM_CMD_VERSION;
			return 0;
		case '?':
		default:
			if (optopt)
				snprintf(err, errlen, "option -%c: unknown or missing its value", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
		if (c > 0 && c < (int)sizeof(seen))
			seen[c] = 1;
	}
	if (optind >= argc) {
		snprintf(err, errlen, "no command given (load, unload, status, stats)");
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			break;
	if (i == ARRAY_SIZE(commands)) {
		snprintf(err, errlen, "unknown command '%s'", argv[optind]);
		return -1;
	}
	cli->cmd = commands[i].cmd;
	for (c = 'A'; c < (int)sizeof(seen); c++) {
		if (seen[c] && strchr("mFMXPacKDij", c) && !strchr(commands[i].opts, c)) {
			snprintf(err, errlen, "option --%s does not apply to '%s'",
				 opt_name(c), commands[i].name);
			return -1;
		}
	}
	cli->args = argv + optind + 1;
	cli->nargs = argc - optind - 1;

	switch (cli->cmd) {
	case XM_CMD_LOAD:
		if (!cli->nargs) {
			snprintf(err, errlen, "load needs at least one interface");
			return -1;
		}
		break;
	case XM_CMD_UNLOAD:
		if (!cli->nargs == !cli->all) {
			snprintf(err, errlen, "unload takes interfaces or --all, not both or neither");
			return -1;
		}
		break;
	case XM_CMD_STATUS:
	case XM_CMD_STATS:
	case XM_CMD_DAEMON:
	case XM_CMD_RELOAD:
	case XM_CMD_CHECK:
	case XM_CMD_POLICY:
	case XM_CMD_GROUPS:
	case XM_CMD_ROUTES:
		if (cli->nargs) {
			snprintf(err, errlen, "'%s' takes no arguments, got '%s'",
				 commands[i].name, cli->args[0]);
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}
