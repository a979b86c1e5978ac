// SPDX-License-Identifier: GPL-2.0-only
/*
 * User-space units, built with AddressSanitizer and UBSan: per-CPU summing
 * and flow merging, the JSON writer, address formatting, number parsing and
 * the command line.  Prints TAP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "cli.h"
#include "json.h"
#include "listeners.h"
#include "stats.h"
#include "util.h"

#include "tap.h"

static void test_counter_sum(void)
{
	struct xm_counter c[4] = { { 1, 100 }, { 0, 0 }, { 5, 500 }, { UINT64_MAX - 10, 1 } };
	struct xm_counter s = xm_counter_sum(c, 3);

	check(s.packets == 6 && s.bytes == 600, "counter_sum adds every CPU",
	      "got %llu/%llu", (unsigned long long)s.packets, (unsigned long long)s.bytes);
	s = xm_counter_sum(c, 0);
	check(s.packets == 0 && s.bytes == 0, "counter_sum of no CPUs is zero", "");
}

static void test_flow_merge(void)
{
	struct xm_flow f[3] = {
		{ .packets = 2, .bytes = 200, .first_seen_ns = 50, .last_seen_ns = 90,
		  .last_reason = XM_R_FORWARD, .reason_mask = 1u << XM_R_FORWARD },
		{ 0 },	/* this CPU never saw the flow */
		{ .packets = 1, .bytes = 64, .first_seen_ns = 10, .last_seen_ns = 95,
		  .last_reason = XM_R_TTL_EXPIRED, .reason_mask = 1u << XM_R_TTL_EXPIRED },
	};
	struct xm_flow m = xm_flow_merge(f, 3);

	check(m.packets == 3 && m.bytes == 264, "flow_merge sums counts",
	      "got %llu/%llu", (unsigned long long)m.packets, (unsigned long long)m.bytes);
	check(m.first_seen_ns == 10, "flow_merge takes the earliest first_seen, ignoring empty CPUs",
	      "got %llu", (unsigned long long)m.first_seen_ns);
	check(m.last_seen_ns == 95 && m.last_reason == XM_R_TTL_EXPIRED,
	      "flow_merge takes last_seen and last_reason from the newest CPU",
	      "got %llu reason %u", (unsigned long long)m.last_seen_ns, m.last_reason);
	check(m.reason_mask == ((1u << XM_R_FORWARD) | (1u << XM_R_TTL_EXPIRED)),
	      "flow_merge ORs the reason masks", "got %#x", m.reason_mask);
}

static void test_key_order(void)
{
	struct xm_flow_key a = { .ifindex = 2, .family = XM_AF_INET }, b = a;

	a.group[0] = htonl(0xef010101);
	b.group[0] = htonl(0xef010102);
	check(xm_flow_key_cmp(&a, &b) < 0 && xm_flow_key_cmp(&b, &a) > 0 &&
	      xm_flow_key_cmp(&a, &a) == 0, "flow keys order by group", "");
	b = a;
	b.ifindex = 1;
	check(xm_flow_key_cmp(&b, &a) < 0, "flow keys order by interface first", "");
	b = a;
	b.vlan = 10;
	check(xm_flow_key_cmp(&a, &b) < 0, "flow keys differing in VLAN differ", "");
}

static void test_reason_names(void)
{
	const char *want[] = { "forward", "link_local", "node_local", "igmp", "mld",
			       "ttl_expired", "malformed", "bad_source", "mac_mismatch",
			       "fragment", "boundary", "ttl_threshold", "policy",
			       "policy_audit", "rpf_fail", "accelerated", "no_oif" };
	unsigned int i, ok = XM_R_COUNT == ARRAY_SIZE(want);

	for (i = 0; ok && i < ARRAY_SIZE(want); i++)
		ok = !strcmp(xm_reason_names[i], want[i]);
	check(ok, "reason names are the documented, stable ones", "mismatch at %u", i);
}

/* Run the writer into a memory buffer. */
static char *json_to_string(void (*fill)(struct json *))
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct json j;

	json_init(&j, f);
	fill(&j);
	fclose(f);
	return buf;
}

static void fill_nested(struct json *j)
{
	json_object_begin(j, NULL);
	json_string(j, "name", "r\"1\\\n\x01");
	json_array_begin(j, "list");
	json_u64(j, NULL, 18446744073709551615ull);
	json_i64(j, NULL, -3);
	json_object_begin(j, NULL);
	json_bool(j, "b", true);
	json_null(j, "n");
	json_object_end(j);
	json_array_end(j);
	json_double(j, "d", 1.5);
	json_object_begin(j, "empty");
	json_object_end(j);
	json_object_end(j);
	json_finish(j);
}

static void test_json(void)
{
	const char *want = "{\"name\":\"r\\\"1\\\\\\n\\u0001\",\"list\":[18446744073709551615,-3,"
			   "{\"b\":true,\"n\":null}],\"d\":1.500,\"empty\":{}}\n";
	char *got = json_to_string(fill_nested);

	check(!strcmp(got, want), "json writer: nesting, commas, escapes, numbers",
	      "got %s", got);
}

static void test_addr(void)
{
	__be32 a[4] = { htonl(0xef010203) };
	__be32 b[4] = { htonl(0xff0e0000), 0, 0, htonl(0x10001) };
	char buf[XM_ADDR_STRLEN];

	check(!strcmp(xm_format_addr(XM_AF_INET, a, buf, sizeof(buf)), "239.1.2.3"),
	      "format IPv4 group", "got %s", buf);
	check(!strcmp(xm_format_addr(XM_AF_INET6, b, buf, sizeof(buf)), "ff0e::1:1"),
	      "format IPv6 group", "got %s", buf);
	check(!strcmp(xm_format_addr(7, b, buf, sizeof(buf)), "?"),
	      "format unknown family", "got %s", buf);
}

static void test_parse_u64(void)
{
	uint64_t v = 0;

	check(xm_parse_u64("65536", 1, 1 << 26, &v) && v == 65536, "parse_u64 accepts a number", "");
	check(!xm_parse_u64("0", 1, 10, &v), "parse_u64 enforces the minimum", "");
	check(!xm_parse_u64("11", 1, 10, &v), "parse_u64 enforces the maximum", "");
	check(!xm_parse_u64("-1", 0, 10, &v) && !xm_parse_u64("5x", 0, 10, &v) &&
	      !xm_parse_u64("", 0, 10, &v) && !xm_parse_u64(" 5", 0, 10, &v),
	      "parse_u64 rejects signs, junk, empty and spaces", "");
	check(!xm_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v),
	      "parse_u64 rejects overflow", "");
}

/* Parse a command line given as one string. */
static int parse(const char *line, struct xm_cli *cli, char *err)
{
	static char store[512];
	static char *argv[32];
	int argc = 0;
	char *tok;

	snprintf(store, sizeof(store), "xdp-mcast %s", line);
	for (tok = strtok(store, " "); tok && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	err[0] = '\0';
	return xm_cli_parse(argc, argv, cli, err, 256);
}

static void test_cli(void)
{
	struct xm_cli c;
	char err[256];
	int rc;

	rc = parse("load --mode skb --flows 1024 eth0 eth1", &c, err);
	check(!rc && c.cmd == XM_CMD_LOAD && c.skb_mode && c.flows == 1024 &&
	      c.nargs == 2 && !strcmp(c.args[0], "eth0") && !strcmp(c.args[1], "eth1"),
	      "cli: load with mode, flows and interfaces", "rc %d err %s", rc, err);
	rc = parse("-p /sys/fs/bpf/x -v -v load eth0", &c, err);
	check(!rc && c.pin_path && !strcmp(c.pin_path, "/sys/fs/bpf/x") && c.verbose == 2 &&
	      !c.skb_mode,
	      "cli: global options before the command", "rc %d err %s", rc, err);
	rc = parse("load eth0 --no-mac-check", &c, err);
	check(!rc && c.no_mac_check && c.nargs == 1, "cli: options after arguments", "%s", err);
	rc = parse("stats -j -i eth0", &c, err);
	check(!rc && c.cmd == XM_CMD_STATS && c.json && c.iface && !strcmp(c.iface, "eth0"),
	      "cli: stats -j -i", "%s", err);
	rc = parse("unload --all", &c, err);
	check(!rc && c.cmd == XM_CMD_UNLOAD && c.all && !c.nargs, "cli: unload --all", "%s", err);

	rc = parse("load", &c, err);
	check(rc && strstr(err, "at least one interface"), "cli: load without interfaces", "%s", err);
	rc = parse("unload eth0 --all", &c, err);
	check(rc && strstr(err, "not both"), "cli: unload with both", "%s", err);
	rc = parse("unload", &c, err);
	check(rc && strstr(err, "neither"), "cli: unload with neither", "%s", err);
	rc = parse("load -m turbo eth0", &c, err);
	check(rc && strstr(err, "unknown mode 'turbo'"), "cli: bad mode named", "%s", err);
	rc = parse("load --flows 0 eth0", &c, err);
	check(rc && strstr(err, "--flows"), "cli: flows out of range", "%s", err);
	rc = parse("load --flows 12k eth0", &c, err);
	check(rc && strstr(err, "'12k'"), "cli: flows not a number", "%s", err);
	rc = parse("status -i eth0", &c, err);
	check(rc && strstr(err, "--iface does not apply to 'status'"),
	      "cli: option that does not apply", "%s", err);
	rc = parse("frobnicate", &c, err);
	check(rc && strstr(err, "unknown command 'frobnicate'"), "cli: unknown command", "%s", err);
	rc = parse("", &c, err);
	check(rc && strstr(err, "no command"), "cli: no command", "%s", err);
	rc = parse("stats --bogus", &c, err);
	check(rc && strstr(err, "--bogus"), "cli: unknown long option named", "%s", err);
	rc = parse("stats extra", &c, err);
	check(rc && strstr(err, "'extra'"), "cli: stray argument", "%s", err);
	rc = parse("load --max-ifindex 100 --policy-size 1000 eth0", &c, err);
	check(!rc && c.max_ifindex == 100 && c.policy_size == 1000,
	      "cli: load table sizes", "%s", err);
	rc = parse("load --policy-size 8 eth0", &c, err);
	check(rc && strstr(err, "--policy-size takes a number from 16"),
	      "cli: policy size out of range", "%s", err);
	rc = parse("daemon -c /etc/x.conf --keep --pidfile /run/x.pid -m skb", &c, err);
	check(!rc && c.cmd == XM_CMD_DAEMON && !strcmp(c.config, "/etc/x.conf") && c.keep &&
	      !strcmp(c.pidfile, "/run/x.pid") && c.skb_mode,
	      "cli: daemon with config, keep, pidfile and a load option", "%s", err);
	rc = parse("daemon", &c, err);
	check(!rc && !strcmp(c.config, "/etc/xdp-mcast.conf") &&
	      !strcmp(c.pidfile, "/run/xdp-mcast.pid"), "cli: daemon defaults", "%s", err);
	rc = parse("check --keep", &c, err);
	check(rc && strstr(err, "--keep does not apply to 'check'"),
	      "cli: --keep only with daemon", "%s", err);
	rc = parse("policy -j", &c, err);
	check(!rc && c.cmd == XM_CMD_POLICY && c.json, "cli: policy -j", "%s", err);
	rc = parse("reload extra", &c, err);
	check(rc && strstr(err, "'extra'"), "cli: reload takes no arguments", "%s", err);
	rc = parse("routes -j -i eth0", &c, err);
	check(!rc && c.cmd == XM_CMD_ROUTES && c.json && c.iface && !strcmp(c.iface, "eth0"),
	      "cli: routes -j -i", "%s", err);
	rc = parse("routes extra", &c, err);
	check(rc && strstr(err, "'extra'"), "cli: routes takes no arguments", "%s", err);
	rc = parse("--help", &c, err);
	check(!rc && c.cmd == XM_CMD_HELP, "cli: --help", "%s", err);
	check(strstr(xm_usage, "load") && strstr(xm_usage, "--pin-path"), "cli: usage text", "");
}

/* The router's own groups, as the kernel prints them. */
static void test_listeners(void)
{
	static const char igmp[] =
		"Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
		"1\tlo        :     1      V3\n"
		"\t\t\t\t010000E0     1 0:00000000\t\t0\n"
		"3\tup0       :     2      V3\n"
		"\t\t\t\t030303EF     1 0:00000000\t\t0\n"
		"\t\t\t\t010000E0     1 0:00000000\t\t0\n"
		"12\ta-very-long-name:     1      V2\n"
		"\t\t\t\t050000E0     1 0:00000000\t\t0\n"
		"\t\t\t\t070707EF     2 0:00000000\t\t1\n";
	static const char igmp6[] =
		"1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
		"3    up0             ff0e0000000000000000000000000009     1 00000004 0\n"
		"3    up0             ff0200000000000000000001ff21e1ce     1 00000004 0\n"
		"3    up0             ff050000000000000000000000000002     1 00000004 0\n";
	struct xm_listener *l = NULL;
	size_t n = 0, cap = 0;
	char a[3][INET6_ADDRSTRLEN] = { "", "", "" };

	check(!listeners_parse(AF_INET, igmp, &l, &n, &cap) && n == 2,
	      "listeners: /proc/net/igmp without the link-local groups", "n %zu", n);
	if (n == 2) {
		inet_ntop(AF_INET, l[0].group, a[0], sizeof(a[0]));
		inet_ntop(AF_INET, l[1].group, a[1], sizeof(a[1]));
	}
	check(n == 2 && l[0].ifindex == 3 && !strcmp(a[0], "239.3.3.3") && l[1].ifindex == 12 &&
	      !strcmp(a[1], "239.7.7.7"), "listeners: IPv4 groups and their interfaces",
	      "%s on %u, %s on %u", a[0], n ? l[0].ifindex : 0, a[1], n > 1 ? l[1].ifindex : 0);
	n = 0;
	check(!listeners_parse(AF_INET6, igmp6, &l, &n, &cap) && n == 2,
	      "listeners: /proc/net/igmp6 without scopes 1 and 2", "n %zu", n);
	if (n == 2) {
		inet_ntop(AF_INET6, l[0].group, a[0], sizeof(a[0]));
		inet_ntop(AF_INET6, l[1].group, a[1], sizeof(a[1]));
	}
	check(n == 2 && l[0].ifindex == 3 && !strcmp(a[0], "ff0e::9") && !strcmp(a[1], "ff05::2") &&
	      l[0].family == AF_INET6, "listeners: IPv6 groups, site scope kept", "%s %s", a[0],
	      a[1]);
	n = 0;
	check(!listeners_parse(AF_INET, "garbage\n\t\t\t\tzz\n", &l, &n, &cap) && n == 0,
	      "listeners: lines that do not parse are skipped", "n %zu", n);
	free(l);
}

int main(void)
{
	test_counter_sum();
	test_flow_merge();
	test_key_order();
	test_reason_names();
	test_json();
	test_addr();
	test_parse_u64();
	test_cli();
	test_listeners();
	return failures ? 1 : 0;
}
