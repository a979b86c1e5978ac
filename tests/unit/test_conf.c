// SPDX-License-Identifier: GPL-2.0-only
/*
 * The xdp-mcast.conf parser, built with AddressSanitizer and UBSan: good
 * files and the policy they give, bad files and the exact FILE:LINE:COL of
 * each error, includes in a scratch directory, and the rule precedence of
 * xm_policy_match().  Interfaces come from a fake list, never the host's.
 * Prints TAP.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
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

	{ "unknown statement", "mroute from eth0 group 225.1.2.3\n", "t.conf:1:1",
	  "unknown statement 'mroute' (expected include, phyint, scope, allow or deny)" },
	{ "unknown phyint option", "phyint eth0 enable\n", "t.conf:1:13",
	  "unexpected 'enable' in phyint (expected mode, ttl-threshold or boundary)" },
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
	check(!rc && c->nphyints == 2 && c->nrules == 4 && c->rules[3].audit,
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
	test_ipv6_scopes();
	test_bad();
	test_many_errors();
	test_odd_bytes();
	test_includes();
	test_prefix();
	test_precedence();
	test_many_rules();
	test_sample();
	return failures ? 1 : 0;
}
