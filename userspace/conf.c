// SPDX-License-Identifier: GPL-2.0-only
/*
 * The xdp-mcast.conf parser.  Each line is split into words, each statement
 * is checked word by word, and every mistake is recorded with its
 * FILE:LINE:COLUMN before the next line is read, so one run reports many.
 * Statements go into a struct xm_conf of our own, which reaches the caller
 * only when the whole file and everything it includes is good.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

/* Scopes every file may name.  IPv4 from RFC 2365.  An IPv6 scope is the
 * low nibble of the second byte whatever the flags (RFC 4291 2.7), so an
 * IPv6 name stands for the sixteen prefixes ff0S::/16, ff1S::/16 ...
 * ffFS::/16: transient (ff15::) and prefix-based (ff35::) groups are
 * inside the scope as much as ff05:: ones. */
static const struct {
	const char *name;
	const char *ipv4;	/* one prefix, or NULL */
	uint8_t ipv6_scope;	/* used when ipv4 is NULL */
} predefined[] = {
	{ "local",		"239.255.0.0/16",	0 },	/* RFC 2365 6.1 */
	{ "organization",	"239.192.0.0/14",	0 },	/* RFC 2365 6.2 */
	{ "admin",		"239.0.0.0/8",		0 },	/* RFC 2365 6 */
	{ "ipv6-admin",		NULL,			4 },	/* RFC 7346 */
	{ "ipv6-site",		NULL,			5 },
	{ "ipv6-organization",	NULL,			8 },
};
#define IPV6_FLAG_VALUES	16

/* The file being read at each include level. */
struct frame {
	const char *file;	/* interned */
	dev_t dev;
	ino_t ino;
};

struct parser {
	const struct xm_conf_env *env;
	struct xm_conf *conf;
	struct xm_conf_errors *errs;
	int nerrors;
	bool nomem;
	struct frame stack[XM_CONF_MAX_DEPTH + 1];
	int depth;		/* frames on the stack */
	/* Rules by direction, interface, group and source, to find
	 * duplicates: open addressing, 1 + index in conf->rules, 0 free. */
	int *rule_index;
	size_t rule_slots;	/* a power of two, at least twice nrules */
	char quoted[4][80];	/* words made printable for messages */
	int nquoted;
};

/* One line split into words.  Each file being read has its own, since an
 * include reads another file in the middle of a line. */
struct line {
	const char *file;
	int lineno;
	int n;
	char *w[XM_CONF_LINE_MAX / 2 + 1];
	int col[XM_CONF_LINE_MAX / 2 + 1];
	char buf[XM_CONF_LINE_MAX + 1];
};

/* s fit to quote in a message: bytes outside printable ASCII as \xNN, cut
 * with "..." when it would not fit in size (at least 4). */
static const char *printable(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = *s;
		char one[5];
		int n;

		if (c >= 0x20 && c < 0x7f) {
			one[0] = c;
			n = 1;
		} else {
			n = snprintf(one, sizeof(one), "\\x%02x", c);
		}
		if (o + n + 4 > size) {
			strcpy(buf + o, "...");
			return buf;
		}
		memcpy(buf + o, one, n);
		o += n;
	}
	buf[o] = '\0';
	return buf;
}

/* A word for a message; valid until four more have been quoted. */
static const char *q(struct parser *p, const char *word)
{
	char *buf = p->quoted[p->nquoted++ % ARRAY_SIZE(p->quoted)];

	return printable(word, buf, sizeof(p->quoted[0]));
}

static struct xm_conf_pos at(const struct line *l, int i)
{
	return (struct xm_conf_pos){ l->file, l->lineno, l->col[i] };
}

/* Records "FILE:LINE:COL: message", or "FILE: message" when line is 0. */
__attribute__((format(printf, 3, 4)))
static void err(struct parser *p, struct xm_conf_pos pos, const char *fmt, ...)
{
	char file[256];
	va_list ap;
	char *m;
	int n;

	if (p->nerrors++ >= XM_CONF_MAX_ERRORS || !p->errs)
		return;
	printable(pos.file, file, sizeof(file));
	m = p->errs->msg[p->nerrors - 1];
	if (pos.line)
		n = snprintf(m, XM_CONF_ERRLEN, "%s:%d:%d: ", file, pos.line, pos.col);
	else
		n = snprintf(m, XM_CONF_ERRLEN, "%s: ", file);
	va_start(ap, fmt);
	vsnprintf(m + n, XM_CONF_ERRLEN - n, fmt, ap);
	va_end(ap);
}

static void out_of_memory(struct parser *p, struct xm_conf_pos pos)
{
	if (!p->nomem)
		err(p, pos, "out of memory");
	p->nomem = true;
}

/* arr, holding n elements of size bytes, with room for one more.  The
 * capacity doubles at each power of two, so it need not be stored. */
static void *grow(void *arr, int n, size_t size)
{
	if (n < 4 ? n != 0 : (n & (n - 1)) != 0)
		return arr;
	return realloc(arr, (n < 4 ? 4 : (size_t)n * 2) * size);
}

/* ---- prefixes ---- */

static int family_bits(uint8_t family)
{
	return family == XM_AF_INET ? 32 : family == XM_AF_INET6 ? 128 : 0;
}

static const char *family_label(uint8_t family)
{
	return family == XM_AF_INET ? "IPv4" : "IPv6";
}

static void prefix_mask(struct xm_prefix *p)
{
	uint8_t *b = (uint8_t *)p->addr;
	int i;

	for (i = 0; i < 16; i++) {
		int bits = p->len - i * 8;

		b[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

int xm_prefix_parse(const char *s, struct xm_prefix *out, char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN], shown[80], fixed[XM_PREFIX_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct xm_prefix p = { 0 }, masked;
	uint64_t len;
	int max;

	if (!why)
		whylen = 0;
	if (alen == 0 || alen >= sizeof(addr))
		goto not_address;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p.addr) == 1)
		p.family = XM_AF_INET;
	else if (inet_pton(AF_INET6, addr, p.addr) == 1)
		p.family = XM_AF_INET6;
	else
		goto not_address;
	max = family_bits(p.family);
	if (!slash) {
		len = max;
	} else if (!xm_parse_u64(slash + 1, 0, max, &len)) {
		snprintf(why, whylen, "prefix length must be 0..%d for %s, not '%s'", max,
			 family_label(p.family),
			 printable(slash + 1, shown, sizeof(shown)));
		return -EINVAL;
	}
	p.len = len;
	masked = p;
	prefix_mask(&masked);
	if (memcmp(masked.addr, p.addr, sizeof(p.addr))) {
		snprintf(why, whylen, "host bits set in %s; did you mean %s?",
			 printable(s, shown, sizeof(shown)),
			 xm_prefix_format(&masked, fixed, sizeof(fixed)));
		return -EINVAL;
	}
	*out = p;
	return 0;

not_address:
	snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address or prefix",
		 printable(s, shown, sizeof(shown)));
	return -EINVAL;
}

const char *xm_prefix_format(const struct xm_prefix *p, char *buf, size_t len)
{
	char addr[XM_ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", xm_format_addr(p->family, p->addr, addr, sizeof(addr)),
		 p->len);
	return buf;
}

bool xm_prefix_contains(const struct xm_prefix *outer, const struct xm_prefix *inner)
{
	const uint8_t *a = (const uint8_t *)outer->addr, *b = (const uint8_t *)inner->addr;
	int full = outer->len / 8, rest = outer->len % 8;

	if (!outer->family || outer->family != inner->family || outer->len > inner->len ||
	    outer->len > family_bits(outer->family))
		return false;
	if (memcmp(a, b, full))
		return false;
	return !rest || !((a[full] ^ b[full]) & (0xff << (8 - rest)));
}

bool xm_prefix_equal(const struct xm_prefix *a, const struct xm_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool xm_prefix_is_multicast(const struct xm_prefix *p)
{
	const uint8_t *b = (const uint8_t *)p->addr;

	if (p->family == XM_AF_INET)
		return p->len >= 4 && (b[0] & 0xf0) == 0xe0;
	if (p->family == XM_AF_INET6)
		return p->len >= 8 && b[0] == 0xff;
	return false;
}

/* Appends pf to a list unless it is there already. */
static bool prefix_list_add(struct parser *p, struct xm_prefix **list, int *n,
			    const struct xm_prefix *pf, struct xm_conf_pos pos)
{
	struct xm_prefix *a;
	int i;

	for (i = 0; i < *n; i++)
		if (xm_prefix_equal(&(*list)[i], pf))
			return true;
	a = grow(*list, *n, sizeof(**list));
	if (!a) {
		out_of_memory(p, pos);
		return false;
	}
	a[(*n)++] = *pf;
	*list = a;
	return true;
}

/* ---- names ---- */

/* What Linux accepts (dev_valid_name), within our word syntax. */
static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);
	const char *c;

	if (len == 0 || len >= XM_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (c = s; *c; c++)
		if (*c == '/' || *c == ':' || *c == 0x7f || (unsigned char)*c <= ' ')
			return false;
	return true;
}

/* A letter, then letters, digits, '-', '_' or '.': never an address, which
 * starts with a digit or holds a ':'. */
static bool valid_scope_name(const char *s)
{
	size_t i;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return i < XM_SCOPE_NAMSIZ;
}

/* The prefixes of a predefined scope into out; 0 when name is not one. */
static int predefined_scope(const char *name, struct xm_prefix out[IPV6_FLAG_VALUES])
{
	unsigned int i, f;

	for (i = 0; i < ARRAY_SIZE(predefined); i++) {
		if (strcmp(name, predefined[i].name))
			continue;
		if (predefined[i].ipv4)
			return xm_prefix_parse(predefined[i].ipv4, &out[0], NULL, 0) ? 0 : 1;
		for (f = 0; f < IPV6_FLAG_VALUES; f++) {
			uint8_t *b = (uint8_t *)out[f].addr;

			out[f] = (struct xm_prefix){ .family = XM_AF_INET6, .len = 16 };
			b[0] = 0xff;
			b[1] = f << 4 | predefined[i].ipv6_scope;
		}
		return IPV6_FLAG_VALUES;
	}
	return 0;
}

static const struct xm_conf_scope *find_scope(const struct xm_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nscopes; i++)
		if (!strcmp(c->scopes[i].name, name))
			return &c->scopes[i];
	return NULL;
}

static const struct xm_conf_phyint *find_phyint(const struct xm_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nphyints; i++)
		if (!strcmp(c->phyints[i].name, name))
			return &c->phyints[i];
	return NULL;
}

/* ---- statements ---- */

/* Word i names an interface that is valid and, as far as the caller can
 * tell, exists.  Copies it into name. */
static bool take_iface(struct parser *p, const struct line *l, int i, char name[XM_IFNAMSIZ])
{
	const char *w = l->w[i];

	if (!valid_ifname(w)) {
		err(p, at(l, i), "'%s' is not a valid interface name (1 to %d bytes, no '/' or ':')",
		    q(p, w), XM_IFNAMSIZ - 1);
		return false;
	}
	if (p->env && p->env->iface_exists && !p->env->iface_exists(w, p->env->ctx)) {
		err(p, at(l, i), "unknown interface '%s'", q(p, w));
		return false;
	}
	memcpy(name, w, strlen(w) + 1);
	return true;
}

/* Word i is a multicast prefix; what names it in messages. */
static bool take_mcast_prefix(struct parser *p, const struct line *l, int i, const char *what,
			      struct xm_prefix *pf)
{
	char why[160], shown[XM_PREFIX_STRLEN];

	if (xm_prefix_parse(l->w[i], pf, why, sizeof(why))) {
		err(p, at(l, i), "%s", why);
		return false;
	}
	if (!xm_prefix_is_multicast(pf)) {
		err(p, at(l, i), "%s %s is not multicast (%s groups lie in %s)%s", what,
		    xm_prefix_format(pf, shown, sizeof(shown)), family_label(pf->family),
		    pf->family == XM_AF_INET ? "224.0.0.0/4" : "ff00::/8",
		    strcmp(what, "group") ? "" : "; the rule could never match");
		return false;
	}
	return true;
}

/* The value after keyword i, or an error at the keyword. */
static const char *value_of(struct parser *p, const struct line *l, int i, const char *need)
{
	if (i + 1 < l->n)
		return l->w[i + 1];
	err(p, at(l, i), "%s needs %s", l->w[i], need);
	return NULL;
}

/* scope NAME PREFIX... */
static void parse_scope(struct parser *p, const struct line *l)
{
	struct xm_conf_scope s = { 0 }, *arr;
	struct xm_prefix tmp[IPV6_FLAG_VALUES];
	const struct xm_conf_scope *old;
	int i;

	if (l->n < 2) {
		err(p, at(l, 0), "scope needs a name and at least one prefix");
		return;
	}
	if (!valid_scope_name(l->w[1])) {
		err(p, at(l, 1), "'%s' is not a valid scope name (a letter, then letters, digits, "
		    "'-', '_' or '.'; at most %d)", q(p, l->w[1]), XM_SCOPE_NAMSIZ - 1);
		return;
	}
	old = find_scope(p->conf, l->w[1]);
	if (old) {
		err(p, at(l, 1), "scope '%s' is already defined at %s:%d:%d", l->w[1],
		    q(p, old->pos.file), old->pos.line, old->pos.col);
		return;
	}
	if (predefined_scope(l->w[1], tmp)) {
		err(p, at(l, 1), "scope '%s' is predefined and cannot be redefined", l->w[1]);
		return;
	}
	strcpy(s.name, l->w[1]);
	s.pos = at(l, 1);
	if (l->n < 3)
		err(p, at(l, 1), "scope %s needs at least one prefix", l->w[1]);
	for (i = 2; i < l->n; i++) {
		struct xm_prefix pf;

		if (valid_scope_name(l->w[i]))
			err(p, at(l, i), "'%s' is not a prefix (a scope lists prefixes, not names)",
			    l->w[i]);
		else if (take_mcast_prefix(p, l, i, "scope prefix", &pf) &&
			 !prefix_list_add(p, &s.prefixes, &s.nprefixes, &pf, at(l, i)))
			break;
	}
	/* Kept even when a prefix was wrong, so that later lines naming the
	 * scope do not add "undefined scope" errors to the real one. */
	arr = grow(p->conf->scopes, p->conf->nscopes, sizeof(*arr));
	if (!arr) {
		free(s.prefixes);
		out_of_memory(p, at(l, 0));
		return;
	}
	arr[p->conf->nscopes++] = s;
	p->conf->scopes = arr;
}

/* boundary PREFIX-or-NAME, the value at word i, into ph. */
static bool take_boundary(struct parser *p, const struct line *l, int i,
			  struct xm_conf_phyint *ph)
{
	const char *w = l->w[i];
	const struct xm_conf_scope *s;
	struct xm_prefix tmp[IPV6_FLAG_VALUES], *list = tmp;
	int j, n;

	if (!valid_scope_name(w)) {
		if (!take_mcast_prefix(p, l, i, "boundary", &tmp[0]))
			return false;
		n = 1;
	} else if ((s = find_scope(p->conf, w))) {
		list = s->prefixes;
		n = s->nprefixes;
	} else if (!(n = predefined_scope(w, tmp))) {
		err(p, at(l, i), "boundary names undefined scope '%s' (define it with "
		    "'scope %s PREFIX...' before this line)", w, w);
		return false;
	}
	for (j = 0; j < n; j++)
		if (!prefix_list_add(p, &ph->boundaries, &ph->nboundaries, &list[j], at(l, i)))
			return false;
	return true;
}

/* phyint IFACE [mode native|skb] [ttl-threshold N] [boundary X]... */
static void parse_phyint(struct parser *p, const struct line *l)
{
	struct xm_conf_phyint ph = { .mode = -1, .ttl_threshold = -1 }, *arr;
	const struct xm_conf_phyint *old;
	const char *val;
	bool ok = true;
	uint64_t ttl;
	int i;

	if (l->n < 2) {
		err(p, at(l, 0), "phyint needs an interface name");
		return;
	}
	ph.pos = at(l, 1);
	if (!strcmp(l->w[1], "any")) {
		err(p, at(l, 1), "phyint needs an interface name; 'any' is only for rules");
		ok = false;
	} else if (!take_iface(p, l, 1, ph.name)) {
		ok = false;
	} else if ((old = find_phyint(p->conf, ph.name))) {
		err(p, at(l, 1), "phyint %s is already configured at %s:%d:%d", q(p, ph.name),
		    q(p, old->pos.file), old->pos.line, old->pos.col);
		ok = false;
	}

	/* Every option is a keyword and its value. */
	for (i = 2; i < l->n; i += 2) {
		const char *kw = l->w[i];

		if (!strcmp(kw, "mode")) {
			if (!(val = value_of(p, l, i, "a value: native or skb"))) {
				ok = false;
				break;
			}
			if (ph.mode != -1) {
				err(p, at(l, i), "mode is given twice");
				ok = false;
			} else if (!strcmp(val, "native")) {
				ph.mode = XM_ATTACH_NATIVE;
			} else if (!strcmp(val, "skb")) {
				ph.mode = XM_ATTACH_SKB;
			} else {
				err(p, at(l, i + 1), "mode must be native or skb, not '%s'", q(p, val));
				ok = false;
			}
		} else if (!strcmp(kw, "ttl-threshold")) {
			if (!(val = value_of(p, l, i, "a value (0..255)"))) {
				ok = false;
				break;
			}
			if (ph.ttl_threshold != -1) {
				err(p, at(l, i), "ttl-threshold is given twice");
				ok = false;
			} else if (!xm_parse_u64(val, 0, 255, &ttl)) {
				err(p, at(l, i + 1), "ttl-threshold must be 0..255, not '%s'", q(p, val));
				ok = false;
			} else {
				ph.ttl_threshold = ttl;
			}
		} else if (!strcmp(kw, "boundary")) {
			if (!value_of(p, l, i, "a prefix or a scope name")) {
				ok = false;
				break;
			}
			if (!take_boundary(p, l, i + 1, &ph))
				ok = false;
		} else {
			if (i >= 3 && !strcmp(l->w[i - 2], "boundary"))
				err(p, at(l, i), "unexpected '%s' in phyint: write 'boundary %s' "
				    "(one value per boundary)", q(p, kw), q(p, kw));
			else
				err(p, at(l, i), "unexpected '%s' in phyint (expected mode, "
				    "ttl-threshold or boundary)", q(p, kw));
			ok = false;
			break;
		}
	}

	if (ok && (arr = grow(p->conf->phyints, p->conf->nphyints, sizeof(*arr)))) {
		arr[p->conf->nphyints++] = ph;
		p->conf->phyints = arr;
		return;
	}
	if (ok)
		out_of_memory(p, at(l, 0));
	free(ph.boundaries);
}

static bool same_match(const struct xm_conf_rule *a, const struct xm_conf_rule *b)
{
	return a->dir == b->dir && !strcmp(a->iface, b->iface) &&
	       xm_prefix_equal(&a->group, &b->group) && xm_prefix_equal(&a->source, &b->source);
}

static uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *b = data;

	while (len--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static uint32_t prefix_hash(uint32_t h, const struct xm_prefix *p)
{
	h = fnv1a(h, &p->family, 1);
	h = fnv1a(h, &p->len, 1);
	return fnv1a(h, p->addr, sizeof(p->addr));
}

/* The index slot of the rule matching what r matches, or the free slot
 * where r goes. */
static int *rule_slot(struct parser *p, const struct xm_conf_rule *r)
{
	uint32_t h = fnv1a(2166136261u, &r->dir, 1);
	size_t mask = p->rule_slots - 1, i;

	h = fnv1a(h, r->iface, strlen(r->iface));
	h = prefix_hash(prefix_hash(h, &r->group), &r->source);
	for (i = h & mask; p->rule_index[i]; i = (i + 1) & mask)
		if (same_match(&p->conf->rules[p->rule_index[i] - 1], r))
			break;
	return &p->rule_index[i];
}

/* Room in the index for one more rule, keeping it at most half full. */
static bool rule_index_reserve(struct parser *p)
{
	size_t old_slots = p->rule_slots, i;
	int *old = p->rule_index;

	if ((size_t)(p->conf->nrules + 1) * 2 <= old_slots)
		return true;
	p->rule_slots = old_slots ? old_slots * 2 : 64;
	p->rule_index = calloc(p->rule_slots, sizeof(*p->rule_index));
	if (!p->rule_index) {
		p->rule_index = old;
		p->rule_slots = old_slots;
		return false;
	}
	for (i = 0; i < old_slots; i++)
		if (old[i])
			*rule_slot(p, &p->conf->rules[old[i] - 1]) = old[i];
	free(old);
	return true;
}

/* allow|deny in|out IFACE|any group PREFIX [source PREFIX] [audit] */
static void parse_rule(struct parser *p, const struct line *l)
{
	struct xm_conf_rule r = { .deny = !strcmp(l->w[0], "deny") }, *arr;
	const struct xm_conf_rule *old;
	char why[160], s1[XM_PREFIX_STRLEN], s2[XM_PREFIX_STRLEN];
	int i, group_at = 0, source_at = 0, audit_at = 0, *slot;
	bool ok = true, syntax_ok = true;

	r.pos = at(l, 0);
	if (l->n < 2) {
		err(p, at(l, 0), "%s needs a direction (in or out), an interface or 'any', "
		    "and 'group PREFIX'", l->w[0]);
		return;
	}
	if (!strcmp(l->w[1], "in") || !strcmp(l->w[1], "out")) {
		r.dir = !strcmp(l->w[1], "in") ? XM_DIR_IN : XM_DIR_OUT;
	} else {
		err(p, at(l, 1), "direction must be in or out, not '%s'", q(p, l->w[1]));
		return;
	}
	if (l->n < 3) {
		err(p, at(l, 1), "%s %s needs an interface name or 'any'", l->w[0], l->w[1]);
		return;
	}
	if (strcmp(l->w[2], "any") && !take_iface(p, l, 2, r.iface))
		ok = false;

	for (i = 3; i < l->n;) {
		const char *kw = l->w[i];

		if (!strcmp(kw, "group") || !strcmp(kw, "source")) {
			bool group = kw[0] == 'g';
			int *seen = group ? &group_at : &source_at;

			if (!value_of(p, l, i, "a prefix")) {
				syntax_ok = false;
				break;
			}
			if (*seen) {
				err(p, at(l, i), "%s is given twice", kw);
				ok = false;
			} else if (group) {
				if (!take_mcast_prefix(p, l, i + 1, "group", &r.group))
					ok = false;
			} else if (xm_prefix_parse(l->w[i + 1], &r.source, why, sizeof(why))) {
				err(p, at(l, i + 1), "%s", why);
				ok = false;
			}
			*seen = i + 1;
			i += 2;
		} else if (!strcmp(kw, "audit")) {
			if (audit_at) {
				err(p, at(l, i), "audit is given twice");
				ok = false;
			}
			r.audit = 1;
			audit_at = i++;
		} else {
			err(p, at(l, i), "unexpected '%s' in rule (expected group, source or audit)",
			    q(p, kw));
			syntax_ok = false;
			break;
		}
	}
	if (syntax_ok && !group_at) {
		err(p, at(l, 0), "%s rule needs 'group PREFIX'", l->w[0]);
		ok = false;
	}
	if (!ok || !syntax_ok)
		return;

	if (r.source.family && r.source.family != r.group.family) {
		err(p, at(l, source_at), "source %s is %s but group %s is %s",
		    xm_prefix_format(&r.source, s1, sizeof(s1)), family_label(r.source.family),
		    xm_prefix_format(&r.group, s2, sizeof(s2)), family_label(r.group.family));
		return;
	}
	if (xm_prefix_is_multicast(&r.source)) {
		err(p, at(l, source_at), "source %s is multicast; a source is a sender's "
		    "unicast address", xm_prefix_format(&r.source, s1, sizeof(s1)));
		return;
	}
	/* Every source: the same rule as one without a source. */
	if (r.source.family && r.source.len == 0)
		r.source = (struct xm_prefix){ 0 };

	if (!rule_index_reserve(p)) {
		out_of_memory(p, at(l, 0));
		return;
	}
	slot = rule_slot(p, &r);
	if (*slot) {
		old = &p->conf->rules[*slot - 1];
		err(p, at(l, 0), "duplicate rule: same direction, interface, group and source "
		    "as the rule at %s:%d:%d", q(p, old->pos.file), old->pos.line, old->pos.col);
		return;
	}
	arr = grow(p->conf->rules, p->conf->nrules, sizeof(*arr));
	if (!arr) {
		out_of_memory(p, at(l, 0));
		return;
	}
	arr[p->conf->nrules++] = r;
	p->conf->rules = arr;
	*slot = p->conf->nrules;
}

/* ---- files and includes ---- */

static const char *intern(struct parser *p, const char *name, struct xm_conf_pos pos)
{
	char **arr, *copy = strdup(name);

	arr = copy ? grow(p->conf->files, p->conf->nfiles, sizeof(*arr)) : NULL;
	if (!arr) {
		free(copy);
		out_of_memory(p, pos);
		return NULL;
	}
	arr[p->conf->nfiles++] = copy;
	p->conf->files = arr;
	return copy;
}

static void parse_text(struct parser *p, const char *file, const char *text, size_t len);

/* strcat that stops at the end of buf. */
static void append(char *buf, size_t size, const char *s)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "%s", s);
}

/* path cannot be read: an error at the include naming it, or of the main
 * file itself. */
static void file_err(struct parser *p, const struct xm_conf_pos *from, const char *path,
		     const char *why)
{
	if (from)
		err(p, *from, "cannot include '%s': %s", q(p, path), why);
	else
		err(p, (struct xm_conf_pos){ path, 0, 0 }, "cannot read: %s", why);
}

/*
 * Reads path as the next include level.  from is the include's file name
 * word, NULL for the main file, whose open errors are returned.
 */
static int parse_file(struct parser *p, const char *path, const struct xm_conf_pos *from)
{
	struct xm_conf_pos pos = from ? *from : (struct xm_conf_pos){ path, 0, 0 };
	char *text = NULL, msg[XM_CONF_ERRLEN], shown[120];
	size_t len = 0;
	struct stat st;
	int fd, i, rc = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		file_err(p, from, path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		file_err(p, from, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		file_err(p, from, path, "not a regular file");
		goto out;
	}
	for (i = 0; i < p->depth; i++) {
		if (p->stack[i].dev != st.st_dev || p->stack[i].ino != st.st_ino)
			continue;
		msg[0] = '\0';
		for (; i < p->depth; i++) {
			append(msg, sizeof(msg), printable(p->stack[i].file, shown, sizeof(shown)));
			append(msg, sizeof(msg), " -> ");
		}
		append(msg, sizeof(msg), printable(path, shown, sizeof(shown)));
		err(p, pos, "include loop: %s", msg);
		rc = -ELOOP;
		goto out;
	}
	if (p->depth > XM_CONF_MAX_DEPTH) {
		snprintf(msg, sizeof(msg), "includes nested more than %d deep",
			 XM_CONF_MAX_DEPTH);
		file_err(p, from, path, msg);
		rc = -ELOOP;
		goto out;
	}
	if (st.st_size > XM_CONF_FILE_MAX) {
		file_err(p, from, path, "larger than 16 MiB");
		rc = -EFBIG;
		goto out;
	}
	text = malloc(st.st_size ? st.st_size : 1);
	if (!text) {
		out_of_memory(p, pos);
		rc = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			file_err(p, from, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	fd = -1;
	p->stack[p->depth] = (struct frame){ intern(p, path, pos), st.st_dev, st.st_ino };
	if (p->stack[p->depth].file) {
		p->depth++;
		parse_text(p, p->stack[p->depth - 1].file, text, len);
		p->depth--;
	}
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* dir (up to and with its last '/') of file, then name; with glob
 * characters in dir escaped when the result is a pattern. */
static char *relative_to(const char *file, const char *name, bool pattern)
{
	const char *slash = strrchr(file, '/');
	size_t dlen = slash && name[0] != '/' ? (size_t)(slash - file + 1) : 0;
	char *out = malloc(2 * dlen + strlen(name) + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < dlen; i++) {
		if (pattern && strchr("*?[\\", file[i]))
			*o++ = '\\';
		*o++ = file[i];
	}
	strcpy(o, name);
	return out;
}

/* include FILE-or-GLOB */
static void parse_include(struct parser *p, const struct line *l)
{
	struct xm_conf_pos pos;
	bool pattern;
	char *path;
	glob_t g;
	size_t i;
	int rc;

	if (l->n < 2) {
		err(p, at(l, 0), "include needs a file name or a glob pattern");
		return;
	}
	if (l->n > 2) {
		err(p, at(l, 2), "unexpected '%s' after the file name (one file or pattern per "
		    "include; names cannot contain spaces)", q(p, l->w[2]));
		return;
	}
	pos = at(l, 1);
	if (p->env && p->env->no_include) {
		err(p, pos, "include is not allowed here");
		return;
	}
	pattern = strpbrk(l->w[1], "*?[") != NULL;
	path = relative_to(l->file, l->w[1], pattern);
	if (!path) {
		out_of_memory(p, pos);
		return;
	}
	if (!pattern) {
		parse_file(p, path, &pos);
		free(path);
		return;
	}
	/* Sorted by glob(); directories (marked with a '/') are skipped. */
	rc = glob(path, GLOB_MARK, NULL, &g);
	if (rc == GLOB_NOSPACE)
		out_of_memory(p, pos);
	else if (rc == GLOB_ABORTED)
		err(p, pos, "cannot include '%s': cannot read the directory", q(p, path));
	for (i = 0; !rc && i < g.gl_pathc; i++) {
		size_t len = strlen(g.gl_pathv[i]);

		if (len && g.gl_pathv[i][len - 1] != '/')
			parse_file(p, g.gl_pathv[i], &pos);
	}
	globfree(&g);	/* glibc leaves g empty when nothing matched */
	free(path);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits raw, n bytes without the newline, into l's words; false, with the
 * error recorded, when the line cannot be read. */
static bool split_line(struct parser *p, struct line *l, const char *raw, size_t n)
{
	bool in_word = false;
	size_t i;

	l->n = 0;
	if (n > XM_CONF_LINE_MAX) {
		err(p, (struct xm_conf_pos){ l->file, l->lineno, XM_CONF_LINE_MAX + 1 },
		    "line is longer than %d bytes", XM_CONF_LINE_MAX);
		return false;
	}
	for (i = 0; i < n && raw[i] != '#'; i++) {
		if (raw[i] == '\0') {
			err(p, (struct xm_conf_pos){ l->file, l->lineno, (int)i + 1 },
			    "NUL byte in the line");
			return false;
		}
		if (is_blank(raw[i])) {
			l->buf[i] = '\0';
			in_word = false;
			continue;
		}
		l->buf[i] = raw[i];
		if (!in_word) {
			l->w[l->n] = l->buf + i;
			l->col[l->n++] = i + 1;
			in_word = true;
		}
	}
	l->buf[i] = '\0';
	return true;
}

static void parse_text(struct parser *p, const char *file, const char *text, size_t len)
{
	struct line *l = malloc(sizeof(*l));
	size_t start = 0;

	if (!l) {
		out_of_memory(p, (struct xm_conf_pos){ file, 0, 0 });
		return;
	}
	l->file = file;
	l->lineno = 0;
	while (start < len && !p->nomem) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t n = nl ? (size_t)(nl - (text + start)) : len - start;

		l->lineno++;
		if (split_line(p, l, text + start, n) && l->n > 0) {
			const char *kw = l->w[0];

			if (!strcmp(kw, "include"))
				parse_include(p, l);
			else if (!strcmp(kw, "phyint"))
				parse_phyint(p, l);
			else if (!strcmp(kw, "scope"))
				parse_scope(p, l);
			else if (!strcmp(kw, "allow") || !strcmp(kw, "deny"))
				parse_rule(p, l);
			else
				err(p, at(l, 0), "unknown statement '%s' (expected include, phyint, "
				    "scope, allow or deny)", q(p, kw));
		}
		start += n + 1;
	}
	free(l);
}

/* ---- the API ---- */

static bool parser_init(struct parser *p, const struct xm_conf_env *env,
			struct xm_conf_errors *errs)
{
	*p = (struct parser){ .env = env, .errs = errs };
	if (errs)
		errs->count = 0;
	p->conf = calloc(1, sizeof(*p->conf));
	if (!p->conf) {
		if (errs) {
			errs->count = 1;
			snprintf(errs->msg[0], XM_CONF_ERRLEN, "out of memory");
		}
		return false;
	}
	return true;
}

static int parser_finish(struct parser *p, int rc, struct xm_conf **out)
{
	free(p->rule_index);
	if (p->errs)
		p->errs->count = p->nerrors;
	if (!rc)
		rc = p->nomem ? -ENOMEM : p->nerrors ? -EINVAL : 0;
	if (rc) {
		xm_conf_free(p->conf);
		return rc;
	}
	*out = p->conf;
	return 0;
}

int xm_conf_load(const char *path, const struct xm_conf_env *env,
		 struct xm_conf **out, struct xm_conf_errors *errs)
{
	struct parser p;

	if (!parser_init(&p, env, errs))
		return -ENOMEM;
	return parser_finish(&p, parse_file(&p, path, NULL), out);
}

int xm_conf_load_buffer(const char *name, const char *text, size_t len,
			const struct xm_conf_env *env, struct xm_conf **out,
			struct xm_conf_errors *errs)
{
	struct xm_conf_pos pos = { name, 0, 0 };
	struct parser p;
	int rc = 0;

	if (!parser_init(&p, env, errs))
		return -ENOMEM;
	if (len > XM_CONF_FILE_MAX) {
		err(&p, pos, "cannot read: larger than 16 MiB");
		rc = -EFBIG;
	} else if ((p.stack[0].file = intern(&p, name, pos))) {
		/* Not a file: no device and inode for loops to meet. */
		p.depth = 1;
		parse_text(&p, p.stack[0].file, text, len);
	}
	return parser_finish(&p, rc, out);
}

void xm_conf_free(struct xm_conf *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->nscopes; i++)
		free(c->scopes[i].prefixes);
	for (i = 0; i < c->nphyints; i++)
		free(c->phyints[i].boundaries);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->scopes);
	free(c->phyints);
	free(c->rules);
	free(c->files);
	free(c);
}

void xm_conf_print(const struct xm_conf *c, FILE *f)
{
	static const char *const modes[] = {
		[XM_ATTACH_NATIVE] = "native", [XM_ATTACH_SKB] = "skb",
	};
	char buf[XM_PREFIX_STRLEN];
	int i, j;

	for (i = 0; i < c->nscopes; i++) {
		fprintf(f, "scope %s", c->scopes[i].name);
		for (j = 0; j < c->scopes[i].nprefixes; j++)
			fprintf(f, " %s", xm_prefix_format(&c->scopes[i].prefixes[j], buf, sizeof(buf)));
		fputc('\n', f);
	}
	for (i = 0; i < c->nphyints; i++) {
		const struct xm_conf_phyint *ph = &c->phyints[i];

		fprintf(f, "phyint %s", ph->name);
		if (ph->mode >= 0 && ph->mode < (int)ARRAY_SIZE(modes))
			fprintf(f, " mode %s", modes[ph->mode]);
		if (ph->ttl_threshold >= 0)
			fprintf(f, " ttl-threshold %d", ph->ttl_threshold);
		for (j = 0; j < ph->nboundaries; j++)
			fprintf(f, " boundary %s", xm_prefix_format(&ph->boundaries[j], buf, sizeof(buf)));
		fputc('\n', f);
	}
	for (i = 0; i < c->nrules; i++) {
		const struct xm_conf_rule *r = &c->rules[i];

		fprintf(f, "%s %s %s group %s", r->deny ? "deny" : "allow",
			r->dir == XM_DIR_IN ? "in" : "out", r->iface[0] ? r->iface : "any",
			xm_prefix_format(&r->group, buf, sizeof(buf)));
		if (r->source.family)
			fprintf(f, " source %s", xm_prefix_format(&r->source, buf, sizeof(buf)));
		fprintf(f, "%s\n", r->audit ? " audit" : "");
	}
}

static bool prefix_lists_equal(const struct xm_prefix *a, int na,
			       const struct xm_prefix *b, int nb)
{
	int i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!xm_prefix_equal(&a[i], &b[i]))
			return false;
	return true;
}

bool xm_conf_equal(const struct xm_conf *a, const struct xm_conf *b)
{
	int i;

	if (a->nscopes != b->nscopes || a->nphyints != b->nphyints || a->nrules != b->nrules)
		return false;
	for (i = 0; i < a->nscopes; i++) {
		const struct xm_conf_scope *x = &a->scopes[i], *y = &b->scopes[i];

		if (strcmp(x->name, y->name) ||
		    !prefix_lists_equal(x->prefixes, x->nprefixes, y->prefixes, y->nprefixes))
			return false;
	}
	for (i = 0; i < a->nphyints; i++) {
		const struct xm_conf_phyint *x = &a->phyints[i], *y = &b->phyints[i];

		if (strcmp(x->name, y->name) || x->mode != y->mode ||
		    x->ttl_threshold != y->ttl_threshold ||
		    !prefix_lists_equal(x->boundaries, x->nboundaries, y->boundaries, y->nboundaries))
			return false;
	}
	for (i = 0; i < a->nrules; i++) {
		const struct xm_conf_rule *x = &a->rules[i], *y = &b->rules[i];

		if (x->deny != y->deny || x->audit != y->audit || !same_match(x, y))
			return false;
	}
	return true;
}

void xm_conf_errors_print(const struct xm_conf_errors *errs, FILE *f)
{
	int i;

	for (i = 0; i < errs->count && i < XM_CONF_MAX_ERRORS; i++)
		fprintf(f, "%s\n", errs->msg[i]);
	if (errs->count > XM_CONF_MAX_ERRORS)
		fprintf(f, "... and %d more errors\n", errs->count - XM_CONF_MAX_ERRORS);
}

bool xm_conf_iface_exists(const char *name, void *ctx)
{
	return if_nametoindex(name) != 0;
}

/* a decides over b, both matching the same packet. */
static bool more_specific(const struct xm_conf_rule *a, const struct xm_conf_rule *b)
{
	if (a->group.len != b->group.len)
		return a->group.len > b->group.len;
	if (a->source.len != b->source.len)
		return a->source.len > b->source.len;
	return a->iface[0] && !b->iface[0];
}

const struct xm_conf_rule *xm_policy_match(const struct xm_conf *c, int dir,
					   const char *iface,
					   const struct xm_prefix *group,
					   const struct xm_prefix *source)
{
	const struct xm_conf_rule *best = NULL;
	int i;

	for (i = 0; i < c->nrules; i++) {
		const struct xm_conf_rule *r = &c->rules[i];

		if (r->dir != dir || (r->iface[0] && (!iface || strcmp(r->iface, iface))))
			continue;
		if (!xm_prefix_contains(&r->group, group))
			continue;
		if (r->source.family && (!source || !xm_prefix_contains(&r->source, source)))
			continue;
		if (!best || more_specific(r, best))
			best = r;
	}
	return best;
}
