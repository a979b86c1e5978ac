// SPDX-License-Identifier: GPL-2.0-only
/*
 * The xdp-mcast.conf parser, built with AddressSanitizer and UBSan: good
 * files and the policy they give, bad files and the exact FILE:LINE:COL of
 * each error, includes in a scratch directory, and the rule precedence of
 * xm_policy_match().  Interfaces come from a fake list, never the host's.
 * The snooping options are also fed to the router state machine, which
 * must accept every setting and every static join that loads.
 * Prints TAP.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "mship.h"
#include "util.h"

#include "tap.h"

static const char *const fake_ifaces[] = { "eth0", "eth1", "eth2", "wan0", "lan0" };

static bool fake_iface_exists(const char *name, void *ctx)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fake_ifaces); i++)
		if (!strcmp(name, fake_ifaces[i]))
			return true;
	return false;
}

static const struct xm_conf_env env = { .iface_exists = fake_iface_exists };

static int load(const char *text, struct xm_conf **c, struct xm_conf_errors *e)
{
	*c = NULL;
	return xm_conf_load_buffer("t.conf", text, strlen(text), &env, c, e);
}

/* What xm_conf_print() says; the caller frees it. */
static char *printed(const struct xm_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	xm_conf_print(c, f);
	fclose(f);
	return buf;
}

/* What c prints loads back into an equal policy. */
static bool round_trips(const struct xm_conf *c, const struct xm_conf_env *env)
{
	struct xm_conf_errors e;
	struct xm_conf *again;
	char *text = printed(c);
	bool ok = !xm_conf_load_buffer("again", text, strlen(text), env, &again, &e) &&
		  xm_conf_equal(c, again);

	xm_conf_free(again);
	free(text);
	return ok;
}

/* ---- good files: the canonical print is the whole parsed policy ---- */

static const struct {
	const char *name, *text, *want;
} good[] = {
	{ "empty file", "", "" },
	{ "comments and blank lines only", "# a comment\n\n \t \n   # indented\n", "" },
	{ "phyint alone, no newline at the end", "phyint eth0", "phyint eth0\n" },
	{ "phyint options in any order",
	  "phyint eth0 ttl-threshold 16 boundary organization mode skb\n",
	  "phyint eth0 mode skb ttl-threshold 16 boundary 239.192.0.0/14\n" },
	{ "tabs, CRLF and a comment after the words",
	  "phyint\teth1 \t mode native\t# upstream\r\n",
	  "phyint eth1 mode native\n" },
	{ "a '#' inside a word ends the line", "phyint eth0#comment\n", "phyint eth0\n" },
	{ "ttl-threshold 0 and 255",
	  "phyint eth0 ttl-threshold 0\nphyint eth1 ttl-threshold 255\n",
	  "phyint eth0 ttl-threshold 0\nphyint eth1 ttl-threshold 255\n" },
	{ "several boundaries, predefined scopes, duplicates dropped",
	  "phyint eth0 boundary local boundary 239.255.0.0/16 boundary ff05::/16 "
	  "boundary admin boundary organization\n",
	  "phyint eth0 boundary 239.255.0.0/16 boundary ff05::/16 boundary 239.0.0.0/8 "
	  "boundary 239.192.0.0/14\n" },
	{ "scope defined, then used as a boundary",
	  "scope video 239.10.0.0/16 ff08::1:0/112 239.10.0.0/16\n"
	  "phyint wan0 boundary video boundary 239.11.0.0/16\n",
	  "scope video 239.10.0.0/16 ff08::1:0/112\n"
	  "phyint wan0 boundary 239.10.0.0/16 boundary ff08::1:0/112 boundary 239.11.0.0/16\n" },
	{ "bare address is a host prefix",
	  "deny in any group 239.255.255.250\n",
	  "deny in any group 239.255.255.250/32\n" },
	{ "rule with everything, IPv6",
	  "allow out eth1 group ff0e::/16 source 2001:db8::/32 audit\n",
	  "allow out eth1 group ff0e::/16 source 2001:db8::/32 audit\n" },
	{ "rule options in any order",
	  "deny in eth0 audit source 10.0.0.0/8 group 232.0.0.0/8\n",
	  "deny in eth0 group 232.0.0.0/8 source 10.0.0.0/8 audit\n" },
	{ "source /0 is the same as no source",
	  "allow in any group 239.0.0.0/8 source 0.0.0.0/0\n",
	  "allow in any group 239.0.0.0/8\n" },
	{ "IPv6 written long and in capitals",
	  "deny in eth0 group FF05:0:0::0:1:3\n",
	  "deny in eth0 group ff05::1:3/128\n" },
	{ "the whole multicast ranges are groups",
	  "deny in any group 224.0.0.0/4\ndeny in any group ff00::/8\n",
	  "deny in any group 224.0.0.0/4\ndeny in any group ff00::/8\n" },
	{ "same group, different direction, interface or source: not duplicates",
	  "allow in eth0 group 239.1.0.0/16\nallow out eth0 group 239.1.0.0/16\n"
	  "allow in any group 239.1.0.0/16\nallow in eth0 group 239.1.0.0/16 source 10.0.0.0/8\n",
	  "allow in eth0 group 239.1.0.0/16\nallow out eth0 group 239.1.0.0/16\n"
	  "allow in any group 239.1.0.0/16\nallow in eth0 group 239.1.0.0/16 source 10.0.0.0/8\n" },
	{ "statements print grouped: scopes, phyints, rules",
	  "deny in any group 239.2.0.0/16\nphyint lan0\nscope s 239.3.0.0/16\n",
	  "scope s 239.3.0.0/16\nphyint lan0\ndeny in any group 239.2.0.0/16\n" },

	{ "snooping options in any order, printed in one order",
	  "phyint eth0 ctrl-rate 0 fast-leave max-sources 0 igmp 2 boundary local querier on "
	  "mld off robustness 7 query-interval 60 query-response-interval 0.5 mode skb "
	  "last-member-query-interval 0.25 require-router-alert max-groups 100\n",
	  "phyint eth0 mode skb igmp 2 mld off querier on robustness 7 query-interval 60 "
	  "query-response-interval 0.5 last-member-query-interval 0.25 fast-leave "
	  "require-router-alert max-groups 100 max-sources 0 ctrl-rate 0 "
	  "boundary 239.255.0.0/16\n" },
	{ "every version and querier word",
	  "phyint eth0 igmp off mld 1 querier off\nphyint eth1 igmp 1 mld 2 querier auto\n"
	  "phyint eth2 igmp 3 mld off\n",
	  "phyint eth0 igmp off mld 1 querier off\nphyint eth1 igmp 1 mld 2 querier auto\n"
	  "phyint eth2 igmp 3 mld off\n" },
	{ "seconds: trailing zeros dropped, milliseconds kept",
	  "phyint eth0 query-interval 1.000 query-response-interval 0.999 "
	  "last-member-query-interval 025.50\n",
	  "phyint eth0 query-interval 1 query-response-interval 0.999 "
	  "last-member-query-interval 25.5\n" },
	{ "the lowest snooping values",
	  "phyint eth0 robustness 1 query-interval 1 query-response-interval 0.1 "
	  "last-member-query-interval 0.1 max-groups 1 max-sources 0 ctrl-rate 0\n",
	  "phyint eth0 robustness 1 query-interval 1 query-response-interval 0.1 "
	  "last-member-query-interval 0.1 max-groups 1 max-sources 0 ctrl-rate 0\n" },
	{ "the highest snooping values",
	  "phyint eth0 robustness 7 query-interval 31744 query-response-interval 25.5 "
	  "last-member-query-interval 25.5 max-groups 2147483647 max-sources 65535 "
	  "ctrl-rate 1000000\n",
	  "phyint eth0 robustness 7 query-interval 31744 query-response-interval 25.5 "
	  "last-member-query-interval 25.5 max-groups 2147483647 max-sources 65535 "
	  "ctrl-rate 1000000\n" },
	{ "a short query interval with a shorter response interval",
	  "phyint eth0 query-response-interval 1.999 query-interval 2\n",
	  "phyint eth0 query-interval 2 query-response-interval 1.999\n" },

	{ "joins: (*,G), (S,G), IPv6, printed as bare addresses",
	  "phyint eth1\njoin eth1 239.1.1.1\njoin eth1 232.1.1.1 source 10.1.2.3\n"
	  "join eth1 FF0E::1:3 source 2001:DB8::1\njoin eth1 ff3e::8000:1 source 2001:db8::2\n",
	  "phyint eth1\njoin eth1 239.1.1.1\njoin eth1 232.1.1.1 source 10.1.2.3\n"
	  "join eth1 ff0e::1:3 source 2001:db8::1\njoin eth1 ff3e::8000:1 source 2001:db8::2\n" },
	{ "a join before its phyint, with /32 written out, prints last",
	  "join eth1 239.1.1.1/32\ndeny in any group 239.9.0.0/16\nphyint eth1\n",
	  "phyint eth1\ndeny in any group 239.9.0.0/16\njoin eth1 239.1.1.1\n" },
	{ "(*,G) and (S,G) of one group are different joins",
	  "phyint eth1\njoin eth1 239.1.1.1 source 10.0.0.1\njoin eth1 239.1.1.1\n"
	  "join eth1 239.1.1.1 source 10.0.0.2\n",
	  "phyint eth1\njoin eth1 239.1.1.1 source 10.0.0.1\njoin eth1 239.1.1.1\n"
	  "join eth1 239.1.1.1 source 10.0.0.2\n" },
	{ "one group joined on two interfaces",
	  "phyint eth1\nphyint eth2\njoin eth2 239.1.1.1\njoin eth1 239.1.1.1\n",
	  "phyint eth1\nphyint eth2\njoin eth2 239.1.1.1\njoin eth1 239.1.1.1\n" },
	{ "joins just outside a boundary, and of the other family",
	  "phyint eth1 boundary local boundary ipv6-site\njoin eth1 239.254.255.255\n"
	  "join eth1 ff1e::1\n",
	  "phyint eth1 boundary 239.255.0.0/16 boundary ff05::/16 boundary ff15::/16 "
	  "boundary ff25::/16 boundary ff35::/16 boundary ff45::/16 boundary ff55::/16 "
	  "boundary ff65::/16 boundary ff75::/16 boundary ff85::/16 boundary ff95::/16 "
	  "boundary ffa5::/16 boundary ffb5::/16 boundary ffc5::/16 boundary ffd5::/16 "
	  "boundary ffe5::/16 boundary fff5::/16\n"
	  "join eth1 239.254.255.255\njoin eth1 ff1e::1\n" },
	{ "joins of routed control groups and realm-local scope",
	  "phyint eth1\njoin eth1 224.0.1.1\njoin eth1 ff03::1\n",
	  "phyint eth1\njoin eth1 224.0.1.1\njoin eth1 ff03::1\n" },
	{ "joins filling max-groups and max-sources exactly",
	  "phyint eth1 max-groups 2 max-sources 1\njoin eth1 239.1.1.1\n"
	  "join eth1 232.1.1.1 source 10.0.0.1\njoin eth1 239.1.1.1 source 10.0.0.1\n",
	  "phyint eth1 max-groups 2 max-sources 1\njoin eth1 239.1.1.1\n"
	  "join eth1 232.1.1.1 source 10.0.0.1\njoin eth1 239.1.1.1 source 10.0.0.1\n" },
	{ "metrics: listen and top-groups on one line",
	  "metrics listen 127.0.0.1:9434 top-groups 20\n",
	  "metrics listen 127.0.0.1:9434 top-groups 20\n" },
	{ "metrics: on two lines, IPv6 written long, printed after the joins",
	  "metrics top-groups 0\nphyint eth1\nmetrics listen [0:0::1]:65535\njoin eth1 239.1.1.1\n",
	  "phyint eth1\njoin eth1 239.1.1.1\nmetrics listen [::1]:65535 top-groups 0\n" },
	{ "metrics: any address, port 1, top-groups alone",
	  "metrics listen 0.0.0.0:1\nmetrics top-groups 1000\n",
	  "metrics listen 0.0.0.0:1 top-groups 1000\n" },
	{ "metrics: top-groups without listen keeps the endpoint off",
	  "metrics top-groups 5\n", "metrics top-groups 5\n" },
	{ "forwarding modes and proxy roles",
	  "phyint eth0 forwarding accelerate upstream\nphyint eth1 downstream forwarding filter\n",
	  "phyint eth0 forwarding accelerate upstream\nphyint eth1 forwarding filter downstream\n" },
	{ "smcroute's mroute lines, unchanged",
	  "mroute from eth0 group 225.1.2.3 to eth1 eth2\n"
	  "mroute from eth0 source 10.0.0.1 group 225.1.2.3 to eth1\n"
	  "mroute from eth0 group 225.3.0.0/16 to eth2\n"
	  "mroute from eth0 source 10.0.0.0/8 group 225.1.2.4 to eth2\n"
	  "mroute from eth1 source fd00::1 group ff0e::1:2 to eth0\n"
	  "mroute from eth0 source 0.0.0.0/0 group 225.1.2.5 to eth1\n",
	  "mroute from eth0 group 225.1.2.3/32 to eth1 eth2\n"
	  "mroute from eth0 source 10.0.0.1/32 group 225.1.2.3/32 to eth1\n"
	  "mroute from eth0 group 225.3.0.0/16 to eth2\n"
	  "mroute from eth0 source 10.0.0.0/8 group 225.1.2.4/32 to eth2\n"
	  "mroute from eth1 source fd00::1/128 group ff0e::1:2/128 to eth0\n"
	  "mroute from eth0 group 225.1.2.5/32 to eth1\n" },
	{ "IGMP off still allows IPv6 joins, MLD off IPv4 ones",
	  "phyint eth1 igmp off\nphyint eth2 mld off\njoin eth1 ff0e::1\njoin eth2 239.1.1.1\n",
	  "phyint eth1 igmp off\nphyint eth2 mld off\njoin eth1 ff0e::1\njoin eth2 239.1.1.1\n" },
};

static void test_good(void)
{
	struct xm_conf_errors e;
	struct xm_conf *c;
	unsigned int i;
	char *got;
	int rc;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		rc = load(good[i].text, &c, &e);
		if (rc) {
			check(0, good[i].name, "rc %d, first error: %s", rc, e.count ? e.msg[0] : "-");
			continue;
		}
		got = printed(c);
		check(!strcmp(got, good[i].want) && round_trips(c, &env), good[i].name,
		      "got:\n%s# want:\n%s", got, good[i].want);
		free(got);
		xm_conf_free(c);
	}
}

/* The fields behind the printed form. */
static void test_fields(void)
{
	const char *text = "phyint eth0 mode skb\n"
			   "  phyint eth1 ttl-threshold 7\n"
			   "scope video 239.10.0.0/16\n"
			   "deny out any group 239.10.1.0/24 source 10.1.0.0/16 audit\n";
	const struct xm_conf_rule *r;
	struct xm_conf_errors e;
	struct xm_conf *c;
	char g[XM_PREFIX_STRLEN], s[XM_PREFIX_STRLEN];
	int rc = load(text, &c, &e);

	check(!rc && c->nphyints == 2 && c->nrules == 1 && c->nscopes == 1 && c->nfiles == 1,
	      "fields: counts", "rc %d %s", rc, rc ? e.msg[0] : "");
	if (rc)
		return;
	check(c->phyints[0].mode == XM_ATTACH_SKB && c->phyints[0].ttl_threshold == -1 &&
	      c->phyints[1].mode == -1 && c->phyints[1].ttl_threshold == 7,
	      "fields: mode and ttl-threshold, -1 when not given", "");
	check(!strcmp(c->phyints[1].pos.file, "t.conf") && c->phyints[1].pos.line == 2 &&
	      c->phyints[1].pos.col == 10, "fields: position of a phyint is its interface word",
	      "%s:%d:%d", c->phyints[1].pos.file, c->phyints[1].pos.line, c->phyints[1].pos.col);
	r = &c->rules[0];
	check(r->deny && r->dir == XM_DIR_OUT && r->audit && r->iface[0] == '\0' &&
	      !strcmp(xm_prefix_format(&r->group, g, sizeof(g)), "239.10.1.0/24") &&
	      !strcmp(xm_prefix_format(&r->source, s, sizeof(s)), "10.1.0.0/16") &&
	      r->pos.line == 4 && r->pos.col == 1,
	      "fields: a rule", "%s %s line %d", g, s, r->pos.line);
	xm_conf_free(c);

	rc = load("allow in eth2 group ff02::/16\n", &c, &e);
	check(!rc && c->rules[0].source.family == 0 && c->rules[0].source.len == 0 &&
	      !strcmp(c->rules[0].iface, "eth2") && c->rules[0].group.family == XM_AF_INET6,
	      "fields: a rule without a source has family 0", "rc %d", rc);
	xm_conf_free(c);
}

/* The IPv6 scope names cover every flag value: ff15:: is site-local too. */
static void test_ipv6_scopes(void)
{
	static const struct {
		const char *name, *first, *transient, *last;
	} want[] = {
		{ "ipv6-admin", "ff04::/16", "ff14::/16", "fff4::/16" },
		{ "ipv6-site", "ff05::/16", "ff15::/16", "fff5::/16" },
		{ "ipv6-organization", "ff08::/16", "ff18::/16", "fff8::/16" },
	};
	struct xm_conf_errors e;
	struct xm_conf *c;
	char text[128], a[XM_PREFIX_STRLEN], b[XM_PREFIX_STRLEN], z[XM_PREFIX_STRLEN];
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		snprintf(text, sizeof(text), "phyint eth0 boundary %s\n", want[i].name);
		rc = load(text, &c, &e);
		if (rc) {
			check(0, want[i].name, "rc %d: %s", rc, e.msg[0]);
			continue;
		}
		xm_prefix_format(&c->phyints[0].boundaries[0], a, sizeof(a));
		xm_prefix_format(&c->phyints[0].boundaries[1], b, sizeof(b));
		xm_prefix_format(&c->phyints[0].boundaries[15], z, sizeof(z));
		snprintf(text, sizeof(text), "predefined scope %s is scope %c under all 16 flag values",
			 want[i].name, want[i].first[3]);
		check(c->phyints[0].nboundaries == 16 && !strcmp(a, want[i].first) &&
		      !strcmp(b, want[i].transient) && !strcmp(z, want[i].last), text,
		      "%d prefixes: %s %s ... %s", c->phyints[0].nboundaries, a, b, z);
		xm_conf_free(c);
	}
}

/* ---- snooping: the fields, what the state machine is given ---- */

static void test_snoop_fields(void)
{
	const char *text = "phyint eth0\n"
			   "phyint eth1 igmp 2 mld off querier on robustness 7 query-interval 60 "
			   "query-response-interval 0.5 last-member-query-interval 0.25 fast-leave "
			   "require-router-alert max-groups 100 max-sources 0 ctrl-rate 0\n"
			   "phyint eth2 query-interval 30.5 igmp 1\n";
	const struct xm_conf_phyint *pi;
	struct xm_mship_cfg cfg, def;
	struct xm_conf_errors e;
	struct xm_conf *c;
	int rc = load(text, &c, &e);

	check(!rc && c->nphyints == 3, "snooping fields: loads", "rc %d %s", rc, rc ? e.msg[0] : "");
	if (rc)
		return;
	xm_mship_cfg_default(&def);

	pi = &c->phyints[0];
	check(pi->igmp == -1 && pi->mld == -1 && pi->querier == -1 && pi->robustness == -1 &&
	      pi->query_interval_ms == -1 && pi->query_response_ms == -1 && pi->lmqi_ms == -1 &&
	      !pi->fast_leave && !pi->require_router_alert && pi->max_groups == -1 &&
	      pi->max_sources == -1 && pi->ctrl_rate == -1,
	      "snooping fields: -1 or false when not given", "");
	memset(&cfg, 0xa5, sizeof(cfg));
	xm_conf_phyint_mship_cfg(pi, &cfg);
	check(!memcmp(&cfg, &def, sizeof(cfg)),
	      "snooping fields: a bare phyint gives xm_mship_cfg_default()", "");
	check(def.igmp_version == 3 && def.mld_version == 2 && def.querier == XM_QUERIER_AUTO &&
	      def.robustness == 2 && def.query_interval_ms == 125000 &&
	      def.query_response_ms == 10000 && def.lmqi_ms == 1000 && !def.fast_leave &&
	      !def.require_router_alert && def.max_groups == 16384 && def.max_sources == 256,
	      "snooping fields: the defaults the man page states", "");

	pi = &c->phyints[1];
	check(pi->igmp == 2 && pi->mld == 0 && pi->querier == XM_QUERIER_ON &&
	      pi->robustness == 7 && pi->query_interval_ms == 60000 &&
	      pi->query_response_ms == 500 && pi->lmqi_ms == 250 && pi->fast_leave &&
	      pi->require_router_alert && pi->max_groups == 100 && pi->max_sources == 0 &&
	      pi->ctrl_rate == 0, "snooping fields: every option given", "");
	xm_conf_phyint_mship_cfg(pi, &cfg);
	check(cfg.igmp_version == 2 && cfg.mld_version == 0 && cfg.querier == XM_QUERIER_ON &&
	      cfg.robustness == 7 && cfg.query_interval_ms == 60000 &&
	      cfg.query_response_ms == 500 && cfg.lmqi_ms == 250 && cfg.fast_leave &&
	      cfg.require_router_alert && cfg.max_groups == 100 && cfg.max_sources == 0 &&
	      cfg.require_ttl1 == def.require_ttl1 && cfg.lmqc == def.lmqc &&
	      cfg.startup_query_count == def.startup_query_count &&
	      cfg.startup_query_interval_ms == def.startup_query_interval_ms &&
	      xm_addr_is_zero(cfg.addr4) && xm_addr_is_zero(cfg.addr6),
	      "snooping fields: every option reaches xm_mship_cfg, the rest stays default", "");

	pi = &c->phyints[2];
	xm_conf_phyint_mship_cfg(pi, &cfg);
	def.igmp_version = 1;
	def.query_interval_ms = 30500;
	check(!memcmp(&cfg, &def, sizeof(cfg)),
	      "snooping fields: two options given, the rest default", "qi %u igmp %u",
	      cfg.query_interval_ms, cfg.igmp_version);
	xm_conf_free(c);
}

/* Every phyint that loads is a link the state machine takes, and the
 * bounds here are its bounds: a value just outside is refused by both. */
static void test_snoop_bounds(void)
{
	static const char *const accepted[] = {
		"phyint eth0 robustness 1 query-interval 1 query-response-interval 0.1 "
		"last-member-query-interval 0.1 max-groups 1 max-sources 0",
		"phyint eth0 robustness 7 query-interval 31744 query-response-interval 25.5 "
		"last-member-query-interval 25.5 max-groups 2147483647 max-sources 65535",
		"phyint eth0 igmp off mld off querier off",
		"phyint eth0 igmp 1 mld 1 querier on fast-leave require-router-alert",
		"phyint eth0 query-interval 1 query-response-interval 0.999",
	};
	static const struct {
		const char *text;	/* refused by the parser */
		size_t off;		/* the field mship must refuse as well */
		uint32_t value;
	} outside[] = {
		{ "phyint eth0 query-interval 0.999", offsetof(struct xm_mship_cfg, query_interval_ms),
		  999 },
		{ "phyint eth0 query-interval 31744.001",
		  offsetof(struct xm_mship_cfg, query_interval_ms), 31744001 },
		{ "phyint eth0 query-response-interval 0.099",
		  offsetof(struct xm_mship_cfg, query_response_ms), 99 },
		{ "phyint eth0 query-response-interval 25.501",
		  offsetof(struct xm_mship_cfg, query_response_ms), 25501 },
		{ "phyint eth0 last-member-query-interval 0.099",
		  offsetof(struct xm_mship_cfg, lmqi_ms), 99 },
		{ "phyint eth0 last-member-query-interval 25.501",
		  offsetof(struct xm_mship_cfg, lmqi_ms), 25501 },
		{ "phyint eth0 max-sources 65536", offsetof(struct xm_mship_cfg, max_sources), 65536 },
	};
	struct xm_mship *m = xm_mship_new(NULL, 1);
	struct xm_conf_errors e;
	struct xm_mship_cfg cfg;
	struct xm_conf *c;
	char name[160];
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(accepted); i++) {
		rc = load(accepted[i], &c, &e);
		snprintf(name, sizeof(name), "snooping bounds: mship takes '%s'", accepted[i] + 12);
		if (rc) {
			check(0, name, "does not load: %s", e.msg[0]);
			continue;
		}
		xm_conf_phyint_mship_cfg(&c->phyints[0], &cfg);
		rc = xm_mship_iface_set(m, i + 1, 0, &cfg, 1);
		check(!rc, name, "rc %d", rc);
		xm_conf_free(c);
	}
	for (i = 0; i < ARRAY_SIZE(outside); i++) {
		bool refused = load(outside[i].text, &c, &e) == -EINVAL;

		xm_mship_cfg_default(&cfg);
		cfg.query_interval_ms = 31744000;	/* room for a 25.501 s response */
		memcpy((char *)&cfg + outside[i].off, &outside[i].value, sizeof(uint32_t));
		rc = xm_mship_iface_set(m, 100 + i, 0, &cfg, 1);
		snprintf(name, sizeof(name), "snooping bounds: '%s' refused here and by mship",
			 outside[i].text + 12);
		check(refused && rc == -EINVAL, name, "parser %s, mship rc %d",
		      refused ? "refused" : "took it", rc);
	}
	xm_mship_cfg_default(&cfg);
	cfg.query_interval_ms = 2000;
	cfg.query_response_ms = 2000;
	rc = xm_mship_iface_set(m, 200, 0, &cfg, 1);
	check(rc == -EINVAL && load("phyint eth0 query-interval 2 query-response-interval 2",
				    &c, &e) == -EINVAL,
	      "snooping bounds: a response interval equal to the query interval, refused by both",
	      "mship rc %d", rc);
	xm_mship_free(m);
}

/* Options that change a phyint: each one makes it unequal to a bare one. */
static void test_equal(void)
{
	static const char *const opts[] = {
		"mode native", "ttl-threshold 0", "igmp 3", "igmp off", "mld 2", "mld off",
		"querier auto", "robustness 2", "query-interval 125", "query-response-interval 10",
		"last-member-query-interval 1", "fast-leave", "require-router-alert",
		"max-groups 16384", "max-sources 256", "ctrl-rate 1000", "boundary local",
	};
	static const char *const joins[][2] = {
		{ "join eth1 239.1.1.1", "join eth1 239.1.1.2" },
		{ "join eth1 239.1.1.1", "join eth2 239.1.1.1" },
		{ "join eth1 239.1.1.1", "join eth1 239.1.1.1 source 10.0.0.1" },
		{ "join eth1 239.1.1.1 source 10.0.0.1", "join eth1 239.1.1.1 source 10.0.0.2" },
		{ "join eth1 239.1.1.1", "" },
	};
	struct xm_conf_errors e;
	struct xm_conf *bare, *c, *d;
	char text[160];
	unsigned int i;

	if (load("phyint eth0\n", &bare, &e))
		return;
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		snprintf(text, sizeof(text), "phyint eth0 %s\n", opts[i]);
		if (load(text, &c, &e)) {
			check(0, opts[i], "%s", e.msg[0]);
			continue;
		}
		snprintf(text, sizeof(text), "equal: '%s', even at its default, is a difference",
			 opts[i]);
		check(!xm_conf_equal(bare, c) && !xm_conf_equal(c, bare) && xm_conf_equal(c, c) &&
		      round_trips(c, &env), text, "");
		xm_conf_free(c);
	}
	xm_conf_free(bare);
	for (i = 0; i < ARRAY_SIZE(joins); i++) {
		snprintf(text, sizeof(text), "phyint eth1\nphyint eth2\n%s\n", joins[i][0]);
		load(text, &c, &e);
		snprintf(text, sizeof(text), "phyint eth1\nphyint eth2\n%s\n", joins[i][1]);
		load(text, &d, &e);
		snprintf(text, sizeof(text), "equal: '%s' and '%s' differ", joins[i][0],
			 joins[i][1][0] ? joins[i][1] : "no join");
		check(c && d && !xm_conf_equal(c, d) && !xm_conf_equal(d, c), text, "");
		xm_conf_free(c);
		xm_conf_free(d);
	}
}

/* The joins of a file that loads are all taken by the state machine. */
static void test_joins(void)
{
	const char *text =
		"join eth2 ff0e::1:3 source 2001:db8::1\n"	/* 1: before its phyint */
		"phyint eth1 boundary local igmp 2 max-groups 3 max-sources 2\n"
		"phyint eth2 mld 1 boundary ipv6-site\n"
		"  join eth1 239.1.1.1\n"
		"join eth1 232.1.1.1 source 10.0.0.1\n"
		"join eth1 232.1.1.1 source 10.0.0.2\n"
		"join eth1 239.1.1.1 source 10.0.0.9\n"
		"join eth2 ff0e::1:3\n"
		"join eth1 224.0.1.1\n";
	const struct xm_conf_join *j;
	struct xm_mship_group_view v;
	struct xm_mship_cfg cfg;
	struct xm_conf_errors e;
	struct xm_mship_key k;
	struct xm_mship *m;
	struct xm_conf *c;
	int i, rc = load(text, &c, &e), bad = 0;

	check(!rc && c->njoins == 7, "joins: a file with joins loads", "rc %d %s", rc,
	      rc ? e.msg[0] : "");
	if (rc)
		return;
	j = &c->joins[1];
	check(!strcmp(j->iface, "eth1") && j->group.family == XM_AF_INET && j->group.len == 32 &&
	      ((uint8_t *)j->group.addr)[0] == 239 && j->source.family == 0 &&
	      j->source.len == 0 && j->pos.line == 4 && j->pos.col == 3,
	      "joins: fields of a (*,G) join, its position is the keyword's", "line %d col %d",
	      j->pos.line, j->pos.col);
	j = &c->joins[0];
	check(j->group.family == XM_AF_INET6 && j->group.len == 128 &&
	      j->source.family == XM_AF_INET6 && j->source.len == 128 &&
	      ((uint8_t *)j->source.addr)[0] == 0x20 && ((uint8_t *)j->source.addr)[15] == 1,
	      "joins: fields of an (S,G) join", "");

	m = xm_mship_new(NULL, 1);
	for (i = 0; i < c->nphyints; i++) {
		xm_conf_phyint_mship_cfg(&c->phyints[i], &cfg);
		bad |= xm_mship_iface_set(m, i + 1, 0, &cfg, 1) != 0;
	}
	for (i = 0; i < c->njoins; i++) {
		j = &c->joins[i];
		k = (struct xm_mship_key){ .ifindex = strcmp(j->iface, "eth1") ? 2 : 1,
					   .family = j->group.family };
		memcpy(k.group, j->group.addr, sizeof(k.group));
		rc = xm_mship_static_join(m, &k, j->source.family ? j->source.addr : NULL, 1);
		if (rc) {
			printf("# join %d: rc %d\n", i + 1, rc);
			bad = 1;
		}
	}
	check(!bad && xm_mship_ngroups(m) == 4, "joins: the state machine takes every join",
	      "%zu groups", xm_mship_ngroups(m));
	k = (struct xm_mship_key){ .ifindex = 1, .family = XM_AF_INET };
	memcpy(k.group, c->joins[1].group.addr, sizeof(k.group));
	rc = xm_mship_group_get(m, &k, &v);
	check(!rc && v.is_static && v.mode == XM_MSHIP_EXCLUDE && v.timer == XM_MSHIP_FOREVER,
	      "joins: a (*,G) join is a static EXCLUDE group", "rc %d", rc);
	xm_mship_free(m);
	xm_conf_free(c);
}

/* Join errors that need the whole file come after the line errors, and a
 * phyint dropped for its own error does not also fail its joins. */
static void test_join_errors(void)
{
	struct xm_conf_errors e;
	struct xm_conf *c;
	int rc;

	rc = load("phyint eth1 igmp 4\njoin eth1 239.1.1.1\n", &c, &e);
	check(rc == -EINVAL && e.count == 1 && strstr(e.msg[0], "t.conf:1:18: igmp must be"),
	      "join errors: a phyint with an error does not add 'no phyint'", "count %d: %s",
	      e.count, e.msg[0]);
	rc = load("join eth1 239.1.1.1\nphyint eth9\nfrob\njoin eth1 239.1.1.1\n"
		  "join eth1 10.1.1.1\n", &c, &e);
	check(rc == -EINVAL && e.count == 5 && strstr(e.msg[0], "t.conf:2:8: unknown interface") &&
	      strstr(e.msg[1], "t.conf:3:1: unknown statement") &&
	      strstr(e.msg[2], "t.conf:5:11: group 10.1.1.1 is not multicast") &&
	      strstr(e.msg[3], "t.conf:1:6: join on eth1, which has no phyint") &&
	      strstr(e.msg[4], "t.conf:4:6: join on eth1, which has no phyint"),
	      "join errors: line errors first, then the whole-file ones in file order",
	      "count %d: %s | %s | %s", e.count, e.msg[0], e.count > 1 ? e.msg[1] : "",
	      e.count > 3 ? e.msg[3] : "");
}

/* ---- bad files: where, and what ---- */

static const struct {
	const char *name, *text, *where, *what;
} bad[] = {
	{ "unknown interface in phyint", "phyint eth9\n", "t.conf:1:8",
	  "unknown interface 'eth9'" },
	{ "unknown interface in a rule", "allow in eth9 group 239.1.0.0/16\n", "t.conf:1:10",
	  "unknown interface 'eth9'" },
	{ "interface name too long", "phyint averyveryverylongname0\n", "t.conf:1:8",
	  "'averyveryverylongname0' is not a valid interface name" },
	{ "phyint any", "phyint any\n", "t.conf:1:8", "'any' is only for rules" },
	{ "control byte in a word is shown escaped", "phyint e\001th\n", "t.conf:1:8",
	  "'e\\x01th' is not a valid interface name" },
	{ "leading spaces count in the column", "   phyint eth9\n", "t.conf:1:11",
	  "unknown interface" },
	{ "a tab counts as one column", "\tphyint eth9\n", "t.conf:1:9", "unknown interface" },
	{ "error on a later line", "phyint eth0\n# comment\n\nphyint wlan0\n", "t.conf:4:8",
	  "unknown interface 'wlan0'" },

	{ "host bits set, IPv4", "deny in any group 239.1.1.1/16\n", "t.conf:1:19",
	  "host bits set in 239.1.1.1/16; did you mean 239.1.0.0/16?" },
	{ "host bits set, IPv6", "phyint eth0 boundary ff05::1/16\n", "t.conf:1:22",
	  "host bits set in ff05::1/16; did you mean ff05::/16?" },
	{ "prefix length too long, IPv4", "deny in any group 239.0.0.0/33\n", "t.conf:1:19",
	  "prefix length must be 0..32 for IPv4, not '33'" },
	{ "prefix length too long, IPv6", "deny in any group ff05::/129\n", "t.conf:1:19",
	  "prefix length must be 0..128 for IPv6, not '129'" },
	{ "prefix length empty", "deny in any group 239.0.0.0/\n", "t.conf:1:19",
	  "prefix length must be 0..32 for IPv4, not ''" },
	{ "prefix length not a number", "deny in any group 239.0.0.0/+8\n", "t.conf:1:19",
	  "not '+8'" },
	{ "address out of range", "deny in any group 239.0.0.256\n", "t.conf:1:19",
	  "'239.0.0.256' is not an IPv4 or IPv6 address" },
	{ "short IPv4 form", "deny in any group 239.1/16\n", "t.conf:1:19",
	  "'239.1/16' is not an IPv4 or IPv6 address" },
	{ "garbage prefix", "deny in any group 239.0.0.0/8/8\n", "t.conf:1:19",
	  "not '8/8'" },
	{ "source of the wrong family",
	  "allow in any group 239.1.0.0/16 source 2001:db8::/32\n", "t.conf:1:40",
	  "source 2001:db8::/32 is IPv6 but group 239.1.0.0/16 is IPv4" },
	{ "multicast source", "allow in any group 239.1.0.0/16 source 239.2.2.2\n",
	  "t.conf:1:40", "source 239.2.2.2/32 is multicast" },
	{ "unicast group", "deny in any group 10.0.0.0/8\n", "t.conf:1:19",
	  "group 10.0.0.0/8 is not multicast (IPv4 groups lie in 224.0.0.0/4); "
	  "the rule could never match" },
	{ "unicast IPv6 group", "deny out eth0 group 2001:db8::/32\n", "t.conf:1:21",
	  "IPv6 groups lie in ff00::/8" },
	{ "group wider than the multicast range", "deny in any group 192.0.0.0/2\n",
	  "t.conf:1:19", "group 192.0.0.0/2 is not multicast" },
	{ "unicast boundary", "phyint eth0 boundary 10.0.0.0/8\n", "t.conf:1:22",
	  "boundary 10.0.0.0/8 is not multicast" },

	{ "ttl-threshold above 255", "phyint eth0 ttl-threshold 300\n", "t.conf:1:27",
	  "ttl-threshold must be 0..255, not '300'" },
	{ "ttl-threshold not a number", "phyint eth0 ttl-threshold ten\n", "t.conf:1:27",
	  "ttl-threshold must be 0..255, not 'ten'" },
	{ "ttl-threshold negative", "phyint eth0 ttl-threshold -1\n", "t.conf:1:27",
	  "not '-1'" },
	{ "ttl-threshold given twice", "phyint eth0 ttl-threshold 1 ttl-threshold 2\n",
	  "t.conf:1:29", "ttl-threshold is given twice" },
	{ "mode not native or skb", "phyint eth0 mode turbo\n", "t.conf:1:18",
	  "mode must be native or skb, not 'turbo'" },
	{ "mode given twice", "phyint eth0 mode skb mode native\n", "t.conf:1:22",
	  "mode is given twice" },

	{ "boundary names an undefined scope", "phyint eth0 boundary foo\n", "t.conf:1:22",
	  "boundary names undefined scope 'foo' (define it with 'scope foo PREFIX...' "
	  "before this line)" },
	{ "scope used before its definition",
	  "phyint eth0 boundary video\nscope video 239.10.0.0/16\n", "t.conf:1:22",
	  "undefined scope 'video'" },
	{ "two values after one boundary", "phyint eth0 boundary local organization\n",
	  "t.conf:1:28", "write 'boundary organization'" },
	{ "scope redefined", "scope video 239.10.0.0/16\nscope video 239.11.0.0/16\n",
	  "t.conf:2:7", "scope 'video' is already defined at t.conf:1:7" },
	{ "predefined scope redefined", "scope local 239.255.0.0/16\n", "t.conf:1:7",
	  "scope 'local' is predefined" },
	{ "scope without prefixes", "scope video\n", "t.conf:1:7",
	  "scope video needs at least one prefix" },
	{ "scope with a unicast prefix", "scope video 10.0.0.0/8\n", "t.conf:1:13",
	  "scope prefix 10.0.0.0/8 is not multicast" },
	{ "scope listing another scope", "scope big local\n", "t.conf:1:11",
	  "'local' is not a prefix" },
	{ "scope name starting with a digit", "scope 9x 239.1.0.0/16\n", "t.conf:1:7",
	  "'9x' is not a valid scope name" },

	{ "duplicate phyint", "phyint eth0\n\nphyint eth0 mode skb\n", "t.conf:3:8",
	  "phyint eth0 is already configured at t.conf:1:8" },
	{ "duplicate rule, whatever the verdict",
	  "deny in eth0 group 239.1.0.0/16\nallow in eth0 group 239.1.0.0/16 audit\n",
	  "t.conf:2:1", "duplicate rule: same direction, interface, group and source as the "
	  "rule at t.conf:1:1" },
	{ "a /0 source of the other family",
	  "deny in any group 239.1.0.0/16\ndeny in any group 239.1.0.0/16 source ::/0\n",
	  "t.conf:2:39", "source ::/0 is IPv6 but group 239.1.0.0/16 is IPv4" },
	{ "duplicate rule through a /0 source",
	  "deny in any group 239.1.0.0/16\ndeny in any group 239.1.0.0/16 source 0.0.0.0/0\n",
	  "t.conf:2:1", "duplicate rule" },

	{ "unknown statement", "mgroup from eth0 group 225.1.2.3\n", "t.conf:1:1",
	  "unknown statement 'mgroup' (expected include, phyint, scope, allow, deny, join, "
	  "mroute or metrics)" },
	{ "unknown phyint option", "phyint eth0 enable\n", "t.conf:1:13",
	  "unexpected 'enable' in phyint (expected mode, ttl-threshold, igmp, mld, querier, "
	  "robustness, query-interval, query-response-interval, last-member-query-interval, "
	  "fast-leave, require-router-alert, max-groups, max-sources, ctrl-rate, forwarding, "
	  "upstream, downstream or boundary)" },
	{ "unknown forwarding mode", "phyint eth0 forwarding fast\n", "t.conf:1:24",
	  "forwarding must be filter or accelerate, not 'fast'" },
	{ "upstream and downstream at once", "phyint eth0 upstream downstream\n", "t.conf:1:22",
	  "phyint eth0 cannot be both upstream and downstream" },
	{ "a second upstream", "phyint eth0 upstream\nphyint eth1 downstream\nphyint eth2 mode skb upstream\n",
	  "t.conf:3:22", "phyint eth2 cannot be upstream: phyint eth0 is, at t.conf:1:8 (one upstream "
	  "phyint at most)" },
	{ "mroute without from", "mroute eth0 group 225.1.2.3 to eth1\n", "t.conf:1:8",
	  "mroute needs 'from IFACE' first" },
	{ "mroute without group", "mroute from eth0 source 10.0.0.1 to eth1\n", "t.conf:1:34",
	  "mroute needs 'group PREFIX'" },
	{ "mroute without to", "mroute from eth0 group 225.1.2.3\n", "t.conf:1:24",
	  "mroute needs 'to IFACE...' at the end" },
	{ "mroute to nothing", "mroute from eth0 group 225.1.2.3 to\n", "t.conf:1:34",
	  "to needs at least one interface name" },
	{ "mroute with a unicast group", "mroute from eth0 group 10.1.2.3 to eth1\n", "t.conf:1:24",
	  "group 10.1.2.3/32 is not multicast" },
	{ "mroute of a link-local group", "mroute from eth0 group 224.0.0.5 to eth1\n",
	  "t.conf:1:24", "group 224.0.0.5/32 never leaves its link" },
	{ "mroute with a bad prefix", "mroute from eth0 group 225.1.2.3/24 to eth1\n",
	  "t.conf:1:24", "host bits set" },
	{ "mroute mixing families", "mroute from eth0 source 10.0.0.1 group ff0e::1 to eth1\n",
	  "t.conf:1:1", "mroute mixes an IPv4 source with an IPv6 group" },
	{ "mroute with a source and a group prefix",
	  "mroute from eth0 source 10.0.0.1 group 225.1.2.0/24 to eth1\n", "t.conf:1:1",
	  "a source with a group prefix cannot be accelerated" },
	{ "mroute to one interface twice", "mroute from eth0 group 225.1.2.3 to eth1 eth1\n",
	  "t.conf:1:42", "eth1 is given twice" },
	{ "mroute with junk", "mroute from eth0 group 225.1.2.3 via eth1\n", "t.conf:1:34",
	  "unexpected 'via' in mroute (expected source, group or to)" },
	{ "trailing junk after a rule", "deny in any group 239.1.0.0/16 please\n",
	  "t.conf:1:32", "unexpected 'please' in rule (expected group, source or audit)" },
	{ "group given twice", "deny in any group 239.1.0.0/16 group 239.2.0.0/16\n",
	  "t.conf:1:32", "group is given twice" },
	{ "audit given twice", "deny in any group 239.1.0.0/16 audit audit\n", "t.conf:1:38",
	  "audit is given twice" },
	{ "direction missing", "deny eth0 group 239.1.0.0/16\n", "t.conf:1:6",
	  "direction must be in or out, not 'eth0'" },
	{ "phyint without an interface", "phyint\n", "t.conf:1:1",
	  "phyint needs an interface name" },
	{ "rule without anything", "allow\n", "t.conf:1:1", "allow needs a direction" },
	{ "rule without an interface", "deny in\n", "t.conf:1:6",
	  "deny in needs an interface name or 'any'" },
	{ "rule without a group", "deny in eth0\n", "t.conf:1:1",
	  "deny rule needs 'group PREFIX'" },
	{ "group without a prefix", "deny in eth0 group\n", "t.conf:1:14",
	  "group needs a prefix" },
	{ "source without a prefix", "deny in eth0 group 239.1.0.0/16 source\n", "t.conf:1:33",
	  "source needs a prefix" },
	{ "mode without a value", "phyint eth0 mode\n", "t.conf:1:13",
	  "mode needs a value: native or skb" },
	{ "ttl-threshold without a value", "phyint eth0 ttl-threshold\n", "t.conf:1:13",
	  "ttl-threshold needs a value (0..255)" },
	{ "boundary without a value", "phyint eth0 boundary\n", "t.conf:1:13",
	  "boundary needs a prefix or a scope name" },
	{ "include without a file", "include\n", "t.conf:1:1",
	  "include needs a file name or a glob pattern" },
	{ "include with two words", "include a.conf b.conf\n", "t.conf:1:16",
	  "unexpected 'b.conf' after the file name" },

	/* snooping options */
	{ "unknown IGMP version", "phyint eth0 igmp 4\n", "t.conf:1:18",
	  "igmp must be off, 1, 2 or 3, not '4'" },
	{ "IGMP version as v3", "phyint eth0 igmp v3\n", "t.conf:1:18",
	  "igmp must be off, 1, 2 or 3, not 'v3'" },
	{ "unknown MLD version", "phyint eth0 mld 3\n", "t.conf:1:17",
	  "mld must be off, 1 or 2, not '3'" },
	{ "igmp given twice", "phyint eth0 igmp 2 mld 1 igmp 3\n", "t.conf:1:26",
	  "igmp is given twice" },
	{ "igmp given twice, the first value wrong", "phyint eth0 igmp 9 igmp 3\n", "t.conf:1:18",
	  "igmp must be off, 1, 2 or 3, not '9'" },
	{ "querier not on, off or auto", "phyint eth0 querier yes\n", "t.conf:1:21",
	  "querier must be on, off or auto, not 'yes'" },
	{ "igmp without a value", "phyint eth0 igmp\n", "t.conf:1:13",
	  "igmp needs a value: off, 1, 2 or 3" },
	{ "querier without a value", "phyint eth0 querier\n", "t.conf:1:13",
	  "querier needs a value: on, off or auto" },
	{ "fast-leave given twice", "phyint eth0 fast-leave igmp 2 fast-leave\n", "t.conf:1:31",
	  "fast-leave is given twice" },
	{ "a flag given a value", "phyint eth0 fast-leave on\n", "t.conf:1:24",
	  "unexpected 'on' in phyint: fast-leave takes no value (it is off unless given)" },
	{ "require-router-alert given twice",
	  "phyint eth0 require-router-alert require-router-alert\n", "t.conf:1:34",
	  "require-router-alert is given twice" },
	{ "robustness 0", "phyint eth0 robustness 0\n", "t.conf:1:24",
	  "robustness must be 1..7, not '0'" },
	{ "robustness above what QRV carries", "phyint eth0 robustness 8\n", "t.conf:1:24",
	  "robustness must be 1..7, not '8'" },
	{ "robustness without a value", "phyint eth0 robustness\n", "t.conf:1:13",
	  "robustness needs a value (1..7)" },
	{ "query-interval below 1 s", "phyint eth0 query-interval 0.999\n", "t.conf:1:28",
	  "query-interval must be 1 to 31744 seconds, not '0.999'" },
	{ "query-interval above what QQIC can say", "phyint eth0 query-interval 31744.001\n",
	  "t.conf:1:28", "query-interval must be 1 to 31744 seconds, not '31744.001'" },
	{ "query-interval enormous", "phyint eth0 query-interval 99999999999999999999999\n",
	  "t.conf:1:28", "query-interval must be 1 to 31744 seconds" },
	{ "query-interval not a number", "phyint eth0 query-interval 2m\n", "t.conf:1:28",
	  "query-interval must be a time in seconds such as 10 or 0.5, not '2m'" },
	{ "seconds ending in a point", "phyint eth0 query-interval 10.\n", "t.conf:1:28",
	  "not '10.'" },
	{ "seconds starting with a point", "phyint eth0 last-member-query-interval .5\n",
	  "t.conf:1:40", "not '.5'" },
	{ "seconds negative", "phyint eth0 query-interval -10\n", "t.conf:1:28", "not '-10'" },
	{ "seconds with two points", "phyint eth0 query-interval 1.2.3\n", "t.conf:1:28",
	  "not '1.2.3'" },
	{ "seconds with more than 3 decimals",
	  "phyint eth0 last-member-query-interval 0.2500\n", "t.conf:1:40",
	  "last-member-query-interval takes at most 3 decimals (milliseconds), not '0.2500'" },
	{ "query-response-interval below 0.1 s",
	  "phyint eth0 query-response-interval 0.099\n", "t.conf:1:37",
	  "query-response-interval must be 0.1 to 25.5 seconds, not '0.099'" },
	{ "query-response-interval above 25.5 s", "phyint eth0 query-response-interval 26\n",
	  "t.conf:1:37", "query-response-interval must be 0.1 to 25.5 seconds, not '26'" },
	{ "last-member-query-interval 0", "phyint eth0 last-member-query-interval 0\n",
	  "t.conf:1:40", "last-member-query-interval must be 0.1 to 25.5 seconds, not '0'" },
	{ "query-interval without a value", "phyint eth0 query-interval\n", "t.conf:1:13",
	  "query-interval needs a value in seconds (1 to 31744)" },
	{ "query-response-interval equal to the query-interval",
	  "phyint eth0 query-interval 5 query-response-interval 5\n", "t.conf:1:54",
	  "query-response-interval 5 must be below the query-interval, 5" },
	{ "query-response-interval above the query-interval, given first",
	  "phyint eth0 query-response-interval 20 query-interval 10.5\n", "t.conf:1:37",
	  "query-response-interval 20 must be below the query-interval, 10.5" },
	{ "query-interval not above the default response interval",
	  "phyint eth0 query-interval 10\n", "t.conf:1:28",
	  "query-interval 10 must be above the query-response-interval, 10 by default "
	  "(lower it too)" },
	{ "max-groups 0", "phyint eth0 max-groups 0\n", "t.conf:1:24",
	  "max-groups must be 1..2147483647, not '0'" },
	{ "max-groups beyond an int", "phyint eth0 max-groups 2147483648\n", "t.conf:1:24",
	  "max-groups must be 1..2147483647, not '2147483648'" },
	{ "max-sources above the limit", "phyint eth0 max-sources 65536\n", "t.conf:1:25",
	  "max-sources must be 0..65535, not '65536'" },
	{ "ctrl-rate negative", "phyint eth0 ctrl-rate -1\n", "t.conf:1:23",
	  "ctrl-rate must be 0..1000000, not '-1'" },
	{ "ctrl-rate too high", "phyint eth0 ctrl-rate 1000001\n", "t.conf:1:23",
	  "ctrl-rate must be 0..1000000, not '1000001'" },
	{ "ctrl-rate given twice", "phyint eth0 ctrl-rate 10 ctrl-rate 10\n", "t.conf:1:26",
	  "ctrl-rate is given twice" },

	/* joins, on the line */
	{ "join alone", "join\n", "t.conf:1:1",
	  "join needs an interface name and a group address" },
	{ "join without a group", "phyint eth1\njoin eth1\n", "t.conf:2:6",
	  "join eth1 needs a group address" },
	{ "join on an unknown interface", "phyint eth0\njoin eth9 239.1.1.1\n", "t.conf:2:6",
	  "unknown interface 'eth9'" },
	{ "join on any", "join any 239.1.1.1\n", "t.conf:1:6",
	  "join needs an interface name; 'any' is only for rules" },
	{ "join of a unicast group", "phyint eth1\njoin eth1 10.1.1.1\n", "t.conf:2:11",
	  "group 10.1.1.1 is not multicast (IPv4 groups lie in 224.0.0.0/4)" },
	{ "join of a unicast IPv6 group", "phyint eth1\njoin eth1 2001:db8::1\n", "t.conf:2:11",
	  "group 2001:db8::1 is not multicast (IPv6 groups lie in ff00::/8)" },
	{ "join of a prefix", "phyint eth1\njoin eth1 239.1.0.0/16\n", "t.conf:2:11",
	  "join takes one group address, not the prefix 239.1.0.0/16" },
	{ "join of something else", "phyint eth1\njoin eth1 video\n", "t.conf:2:11",
	  "'video' is not an IPv4 or IPv6 address or prefix" },
	{ "join of a link-local IPv4 group", "phyint eth1\njoin eth1 224.0.0.251\n",
	  "t.conf:2:11", "group 224.0.0.251 never leaves its link (224.0.0.0/24, local network "
	  "control); a static join of it would do nothing" },
	{ "join of a link-scope IPv6 group", "phyint eth1\njoin eth1 ff02::fb\n", "t.conf:2:11",
	  "group ff02::fb never leaves its link (IPv6 scope 2 or below)" },
	{ "join of a transient link-scope IPv6 group", "phyint eth1\njoin eth1 ff12::1234\n",
	  "t.conf:2:11", "group ff12::1234 never leaves its link" },
	{ "join of an interface-local IPv6 group", "phyint eth1\njoin eth1 ff01::1\n",
	  "t.conf:2:11", "group ff01::1 never leaves its link" },
	{ "(*,G) join in the IPv4 SSM range", "phyint eth1\njoin eth1 232.1.1.1\n",
	  "t.conf:2:11", "join 232.1.1.1 needs a source: 232.0.0.0/8 is for source-specific "
	  "multicast only (RFC 4607)" },
	{ "(*,G) join in the IPv6 SSM range", "phyint eth1\njoin eth1 ff3e::8000:1\n",
	  "t.conf:2:11", "join ff3e::8000:1 needs a source: ff3x::/96 is for source-specific" },
	{ "join with a word other than source", "phyint eth1\njoin eth1 239.1.1.1 from 10.1.1.1\n",
	  "t.conf:2:21", "unexpected 'from' in join (expected 'source ADDRESS')" },
	{ "join source without an address", "phyint eth1\njoin eth1 239.1.1.1 source\n",
	  "t.conf:2:21", "source needs an address" },
	{ "join with words after the source",
	  "phyint eth1\njoin eth1 239.1.1.1 source 10.1.1.1 audit\n", "t.conf:2:37",
	  "unexpected 'audit' at the end of the join" },
	{ "join source of the wrong family",
	  "phyint eth1\njoin eth1 239.1.1.1 source 2001:db8::1\n", "t.conf:2:28",
	  "source 2001:db8::1 is IPv6 but group 239.1.1.1 is IPv4" },
	{ "join IPv6 group, IPv4 source", "phyint eth1\njoin eth1 ff3e::1 source 10.1.1.1\n",
	  "t.conf:2:26", "source 10.1.1.1 is IPv4 but group ff3e::1 is IPv6" },
	{ "join source multicast", "phyint eth1\njoin eth1 232.1.1.1 source 239.1.1.1\n",
	  "t.conf:2:28", "source 239.1.1.1 is multicast; a source is a sender's unicast address" },
	{ "join source a prefix", "phyint eth1\njoin eth1 232.1.1.1 source 10.0.0.0/8\n",
	  "t.conf:2:28", "join takes one source address, not the prefix 10.0.0.0/8" },
	{ "join source 0.0.0.0", "phyint eth1\njoin eth1 232.1.1.1 source 0.0.0.0\n",
	  "t.conf:2:28", "source 0.0.0.0 is not an address a sender can have" },
	{ "join source loopback", "phyint eth1\njoin eth1 232.1.1.1 source 127.0.0.1\n",
	  "t.conf:2:28", "source 127.0.0.1 is not an address a sender can have" },
	{ "join source broadcast", "phyint eth1\njoin eth1 232.1.1.1 source 255.255.255.255\n",
	  "t.conf:2:28", "source 255.255.255.255 is not an address" },
	{ "join source ::", "phyint eth1\njoin eth1 ff3e::1 source ::\n", "t.conf:2:26",
	  "source :: is not an address a sender can have" },
	{ "join source ::1", "phyint eth1\njoin eth1 ff3e::1 source ::1\n", "t.conf:2:26",
	  "source ::1 is not an address a sender can have" },

	/* joins, once the whole file is read */
	{ "join on an interface without a phyint", "phyint eth0\njoin eth1 239.1.1.1\n",
	  "t.conf:2:6", "join on eth1, which has no phyint (add 'phyint eth1')" },
	{ "join in a boundary of its phyint", "phyint eth1 boundary local\njoin eth1 239.255.1.1\n",
	  "t.conf:2:11", "join 239.255.1.1 on eth1 lies in its boundary 239.255.0.0/16" },
	{ "join in a boundary of a phyint further down",
	  "scope cams ff08::20:0/112\njoin eth1 ff08::20:7\nphyint eth1 boundary cams\n",
	  "t.conf:2:11", "join ff08::20:7 on eth1 lies in its boundary ff08::20:0/112" },
	{ "(S,G) join in a boundary", "phyint eth1 boundary ipv6-site\n"
	  "join eth1 ff35::8000:1 source 2001:db8::1\n",
	  "t.conf:2:11", "join ff35::8000:1 on eth1 lies in its boundary ff35::/16" },
	{ "IPv4 join where IGMP is off", "phyint eth1 igmp off\njoin eth1 239.1.1.1\n",
	  "t.conf:2:11", "join 239.1.1.1 on eth1, where IGMP is off (phyint at t.conf:1:8)" },
	{ "IPv6 join where MLD is off", "join eth1 ff0e::1\nphyint eth1 mld off\n",
	  "t.conf:1:11", "join ff0e::1 on eth1, where MLD is off (phyint at t.conf:2:8)" },
	{ "duplicate (*,G) join, spelled differently",
	  "phyint eth1\njoin eth1 239.1.1.1\n\njoin eth1 239.1.1.1/32\n", "t.conf:4:1",
	  "duplicate join: same interface, group and source as the join at t.conf:2:1" },
	{ "duplicate (S,G) join", "phyint eth1\njoin eth1 ff3e::1 source 2001:DB8::1\n"
	  "join eth1 ff3e:0::1 source 2001:db8:0::1\n", "t.conf:3:1",
	  "duplicate join: same interface, group and source as the join at t.conf:2:1" },
	{ "joins beyond max-groups: the first one past it in the file",
	  "phyint eth1 max-groups 2\njoin eth1 239.1.1.3\njoin eth1 239.1.1.1\n"
	  "join eth1 239.1.1.3 source 10.0.0.1\njoin eth1 239.1.1.2\njoin eth1 239.1.1.0\n",
	  "t.conf:5:11", "join 239.1.1.2 on eth1 goes over its max-groups: 2 groups are joined "
	  "there already" },
	{ "joins beyond max-sources", "phyint eth1 max-sources 1\n"
	  "join eth1 232.1.1.1 source 10.0.0.2\njoin eth1 239.1.1.1 source 10.0.0.2\n"
	  "join eth1 232.1.1.1 source 10.0.0.1\n",
	  "t.conf:4:28", "join 232.1.1.1 source 10.0.0.1 on eth1 goes over its max-sources: "
	  "1 source is joined in the group already" },
	{ "an (S,G) join where max-sources is 0",
	  "phyint eth1 max-sources 0\njoin eth1 239.1.1.1\njoin eth1 239.1.1.1 source 10.0.0.1\n",
	  "t.conf:3:28", "goes over its max-sources: 0 sources are joined in the group already" },
	{ "metrics alone", "metrics\n", "t.conf:1:1", "metrics needs 'listen ADDRESS:PORT'" },
	{ "metrics listen without a value", "metrics listen\n", "t.conf:1:9",
	  "listen needs ADDRESS:PORT" },
	{ "metrics listen without a port", "metrics listen 127.0.0.1\n", "t.conf:1:16",
	  "listen takes ADDRESS:PORT" },
	{ "metrics listen, IPv6 without brackets", "metrics listen ::1:9434\n", "t.conf:1:16",
	  "listen takes ADDRESS:PORT" },
	{ "metrics listen, IPv4 in brackets", "metrics listen [127.0.0.1]:9434\n", "t.conf:1:16",
	  "'127.0.0.1' is not an IPv4 address or a bracketed IPv6 address" },
	{ "metrics listen on a name", "metrics listen localhost:9434\n", "t.conf:1:16",
	  "'localhost' is not an IPv4 address" },
	{ "metrics listen on a prefix", "metrics listen 10.0.0.0/8:9434\n", "t.conf:1:16",
	  "is not an IPv4 address" },
	{ "metrics listen on a multicast address", "metrics listen 239.1.1.1:9434\n",
	  "t.conf:1:16", "cannot listen on the multicast address 239.1.1.1" },
	{ "metrics listen on port 0", "metrics listen 127.0.0.1:0\n", "t.conf:1:16",
	  "port '0' is not a number from 1 to 65535" },
	{ "metrics listen on port 65536", "metrics listen [::1]:65536\n", "t.conf:1:16",
	  "port '65536' is not a number" },
	{ "metrics listen twice", "metrics listen 127.0.0.1:1\n\nmetrics listen 127.0.0.1:2\n",
	  "t.conf:3:9", "metrics listen is given twice (first at t.conf:1:1)" },
	{ "metrics top-groups twice", "metrics top-groups 1 top-groups 2\n", "t.conf:1:22",
	  "metrics top-groups is given twice (first at t.conf:1:1)" },
	{ "metrics top-groups too high", "metrics top-groups 1001\n", "t.conf:1:20",
	  "top-groups takes a number from 0 to 1000, not '1001'" },
	{ "metrics top-groups not a number", "metrics top-groups -1\n", "t.conf:1:20",
	  "top-groups takes a number" },
	{ "metrics with an unknown word", "metrics listen 127.0.0.1:1 port 2\n", "t.conf:1:28",
	  "unexpected 'port' in metrics (expected listen or top-groups)" },
};

static void test_bad(void)
{
	struct xm_conf_errors e;
	struct xm_conf *c;
	char where[64];
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		rc = load(bad[i].text, &c, &e);
		snprintf(where, sizeof(where), "%s: ", bad[i].where);
		check(rc == -EINVAL && !c && e.count >= 1 &&
		      !strncmp(e.msg[0], where, strlen(where)) && strstr(e.msg[0], bad[i].what),
		      bad[i].name, "rc %d, %d errors, first: %s", rc, e.count,
		      e.count ? e.msg[0] : "-");
		xm_conf_free(c);
	}
}

/* The fields of the metrics statement, and a bad one keeps the rest. */
static void test_metrics(void)
{
	struct xm_conf_errors e;
	struct xm_conf *c = NULL, *d = NULL;
	int rc;

	rc = load("phyint eth0\n", &c, &e);
	check(!rc && !c->metrics.listen && c->metrics.top_groups == -1,
	      "metrics: off and not given by default", "rc %d", rc);
	xm_conf_free(c);
	rc = load("metrics listen [fe80::1]:9434\nmetrics top-groups 7\n", &c, &e);
	check(!rc && c->metrics.listen && c->metrics.family == XM_AF_INET6 &&
	      c->metrics.port == 9434 && c->metrics.addr[0] == htonl(0xfe800000) &&
	      c->metrics.addr[3] == htonl(1) && c->metrics.top_groups == 7 &&
	      c->metrics.pos.line == 1 && c->metrics.top_pos.line == 2,
	      "metrics: address, port, top-groups and positions", "rc %d %s", rc,
	      rc ? e.msg[0] : "");
	if (!rc) {
		check(round_trips(c, &env), "metrics: printed form loads back equal", "");
		rc = load("metrics listen [fe80::1]:9435 top-groups 7\n", &d, &e);
		check(!rc && !xm_conf_equal(c, d), "metrics: another port is another config", "");
		xm_conf_free(d);
		rc = load("metrics top-groups 7 listen [fe80::1]:9434\n", &d, &e);
		check(!rc && xm_conf_equal(c, d), "metrics: same statement, other order: equal", "");
		xm_conf_free(d);
	}
	xm_conf_free(c);
	c = NULL;
	rc = load("phyint eth0\nmetrics listen 127.0.0.1:99999\n", &c, &e);
	check(rc == -EINVAL && !c && e.count == 1, "metrics: a bad port fails the whole file",
	      "rc %d count %d", rc, e.count);
}

static void test_many_errors(void)
{
	const char *text = "phyint eth9 ttl-threshold 300\n"
			   "deny in any group 10.0.0.0/8\n"
			   "phyint eth0\n"
			   "frobnicate\n";
	static struct xm_conf running;
	struct xm_conf_errors e;
	struct xm_conf *c = &running;
	char *buf = NULL, big[30 * 4 + 1] = "";
	size_t len = 0;
	FILE *f;
	int rc, i;

	rc = xm_conf_load_buffer("t.conf", text, strlen(text), &env, &c, &e);
	check(rc == -EINVAL && e.count == 4 && strstr(e.msg[0], "t.conf:1:8: unknown") &&
	      strstr(e.msg[1], "t.conf:1:27: ttl") && strstr(e.msg[2], "t.conf:2:19: group") &&
	      strstr(e.msg[3], "t.conf:4:1: unknown statement"),
	      "errors are collected in order, several on one line",
	      "rc %d count %d: %s | %s", rc, e.count, e.msg[0], e.count > 1 ? e.msg[1] : "");
	check(c == &running, "a failed load leaves the caller's pointer alone", "");

	for (i = 0; i < 30; i++)
		strcat(big, "bad\n");
	rc = load(big, &c, &e);
	f = open_memstream(&buf, &len);
	xm_conf_errors_print(&e, f);
	fclose(f);
	check(rc == -EINVAL && e.count == 30 && strstr(e.msg[XM_CONF_MAX_ERRORS - 1], "t.conf:20:1") &&
	      strstr(buf, "t.conf:20:1: unknown statement 'bad'") &&
	      !strstr(buf, "t.conf:21:1") && strstr(buf, "... and 10 more errors\n"),
	      "the first 20 errors are kept and the rest counted", "count %d:\n%s", e.count, buf);
	free(buf);
	xm_conf_free(c);
}

static void test_odd_bytes(void)
{
	static const char nul[] = "phyint eth0\nphyint e\0th1\nphyint eth9\n";
	struct xm_conf_env no_inc = env;
	struct xm_conf_errors e;
	struct xm_conf *c;
	char *longline;
	int rc;

	rc = xm_conf_load_buffer("t.conf", nul, sizeof(nul) - 1, &env, &c, &e);
	check(rc == -EINVAL && e.count == 2 && strstr(e.msg[0], "t.conf:2:9: NUL byte") &&
	      strstr(e.msg[1], "t.conf:3:8: unknown interface"),
	      "a NUL byte is an error at its column, and the next line is read",
	      "count %d: %s", e.count, e.msg[0]);

	longline = malloc(XM_CONF_LINE_MAX + 10);
	memset(longline, ' ', XM_CONF_LINE_MAX + 9);
	memcpy(longline, "phyint", 6);
	longline[XM_CONF_LINE_MAX + 9] = '\0';
	rc = load(longline, &c, &e);
	check(rc == -EINVAL && strstr(e.msg[0], "t.conf:1:4097: line is longer than 4096 bytes"),
	      "a line longer than 4096 bytes", "%s", e.msg[0]);
	free(longline);

	no_inc.no_include = true;
	rc = xm_conf_load_buffer("t.conf", "include /etc/passwd\n", 20, &no_inc, &c, &e);
	check(rc == -EINVAL && strstr(e.msg[0], "t.conf:1:9: include is not allowed here"),
	      "include can be turned off", "%s", e.msg[0]);

	rc = xm_conf_load_buffer("t.conf", "phyint anything0\n", 17, NULL, &c, &e);
	check(!rc && c->nphyints == 1, "without a callback any valid interface name is taken",
	      "rc %d", rc);
	xm_conf_free(c);
}

/* ---- includes, in a scratch directory ---- */

static char dir[64];
static char *made[32];
static int nmade;

static const char *at_dir(const char *name)
{
	static char path[8][256];
	static int n;
	char *p = path[n++ % 8];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const char *text)
{
	const char *path = at_dir(name);
	FILE *f = fopen(path, "w");

	if (!f) {
		printf("# cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	fputs(text, f);
	fclose(f);
	made[nmade++] = strdup(path);
}

static void make_dir(const char *name)
{
	mkdir(at_dir(name), 0755);
	made[nmade++] = strdup(at_dir(name));
}

static void test_includes(void)
{
	struct xm_conf_errors e;
	struct xm_conf *c;
	char want[512], *got;
	int rc, i;

	snprintf(dir, sizeof(dir), "/tmp/xm-conf.XXXXXX");
	if (!mkdtemp(dir)) {
		check(0, "includes: scratch directory", "mkdtemp: %s", strerror(errno));
		return;
	}
	make_dir("sub");
	make_dir("conf.d");
	make_dir("conf.d/30-a-directory.conf");
	put("main.conf", "include sub/a.conf\n"
			 "include conf.d/*.conf\n"
			 "include nothing-matches-*.conf\n"
			 "phyint eth0 boundary video\n");
	put("sub/a.conf", "include b.conf  # relative to sub/\n");
	put("sub/b.conf", "scope video 239.10.0.0/16\n");
	put("conf.d/20-y.conf", "phyint eth1\n");
	put("conf.d/10-x.conf", "\ndeny in any group 239.255.255.250\n");

	rc = xm_conf_load(at_dir("main.conf"), &env, &c, &e);
	if (rc) {
		check(0, "includes: relative, glob in order, glob matching nothing", "%s", e.msg[0]);
	} else {
		got = printed(c);
		check(!strcmp(got, "scope video 239.10.0.0/16\nphyint eth1\n"
				   "phyint eth0 boundary 239.10.0.0/16\n"
				   "deny in any group 239.255.255.250/32\n") && c->nfiles == 5,
		      "includes: relative, glob in order, glob matching nothing, directories skipped",
		      "%d files, got:\n%s", c->nfiles, got);
		check(!strcmp(c->rules[0].pos.file, at_dir("conf.d/10-x.conf")) &&
		      c->rules[0].pos.line == 2 && !strcmp(c->scopes[0].pos.file, at_dir("sub/b.conf")),
		      "includes: positions name the included file", "%s:%d",
		      c->rules[0].pos.file, c->rules[0].pos.line);
		free(got);
		xm_conf_free(c);
	}

	put("missing.conf", "phyint eth0\ninclude not-there.conf\n");
	rc = xm_conf_load(at_dir("missing.conf"), &env, &c, &e);
	snprintf(want, sizeof(want), "%s:2:9: cannot include '%s': No such file or directory",
		 at_dir("missing.conf"), at_dir("not-there.conf"));
	check(rc == -EINVAL && !strcmp(e.msg[0], want), "includes: a missing file is an error",
	      "%s", e.msg[0]);

	put("dir.conf", "include sub\n");
	rc = xm_conf_load(at_dir("dir.conf"), &env, &c, &e);
	check(rc == -EINVAL && strstr(e.msg[0], "dir.conf:1:9: cannot include") &&
	      strstr(e.msg[0], "not a regular file"), "includes: a directory is an error",
	      "%s", e.msg[0]);

	put("loop-a.conf", "include loop-b.conf\n");
	put("loop-b.conf", "# b\ninclude loop-a.conf\n");
	rc = xm_conf_load(at_dir("loop-a.conf"), &env, &c, &e);
	snprintf(want, sizeof(want), "%s:2:9: include loop: %s -> %s -> %s", at_dir("loop-b.conf"),
		 at_dir("loop-a.conf"), at_dir("loop-b.conf"), at_dir("loop-a.conf"));
	check(rc == -EINVAL && e.count == 1 && !strcmp(e.msg[0], want),
	      "includes: a loop is named", "got  %s\n# want %s", e.msg[0], want);

	make_dir("self");
	put("self/self.conf", "include *.conf\n");
	rc = xm_conf_load(at_dir("self/self.conf"), &env, &c, &e);
	check(rc == -EINVAL && strstr(e.msg[0], "include loop:") &&
	      strstr(e.msg[0], "self.conf -> "), "includes: a glob that matches its own file",
	      "%s", e.msg[0]);

	/* d0 includes d1 ... includes d9: nine levels below the main file. */
	for (i = 0; i <= 9; i++) {
		char name[24], text[64];

		snprintf(name, sizeof(name), "d%d.conf", i);
		snprintf(text, sizeof(text), "include d%d.conf\n", i + 1);
		put(name, i < 9 ? text : "phyint eth0\n");
	}
	rc = xm_conf_load(at_dir("d1.conf"), &env, &c, &e);
	check(!rc && c->nfiles == 9, "includes: eight levels deep are fine", "rc %d %s", rc,
	      rc ? e.msg[0] : "");
	xm_conf_free(c);
	rc = xm_conf_load(at_dir("d0.conf"), &env, &c, &e);
	check(rc == -EINVAL && e.count == 1 && strstr(e.msg[0], "d8.conf:1:9: cannot include") &&
	      strstr(e.msg[0], "includes nested more than 8 deep"),
	      "includes: nine levels deep are refused", "%s", e.msg[0]);

	put("bad-inc.conf", "include sub/bad.conf\nphyint eth9\n");
	put("sub/bad.conf", "\nphyint wlan0\n");
	rc = xm_conf_load(at_dir("bad-inc.conf"), &env, &c, &e);
	snprintf(want, sizeof(want), "%s:2:8: unknown interface 'wlan0'", at_dir("sub/bad.conf"));
	check(rc == -EINVAL && e.count == 2 && !strcmp(e.msg[0], want) &&
	      strstr(e.msg[1], "bad-inc.conf:2:8: unknown interface 'eth9'"),
	      "includes: errors inside an included file, then the rest of the main one",
	      "%s | %s", e.msg[0], e.count > 1 ? e.msg[1] : "");

	rc = xm_conf_load(at_dir("none.conf"), &env, &c, &e);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory",
		 at_dir("none.conf"));
	check(rc == -ENOENT && !strcmp(e.msg[0], want), "a missing main file", "rc %d %s",
	      rc, e.msg[0]);

	snprintf(want, sizeof(want), "%s/buffer", dir);
	rc = xm_conf_load_buffer(want, "include sub/b.conf\n", 19, &env, &c, &e);
	check(!rc && c->nscopes == 1, "includes from a buffer are relative to its name",
	      "rc %d %s", rc, rc ? e.msg[0] : "");
	xm_conf_free(c);

	for (i = nmade - 1; i >= 0; i--) {
		if (remove(made[i]))
			printf("# cannot remove %s: %s\n", made[i], strerror(errno));
		free(made[i]);
	}
	if (rmdir(dir))
		printf("# cannot remove %s: %s\n", dir, strerror(errno));
}

/* ---- prefixes ---- */

static void test_prefix(void)
{
	struct xm_prefix a, b, h;
	char buf[XM_PREFIX_STRLEN], why[160];

	check(!xm_prefix_parse("239.1.0.0/16", &a, why, sizeof(why)) && a.family == XM_AF_INET &&
	      a.len == 16 && ((uint8_t *)a.addr)[0] == 239 && ((uint8_t *)a.addr)[1] == 1 &&
	      !a.addr[1] && !a.addr[3], "prefix: IPv4 in network order, rest zero", "%s", why);
	check(!xm_prefix_parse("ff05::1", &h, why, sizeof(why)) && h.len == 128 &&
	      !strcmp(xm_prefix_format(&h, buf, sizeof(buf)), "ff05::1/128"),
	      "prefix: a bare IPv6 address is /128", "%s", buf);
	check(!xm_prefix_parse("0.0.0.0/0", &b, why, sizeof(why)) && b.len == 0,
	      "prefix: /0", "%s", why);
	xm_prefix_parse("239.1.2.3", &h, NULL, 0);
	check(xm_prefix_contains(&a, &h) && xm_prefix_contains(&b, &h) &&
	      !xm_prefix_contains(&h, &a) && xm_prefix_contains(&a, &a),
	      "prefix: contains", "");
	xm_prefix_parse("239.0.0.0/9", &b, NULL, 0);
	xm_prefix_parse("239.128.0.0/9", &h, NULL, 0);
	check(xm_prefix_contains(&b, &a) && !xm_prefix_contains(&h, &a),
	      "prefix: contains compares the bits inside a byte", "");
	xm_prefix_parse("ff00::/8", &b, NULL, 0);
	check(!xm_prefix_contains(&b, &a) && !xm_prefix_contains(&a, &b),
	      "prefix: families never contain each other", "");
	check(xm_prefix_is_multicast(&a) && xm_prefix_is_multicast(&b) &&
	      !xm_prefix_parse("224.0.0.0/3", &h, NULL, 0) && !xm_prefix_is_multicast(&h),
	      "prefix: multicast means inside 224.0.0.0/4 or ff00::/8", "");
	check(xm_prefix_parse("239.1.1.1/16", &h, NULL, 0) == -EINVAL &&
	      xm_prefix_parse("", &h, NULL, 0) == -EINVAL &&
	      xm_prefix_parse("/8", &h, NULL, 0) == -EINVAL &&
	      xm_prefix_parse("fe80::1%eth0", &h, NULL, 0) == -EINVAL,
	      "prefix: errors without a reason buffer", "");
}

/* ---- precedence ---- */

static struct xm_prefix host(const char *s)
{
	struct xm_prefix p = { 0 };

	xm_prefix_parse(s, &p, NULL, 0);
	return p;
}

/* The rule matching (dir, iface, group, source), printed as "line N" or "allow". */
static const char *decide(const struct xm_conf *c, int dir, const char *iface,
			  const char *group, const char *source)
{
	static char buf[32];
	struct xm_prefix g = host(group), s = host(source ? source : "0.0.0.0");
	const struct xm_conf_rule *r = xm_policy_match(c, dir, iface, &g, source ? &s : NULL);

	if (!r)
		return "allow";
	snprintf(buf, sizeof(buf), "line %d", r->pos.line);
	return buf;
}

static void test_precedence(void)
{
	const char *text =
		"deny in any group 239.0.0.0/8\n"				/* 1 */
		"allow in any group 239.1.0.0/16\n"				/* 2 */
		"deny in any group 239.1.2.0/24 source 10.0.0.0/8\n"		/* 3 */
		"allow in any group 239.1.0.0/16 source 10.1.0.0/16\n"		/* 4 */
		"deny in eth0 group 239.1.0.0/16 source 10.1.0.0/16\n"		/* 5 */
		"allow in eth0 group 239.0.0.0/8 source 10.1.2.3\n"		/* 6 */
		"deny in any group ff00::/8 audit\n"				/* 7 */
		"deny out any group 224.0.0.0/4\n"				/* 8 */
		"allow out eth1 group 224.0.0.0/4\n";				/* 9 */
	static const struct {
		const char *name;
		int dir;
		const char *iface, *group, *source, *want;
	} cases[] = {
		{ "longest group beats a longer source", XM_DIR_IN, "eth0", "239.1.2.5", "10.1.2.3",
		  "line 3" },
		{ "longest group, no source needed", XM_DIR_IN, "eth1", "239.1.9.9", "192.0.2.1",
		  "line 2" },
		{ "source length breaks a group tie", XM_DIR_IN, "eth1", "239.1.9.9", "10.1.9.9",
		  "line 4" },
		{ "an interface rule beats an any rule", XM_DIR_IN, "eth0", "239.1.9.9", "10.1.9.9",
		  "line 5" },
		{ "an interface rule applies only to its interface", XM_DIR_IN, "eth1", "239.7.7.7",
		  "10.1.2.3", "line 1" },
		{ "the interface rule, when it is the most specific", XM_DIR_IN, "eth0", "239.7.7.7",
		  "10.1.2.3", "line 6" },
		{ "no match is allow", XM_DIR_IN, "eth0", "238.1.1.1", "10.1.2.3", "allow" },
		{ "direction must match", XM_DIR_OUT, "eth2", "239.1.2.5", "10.1.2.3", "line 8" },
		{ "interface over any, outbound", XM_DIR_OUT, "eth1", "239.1.2.5", NULL, "line 9" },
		{ "unknown source matches only rules without one", XM_DIR_IN, "eth0", "239.1.2.5",
		  NULL, "line 2" },
		{ "IPv6 group, IPv4 rules never match it", XM_DIR_IN, "eth0", "ff0e::1",
		  "2001:db8::1", "line 7" },
		{ "IPv6 bytes that spell 239.1.2.3 do not match IPv4 rules", XM_DIR_IN, "eth1",
		  "ef01:203::", NULL, "allow" },
		{ "IPv4 255.x does not match ff00::/8", XM_DIR_IN, "eth1", "255.1.1.1", NULL,
		  "allow" },
		{ "IPv6 outbound: only IPv4 rules, so allow", XM_DIR_OUT, "eth1", "ff0e::1", NULL,
		  "allow" },
	};
	struct xm_conf_errors e;
	struct xm_conf *c;
	unsigned int i;
	const char *got;
	char name[128];
	int rc = load(text, &c, &e);

	if (rc) {
		check(0, "precedence: policy loads", "%s", e.msg[0]);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		got = decide(c, cases[i].dir, cases[i].iface, cases[i].group, cases[i].source);
		snprintf(name, sizeof(name), "precedence: %s", cases[i].name);
		check(!strcmp(got, cases[i].want), name, "got %s, want %s", got, cases[i].want);
	}
	{
		struct xm_prefix g = host("ff0e::1");
		const struct xm_conf_rule *r = xm_policy_match(c, XM_DIR_IN, "eth0", &g, NULL);

		check(r && r->audit && r->deny, "precedence: the audit flag comes with the rule", "");
	}
	xm_conf_free(c);
}

/* The sample shipped in docs/ loads, and prints to a policy that loads
 * back.  Its include names the host's /etc, so that line is commented
 * out here and includes are off. */
static void test_sample(void)
{
	struct xm_conf_env sample_env = env;
	struct xm_conf_errors e;
	struct xm_conf *c;
	char *text, *inc;
	size_t len = 0;
	FILE *f;
	int rc;

	f = fopen("docs/xdp-mcast.conf", "r");
	if (!f) {
		printf("ok - sample docs/xdp-mcast.conf # SKIP not run from the top directory\n");
		return;
	}
	text = calloc(1, 1 << 16);
	len = fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	for (inc = text; (inc = strstr(inc, "\ninclude ")); inc++)
		inc[1] = '#';
	sample_env.no_include = true;
	rc = xm_conf_load_buffer("docs/xdp-mcast.conf", text, len, &sample_env, &c, &e);
	check(!rc && c->nphyints == 2 && c->nrules == 4 && c->rules[3].audit && c->njoins == 2 &&
	      c->phyints[1].querier == XM_QUERIER_ON && c->phyints[1].query_interval_ms == 60000 &&
	      c->phyints[1].require_router_alert && c->phyints[1].max_groups == 2000 &&
	      c->joins[0].source.family == XM_AF_INET,
	      "sample docs/xdp-mcast.conf loads", "rc %d: %s", rc, rc && e.count ? e.msg[0] : "");
	if (!rc) {
		check(round_trips(c, &env), "sample docs/xdp-mcast.conf: printed form loads back equal",
		      "");
		xm_conf_free(c);
	}
	free(text);
}

/* Enough rules to grow the duplicate index several times; a duplicate of
 * the first one at the end is still found. */
static void test_many_rules(void)
{
	const int n = 5000;
	struct xm_conf_errors e;
	struct xm_conf *c;
	char *text = malloc((size_t)(n + 1) * 64), *o = text;
	char want[64];
	int i, rc;

	for (i = 0; i < n; i++)
		o += sprintf(o, "deny %s any group 239.%d.%d.0/24\n", i % 2 ? "out" : "in",
			     (i / 2) >> 8, (i / 2) & 255);
	rc = load(text, &c, &e);
	check(!rc && c->nrules == n, "5000 distinct rules load", "rc %d %s", rc, rc ? e.msg[0] : "");
	xm_conf_free(c);
	sprintf(o, "deny in any group 239.0.0.0/24\n");
	rc = load(text, &c, &e);
	snprintf(want, sizeof(want), "t.conf:%d:1: duplicate rule", n + 1);
	check(rc == -EINVAL && e.count == 1 && strstr(e.msg[0], want) &&
	      strstr(e.msg[0], "at t.conf:1:1"), "a duplicate among 5000 rules is found",
	      "%s", e.msg[0]);
	free(text);
}

int main(void)
{
	test_good();
	test_fields();
	test_snoop_fields();
	test_snoop_bounds();
	test_equal();
	test_joins();
	test_join_errors();
	test_ipv6_scopes();
	test_bad();
	test_metrics();
	test_many_errors();
	test_odd_bytes();
	test_includes();
	test_prefix();
	test_precedence();
	test_many_rules();
	test_sample();
	return failures ? 1 : 0;
}
