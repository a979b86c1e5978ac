// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the xdp-mcast.conf parser: any bytes, with includes
 * turned off and a fixed set of interfaces.  Besides not crashing under
 * ASan and UBSan, three properties abort when broken:
 *  - a failed load leaves *out alone and says why in printable text that
 *    names the file;
 *  - a loaded policy prints to text that loads back into an equal policy;
 *  - no packet finds two matching rules tied in precedence (the promise
 *    that lets xm_policy_match() and the data path skip tie-breaking);
 *  - the router state machine takes the snooping settings of every phyint
 *    and every static join (the promise that a policy which loads can be
 *    applied whole).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mship.h"
#include "util.h"

/* A few fixed names, and every valid name starting with 'x', so that odd
 * bytes in interface names reach the printer too. */
static bool fake_iface_exists(const char *name, void *ctx)
{
	static const char *const known[] = { "eth0", "eth1", "lo", "wan0", "lan0" };
	unsigned int i;

	if (name[0] == 'x')
		return true;
	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(name, known[i]))
			return true;
	return false;
}

static const struct xm_conf_env env = {
	.iface_exists = fake_iface_exists,
	.no_include = true,
};

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_conf: %s\n%s\n", what, detail ? detail : "");
	abort();
}

static void check_errors(const struct xm_conf_errors *e)
{
	int i;
	const char *c;

	if (e->count < 1)
		fail("a failed load reported no error", NULL);
	for (i = 0; i < e->count && i < XM_CONF_MAX_ERRORS; i++) {
		if (strncmp(e->msg[i], "fuzz:", 5))
			fail("an error does not name the file", e->msg[i]);
		for (c = e->msg[i]; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				fail("an error holds an unprintable byte", e->msg[i]);
	}
}

static void check_round_trip(const struct xm_conf *c)
{
	struct xm_conf_errors e;
	struct xm_conf *again = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	xm_conf_print(c, f);
	fclose(f);
	if (xm_conf_load_buffer("printed", text, len, &env, &again, &e))
		fail("the printed policy does not load", e.msg[0]);
	if (!xm_conf_equal(c, again))
		fail("the printed policy loads as a different policy", text);
	xm_conf_free(again);
	free(text);
}

/* The prefix as a host address inside it: its own first address. */
static struct xm_prefix host_of(const struct xm_prefix *p)
{
	struct xm_prefix h = *p;

	h.len = h.family == XM_AF_INET ? 32 : 128;
	return h;
}

static bool matches(const struct xm_conf_rule *r, int dir, const char *iface,
		    const struct xm_prefix *g, const struct xm_prefix *s)
{
	return r->dir == dir && (!r->iface[0] || !strcmp(r->iface, iface)) &&
	       xm_prefix_contains(&r->group, g) &&
	       (!r->source.family || (s && xm_prefix_contains(&r->source, s)));
}

/* Precedence as the man page words it, as one number: higher wins. */
static unsigned int rank(const struct xm_conf_rule *r)
{
	return r->group.len << 9 | r->source.len << 1 | (r->iface[0] != '\0');
}

/* For a packet at each rule's own group and source, on its interface and
 * on another, both ways: the winner outranks every other match. */
static void check_precedence(const struct xm_conf *c)
{
	static const char *const ifaces[] = { "eth0", "xq" };
	int i, j, dir, k;

	for (i = 0; i < c->nrules && i < 64; i++) {
		struct xm_prefix g = host_of(&c->rules[i].group), s = host_of(&c->rules[i].source);
		const struct xm_prefix *sp = c->rules[i].source.family ? &s : NULL;

		for (dir = XM_DIR_IN; dir <= XM_DIR_OUT; dir++) {
			for (k = 0; k < 3; k++) {
				const char *iface = k < 2 ? ifaces[k] : c->rules[i].iface;
				const struct xm_conf_rule *best = xm_policy_match(c, dir, iface, &g, sp);

				if (best && !matches(best, dir, iface, &g, sp))
					fail("xm_policy_match returned a rule that does not match", NULL);
				for (j = 0; j < c->nrules; j++) {
					const struct xm_conf_rule *r = &c->rules[j];

					if (r == best || !matches(r, dir, iface, &g, sp))
						continue;
					if (!best || rank(r) >= rank(best))
						fail("a matching rule ties with or beats the winner", NULL);
				}
			}
		}
	}
}

/* Phyint i is link i + 1. */
static void check_mship(const struct xm_conf *c)
{
	struct xm_mship *m = xm_mship_new(NULL, 1);
	struct xm_mship_cfg cfg;
	int i, k;

	if (!m)
		return;
	for (i = 0; i < c->nphyints; i++) {
		xm_conf_phyint_mship_cfg(&c->phyints[i], &cfg);
		if (xm_mship_iface_set(m, i + 1, 0, &cfg, 1))
			fail("the state machine refuses the settings of a phyint", c->phyints[i].name);
	}
	for (i = 0; i < c->njoins; i++) {
		const struct xm_conf_join *j = &c->joins[i];
		struct xm_mship_key key = { .family = j->group.family };

		for (k = 0; k < c->nphyints; k++)
			if (!strcmp(c->phyints[k].name, j->iface))
				key.ifindex = k + 1;
		memcpy(key.group, j->group.addr, sizeof(key.group));
		if (xm_mship_static_join(m, &key, j->source.family ? j->source.addr : NULL, 1))
			fail("the state machine refuses a static join", j->iface);
	}
	xm_mship_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xm_conf untouched;
	struct xm_conf_errors e;
	struct xm_conf *c = &untouched;

	if (xm_conf_load_buffer("fuzz", (const char *)data, size, &env, &c, &e)) {
		if (c != &untouched)
			fail("a failed load changed *out", NULL);
		check_errors(&e);
		return 0;
	}
	check_round_trip(c);
	check_precedence(c);
	check_mship(c);
	xm_conf_free(c);
	return 0;
}
