// SPDX-License-Identifier: GPL-2.0-only
/*
 * The xdp-mcast.conf parser.  Each line is split into words, each statement
 * is checked word by word, and every mistake is recorded with its
 * FILE:LINE:COLUMN before the next line is read, so one run reports many.
 * Statements go into a struct xm_conf of our own, which reaches the caller
 * only when the whole file and everything it includes is good.  What needs
 * the whole file (a join and the phyint of its interface, which may come
 * later) is checked once everything is read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "mship.h"
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

/* The columns of a join's words, for the checks made at the end. */
struct join_cols {
	int iface, group, source;	/* source 0: none */
};

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
	/* Where the words of each join are, parallel to conf->joins. */
	struct join_cols *join_cols;
	/* Interfaces whose phyint line had an error and was dropped: joins
	 * on them are not told that there is no phyint. */
	char (*bad_phyints)[XM_IFNAMSIZ];
	int nbad_phyints;
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

/* ---- phyint options ---- */

/*
 * The bounds of the snooping times and counts: what xm_mship_iface_set()
 * accepts (test_conf checks that it takes the extremes), narrowed where a
 * value could not reach the wire: the robustness travels in the 3-bit QRV
 * field of our queries, so at most 7.
 */
#define QI_MIN_MS		1000
#define QI_MAX_MS		((int)XM_CODE8_MAX * 1000)	/* what QQIC can say */
#define RESP_MIN_MS		100
#define RESP_MAX_MS		25500		/* IGMPv2's Max Resp Time: 25.5 s */
#define RV_MAX			7
#define CTRL_RATE_MAX		1000000

enum opt_kind {
	OPT_WORD,		/* one of words[] */
	OPT_NUMBER,		/* a whole number, min..max */
	OPT_SECONDS,		/* seconds with up to 3 decimals, stored in ms */
	OPT_FLAG,		/* no value: a bool, true when given */
};

struct opt_word {
	const char *word;
	int value;
};

static const struct opt_word mode_words[] = {
	{ "native", XM_ATTACH_NATIVE }, { "skb", XM_ATTACH_SKB }, { NULL, 0 },
};
static const struct opt_word igmp_words[] = {
	{ "off", 0 }, { "1", 1 }, { "2", 2 }, { "3", 3 }, { NULL, 0 },
};
static const struct opt_word mld_words[] = {
	{ "off", 0 }, { "1", 1 }, { "2", 2 }, { NULL, 0 },
};
static const struct opt_word forwarding_words[] = {
	{ "filter", XM_FWD_FILTER }, { "accelerate", XM_FWD_ACCELERATE }, { NULL, 0 },
};
static const struct opt_word querier_words[] = {
	{ "on", XM_QUERIER_ON }, { "off", XM_QUERIER_OFF }, { "auto", XM_QUERIER_AUTO },
	{ NULL, 0 },
};

#define PI(field) offsetof(struct xm_conf_phyint, field)

/* Every phyint option but boundary, in the order they are printed.  An
 * int field is -1 when not given, a flag false. */
static const struct phyint_opt {
	const char *name;
	enum opt_kind kind;
	size_t off;		/* of the int, or of the bool for a flag */
	const struct opt_word *words;
	int min, max;
} phyint_opts[] = {
	{ "mode",			OPT_WORD,	PI(mode), mode_words, 0, 0 },
	{ "ttl-threshold",		OPT_NUMBER,	PI(ttl_threshold), NULL, 0, 255 },
	{ "igmp",			OPT_WORD,	PI(igmp), igmp_words, 0, 0 },
	{ "mld",			OPT_WORD,	PI(mld), mld_words, 0, 0 },
	{ "querier",			OPT_WORD,	PI(querier), querier_words, 0, 0 },
	{ "robustness",			OPT_NUMBER,	PI(robustness), NULL, 1, RV_MAX },
	{ "query-interval",		OPT_SECONDS,	PI(query_interval_ms), NULL,
	  QI_MIN_MS, QI_MAX_MS },
	{ "query-response-interval",	OPT_SECONDS,	PI(query_response_ms), NULL,
	  RESP_MIN_MS, RESP_MAX_MS },
	{ "last-member-query-interval",	OPT_SECONDS,	PI(lmqi_ms), NULL,
	  RESP_MIN_MS, RESP_MAX_MS },
	{ "fast-leave",			OPT_FLAG,	PI(fast_leave), NULL, 0, 0 },
	{ "require-router-alert",	OPT_FLAG,	PI(require_router_alert), NULL, 0, 0 },
	{ "max-groups",			OPT_NUMBER,	PI(max_groups), NULL, 1, INT_MAX },
	{ "max-sources",		OPT_NUMBER,	PI(max_sources), NULL,
	  0, XM_MSHIP_MAX_SOURCES_LIMIT },
	{ "ctrl-rate",			OPT_NUMBER,	PI(ctrl_rate), NULL, 0, CTRL_RATE_MAX },
	{ "forwarding",			OPT_WORD,	PI(forwarding), forwarding_words, 0, 0 },
	{ "upstream",			OPT_FLAG,	PI(upstream), NULL, 0, 0 },
	{ "downstream",			OPT_FLAG,	PI(downstream), NULL, 0, 0 },
};
#define NOPTS ARRAY_SIZE(phyint_opts)

#undef PI

static int *opt_int(struct xm_conf_phyint *ph, const struct phyint_opt *o)
{
	return (int *)((char *)ph + o->off);
}

static bool *opt_flag(struct xm_conf_phyint *ph, const struct phyint_opt *o)
{
	return (bool *)((char *)ph + o->off);
}

static int opt_get(const struct xm_conf_phyint *ph, const struct phyint_opt *o)
{
	const char *at = (const char *)ph + o->off;

	return o->kind == OPT_FLAG ? *(const bool *)at : *(const int *)at;
}

static const struct phyint_opt *find_opt(const char *name)
{
	unsigned int i;

	for (i = 0; i < NOPTS; i++)
		if (!strcmp(phyint_opts[i].name, name))
			return &phyint_opts[i];
	return NULL;
}

/* "native or skb", "off, 1, 2 or 3". */
static const char *word_list(const struct opt_word *w, char *buf, size_t len)
{
	size_t o = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; w[i].word && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s",
			      i == 0 ? "" : w[i + 1].word ? ", " : " or ", w[i].word);
	return buf;
}

static const char *word_of(const struct opt_word *w, int value)
{
	for (; w->word; w++)
		if (w->value == value)
			return w->word;
	return NULL;
}

/* Milliseconds as seconds, without trailing zeros: "125", "0.5", "1.25". */
static const char *fmt_seconds(int ms, char *buf, size_t len)
{
	int frac = ms % 1000, digits = 3;

	if (!frac) {
		snprintf(buf, len, "%d", ms / 1000);
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%d.%0*d", ms / 1000, digits, frac);
	return buf;
}

/* "10", "0.5", "1.250": seconds into ms.  0, or -1 when not such a number,
 * -2 when it has more than 3 decimals.  Huge values come out above any
 * bound, never wrapped. */
static int parse_seconds(const char *s, uint64_t *ms)
{
	uint64_t v = 0;
	int digits = 0, decimals = -1;	/* -1: no point yet */

	for (; *s; s++) {
		if (*s == '.' && decimals < 0 && digits) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		if (v < UINT64_MAX / 100)
			v = v * 10 + (*s - '0');
		digits++;
		if (decimals >= 0)
			decimals++;
	}
	if (!digits || decimals == 0)
		return -1;
	if (decimals > 3)
		return -2;
	for (decimals = decimals < 0 ? 0 : decimals; decimals < 3; decimals++)
		v = v < UINT64_MAX / 100 ? v * 10 : v;
	*ms = v;
	return 0;
}

/* The value of option o, word i, into ph; false with the error recorded. */
static bool take_opt_value(struct parser *p, const struct line *l, int i,
			   const struct phyint_opt *o, struct xm_conf_phyint *ph)
{
	const char *val = l->w[i];
	char list[64], lo[16], hi[16];
	uint64_t v;
	int j, rc;

	switch (o->kind) {
	case OPT_WORD:
		for (j = 0; o->words[j].word; j++) {
			if (!strcmp(val, o->words[j].word)) {
				*opt_int(ph, o) = o->words[j].value;
				return true;
			}
		}
		err(p, at(l, i), "%s must be %s, not '%s'", o->name,
		    word_list(o->words, list, sizeof(list)), q(p, val));
		return false;
	case OPT_NUMBER:
		if (!xm_parse_u64(val, o->min, o->max, &v)) {
			err(p, at(l, i), "%s must be %d..%d, not '%s'", o->name, o->min, o->max,
			    q(p, val));
			return false;
		}
		*opt_int(ph, o) = v;
		return true;
	case OPT_SECONDS:
		rc = parse_seconds(val, &v);
		if (rc == -1) {
			err(p, at(l, i), "%s must be a time in seconds such as 10 or 0.5, not '%s'",
			    o->name, q(p, val));
			return false;
		}
		if (rc == -2) {
			err(p, at(l, i), "%s takes at most 3 decimals (milliseconds), not '%s'",
			    o->name, q(p, val));
			return false;
		}
		if (v < (uint64_t)o->min || v > (uint64_t)o->max) {
			err(p, at(l, i), "%s must be %s to %s seconds, not '%s'", o->name,
			    fmt_seconds(o->min, lo, sizeof(lo)), fmt_seconds(o->max, hi, sizeof(hi)),
			    q(p, val));
			return false;
		}
		*opt_int(ph, o) = v;
		return true;
	case OPT_FLAG:
		break;
	}
	return false;
}

/* "mode, ttl-threshold, ..., ctrl-rate or boundary". */
static const char *opt_names(char *buf, size_t len)
{
	size_t o = 0;
	unsigned int k;

	for (k = 0; k < NOPTS && o < len; k++)
		o += snprintf(buf + o, len - o, "%s, ", phyint_opts[k].name);
	if (o >= 2 && o < len)
		snprintf(buf + o - 2, len - o + 2, " or boundary");
	return buf;
}

/* What a missing value should have been, for "X needs ...". */
static const char *opt_need(const struct phyint_opt *o, char *buf, size_t len)
{
	char list[64], lo[16], hi[16];

	if (o->kind == OPT_WORD)
		snprintf(buf, len, "a value: %s", word_list(o->words, list, sizeof(list)));
	else if (o->kind == OPT_NUMBER)
		snprintf(buf, len, "a value (%d..%d)", o->min, o->max);
	else
		snprintf(buf, len, "a value in seconds (%s to %s)",
			 fmt_seconds(o->min, lo, sizeof(lo)), fmt_seconds(o->max, hi, sizeof(hi)));
	return buf;
}

/* The query response interval must stay below the query interval, given
 * or not.  at_word[] holds the word of each option's value, 0 when not
 * given; called only when every value given was good. */
static bool check_intervals(struct parser *p, const struct line *l,
			    const struct xm_conf_phyint *ph, const int at_word[NOPTS])
{
	int qi = ph->query_interval_ms >= 0 ? ph->query_interval_ms : XM_MSHIP_QI_MS_DEFAULT;
	int qri = ph->query_response_ms >= 0 ? ph->query_response_ms : XM_MSHIP_QRI_MS_DEFAULT;
	int qi_at = at_word[find_opt("query-interval") - phyint_opts];
	int qri_at = at_word[find_opt("query-response-interval") - phyint_opts];
	char a[16], b[16];

	if (qri < qi)
		return true;
	if (qri_at)
		err(p, at(l, qri_at), "query-response-interval %s must be below the "
		    "query-interval, %s%s", fmt_seconds(qri, a, sizeof(a)),
		    fmt_seconds(qi, b, sizeof(b)), qi_at ? "" : " by default");
	else
		err(p, at(l, qi_at), "query-interval %s must be above the "
		    "query-response-interval, %s by default (lower it too)",
		    fmt_seconds(qi, a, sizeof(a)), fmt_seconds(qri, b, sizeof(b)));
	return false;
}

static void note_bad_phyint(struct parser *p, const char *name)
{
	char (*arr)[XM_IFNAMSIZ] = grow(p->bad_phyints, p->nbad_phyints, sizeof(*arr));

	if (!arr)
		return;		/* only costs a needless message */
	strcpy(arr[p->nbad_phyints++], name);
	p->bad_phyints = arr;
}

static bool phyint_was_bad(const struct parser *p, const char *name)
{
	int i;

	for (i = 0; i < p->nbad_phyints; i++)
		if (!strcmp(p->bad_phyints[i], name))
			return true;
	return false;
}

/* phyint IFACE [OPTION [VALUE]]... [boundary X]... */
static void parse_phyint(struct parser *p, const struct line *l)
{
	struct xm_conf_phyint ph = { 0 }, *arr;
	const struct xm_conf_phyint *old;
	const struct phyint_opt *o;
	int at_word[NOPTS] = { 0 };	/* word of each option, 0 not given */
	bool ok = true, values_ok = true;
	char need[80], names[320];
	unsigned int k;
	int i, last_boundary = 0, last_flag = 0;

	for (k = 0; k < NOPTS; k++)
		if (phyint_opts[k].kind != OPT_FLAG)
			*opt_int(&ph, &phyint_opts[k]) = -1;
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

	/* Each option is a keyword, then a value unless it is a flag. */
	for (i = 2; i < l->n;) {
		const char *kw = l->w[i];

		if (!strcmp(kw, "boundary")) {
			if (!value_of(p, l, i, "a prefix or a scope name")) {
				ok = false;
				break;
			}
			if (!take_boundary(p, l, i + 1, &ph))
				ok = false;
			last_boundary = i + 1;
			i += 2;
			continue;
		}
		o = find_opt(kw);
		if (!o) {
			if (i == last_boundary + 1)
				err(p, at(l, i), "unexpected '%s' in phyint: write 'boundary %s' "
				    "(one value per boundary)", q(p, kw), q(p, kw));
			else if (last_flag && i == last_flag + 1)
				err(p, at(l, i), "unexpected '%s' in phyint: %s takes no value "
				    "(it is off unless given)", q(p, kw), l->w[last_flag]);
			else
				err(p, at(l, i), "unexpected '%s' in phyint (expected %s)", q(p, kw),
				    opt_names(names, sizeof(names)));
			ok = false;
			break;
		}
		k = o - phyint_opts;
		if (o->kind == OPT_FLAG) {
			if (at_word[k]) {
				err(p, at(l, i), "%s is given twice", kw);
				ok = false;
			}
			*opt_flag(&ph, o) = true;
			at_word[k] = last_flag = i++;
			continue;
		}
		if (!value_of(p, l, i, opt_need(o, need, sizeof(need)))) {
			ok = false;
			break;
		}
		if (at_word[k]) {
			err(p, at(l, i), "%s is given twice", kw);
			ok = false;
		} else {
			if (!take_opt_value(p, l, i + 1, o, &ph))
				ok = values_ok = false;
			at_word[k] = i + 1;
		}
		i += 2;
	}
	if (ok && values_ok && !check_intervals(p, l, &ph, at_word))
		ok = false;
	if (ok && ph.upstream && ph.downstream) {
		err(p, at(l, at_word[find_opt("downstream") - phyint_opts]),
		    "phyint %s cannot be both upstream and downstream", q(p, ph.name));
		ok = false;
	}
	/* One upstream, as in igmpproxy: a forwarding entry has one incoming
	 * interface, so a second upstream could never be served. */
	if (ok && ph.upstream) {
		for (k = 0; (int)k < p->conf->nphyints; k++) {
			const struct xm_conf_phyint *u = &p->conf->phyints[k];

			if (!u->upstream)
				continue;
			err(p, at(l, at_word[find_opt("upstream") - phyint_opts]),
			    "phyint %s cannot be upstream: phyint %s is, at %s:%d:%d (one "
			    "upstream phyint at most)", q(p, ph.name), q(p, u->name),
			    q(p, u->pos.file), u->pos.line, u->pos.col);
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
	else if (ph.name[0])
		note_bad_phyint(p, ph.name);
	free(ph.boundaries);
}

void xm_conf_phyint_mship_cfg(const struct xm_conf_phyint *pi, struct xm_mship_cfg *out)
{
	xm_mship_cfg_default(out);
	if (pi->igmp >= 0)
		out->igmp_version = pi->igmp;
	if (pi->mld >= 0)
		out->mld_version = pi->mld;
	if (pi->querier >= 0)
		out->querier = pi->querier;
	if (pi->fast_leave)
		out->fast_leave = true;
	if (pi->require_router_alert)
		out->require_router_alert = true;
	if (pi->robustness >= 0)
		out->robustness = pi->robustness;
	if (pi->query_interval_ms >= 0)
		out->query_interval_ms = pi->query_interval_ms;
	if (pi->query_response_ms >= 0)
		out->query_response_ms = pi->query_response_ms;
	if (pi->lmqi_ms >= 0)
		out->lmqi_ms = pi->lmqi_ms;
	if (pi->max_groups >= 0)
		out->max_groups = pi->max_groups;
	if (pi->max_sources >= 0)
		out->max_sources = pi->max_sources;
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

/* ---- static joins ---- */

/* Groups that never leave their link: IPv4 224.0.0.0/24 (RFC 5771),
 * IPv6 scopes 0 to 2 whatever the flags (RFC 4291 2.7). */
static bool link_scope_group(const struct xm_prefix *g)
{
	const uint8_t *b = (const uint8_t *)g->addr;

	if (g->family == XM_AF_INET)
		return b[0] == 224 && b[1] == 0 && b[2] == 0;
	return (b[1] & 0x0f) <= 2;
}

/* Source-specific only (RFC 4607): 232.0.0.0/8, ff3x::/96. */
static bool ssm_group(const struct xm_prefix *g)
{
	static const uint8_t zero[10];
	const uint8_t *b = (const uint8_t *)g->addr;

	if (g->family == XM_AF_INET)
		return b[0] == 232;
	return (b[1] & 0xf0) == 0x30 && !memcmp(b + 2, zero, sizeof(zero));
}

/* A unicast address a sender may have: not 0.0.0.0/8, loopback, the
 * limited broadcast, ::, ::1.  Multicast is checked before. */
static bool sender_address(const struct xm_prefix *s)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	const uint8_t *b = (const uint8_t *)s->addr;

	if (s->family == XM_AF_INET)
		return b[0] != 0 && b[0] != 127 && s->addr[0] != 0xffffffff;
	return !xm_addr_is_zero(s->addr) && memcmp(b, loop6, sizeof(loop6));
}

/* Word i is one address (a bare address, or /32 or /128). */
static bool take_address(struct parser *p, const struct line *l, int i, const char *what,
			 struct xm_prefix *a)
{
	char why[160], shown[XM_PREFIX_STRLEN];

	if (xm_prefix_parse(l->w[i], a, why, sizeof(why))) {
		err(p, at(l, i), "%s", why);
		return false;
	}
	if (a->len != family_bits(a->family)) {
		err(p, at(l, i), "join takes one %s address, not the prefix %s", what,
		    xm_prefix_format(a, shown, sizeof(shown)));
		return false;
	}
	return true;
}

/* join IFACE GROUP [source ADDRESS] */
static void parse_join(struct parser *p, const struct line *l)
{
	struct xm_conf_join j = { .pos = at(l, 0) }, *arr;
	struct join_cols cols = { 0 }, *carr;
	char g[XM_ADDR_STRLEN], s[XM_ADDR_STRLEN];
	bool ok = true, group_ok;

	if (l->n < 3) {
		if (l->n < 2)
			err(p, at(l, 0), "join needs an interface name and a group address");
		else
			err(p, at(l, 1), "join %s needs a group address", q(p, l->w[1]));
		return;
	}
	cols.iface = l->col[1];
	cols.group = l->col[2];
	if (!strcmp(l->w[1], "any")) {
		err(p, at(l, 1), "join needs an interface name; 'any' is only for rules");
		ok = false;
	} else if (!take_iface(p, l, 1, j.iface)) {
		ok = false;
	}

	group_ok = take_address(p, l, 2, "group", &j.group);
	if (group_ok) {
		xm_format_addr(j.group.family, j.group.addr, g, sizeof(g));
		if (!xm_prefix_is_multicast(&j.group)) {
			err(p, at(l, 2), "group %s is not multicast (%s groups lie in %s)", g,
			    family_label(j.group.family),
			    j.group.family == XM_AF_INET ? "224.0.0.0/4" : "ff00::/8");
			group_ok = false;
		} else if (link_scope_group(&j.group)) {
			err(p, at(l, 2), "group %s never leaves its link (%s); a static join of it "
			    "would do nothing", g, j.group.family == XM_AF_INET ?
			    "224.0.0.0/24, local network control" : "IPv6 scope 2 or below");
			group_ok = false;
		}
	}
	if (!group_ok)
		ok = false;

	if (l->n > 3) {
		if (strcmp(l->w[3], "source")) {
			err(p, at(l, 3), "unexpected '%s' in join (expected 'source ADDRESS')",
			    q(p, l->w[3]));
			return;
		}
		if (!value_of(p, l, 3, "an address"))
			return;
		if (l->n > 5) {
			err(p, at(l, 5), "unexpected '%s' at the end of the join", q(p, l->w[5]));
			return;
		}
		cols.source = l->col[4];
		if (!take_address(p, l, 4, "source", &j.source)) {
			ok = false;
		} else if (group_ok) {
			xm_format_addr(j.source.family, j.source.addr, s, sizeof(s));
			if (j.source.family != j.group.family) {
				err(p, at(l, 4), "source %s is %s but group %s is %s", s,
				    family_label(j.source.family), g, family_label(j.group.family));
				ok = false;
			} else if (xm_prefix_is_multicast(&j.source)) {
				err(p, at(l, 4), "source %s is multicast; a source is a sender's "
				    "unicast address", s);
				ok = false;
			} else if (!sender_address(&j.source)) {
				err(p, at(l, 4), "source %s is not an address a sender can have", s);
				ok = false;
			}
		}
	} else if (group_ok && ssm_group(&j.group)) {
		err(p, at(l, 2), "join %s needs a source: %s is for source-specific multicast "
		    "only (RFC 4607)", g, j.group.family == XM_AF_INET ? "232.0.0.0/8" : "ff3x::/96");
		ok = false;
	}
	if (!ok)
		return;

	carr = grow(p->join_cols, p->conf->njoins, sizeof(*carr));
	if (carr)
		p->join_cols = carr;
	arr = carr ? grow(p->conf->joins, p->conf->njoins, sizeof(*arr)) : NULL;
	if (!arr) {
		out_of_memory(p, at(l, 0));
		return;
	}
	carr[p->conf->njoins] = cols;
	arr[p->conf->njoins++] = j;
	p->conf->joins = arr;
}

/* ---- metrics ---- */

/* ADDRESS:PORT, the address in brackets when IPv6: 127.0.0.1:9434,
 * [::1]:9434, 0.0.0.0:9434, [::]:9434. */
static bool take_listen(struct parser *p, const struct line *l, int i, struct xm_conf_metrics *m)
{
	const char *w = l->w[i], *colon;
	char host[XM_ADDR_STRLEN + 2];
	struct xm_prefix a;
	uint64_t port;
	size_t n;

	if (w[0] == '[') {
		const char *close = strchr(w, ']');

		if (!close || close[1] != ':') {
			err(p, at(l, i), "listen takes ADDRESS:PORT, an IPv6 address in brackets "
			    "([::1]:9434), not '%s'", q(p, w));
			return false;
		}
		n = close - w - 1;
		colon = close + 1;
		w++;
	} else {
		colon = strrchr(w, ':');
		if (!colon || memchr(w, ':', colon - w)) {
			err(p, at(l, i), "listen takes ADDRESS:PORT (127.0.0.1:9434, "
			    "[::1]:9434), not '%s'", q(p, l->w[i]));
			return false;
		}
		n = colon - w;
	}
	if (n >= sizeof(host))
		n = sizeof(host) - 1;	/* too long for an address: fails below */
	memcpy(host, w, n);
	host[n] = '\0';
	if (xm_prefix_parse(host, &a, NULL, 0) || a.len != family_bits(a.family) ||
	    (l->w[i][0] == '[') != (a.family == XM_AF_INET6)) {
		err(p, at(l, i), "'%s' is not an IPv4 address or a bracketed IPv6 address",
		    q(p, host));
		return false;
	}
	if (xm_prefix_is_multicast(&a)) {
		err(p, at(l, i), "metrics cannot listen on the multicast address %s", q(p, host));
		return false;
	}
	if (!xm_parse_u64(colon + 1, 1, 65535, &port)) {
		err(p, at(l, i), "port '%s' is not a number from 1 to 65535", q(p, colon + 1));
		return false;
	}
	m->family = a.family;
	memcpy(m->addr, a.addr, sizeof(m->addr));
	m->port = port;
	return true;
}

/* metrics listen ADDRESS:PORT | metrics top-groups N, or both on a line.
 * Each may be given once in the whole config. */
static void parse_metrics(struct parser *p, const struct line *l)
{
	struct xm_conf_metrics *m = &p->conf->metrics;
	const char *v;
	uint64_t n;
	int i;

	if (l->n < 2) {
		err(p, at(l, 0), "metrics needs 'listen ADDRESS:PORT' or 'top-groups N'");
		return;
	}
	for (i = 1; i < l->n; i += 2) {
		const char *kw = l->w[i];

		if (!strcmp(kw, "listen")) {
			if (!(v = value_of(p, l, i, "ADDRESS:PORT")))
				return;
			if (m->listen) {
				err(p, at(l, i), "metrics listen is given twice (first at %s:%d:%d)",
				    m->pos.file, m->pos.line, m->pos.col);
				continue;
			}
			if (take_listen(p, l, i + 1, m)) {
				m->listen = true;
				m->pos = at(l, 0);
			}
		} else if (!strcmp(kw, "top-groups")) {
			if (!(v = value_of(p, l, i, "a number")))
				return;
			if (m->top_groups >= 0) {
				err(p, at(l, i), "metrics top-groups is given twice (first at %s:%d:%d)",
				    m->top_pos.file, m->top_pos.line, m->top_pos.col);
				continue;
			}
			if (!xm_parse_u64(v, 0, XM_CONF_TOP_GROUPS_MAX, &n)) {
				err(p, at(l, i + 1), "top-groups takes a number from 0 to %d, not '%s'",
				    XM_CONF_TOP_GROUPS_MAX, q(p, v));
				continue;
			}
			m->top_groups = n;
			m->top_pos = at(l, 0);
		} else {
			err(p, at(l, i), "unexpected '%s' in metrics (expected listen or top-groups)",
			    q(p, kw));
			return;
		}
	}
}

/* One address or prefix of an mroute; what = "group" or "source". */
static bool take_route_prefix(struct parser *p, const struct line *l, int i, const char *what,
			      struct xm_prefix *a)
{
	char why[160], shown[XM_PREFIX_STRLEN];

	if (xm_prefix_parse(l->w[i], a, why, sizeof(why))) {
		err(p, at(l, i), "%s", why);
		return false;
	}
	xm_prefix_format(a, shown, sizeof(shown));
	if (!strcmp(what, "group")) {
		if (!xm_prefix_is_multicast(a)) {
			err(p, at(l, i), "group %s is not multicast (%s groups lie in %s)", shown,
			    family_label(a->family),
			    a->family == XM_AF_INET ? "224.0.0.0/4" : "ff00::/8");
			return false;
		}
		if (a->len == family_bits(a->family) && link_scope_group(a)) {
			err(p, at(l, i), "group %s never leaves its link; a route for it "
			    "would do nothing", shown);
			return false;
		}
		return true;
	}
	if (a->len == family_bits(a->family) && !sender_address(a)) {
		err(p, at(l, i), "source %s is not an address a sender can have", shown);
		return false;
	}
	return true;
}

/* mroute from IFACE [source PREFIX] group PREFIX to IFACE... (smcroute) */
static void parse_mroute(struct parser *p, const struct line *l)
{
	struct xm_conf_mroute r = { .pos = at(l, 0) }, *arr;
	bool ok = true, have_group = false;
	int i, j;

	if (l->n < 2 || strcmp(l->w[1], "from")) {
		err(p, at(l, l->n < 2 ? 0 : 1), "mroute needs 'from IFACE' first "
		    "(mroute from IFACE [source PREFIX] group PREFIX to IFACE...)");
		return;
	}
	if (!value_of(p, l, 1, "an interface name"))
		return;
	if (!take_iface(p, l, 2, r.from))
		ok = false;
	for (i = 3; i < l->n && strcmp(l->w[i], "to"); i += 2) {
		bool src = !strcmp(l->w[i], "source");

		if (!src && strcmp(l->w[i], "group")) {
			err(p, at(l, i), "unexpected '%s' in mroute (expected source, group or to)",
			    q(p, l->w[i]));
			return;
		}
		if ((src && r.source.family) || (!src && have_group)) {
			err(p, at(l, i), "%s is given twice", l->w[i]);
			return;
		}
		if (!value_of(p, l, i, src ? "an address or prefix" : "a group or prefix"))
			return;
		if (!take_route_prefix(p, l, i + 1, l->w[i], src ? &r.source : &r.group)) {
			ok = false;
			if (src)
				r.source.family = XM_AF_INET;	/* given, if bad */
		}
		have_group |= !src;
	}
	if (!have_group) {
		err(p, at(l, i < l->n ? i : l->n - 1), "mroute needs 'group PREFIX'");
		return;
	}
	if (i >= l->n) {
		err(p, at(l, l->n - 1), "mroute needs 'to IFACE...' at the end");
		return;
	}
	if (i + 1 >= l->n) {
		err(p, at(l, i), "to needs at least one interface name");
		return;
	}
	for (i++; i < l->n; i++) {
		if (r.nto == XM_CONF_MROUTE_MAX_TO) {
			err(p, at(l, i), "mroute takes at most %d outgoing interfaces",
			    XM_CONF_MROUTE_MAX_TO);
			return;
		}
		if (!take_iface(p, l, i, r.to[r.nto])) {
			ok = false;
			continue;
		}
		for (j = 0; j < r.nto; j++)
			if (!strcmp(r.to[j], r.to[r.nto]))
				break;
		if (j < r.nto) {
			err(p, at(l, i), "%s is given twice", q(p, l->w[i]));
			ok = false;
			continue;
		}
		r.nto++;
	}
	if (ok && r.source.family && r.group.family && r.source.family != r.group.family) {
		err(p, at(l, 0), "mroute mixes an %s source with an %s group",
		    family_label(r.source.family), family_label(r.group.family));
		ok = false;
	}
	if (ok && r.source.family && r.source.len &&
	    r.group.len != family_bits(r.group.family)) {
		err(p, at(l, 0), "a source with a group prefix cannot be accelerated: "
		    "give one group, or no source");
		ok = false;
	}
	if (!ok)
		return;
	if (r.source.family && !r.source.len)
		r.source.family = 0;	/* source 0.0.0.0/0 is any source */
	arr = grow(p->conf->mroutes, p->conf->nmroutes, sizeof(*arr));
	if (!arr) {
		out_of_memory(p, at(l, 0));
		return;
	}
	arr[p->conf->nmroutes++] = r;
	p->conf->mroutes = arr;
}

/* What is wrong with a join, found once the whole file is read. */
enum join_problem {
	JOIN_OK,
	JOIN_QUIET,		/* no phyint, but its line had errors already */
	JOIN_NO_PHYINT,
	JOIN_FAMILY_OFF,
	JOIN_BOUNDARY,
	JOIN_DUPLICATE,
	JOIN_MAX_GROUPS,	/* the first join past max-groups */
	JOIN_MAX_SOURCES,	/* the first join past max-sources */
};

struct join_check {
	enum join_problem problem;
	const struct xm_conf_join *first;		/* JOIN_DUPLICATE */
	const struct xm_prefix *boundary;		/* JOIN_BOUNDARY */
	const struct xm_conf_phyint *ph;
	int limit;					/* JOIN_MAX_* */
};

/* By interface, group, source, then file order. */
static int join_cmp(const void *a, const void *b)
{
	const struct xm_conf_join *x = *(const struct xm_conf_join *const *)a;
	const struct xm_conf_join *y = *(const struct xm_conf_join *const *)b;
	int d = strcmp(x->iface, y->iface);

	if (!d)
		d = (int)x->group.family - y->group.family;
	if (!d)
		d = memcmp(x->group.addr, y->group.addr, sizeof(x->group.addr));
	if (!d)
		d = (int)x->source.family - y->source.family;
	if (!d)
		d = memcmp(x->source.addr, y->source.addr, sizeof(x->source.addr));
	return d ? d : (x > y) - (x < y);
}

static int int_cmp(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* The first of n joins in file order beyond the limit: first[] holds the
 * index of the first join of each group (or source). */
static void mark_over_limit(struct join_check *chk, int *first, int n, int limit,
			    enum join_problem problem)
{
	if (n <= limit)
		return;
	qsort(first, n, sizeof(*first), int_cmp);
	if (chk[first[limit]].problem == JOIN_OK) {
		chk[first[limit]].problem = problem;
		chk[first[limit]].limit = limit;
	}
}

/* The joins of one group on phyint ph, sorted[0..n): a run of one group. */
static void check_group_run(const struct xm_conf *c, const struct xm_conf_phyint *ph,
			    const struct xm_mship_cfg *cfg, const struct xm_conf_join **run,
			    int n, struct join_check *chk, int *group_firsts, int *ngroups,
			    int *src_firsts)
{
	const struct xm_prefix *g = &run[0]->group, *bound = NULL;
	int i, nsrc = 0, first = INT_MAX;
	enum join_problem problem = JOIN_OK;

	if (!(g->family == XM_AF_INET ? cfg->igmp_version : cfg->mld_version)) {
		problem = JOIN_FAMILY_OFF;
	} else {
		for (i = 0; i < ph->nboundaries && !bound; i++)
			if (xm_prefix_contains(&ph->boundaries[i], g))
				bound = &ph->boundaries[i];
		if (bound)
			problem = JOIN_BOUNDARY;
	}
	for (i = 0; i < n; i++) {
		struct join_check *k = &chk[run[i] - c->joins];
		bool same = i > 0 && xm_prefix_equal(&run[i]->source, &run[i - 1]->source);

		k->ph = ph;
		if (problem) {
			k->problem = problem;
			k->boundary = bound;
			continue;
		}
		if (same) {
			k->problem = JOIN_DUPLICATE;
			k->first = chk[run[i - 1] - c->joins].first;
			continue;
		}
		k->first = run[i];
		if (run[i] - c->joins < first)
			first = run[i] - c->joins;
		if (run[i]->source.family)
			src_firsts[nsrc++] = run[i] - c->joins;
	}
	if (problem)
		return;
	group_firsts[(*ngroups)++] = first;
	mark_over_limit(chk, src_firsts, nsrc, cfg->max_sources, JOIN_MAX_SOURCES);
}

static void report_join(struct parser *p, int i, const struct join_check *k)
{
	const struct xm_conf_join *j = &p->conf->joins[i];
	const struct join_cols *cols = &p->join_cols[i];
	struct xm_conf_pos pos = j->pos;
	char g[XM_ADDR_STRLEN], s[XM_ADDR_STRLEN], b[XM_PREFIX_STRLEN];

	xm_format_addr(j->group.family, j->group.addr, g, sizeof(g));
	if (j->source.family)
		xm_format_addr(j->source.family, j->source.addr, s, sizeof(s));
	switch (k->problem) {
	case JOIN_OK:
	case JOIN_QUIET:
		break;
	case JOIN_NO_PHYINT:
		pos.col = cols->iface;
		err(p, pos, "join on %s, which has no phyint (add 'phyint %s')", q(p, j->iface),
		    q(p, j->iface));
		break;
	case JOIN_FAMILY_OFF:
		pos.col = cols->group;
		err(p, pos, "join %s on %s, where %s is off (phyint at %s:%d:%d)", g,
		    q(p, j->iface), j->group.family == XM_AF_INET ? "IGMP" : "MLD",
		    q(p, k->ph->pos.file), k->ph->pos.line, k->ph->pos.col);
		break;
	case JOIN_BOUNDARY:
		pos.col = cols->group;
		err(p, pos, "join %s on %s lies in its boundary %s", g, q(p, j->iface),
		    xm_prefix_format(k->boundary, b, sizeof(b)));
		break;
	case JOIN_DUPLICATE:
		err(p, pos, "duplicate join: same interface, group and source as the join at "
		    "%s:%d:%d", q(p, k->first->pos.file), k->first->pos.line, k->first->pos.col);
		break;
	case JOIN_MAX_GROUPS:
		pos.col = cols->group;
		err(p, pos, "join %s on %s goes over its max-groups: %d group%s joined there "
		    "already", g, q(p, j->iface), k->limit, k->limit == 1 ? " is" : "s are");
		break;
	case JOIN_MAX_SOURCES:
		pos.col = cols->source;
		err(p, pos, "join %s source %s on %s goes over its max-sources: %d source%s "
		    "joined in the group already", g, s, q(p, j->iface), k->limit,
		    k->limit == 1 ? " is" : "s are");
		break;
	}
}

/*
 * What needs the whole file: each join's interface has a phyint, with the
 * group's protocol on and no boundary over the group; no join is there
 * twice; the joins of an interface fit its max-groups and max-sources.
 * The joins are sorted to find runs of one interface and one group; the
 * errors come in file order, after those of the lines.
 */
static void check_joins(struct parser *p)
{
	const struct xm_conf *c = p->conf;
	const struct xm_conf_join **sorted;
	struct join_check *chk;
	int *group_firsts, *src_firsts, a, b, i, n = c->njoins;

	if (!n)
		return;
	sorted = malloc(n * sizeof(*sorted));
	chk = calloc(n, sizeof(*chk));
	group_firsts = malloc(n * sizeof(*group_firsts));
	src_firsts = malloc(n * sizeof(*src_firsts));
	if (!sorted || !chk || !group_firsts || !src_firsts) {
		out_of_memory(p, c->joins[0].pos);
		goto out;
	}
	for (i = 0; i < n; i++)
		sorted[i] = &c->joins[i];
	qsort(sorted, n, sizeof(*sorted), join_cmp);

	for (a = 0; a < n; a = b) {
		const struct xm_conf_phyint *ph = find_phyint(c, sorted[a]->iface);
		struct xm_mship_cfg cfg;
		int ngroups = 0, g, h;

		for (b = a + 1; b < n && !strcmp(sorted[b]->iface, sorted[a]->iface); b++)
			;
		if (!ph) {
			enum join_problem why = phyint_was_bad(p, sorted[a]->iface) ?
						JOIN_QUIET : JOIN_NO_PHYINT;

			for (i = a; i < b; i++)
				chk[sorted[i] - c->joins].problem = why;
			continue;
		}
		xm_conf_phyint_mship_cfg(ph, &cfg);
		for (g = a; g < b; g = h) {
			for (h = g + 1; h < b && xm_prefix_equal(&sorted[h]->group, &sorted[g]->group);
			     h++)
				;
			check_group_run(c, ph, &cfg, sorted + g, h - g, chk, group_firsts,
					&ngroups, src_firsts);
		}
		mark_over_limit(chk, group_firsts, ngroups, cfg.max_groups, JOIN_MAX_GROUPS);
	}
	for (i = 0; i < n; i++)
		report_join(p, i, &chk[i]);
out:
	free(sorted);
	free(chk);
	free(group_firsts);
	free(src_firsts);
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
			else if (!strcmp(kw, "join"))
				parse_join(p, l);
			else if (!strcmp(kw, "mroute"))
				parse_mroute(p, l);
			else if (!strcmp(kw, "metrics"))
				parse_metrics(p, l);
			else
				err(p, at(l, 0), "unknown statement '%s' (expected include, phyint, "
				    "scope, allow, deny, join, mroute or metrics)", q(p, kw));
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
	if (p->conf)
		p->conf->metrics.top_groups = -1;
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
	if (!rc && !p->nomem)
		check_joins(p);
	free(p->rule_index);
	free(p->join_cols);
	free(p->bad_phyints);
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
	free(c->joins);
	free(c->mroutes);
	free(c->files);
	free(c);
}

/* The options of ph that were given, as they are written. */
static void print_phyint_opts(const struct xm_conf_phyint *ph, FILE *f)
{
	char buf[16];
	unsigned int k;

	for (k = 0; k < NOPTS; k++) {
		const struct phyint_opt *o = &phyint_opts[k];
		int v = opt_get(ph, o);
		const char *w;

		switch (o->kind) {
		case OPT_WORD:
			if ((w = word_of(o->words, v)))
				fprintf(f, " %s %s", o->name, w);
			break;
		case OPT_NUMBER:
			if (v >= 0)
				fprintf(f, " %s %d", o->name, v);
			break;
		case OPT_SECONDS:
			if (v >= 0)
				fprintf(f, " %s %s", o->name, fmt_seconds(v, buf, sizeof(buf)));
			break;
		case OPT_FLAG:
			if (v)
				fprintf(f, " %s", o->name);
			break;
		}
	}
}

void xm_conf_print(const struct xm_conf *c, FILE *f)
{
	char buf[XM_PREFIX_STRLEN], addr[XM_ADDR_STRLEN];
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
		print_phyint_opts(ph, f);
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
	for (i = 0; i < c->njoins; i++) {
		const struct xm_conf_join *j = &c->joins[i];

		fprintf(f, "join %s %s", j->iface,
			xm_format_addr(j->group.family, j->group.addr, addr, sizeof(addr)));
		if (j->source.family)
			fprintf(f, " source %s",
				xm_format_addr(j->source.family, j->source.addr, addr, sizeof(addr)));
		fputc('\n', f);
	}
	for (i = 0; i < c->nmroutes; i++) {
		const struct xm_conf_mroute *r = &c->mroutes[i];

		fprintf(f, "mroute from %s", r->from);
		if (r->source.family)
			fprintf(f, " source %s", xm_prefix_format(&r->source, buf, sizeof(buf)));
		fprintf(f, " group %s to", xm_prefix_format(&r->group, buf, sizeof(buf)));
		for (j = 0; j < r->nto; j++)
			fprintf(f, " %s", r->to[j]);
		fputc('\n', f);
	}
	if (c->metrics.listen || c->metrics.top_groups >= 0) {
		fputs("metrics", f);
		if (c->metrics.listen) {
			xm_format_addr(c->metrics.family, c->metrics.addr, addr, sizeof(addr));
			fprintf(f, c->metrics.family == XM_AF_INET6 ? " listen [%s]:%u" :
				" listen %s:%u", addr, c->metrics.port);
		}
		if (c->metrics.top_groups >= 0)
			fprintf(f, " top-groups %d", c->metrics.top_groups);
		fputc('\n', f);
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
	unsigned int k;
	int i;

	if (a->nscopes != b->nscopes || a->nphyints != b->nphyints || a->nrules != b->nrules ||
	    a->njoins != b->njoins || a->nmroutes != b->nmroutes)
		return false;
	for (i = 0; i < a->nmroutes; i++) {
		const struct xm_conf_mroute *x = &a->mroutes[i], *y = &b->mroutes[i];
		int j;

		if (strcmp(x->from, y->from) || !xm_prefix_equal(&x->source, &y->source) ||
		    !xm_prefix_equal(&x->group, &y->group) || x->nto != y->nto)
			return false;
		for (j = 0; j < x->nto; j++)
			if (strcmp(x->to[j], y->to[j]))
				return false;
	}
	for (i = 0; i < a->nscopes; i++) {
		const struct xm_conf_scope *x = &a->scopes[i], *y = &b->scopes[i];

		if (strcmp(x->name, y->name) ||
		    !prefix_lists_equal(x->prefixes, x->nprefixes, y->prefixes, y->nprefixes))
			return false;
	}
	for (i = 0; i < a->nphyints; i++) {
		const struct xm_conf_phyint *x = &a->phyints[i], *y = &b->phyints[i];

		if (strcmp(x->name, y->name) ||
		    !prefix_lists_equal(x->boundaries, x->nboundaries, y->boundaries, y->nboundaries))
			return false;
		for (k = 0; k < NOPTS; k++)
			if (opt_get(x, &phyint_opts[k]) != opt_get(y, &phyint_opts[k]))
				return false;
	}
	for (i = 0; i < a->nrules; i++) {
		const struct xm_conf_rule *x = &a->rules[i], *y = &b->rules[i];

		if (x->deny != y->deny || x->audit != y->audit || !same_match(x, y))
			return false;
	}
	for (i = 0; i < a->njoins; i++) {
		const struct xm_conf_join *x = &a->joins[i], *y = &b->joins[i];

		if (strcmp(x->iface, y->iface) || !xm_prefix_equal(&x->group, &y->group) ||
		    !xm_prefix_equal(&x->source, &y->source))
			return false;
	}
	return xm_conf_metrics_equal(&a->metrics, &b->metrics);
}

bool xm_conf_metrics_equal(const struct xm_conf_metrics *a, const struct xm_conf_metrics *b)
{
	if (a->listen != b->listen || a->top_groups != b->top_groups)
		return false;
	return !a->listen || (a->family == b->family && a->port == b->port &&
			      !memcmp(a->addr, b->addr, sizeof(a->addr)));
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
