// SPDX-License-Identifier: GPL-2.0-only
/*
 * Router-side membership state: see mship.h.
 *
 * The RFC 3376 tables (6.4.1 and 6.4.2) are data here, not code: for each
 * filter mode and record type, one row says what happens to each class of
 * source (in the old state's forwarded list X or blocked list Y, in the
 * record's list B or not, or new) and to the group.  One merge of the sorted
 * source array with the sorted record list applies a row; MLDv2 uses the
 * same tables (RFC 3810 7.4).
 *
 * Everything one call does is a batch: groups it touches go on a list with
 * what changed, deleted groups stay in the hash (dead) until the end so a
 * later record of the same report can bring them back, and at the end every
 * touched group is rescheduled in the timer heap and told once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mship.h"
#include "util.h"

#define FAM_IGMP		0
#define FAM_MLD			1
#define NFAM			2

#define IGMP_TOP_VERSION	3
#define MLD_TOP_VERSION		2
#define QRV_MAX			7	/* 3 bits on the wire */

/* Configuration bounds.  A Max Resp of 25.5 s is what IGMPv2 can say;
 * QQIC cannot say more than XM_CODE8_MAX seconds. */
#define CFG_QI_MIN_MS		1000
#define CFG_QI_MAX_MS		(XM_CODE8_MAX * 1000u)
#define CFG_RESP_MIN_MS		100
#define CFG_RESP_MAX_MS		25500

#define HASH_MIN_BUCKETS	64
#define SRC_MIN_CAP		4
#define NO_HEAP			UINT32_MAX

/* Group flags. */
#define G_STATIC		0x01	/* a static (*,G) join */
#define G_NEW			0x02	/* created in this batch */
#define G_DEAD			0x04	/* deleted in this batch, freed at its end */
#define G_DIRTY			0x08	/* on the batch list */

/* Source flags that never leave a merge. */
#define SRC_ADDED		0x40
#define SRC_DROP		0x80

/* Per link and family: who queries, and the timers in force. */
struct qstate {
	bool querier;
	uint8_t startup_left;
	uint8_t rv;		/* ours, or learned from the querier's QRV */
	uint8_t other_version;
	uint32_t qi_ms;		/* ours, or learned from the querier's QQIC */
	uint64_t next_query;	/* 0 = none */
	uint64_t other_until;	/* other-querier-present timer, 0 = not running */
	__be32 addr[4];		/* the querier, us included */
};

struct link {
	uint32_t ifindex;
	uint16_t vlan;
	struct xm_mship_cfg cfg;
	struct qstate q[NFAM];
	uint32_t ngroups;
	struct xm_mship_counters cnt;
};

struct group {
	struct group *hnext;	/* hash chain */
	struct group *dnext;	/* batch list */
	struct link *link;
	struct xm_mship_source *src;	/* sorted by address */
	uint64_t timer;		/* group timer; 0 in INCLUDE */
	uint64_t older[2];	/* [0] v1 host present, [1] IGMPv2 host present */
	uint64_t query_at;	/* next specific-query transmission, 0 = none */
	uint64_t last_report;
	struct xm_mship_key key;
	__be32 reporter[4];
	uint32_t heap_idx;
	uint16_t nsrc, cap;
	uint8_t mode;
	uint8_t flags;		/* G_* */
	uint8_t what;		/* XM_MSHIP_CH_* gathered in this batch */
	uint8_t gq_left;	/* group-specific queries still to send */
};

struct hslot {
	uint64_t deadline;
	struct group *g;
};

struct xm_mship {
	struct xm_mship_ops ops;
	uint64_t hkey[2];
	struct group **buckets;
	uint32_t nbuckets;	/* a power of two */
	size_t nhashed;		/* alive and dead */
	size_t nalive;
	struct hslot *heap;
	uint32_t nheap, heapcap;
	struct link **links;
	uint32_t nlinks, linkcap;
	struct group *batch;	/* in the order groups were first touched */
	struct group **batch_tail;
	/* Scratch: a record's sources sorted, a merge's output, a query's list. */
	__be32 (*bbuf)[4];
	struct xm_mship_source *mbuf;
	size_t mcap;
	__be32 qbuf[XM_IGMP_QUERY_MAX_SOURCES][4];
};

static const char *const counter_names[] = {
#define XM_MSHIP_COUNTER_NAME(id, name) name,
	XM_MSHIP_COUNTERS(XM_MSHIP_COUNTER_NAME)
#undef XM_MSHIP_COUNTER_NAME
};

const char *xm_mship_counter_name(enum xm_mship_counter c)
{
	return (unsigned int)c < ARRAY_SIZE(counter_names) ? counter_names[c] : "?";
}

/* ---- small helpers ---- */

static int fam_of(uint8_t family)
{
	return family == XM_AF_INET6 ? FAM_MLD : FAM_IGMP;
}

static uint8_t family_of(int f)
{
	return f == FAM_MLD ? XM_AF_INET6 : XM_AF_INET;
}

static int group_fam(const struct group *g)
{
	return fam_of(g->key.family);
}

static uint8_t top_version(int f)
{
	return f == FAM_MLD ? MLD_TOP_VERSION : IGMP_TOP_VERSION;
}

static uint8_t link_version(const struct link *l, int f)
{
	return f == FAM_MLD ? l->cfg.mld_version : l->cfg.igmp_version;
}

static const __be32 *our_addr(const struct link *l, int f)
{
	return f == FAM_MLD ? l->cfg.addr6 : l->cfg.addr4;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A running timer that is due: not stopped, not static. */
static bool due(uint64_t t, uint64_t now)
{
	return t && t != XM_MSHIP_FOREVER && t <= now;
}

/* ---- the timers of RFC 3376 8 / RFC 3810 9, with what is in force ---- */

static uint8_t lmqc(const struct link *l, int f)
{
	return l->cfg.lmqc ? l->cfg.lmqc : l->q[f].rv;
}

/* Group Membership Interval, and Older Host Present Interval (the same). */
static uint64_t gmi(const struct link *l, int f)
{
	return (uint64_t)l->q[f].rv * l->q[f].qi_ms + l->cfg.query_response_ms;
}

static uint64_t other_querier_interval(const struct link *l, int f)
{
	return (uint64_t)l->q[f].rv * l->q[f].qi_ms + l->cfg.query_response_ms / 2;
}

static uint64_t lmqt(const struct link *l, int f)
{
	return (uint64_t)l->cfg.lmqi_ms * lmqc(l, f);
}

static uint64_t startup_interval(const struct link *l, int f)
{
	return l->cfg.startup_query_interval_ms ? l->cfg.startup_query_interval_ms :
						  l->q[f].qi_ms / 4;
}

static uint8_t startup_count(const struct link *l, int f)
{
	return l->cfg.startup_query_count ? l->cfg.startup_query_count : l->q[f].rv;
}

/* The version hosts of the group speak (RFC 3376 7.3.2, RFC 3810 8.3.2),
 * never above what the link is configured for. */
static uint8_t group_compat(const struct group *g)
{
	int f = group_fam(g);
	uint8_t v = top_version(f);

	if (g->older[0])
		v = 1;
	else if (f == FAM_IGMP && g->older[1])
		v = 2;
	return v < link_version(g->link, f) ? v : link_version(g->link, f);
}

/* The form of a group-specific query for g, 0 if none can be sent: IGMPv1
 * has none, so with IGMPv1 hosts present the IGMPv2 form is used. */
static uint8_t group_query_version(const struct group *g)
{
	int f = group_fam(g);
	uint8_t v = group_compat(g);

	if (f == FAM_IGMP && v < 2)
		return link_version(g->link, f) >= 2 ? 2 : 0;
	return v;
}

/* Only the newest version names sources in a query. */
static bool can_source_query(const struct group *g)
{
	return group_compat(g) == top_version(group_fam(g));
}

/* ---- the group hash ---- */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

/* SipHash-2-4 of the 24-byte key: keyed, so hosts cannot choose colliding
 * groups without knowing the seed. */
static uint64_t key_hash(const uint64_t k[2], const struct xm_mship_key *key)
{
	uint64_t v[4] = {
		k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
		k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull,
	};
	uint64_t w[3], last = (uint64_t)sizeof(w) << 56;
	unsigned int i;

	memcpy(w, key, sizeof(w));
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		v[3] ^= w[i];
		sipround(v);
		sipround(v);
		v[0] ^= w[i];
	}
	v[3] ^= last;
	sipround(v);
	sipround(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static struct group **bucket(const struct xm_mship *m, const struct xm_mship_key *key)
{
	return &m->buckets[key_hash(m->hkey, key) & (m->nbuckets - 1)];
}

/* Alive or dead in this batch. */
static struct group *hash_find(const struct xm_mship *m, const struct xm_mship_key *key)
{
	struct group *g;

	for (g = *bucket(m, key); g; g = g->hnext)
		if (!memcmp(&g->key, key, sizeof(*key)))
			return g;
	return NULL;
}

static struct group *find_alive(const struct xm_mship *m, const struct xm_mship_key *key)
{
	struct group *g = hash_find(m, key);

	return g && !(g->flags & G_DEAD) ? g : NULL;
}

/* Double the buckets; on failure chains just grow longer. */
static void hash_grow(struct xm_mship *m)
{
	struct group **old = m->buckets, *g, *next;
	uint32_t i, n = m->nbuckets;

	m->buckets = calloc((size_t)n * 2, sizeof(*m->buckets));
	if (!m->buckets) {
		m->buckets = old;
		return;
	}
	m->nbuckets = n * 2;
	for (i = 0; i < n; i++) {
		for (g = old[i]; g; g = next) {
			struct group **b = bucket(m, &g->key);

			next = g->hnext;
			g->hnext = *b;
			*b = g;
		}
	}
	free(old);
}

static void hash_insert(struct xm_mship *m, struct group *g)
{
	struct group **b;

	if (m->nhashed >= m->nbuckets)
		hash_grow(m);
	b = bucket(m, &g->key);
	g->hnext = *b;
	*b = g;
	m->nhashed++;
}

static void hash_remove(struct xm_mship *m, struct group *g)
{
	struct group **p;

	for (p = bucket(m, &g->key); *p; p = &(*p)->hnext) {
		if (*p == g) {
			*p = g->hnext;
			m->nhashed--;
			return;
		}
	}
}

/* ---- the timer heap: every group with a running timer, by deadline ---- */

/* The earliest of a group's timers, FOREVER when none runs. */
static uint64_t group_deadline(const struct group *g)
{
	uint64_t d = XM_MSHIP_FOREVER;
	unsigned int i;

	if (g->mode == XM_MSHIP_EXCLUDE)
		d = g->timer;
	for (i = 0; i < ARRAY_SIZE(g->older); i++)
		if (g->older[i])
			d = min64(d, g->older[i]);
	if (g->query_at)
		d = min64(d, g->query_at);
	for (i = 0; i < g->nsrc; i++)
		if (g->src[i].timer)
			d = min64(d, g->src[i].timer);
	return d;
}

static void heap_place(struct xm_mship *m, uint32_t i, struct hslot s)
{
	m->heap[i] = s;
	s.g->heap_idx = i;
}

static void sift_up(struct xm_mship *m, uint32_t i)
{
	struct hslot s = m->heap[i];

	while (i && m->heap[(i - 1) / 2].deadline > s.deadline) {
		heap_place(m, i, m->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_place(m, i, s);
}

static void sift_down(struct xm_mship *m, uint32_t i)
{
	struct hslot s = m->heap[i];
	uint32_t c;

	while ((c = 2 * i + 1) < m->nheap) {
		if (c + 1 < m->nheap && m->heap[c + 1].deadline < m->heap[c].deadline)
			c++;
		if (m->heap[c].deadline >= s.deadline)
			break;
		heap_place(m, i, m->heap[c]);
		i = c;
	}
	heap_place(m, i, s);
}

static void heap_remove(struct xm_mship *m, struct group *g)
{
	uint32_t i = g->heap_idx;
	struct group *moved;

	if (i == NO_HEAP)
		return;
	g->heap_idx = NO_HEAP;
	if (i == --m->nheap)
		return;
	moved = m->heap[m->nheap].g;
	heap_place(m, i, m->heap[m->nheap]);
	sift_up(m, i);
	sift_down(m, moved->heap_idx);
}

/* A slot for every living group, so that sched() never allocates. */
static bool heap_reserve(struct xm_mship *m, size_t groups)
{
	uint32_t cap = m->heapcap ? m->heapcap * 2 : 64;
	struct hslot *h;

	if (groups <= m->heapcap)
		return true;
	h = realloc(m->heap, cap * sizeof(*h));
	if (!h)
		return false;
	m->heap = h;
	m->heapcap = cap;
	return true;
}

/* Put g where its earliest timer says. */
static void sched(struct xm_mship *m, struct group *g)
{
	uint64_t d = group_deadline(g);
	uint32_t i = g->heap_idx;

	if (d == XM_MSHIP_FOREVER) {
		heap_remove(m, g);
		return;
	}
	if (i == NO_HEAP) {
		i = m->nheap++;
		m->heap[i].g = g;
		g->heap_idx = i;
	}
	m->heap[i].deadline = d;
	sift_up(m, i);
	sift_down(m, g->heap_idx);
}

/* ---- the batch ---- */

static void touch(struct xm_mship *m, struct group *g, uint8_t what)
{
	g->what |= what;
	if (g->flags & G_DIRTY)
		return;
	g->flags |= G_DIRTY;
	g->dnext = NULL;
	*m->batch_tail = g;
	m->batch_tail = &g->dnext;
}

static void fill_view(const struct group *g, struct xm_mship_group_view *v)
{
	memset(v, 0, sizeof(*v));
	v->key = g->key;
	if (g->flags & G_DEAD)
		return;
	v->mode = g->mode;
	v->compat = group_compat(g);
	v->is_static = g->flags & G_STATIC;
	v->queries_left = g->gq_left;
	v->timer = g->timer;
	memcpy(v->older_host, g->older, sizeof(v->older_host));
	memcpy(v->reporter, g->reporter, sizeof(v->reporter));
	v->last_report = g->last_report;
	v->nsrc = g->nsrc;
	v->src = g->src;
}

static void tell(struct xm_mship *m, const struct group *g)
{
	struct xm_mship_change c = { .what = g->what };

	if (!m->ops.change)
		return;
	if (g->flags & G_DEAD) {
		c.kind = XM_MSHIP_DELETED;
	} else if (g->flags & G_NEW) {
		c.kind = XM_MSHIP_CREATED;
		c.what = XM_MSHIP_CH_ALL;
	} else {
		c.kind = XM_MSHIP_CHANGED;
	}
	fill_view(g, &c.g);
	m->ops.change(m->ops.ctx, &c);
}

static bool worth_telling(const struct group *g)
{
	if (g->flags & G_DEAD)
		return !(g->flags & G_NEW);	/* born and gone in one batch: nothing */
	return (g->flags & G_NEW) || g->what;
}

/* End a batch: the state is made whole first (dead groups leave the hash,
 * the living are rescheduled), so callbacks may read it. */
static void flush(struct xm_mship *m)
{
	struct group *g, *next, *list = m->batch;

	m->batch = NULL;
	m->batch_tail = &m->batch;
	for (g = list; g; g = g->dnext) {
		if (g->flags & G_DEAD)
			hash_remove(m, g);
		else
			sched(m, g);
	}
	for (g = list; g; g = g->dnext)
		if (worth_telling(g))
			tell(m, g);
	for (g = list; g; g = next) {
		next = g->dnext;
		g->dnext = NULL;
		if (g->flags & G_DEAD) {
			free(g);
			continue;
		}
		g->flags &= ~(G_DIRTY | G_NEW);
		g->what = 0;
	}
}

/* ---- groups ---- */

static void group_reset(struct group *g)
{
	free(g->src);
	g->src = NULL;
	g->nsrc = g->cap = 0;
	g->timer = g->query_at = 0;
	memset(g->older, 0, sizeof(g->older));
	g->gq_left = 0;
	g->mode = XM_MSHIP_INCLUDE;
	g->flags &= ~G_STATIC;
}

/* A new group in INCLUDE({}), or one deleted earlier in this batch brought
 * back (it is then told as changed, not as deleted and created). */
static struct group *group_new(struct xm_mship *m, struct link *l,
			       const struct xm_mship_key *key)
{
	struct group *g = hash_find(m, key);

	if (!heap_reserve(m, m->nalive + 1))
		return NULL;
	if (g) {
		g->flags &= ~G_DEAD;
		g->what = XM_MSHIP_CH_ALL;
	} else {
		g = calloc(1, sizeof(*g));
		if (!g)
			return NULL;
		g->key = *key;
		g->heap_idx = NO_HEAP;
		g->flags = G_NEW;
		hash_insert(m, g);
	}
	g->link = l;
	l->ngroups++;
	m->nalive++;
	touch(m, g, 0);
	return g;
}

static void group_kill(struct xm_mship *m, struct group *g)
{
	if (g->flags & G_DEAD)
		return;
	heap_remove(m, g);
	group_reset(g);
	g->flags |= G_DEAD;
	g->link->ngroups--;
	m->nalive--;
	touch(m, g, 0);
}

/* ---- sources ---- */

static int addr_key_cmp(const void *key, const void *elem)
{
	return xm_addr16_cmp(key, ((const struct xm_mship_source *)elem)->addr);
}

static struct xm_mship_source *src_find(const struct group *g, const __be32 a[4])
{
	if (!g->nsrc)
		return NULL;
	return bsearch(a, g->src, g->nsrc, sizeof(*g->src), addr_key_cmp);
}

static bool src_reserve(struct group *g, size_t n)
{
	size_t cap = g->cap ? g->cap : SRC_MIN_CAP;
	struct xm_mship_source *s;

	if (n <= g->cap)
		return true;
	while (cap < n)
		cap *= 2;
	if (cap > XM_MSHIP_MAX_SOURCES_LIMIT)
		cap = XM_MSHIP_MAX_SOURCES_LIMIT;
	s = realloc(g->src, cap * sizeof(*s));
	if (!s)
		return false;
	g->src = s;
	g->cap = cap;
	return true;
}

/* Give memory back when the array is a quarter full. */
static void src_fit(struct group *g)
{
	struct xm_mship_source *s;
	size_t cap = g->cap / 2;

	if (!g->nsrc) {
		free(g->src);
		g->src = NULL;
		g->cap = 0;
		return;
	}
	if (g->cap <= SRC_MIN_CAP || g->nsrc > g->cap / 4)
		return;
	s = realloc(g->src, cap * sizeof(*s));
	if (s) {
		g->src = s;
		g->cap = cap;
	}
}

static struct xm_mship_source *src_insert(struct group *g, const __be32 a[4])
{
	uint32_t i = 0;

	if (!src_reserve(g, (size_t)g->nsrc + 1))
		return NULL;
	while (i < g->nsrc && memcmp(g->src[i].addr, a, 16) < 0)
		i++;
	memmove(&g->src[i + 1], &g->src[i], (g->nsrc - i) * sizeof(*g->src));
	memset(&g->src[i], 0, sizeof(*g->src));
	memcpy(g->src[i].addr, a, 16);
	g->nsrc++;
	return &g->src[i];
}

/* ---- sending ---- */

static void action_init(struct xm_mship_action *a, const struct link *l, int f,
			uint8_t kind, uint8_t version)
{
	const struct qstate *q = &l->q[f];

	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->family = family_of(f);
	a->version = version;
	a->ifindex = l->ifindex;
	a->vlan = l->vlan;
	a->qrv = q->rv <= QRV_MAX ? q->rv : 0;
	a->qqi_s = q->qi_ms / 1000;
	memcpy(a->src, our_addr(l, f), sizeof(a->src));
}

static void emit(struct xm_mship *m, struct link *l, const struct xm_mship_action *a)
{
	static const uint8_t counter[] = {
		[XM_MSHIP_QUERY_GENERAL] = XM_MSHIP_C_GENERAL_QUERIES,
		[XM_MSHIP_QUERY_GROUP] = XM_MSHIP_C_GROUP_QUERIES,
		[XM_MSHIP_QUERY_GROUP_SOURCE] = XM_MSHIP_C_GROUP_SOURCE_QUERIES,
	};

	l->cnt.c[counter[a->kind]]++;
	if (m->ops.action)
		m->ops.action(m->ops.ctx, a);
}

/* RFC 3376 6.6 / 4.1.12: startup queries at the startup interval, then one
 * every query interval. */
static void send_general(struct xm_mship *m, struct link *l, int f, uint64_t now)
{
	struct qstate *q = &l->q[f];
	struct xm_mship_action a;

	action_init(&a, l, f, XM_MSHIP_QUERY_GENERAL, link_version(l, f));
	a.max_resp_ms = l->cfg.query_response_ms;
	if (q->startup_left)
		q->startup_left--;
	a.remaining = q->startup_left;
	emit(m, l, &a);
	q->next_query = now + (q->startup_left ? startup_interval(l, f) : q->qi_ms);
}

static void cancel_queries(struct group *g)
{
	uint32_t i;

	g->gq_left = 0;
	g->query_at = 0;
	for (i = 0; i < g->nsrc; i++)
		g->src[i].rexmit = 0;
}

/*
 * One group-and-source-specific query per RFC 3376 6.6.3.2: the sources
 * with retransmissions left whose timer is above LMQT (S flag set), or at or
 * below it (S clear), in frames that fit.
 */
static void send_source_list(struct xm_mship *m, struct group *g, bool above,
			     uint64_t lmqt_at, uint64_t now)
{
	int f = group_fam(g);
	uint32_t max = f == FAM_MLD ? XM_MLD_QUERY_MAX_SOURCES : XM_IGMP_QUERY_MAX_SOURCES;
	struct xm_mship_action a;
	uint8_t left = 0;
	uint32_t i, n = 0;

	action_init(&a, g->link, f, XM_MSHIP_QUERY_GROUP_SOURCE, top_version(f));
	memcpy(a.group, g->key.group, sizeof(a.group));
	a.max_resp_ms = g->link->cfg.lmqi_ms;
	a.s_flag = above;
	a.sources = (const __be32 (*)[4])m->qbuf;
	for (i = 0; i < g->nsrc; i++) {
		const struct xm_mship_source *s = &g->src[i];

		if (!s->rexmit || (s->timer > lmqt_at) != above)
			continue;
		memcpy(m->qbuf[n++], s->addr, 16);
		if (s->rexmit - 1 > left)
			left = s->rexmit - 1;
		if (n == max) {
			a.nsrc = n;
			a.remaining = left;
			emit(m, g->link, &a);
			n = 0;
		}
	}
	if (n) {
		a.nsrc = n;
		a.remaining = left;
		emit(m, g->link, &a);
	}
}

/*
 * Send what is due of g's specific queries (RFC 3376 6.6.3): the
 * group-specific one, S set when the group timer is above LMQT again; then
 * the source lists.  Only a querier sends: one that lost the election since
 * drops what was left.
 */
static void send_specific(struct xm_mship *m, struct group *g, uint64_t now)
{
	struct link *l = g->link;
	int f = group_fam(g);
	uint64_t lmqt_at = now + lmqt(l, f);
	struct xm_mship_action a;
	bool group_sent = false, more = false;
	uint32_t i;

	touch(m, g, 0);
	if (!l->q[f].querier) {
		cancel_queries(g);
		return;
	}
	if (g->gq_left && group_query_version(g)) {
		action_init(&a, l, f, XM_MSHIP_QUERY_GROUP, group_query_version(g));
		memcpy(a.group, g->key.group, sizeof(a.group));
		a.max_resp_ms = l->cfg.lmqi_ms;
		a.s_flag = a.version == top_version(f) && g->timer > lmqt_at;
		a.remaining = g->gq_left - 1;
		emit(m, l, &a);
		group_sent = true;
	}
	if (g->gq_left)
		g->gq_left--;
	if (can_source_query(g)) {
		/* RFC 3376 6.6.3.2: the S-flagged list may go unsent when a
		 * group-specific query goes at the same time. */
		if (!group_sent)
			send_source_list(m, g, true, lmqt_at, now);
		send_source_list(m, g, false, lmqt_at, now);
	}
	for (i = 0; i < g->nsrc; i++) {
		if (!can_source_query(g))
			g->src[i].rexmit = 0;
		else if (g->src[i].rexmit)
			g->src[i].rexmit--;
		more |= g->src[i].rexmit;
	}
	g->query_at = g->gq_left || more ? now + l->cfg.lmqi_ms : 0;
}

/* ---- applying a record: RFC 3376 6.4 ---- */

/* What happens to one source. */
enum src_op {
	OP_KEEP,
	OP_DEL,		/* Delete */
	OP_GMI,		/* (.) = GMI */
	OP_QRY,		/* Send Q(G, .) */
	OP_ADD_GMI,	/* new, (.) = GMI */
	OP_ADD_STOP,	/* new, (.) = 0: blocked */
	OP_ADD_GT_QRY,	/* new, (.) = Group Timer, then Send Q(G, .) */
	OP_SKIP,	/* new, not added */
};

/* The class of a source: in X (timer running) or Y (stopped), in the
 * record's list B or not; or only in B. */
enum src_class {
	C_X_B,
	C_X_NB,
	C_Y_B,
	C_Y_NB,
	C_NEW,
	C_COUNT,
};

#define ROW_EXCLUDE	0x1	/* the group is in EXCLUDE mode afterwards */
#define ROW_GT_GMI	0x2	/* Group Timer = GMI */
#define ROW_QUERY_G	0x4	/* Send Q(G) */

struct row {
	uint8_t op[C_COUNT];
	uint8_t flags;
};

/*
 * RFC 3376 6.4.1 and 6.4.2, row by row, read with A the sources of an
 * INCLUDE group, (X, Y) those of an EXCLUDE group and B (or A) the record's.
 * An INCLUDE group has no Y.
 */
static const struct row rows[2][XM_REC_TYPES] = {
	[XM_MSHIP_INCLUDE] = {
		/* INCLUDE (A+B); (B)=GMI */
		[XM_REC_IS_IN] = { { OP_GMI, OP_KEEP, 0, 0, OP_ADD_GMI }, 0 },
		[XM_REC_ALLOW] = { { OP_GMI, OP_KEEP, 0, 0, OP_ADD_GMI }, 0 },
		/* EXCLUDE (A*B, B-A); (B-A)=0, Delete (A-B), Group Timer=GMI */
		[XM_REC_IS_EX] = { { OP_KEEP, OP_DEL, 0, 0, OP_ADD_STOP },
				   ROW_EXCLUDE | ROW_GT_GMI },
		/* the same, and Send Q(G, A*B) */
		[XM_REC_TO_EX] = { { OP_QRY, OP_DEL, 0, 0, OP_ADD_STOP },
				   ROW_EXCLUDE | ROW_GT_GMI },
		/* INCLUDE (A+B); (B)=GMI, Send Q(G, A-B) */
		[XM_REC_TO_IN] = { { OP_GMI, OP_QRY, 0, 0, OP_ADD_GMI }, 0 },
		/* INCLUDE (A); Send Q(G, A*B) */
		[XM_REC_BLOCK] = { { OP_QRY, OP_KEEP, 0, 0, OP_SKIP }, 0 },
	},
	[XM_MSHIP_EXCLUDE] = {
		/* EXCLUDE (X+A, Y-A); (A)=GMI */
		[XM_REC_IS_IN] = { { OP_GMI, OP_KEEP, OP_GMI, OP_KEEP, OP_ADD_GMI },
				   ROW_EXCLUDE },
		[XM_REC_ALLOW] = { { OP_GMI, OP_KEEP, OP_GMI, OP_KEEP, OP_ADD_GMI },
				   ROW_EXCLUDE },
		/* EXCLUDE (A-Y, Y*A); (A-X-Y)=GMI, Delete (X-A), Delete (Y-A),
		 * Group Timer=GMI */
		[XM_REC_IS_EX] = { { OP_KEEP, OP_DEL, OP_KEEP, OP_DEL, OP_ADD_GMI },
				   ROW_EXCLUDE | ROW_GT_GMI },
		/* EXCLUDE (A-Y, Y*A); (A-X-Y)=Group Timer, Delete (X-A),
		 * Delete (Y-A), Send Q(G, A-Y), Group Timer=GMI */
		[XM_REC_TO_EX] = { { OP_QRY, OP_DEL, OP_KEEP, OP_DEL, OP_ADD_GT_QRY },
				   ROW_EXCLUDE | ROW_GT_GMI },
		/* EXCLUDE (X+A, Y-A); (A)=GMI, Send Q(G, X-A), Send Q(G) */
		[XM_REC_TO_IN] = { { OP_GMI, OP_QRY, OP_GMI, OP_KEEP, OP_ADD_GMI },
				   ROW_EXCLUDE | ROW_QUERY_G },
		/* EXCLUDE (X+(A-Y), Y); (A-X-Y)=Group Timer, Send Q(G, A-Y) */
		[XM_REC_BLOCK] = { { OP_QRY, OP_KEEP, OP_KEEP, OP_KEEP, OP_ADD_GT_QRY },
				   ROW_EXCLUDE },
	},
};

static void group_expire(struct xm_mship *m, struct group *g, uint64_t now);

/* What one record needs while it is applied to one group. */
struct rctx {
	struct xm_mship *m;
	struct group *g;
	int f;
	uint64_t now;
	uint64_t gmi, lmqt;
	uint8_t lmqc;
	bool fast;		/* fast leave: a query's lowering is to now */
	bool querier;
	bool queried;		/* something got retransmissions: send now */
	bool expire;		/* fast leave set a timer to now */
};

static void rctx_init(struct rctx *c, struct xm_mship *m, struct group *g, uint64_t now)
{
	const struct link *l = g->link;

	c->m = m;
	c->g = g;
	c->f = group_fam(g);
	c->now = now;
	c->gmi = gmi(l, c->f);
	c->lmqt = lmqt(l, c->f);
	c->lmqc = lmqc(l, c->f);
	c->fast = l->cfg.fast_leave;
	c->querier = l->q[c->f].querier;
	c->queried = false;
	c->expire = false;
}

/*
 * "Send Q(G, S)" for one source (RFC 3376 6.6.3.2): a querier lowers a
 * timer above LMQT to LMQT and schedules LMQC queries.  With fast leave the
 * only host has left: the timer runs out now.  A non-querier waits for the
 * querier's query (6.6.1); static sources are never lowered.
 */
static void query_source(struct rctx *c, struct xm_mship_source *s)
{
	if ((s->flags & XM_MSHIP_SRC_STATIC) || !s->timer)
		return;
	if (c->fast) {
		s->timer = c->now;
		c->expire = true;
		touch(c->m, c->g, XM_MSHIP_CH_TIMERS);
		return;
	}
	if (!c->querier || !can_source_query(c->g) || s->timer <= c->now + c->lmqt)
		return;
	s->timer = c->now + c->lmqt;
	s->rexmit = c->lmqc;
	c->queried = true;
	touch(c->m, c->g, XM_MSHIP_CH_TIMERS);
}

/* "Send Q(G)" (RFC 3376 6.6.3.1), the same way for the group timer. */
static void query_group(struct rctx *c)
{
	struct group *g = c->g;

	if ((g->flags & G_STATIC) || g->mode != XM_MSHIP_EXCLUDE)
		return;
	if (c->fast) {
		g->timer = c->now;
		c->expire = true;
		touch(c->m, g, XM_MSHIP_CH_TIMERS);
		return;
	}
	if (!c->querier || !group_query_version(g) || g->timer <= c->now + c->lmqt)
		return;
	g->timer = c->now + c->lmqt;
	g->gq_left = c->lmqc;
	c->queried = true;
	touch(c->m, g, XM_MSHIP_CH_TIMERS);
}

static void set_gmi(struct rctx *c, struct xm_mship_source *s)
{
	if (s->flags & XM_MSHIP_SRC_STATIC)
		return;
	touch(c->m, c->g, s->timer ? XM_MSHIP_CH_TIMERS : XM_MSHIP_CH_SOURCES);
	s->timer = c->now + c->gmi;
}

/* An existing source, copied to the merge output; false drops it. */
static bool old_source(struct rctx *c, struct xm_mship_source *s, enum src_op op)
{
	switch (op) {
	case OP_DEL:
		if (s->flags & XM_MSHIP_SRC_STATIC)
			return true;
		touch(c->m, c->g, XM_MSHIP_CH_SOURCES);
		return false;
	case OP_GMI:
		set_gmi(c, s);
		return true;
	case OP_QRY:
		query_source(c, s);
		return true;
	default:
		return true;
	}
}

/* A source only in the record; false when it is not added. */
static bool new_source(struct rctx *c, const __be32 a[4], enum src_op op,
		       struct xm_mship_source *s)
{
	struct group *g = c->g;

	memset(s, 0, sizeof(*s));
	memcpy(s->addr, a, sizeof(s->addr));
	s->flags = SRC_ADDED;
	switch (op) {
	case OP_ADD_GMI:
		s->timer = c->now + c->gmi;
		break;
	case OP_ADD_STOP:
		/* A static (*,G) join wants every source: none is blocked. */
		if (g->flags & G_STATIC)
			return false;
		s->timer = 0;
		break;
	case OP_ADD_GT_QRY:
		s->timer = g->timer == XM_MSHIP_FOREVER ? c->now + c->gmi : g->timer;
		query_source(c, s);
		break;
	default:
		return false;
	}
	touch(c->m, g, XM_MSHIP_CH_SOURCES);
	return true;
}

/* Over max_sources: refuse the newest additions, from the highest address
 * down; what was there stays even if a lowered limit is now exceeded. */
static uint32_t enforce_limit(struct rctx *c, struct xm_mship_source *out, uint32_t n)
{
	uint32_t max = c->g->link->cfg.max_sources, k, w, excess;

	if (n <= max)
		return n;
	excess = n - max;
	for (k = n; k-- > 0 && excess;) {
		if (out[k].flags & SRC_ADDED) {
			out[k].flags |= SRC_DROP;
			excess--;
			c->g->link->cnt.c[XM_MSHIP_C_SOURCES_REFUSED]++;
		}
	}
	for (k = w = 0; k < n; k++)
		if (!(out[k].flags & SRC_DROP))
			out[w++] = out[k];
	return w;
}

static bool mbuf_reserve(struct xm_mship *m, size_t n)
{
	struct xm_mship_source *s;

	if (n <= m->mcap)
		return true;
	s = realloc(m->mbuf, n * sizeof(*s));
	if (!s)
		return false;
	m->mbuf = s;
	m->mcap = n;
	return true;
}

static enum src_class class_of(const struct xm_mship_source *s, bool in_b)
{
	if (s->timer)
		return in_b ? C_X_B : C_X_NB;
	return in_b ? C_Y_B : C_Y_NB;
}

/* One pass over A and B in address order applies a row's source ops;
 * false (out of memory) leaves the sources as they were. */
static bool merge(struct rctx *c, const struct row *r, const __be32 (*b)[4], uint32_t nb)
{
	struct group *g = c->g;
	struct xm_mship_source *out;
	uint32_t i = 0, j = 0, n = 0, k;
	int d;

	if (!mbuf_reserve(c->m, (size_t)g->nsrc + nb))
		return false;
	out = c->m->mbuf;
	while (i < g->nsrc || j < nb) {
		d = i == g->nsrc ? 1 : j == nb ? -1 : xm_addr16_cmp(g->src[i].addr, b[j]);
		if (d > 0) {
			if (new_source(c, b[j], r->op[C_NEW], &out[n]))
				n++;
			j++;
			continue;
		}
		out[n] = g->src[i++];
		j += !d;
		if (old_source(c, &out[n], r->op[class_of(&out[n], !d)]))
			n++;
	}
	n = enforce_limit(c, out, n);
	if (!src_reserve(g, n))
		return false;
	for (k = 0; k < n; k++)
		out[k].flags &= ~SRC_ADDED;
	if (n)
		memcpy(g->src, out, n * sizeof(*out));
	g->nsrc = n;
	src_fit(g);
	return true;
}

static void apply_row(struct rctx *c, uint8_t type, const __be32 (*b)[4], uint32_t nb)
{
	struct group *g = c->g;
	const struct row *r = &rows[g->mode][type];

	if (!merge(c, r, b, nb))
		return;
	if ((r->flags & ROW_EXCLUDE) && g->mode != XM_MSHIP_EXCLUDE) {
		g->mode = XM_MSHIP_EXCLUDE;
		touch(c->m, g, XM_MSHIP_CH_MODE);
	}
	if ((r->flags & ROW_GT_GMI) && !(g->flags & G_STATIC)) {
		g->timer = c->now + c->gmi;
		touch(c->m, g, XM_MSHIP_CH_TIMERS);
	}
	if (r->flags & ROW_QUERY_G)
		query_group(c);
	if (c->queried)
		send_specific(c->m, g, c->now);
}

static bool is_join(uint8_t type, uint32_t nb)
{
	return type == XM_REC_IS_EX || type == XM_REC_TO_EX || (nb && type != XM_REC_BLOCK);
}

static bool forbidden(const struct xm_mship *m, const struct xm_mship_key *key)
{
	return m->ops.forbidden && m->ops.forbidden(m->ops.ctx, key);
}

static void set_reporter(struct xm_mship *m, struct group *g, const __be32 *reporter,
			 uint64_t now)
{
	if (!reporter)
		return;
	if (memcmp(g->reporter, reporter, sizeof(g->reporter))) {
		memcpy(g->reporter, reporter, sizeof(g->reporter));
		touch(m, g, XM_MSHIP_CH_REPORTER);
	}
	g->last_report = now;
}

/*
 * One record for one group, b sorted without duplicates.  Older hosts
 * first translate it (RFC 3376 7.3.2, RFC 3810 8.3.2): BLOCK is ignored and
 * TO_EX(x) is TO_EX({}).  A group that does not exist is INCLUDE({}): only
 * a join creates it.  Returns the group, or NULL when there is none after
 * or the policy refused the join.
 */
static struct group *on_record(struct xm_mship *m, struct link *l,
			       const struct xm_mship_key *key, uint8_t type,
			       const __be32 (*b)[4], uint32_t nb,
			       const __be32 *reporter, uint64_t now)
{
	struct group *g = find_alive(m, key);
	int f = fam_of(key->family);
	uint8_t compat = g ? group_compat(g) : link_version(l, f);
	struct rctx c;

	if (compat < top_version(f)) {
		if (type == XM_REC_BLOCK) {
			l->cnt.c[XM_MSHIP_C_BLOCK_IGNORED]++;
			return g;
		}
		if (type == XM_REC_TO_EX && nb) {
			l->cnt.c[XM_MSHIP_C_TO_EX_SOURCES_IGNORED]++;
			nb = 0;
		}
	}
	if (is_join(type, nb) && forbidden(m, key)) {
		l->cnt.c[XM_MSHIP_C_FORBIDDEN]++;
		return NULL;
	}
	if (!g) {
		if (!is_join(type, nb))
			return NULL;
		if (l->ngroups >= l->cfg.max_groups) {
			l->cnt.c[XM_MSHIP_C_GROUPS_REFUSED]++;
			return NULL;
		}
		g = group_new(m, l, key);
		if (!g)
			return NULL;
	}
	rctx_init(&c, m, g, now);
	apply_row(&c, type, b, nb);
	set_reporter(m, g, reporter, now);
	/* What fast leave ran out goes before the next record is read. */
	if (c.expire)
		group_expire(m, g, now);
	else if (g->mode == XM_MSHIP_INCLUDE && !g->nsrc)
		group_kill(m, g);
	return g->flags & G_DEAD ? NULL : g;
}

/* ---- timers running out ---- */

static void expire_older_hosts(struct xm_mship *m, struct group *g, uint64_t now)
{
	uint8_t before = group_compat(g);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(g->older); i++)
		if (due(g->older[i], now))
			g->older[i] = 0;
	if (group_compat(g) != before)
		touch(m, g, XM_MSHIP_CH_COMPAT);
}

/* INCLUDE: a source whose timer runs out is deleted.  EXCLUDE: it moves to
 * the blocked list (RFC 3376 6.3) - or, in a static (*,G) join that blocks
 * nothing, is deleted. */
static void expire_sources(struct xm_mship *m, struct group *g, uint64_t now)
{
	bool drop = g->mode == XM_MSHIP_INCLUDE || (g->flags & G_STATIC);
	uint32_t i, w = 0;

	for (i = 0; i < g->nsrc; i++) {
		struct xm_mship_source *s = &g->src[i];

		if (due(s->timer, now)) {
			touch(m, g, XM_MSHIP_CH_SOURCES);
			s->timer = 0;
			s->rexmit = 0;
			if (drop)
				continue;
		}
		g->src[w++] = *s;
	}
	g->nsrc = w;
	src_fit(g);
}

/* RFC 3376 6.5: the group timer of an EXCLUDE group runs out: blocked
 * sources go, the group goes to INCLUDE with the rest, or is deleted. */
static void exclude_timeout(struct xm_mship *m, struct group *g)
{
	uint32_t i, w = 0;

	for (i = 0; i < g->nsrc; i++)
		if (g->src[i].timer)
			g->src[w++] = g->src[i];
	if (w != g->nsrc)
		touch(m, g, XM_MSHIP_CH_SOURCES);
	g->nsrc = w;
	src_fit(g);
	g->mode = XM_MSHIP_INCLUDE;
	g->timer = 0;
	g->gq_left = 0;
	touch(m, g, XM_MSHIP_CH_MODE);
}

/* Everything of g that is due at now.  Afterwards no timer of g is. */
static void group_expire(struct xm_mship *m, struct group *g, uint64_t now)
{
	expire_older_hosts(m, g, now);
	expire_sources(m, g, now);
	if (g->mode == XM_MSHIP_EXCLUDE && due(g->timer, now))
		exclude_timeout(m, g);
	if (g->mode == XM_MSHIP_INCLUDE && !g->nsrc) {
		group_kill(m, g);
		return;
	}
	if (due(g->query_at, now))
		send_specific(m, g, now);
}

/* ---- the querier ---- */

static bool can_query(const struct link *l, int f)
{
	return link_version(l, f) && l->cfg.querier != XM_QUERIER_OFF &&
	       !xm_addr_is_zero(our_addr(l, f));
}

static void use_own_timers(struct link *l, int f)
{
	l->q[f].rv = l->cfg.robustness;
	l->q[f].qi_ms = l->cfg.query_interval_ms;
}

/* RFC 3376 6.6.2 and 4.1.12: a new querier sends its startup queries. */
static void become_querier(struct link *l, int f, uint64_t now)
{
	struct qstate *q = &l->q[f];

	use_own_timers(l, f);
	q->querier = true;
	q->other_until = 0;
	q->other_version = 0;
	q->startup_left = startup_count(l, f);
	q->next_query = now;
	memcpy(q->addr, our_addr(l, f), sizeof(q->addr));
}

static void stop_querier(struct link *l, int f)
{
	struct qstate *q = &l->q[f];

	if (q->querier)
		memset(q->addr, 0, sizeof(q->addr));
	q->querier = false;
	q->startup_left = 0;
	q->next_query = 0;
}

static void querier_tick(struct xm_mship *m, struct link *l, int f, uint64_t now)
{
	struct qstate *q = &l->q[f];

	if (due(q->other_until, now)) {
		q->other_until = 0;
		q->other_version = 0;
		memset(q->addr, 0, sizeof(q->addr));
		use_own_timers(l, f);
		if (can_query(l, f) && l->cfg.querier == XM_QUERIER_AUTO)
			become_querier(l, f, now);
	}
	if (q->querier && due(q->next_query, now))
		send_general(m, l, f, now);
}

/*
 * A query from another router.  The lowest address queries (RFC 3376
 * 6.6.2); a proxy query from 0.0.0.0 or :: (RFC 4541 2.1.1) takes no part.
 * Whoever hears the querier adopts its QRV and QQI (4.1.6, 4.1.7).
 */
static void elect(struct xm_mship *m, struct link *l, int f, const struct xm_ctrl_msg *msg,
		  uint64_t now)
{
	struct qstate *q = &l->q[f];

	if (xm_addr_is_zero(msg->src) || l->cfg.querier == XM_QUERIER_ON)
		return;
	if (q->querier && xm_addr_cmp(msg->src, our_addr(l, f)) > 0)
		return;
	if (!q->querier && q->other_until && xm_addr_cmp(msg->src, q->addr) > 0)
		return;
	if (q->querier)
		l->cnt.c[XM_MSHIP_C_QUERIER_LOST]++;
	stop_querier(l, f);
	memcpy(q->addr, msg->src, sizeof(q->addr));
	q->other_version = msg->version;
	if (msg->qrv)
		q->rv = msg->qrv;
	if (msg->qqi_s)
		q->qi_ms = msg->qqi_s * 1000;
	q->other_until = now + other_querier_interval(l, f);
}

static void msg_key(const struct xm_ctrl_msg *msg, const __be32 group[4], struct xm_mship_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = msg->ifindex;
	k->vlan = msg->vlan;
	k->family = msg->family;
	memcpy(k->group, group, sizeof(k->group));
}

/* RFC 3376 6.6.1: a specific query without the S flag lowers the timers it
 * names to what its hosts have to answer in: LMQC times its Max Resp (the
 * non-querier rule of RFC 2236 3).  A Max Resp of 0 leaves them no time:
 * what it lowered runs out at once. */
static void lower_timers(struct xm_mship *m, struct link *l, int f,
			 const struct xm_ctrl_msg *msg, uint64_t now)
{
	struct xm_mship_key key;
	uint64_t at = now + (uint64_t)lmqc(l, f) * msg->max_resp_ms;
	struct xm_mship_source *s;
	struct group *g;
	uint32_t i;

	if (msg->s_flag || xm_addr_is_zero(msg->group))
		return;
	msg_key(msg, msg->group, &key);
	g = find_alive(m, &key);
	if (!g)
		return;
	if (!msg->nsrc) {
		if (g->mode == XM_MSHIP_EXCLUDE && !(g->flags & G_STATIC) && g->timer > at) {
			g->timer = at;
			touch(m, g, XM_MSHIP_CH_TIMERS);
		}
	}
	for (i = 0; i < msg->nsrc; i++) {
		xm_ctrl_source(msg, msg->src_list, i, m->bbuf[0]);
		s = src_find(g, m->bbuf[0]);
		if (s && s->timer > at && !(s->flags & XM_MSHIP_SRC_STATIC)) {
			s->timer = at;
			touch(m, g, XM_MSHIP_CH_TIMERS);
		}
	}
	if (at == now)
		group_expire(m, g, now);
}

static void on_query(struct xm_mship *m, struct link *l, int f, const struct xm_ctrl_msg *msg,
		     uint64_t now)
{
	if (msg->version < link_version(l, f))
		l->cnt.c[XM_MSHIP_C_OLDER_QUERIER]++;
	elect(m, l, f, msg, now);
	lower_timers(m, l, f, msg, now);
}

/* ---- messages ---- */

/* A record's sources into m->bbuf, sorted, without duplicates.  Hosts
 * mostly list them in order already: then there is nothing to sort. */
static uint32_t load_sources(struct xm_mship *m, const struct xm_ctrl_msg *msg,
			     const struct xm_ctrl_record *r)
{
	uint32_t i, n = 0;
	bool sorted = true;

	for (i = 0; i < r->nsrc; i++) {
		xm_ctrl_source(msg, r->src, i, m->bbuf[i]);
		if (i && xm_addr16_cmp(m->bbuf[i - 1], m->bbuf[i]) >= 0)
			sorted = false;
	}
	if (sorted)
		return r->nsrc;
	qsort(m->bbuf, r->nsrc, sizeof(*m->bbuf), xm_addr16_cmp);
	for (i = 0; i < r->nsrc; i++)
		if (!n || xm_addr16_cmp(m->bbuf[n - 1], m->bbuf[i]))
			memcpy(m->bbuf[n++], m->bbuf[i], 16);
	return n;
}

/* A v1/v2 report is IS_EX({}) and starts the Older Host Present timer of
 * its version (RFC 3376 7.3.2, RFC 3810 8.3.2). */
static void on_join(struct xm_mship *m, struct link *l, int f, const struct xm_ctrl_msg *msg,
		    uint64_t now)
{
	struct xm_mship_key key;
	struct group *g;
	uint8_t before;

	msg_key(msg, msg->group, &key);
	g = on_record(m, l, &key, XM_REC_IS_EX, NULL, 0, msg->src, now);
	if (!g)
		return;
	before = group_compat(g);
	g->older[f == FAM_IGMP && msg->version == 2] = now + gmi(l, f);
	touch(m, g, before != group_compat(g) ? XM_MSHIP_CH_COMPAT : XM_MSHIP_CH_TIMERS);
}

/* A leave is TO_IN({}), ignored while IGMPv1 hosts are present (they do
 * not answer group-specific queries in time). */
static void on_leave(struct xm_mship *m, struct link *l, int f, const struct xm_ctrl_msg *msg,
		     uint64_t now)
{
	struct xm_mship_key key;
	struct group *g;

	msg_key(msg, msg->group, &key);
	g = find_alive(m, &key);
	if (!g)
		return;
	if (f == FAM_IGMP && group_compat(g) == 1) {
		l->cnt.c[XM_MSHIP_C_LEAVE_IGNORED]++;
		return;
	}
	on_record(m, l, &key, XM_REC_TO_IN, NULL, 0, msg->src, now);
}

static void on_report(struct xm_mship *m, struct link *l, const struct xm_ctrl_msg *msg,
		      uint64_t now)
{
	struct xm_mship_key key;
	uint32_t i, n;

	for (i = 0; i < msg->nrec; i++) {
		n = load_sources(m, msg, &msg->rec[i]);
		msg_key(msg, msg->rec[i].group, &key);
		on_record(m, l, &key, msg->rec[i].type, (const __be32 (*)[4])m->bbuf, n,
			  msg->src, now);
	}
}

/* ---- links ---- */

static struct link *link_find(const struct xm_mship *m, uint32_t ifindex, uint16_t vlan)
{
	uint32_t i;

	for (i = 0; i < m->nlinks; i++)
		if (m->links[i]->ifindex == ifindex && m->links[i]->vlan == vlan)
			return m->links[i];
	return NULL;
}

/* Delete the groups of a link, of one family or (f < 0) of both. */
static void drop_groups(struct xm_mship *m, struct link *l, int f)
{
	struct group *g;
	uint32_t i;

	for (i = 0; i < m->nbuckets; i++)
		for (g = m->buckets[i]; g; g = g->hnext)
			if (g->link == l && (f < 0 || group_fam(g) == f))
				group_kill(m, g);
}

/* Runs the link's and the groups' timers that are due. */
static void run_due(struct xm_mship *m, uint64_t now)
{
	struct group *g;
	uint32_t i;
	int f;

	for (i = 0; i < m->nlinks; i++)
		for (f = 0; f < NFAM; f++)
			if (link_version(m->links[i], f))
				querier_tick(m, m->links[i], f, now);
	while (m->nheap && m->heap[0].deadline <= now) {
		g = m->heap[0].g;
		group_expire(m, g, now);
		if (!(g->flags & G_DEAD))
			sched(m, g);
	}
}

static bool cfg_valid(const struct xm_mship_cfg *c)
{
	return c->igmp_version <= IGMP_TOP_VERSION && c->mld_version <= MLD_TOP_VERSION &&
	       c->querier <= XM_QUERIER_AUTO && c->robustness >= 1 &&
	       c->query_interval_ms >= CFG_QI_MIN_MS && c->query_interval_ms <= CFG_QI_MAX_MS &&
	       c->query_response_ms >= CFG_RESP_MIN_MS &&
	       c->query_response_ms <= CFG_RESP_MAX_MS &&
	       c->query_response_ms < c->query_interval_ms &&
	       c->lmqi_ms >= CFG_RESP_MIN_MS && c->lmqi_ms <= CFG_RESP_MAX_MS &&
	       c->startup_query_interval_ms <= c->query_interval_ms &&
	       c->max_sources <= XM_MSHIP_MAX_SOURCES_LIMIT;
}

void xm_mship_cfg_default(struct xm_mship_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->igmp_version = IGMP_TOP_VERSION;
	cfg->mld_version = MLD_TOP_VERSION;
	cfg->querier = XM_QUERIER_AUTO;
	cfg->robustness = XM_MSHIP_RV_DEFAULT;
	cfg->query_interval_ms = XM_MSHIP_QI_MS_DEFAULT;
	cfg->query_response_ms = XM_MSHIP_QRI_MS_DEFAULT;
	cfg->lmqi_ms = XM_MSHIP_LMQI_MS_DEFAULT;
	cfg->max_groups = XM_MSHIP_MAX_GROUPS_DEFAULT;
	cfg->max_sources = XM_MSHIP_MAX_SOURCES_DEFAULT;
}

static uint64_t clock_of(uint64_t now)
{
	return now ? now : 1;
}

/* The querier of one family after the configuration changed. */
static void reconfigure(struct xm_mship *m, struct link *l, int f, const struct xm_mship_cfg *old,
			bool fresh, uint64_t now)
{
	struct qstate *q = &l->q[f];
	bool was_on = !fresh && (f == FAM_MLD ? old->mld_version : old->igmp_version);

	if (!link_version(l, f)) {
		if (was_on)
			drop_groups(m, l, f);
		memset(q, 0, sizeof(*q));
		return;
	}
	if (!was_on)
		memset(q, 0, sizeof(*q));
	if (!q->other_until)
		use_own_timers(l, f);
	if (!can_query(l, f)) {
		stop_querier(l, f);
	} else if (!q->querier) {
		if (l->cfg.querier == XM_QUERIER_ON || !q->other_until)
			become_querier(l, f, now);
	} else {
		memcpy(q->addr, our_addr(l, f), sizeof(q->addr));
	}
}

/* ---- the API ---- */

struct xm_mship *xm_mship_new(const struct xm_mship_ops *ops, uint64_t seed)
{
	struct xm_mship *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (ops)
		m->ops = *ops;
	/* Two halves of the SipHash key from one seed (splitmix64 steps). */
	m->hkey[0] = seed ^ 0x9e3779b97f4a7c15ull;
	m->hkey[1] = (seed + 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	m->hkey[1] ^= m->hkey[1] >> 31;
	m->batch_tail = &m->batch;
	m->nbuckets = HASH_MIN_BUCKETS;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	/* Room for the largest record the parser lets through. */
	m->bbuf = calloc(XM_CTRL_MAX_SOURCES, sizeof(*m->bbuf));
	if (!m->buckets || !m->bbuf) {
		xm_mship_free(m);
		return NULL;
	}
	return m;
}

void xm_mship_free(struct xm_mship *m)
{
	struct group *g, *next;
	uint32_t i;

	if (!m)
		return;
	for (i = 0; m->buckets && i < m->nbuckets; i++) {
		for (g = m->buckets[i]; g; g = next) {
			next = g->hnext;
			free(g->src);
			free(g);
		}
	}
	for (i = 0; i < m->nlinks; i++)
		free(m->links[i]);
	free(m->links);
	free(m->buckets);
	free(m->heap);
	free(m->bbuf);
	free(m->mbuf);
	free(m);
}

int xm_mship_iface_set(struct xm_mship *m, uint32_t ifindex, uint16_t vlan,
		       const struct xm_mship_cfg *cfg, uint64_t now)
{
	struct link *l = link_find(m, ifindex, vlan);
	struct xm_mship_cfg old;
	bool fresh = !l;
	int f;

	if (!cfg_valid(cfg))
		return -EINVAL;
	now = clock_of(now);
	if (!l) {
		if (m->nlinks == m->linkcap) {
			uint32_t cap = m->linkcap ? m->linkcap * 2 : 8;
			struct link **links = realloc(m->links, cap * sizeof(*links));

			if (!links)
				return -ENOMEM;
			m->links = links;
			m->linkcap = cap;
		}
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		l->ifindex = ifindex;
		l->vlan = vlan;
		m->links[m->nlinks++] = l;
	}
	old = l->cfg;
	l->cfg = *cfg;
	for (f = 0; f < NFAM; f++)
		reconfigure(m, l, f, &old, fresh, now);
	/* A new querier's first query goes now. */
	run_due(m, now);
	flush(m);
	return 0;
}

int xm_mship_iface_del(struct xm_mship *m, uint32_t ifindex, uint16_t vlan, uint64_t now)
{
	struct link *l = link_find(m, ifindex, vlan);
	uint32_t i;

	if (!l)
		return -ENOENT;
	now = clock_of(now);
	run_due(m, now);
	drop_groups(m, l, -1);
	flush(m);
	for (i = 0; m->links[i] != l; i++)
		;
	m->links[i] = m->links[--m->nlinks];
	free(l);
	return 0;
}

enum xm_ctrl_reason xm_mship_input(struct xm_mship *m, const struct xm_ctrl_msg *msg,
				   uint64_t now)
{
	struct link *l = link_find(m, msg->ifindex, msg->vlan);
	int f = fam_of(msg->family);
	unsigned int i;

	if (!l)
		return XM_CTRL_UNKNOWN_IFACE;
	if (!link_version(l, f))
		return XM_CTRL_DISABLED;
	if (l->cfg.require_router_alert && !msg->router_alert)
		return XM_CTRL_NO_ROUTER_ALERT;
	if (l->cfg.require_ttl1 && msg->ttl != 1)
		return XM_CTRL_BAD_TTL;
	if (f == FAM_MLD && msg->kind != XM_CTRL_QUERY && xm_addr_is_zero(msg->src))
		return XM_CTRL_UNSPECIFIED_SOURCE;
	if (msg->kind == XM_CTRL_QUERY && !xm_addr_is_zero(msg->src) &&
	    !xm_addr_cmp(msg->src, our_addr(l, f)))
		return XM_CTRL_OWN_QUERY;
	now = clock_of(now);
	run_due(m, now);
	for (i = 0; i < XM_CTRL_SKIP_COUNT; i++)
		l->cnt.skipped[i] += msg->skipped[i];
	switch (msg->kind) {
	case XM_CTRL_QUERY:
		on_query(m, l, f, msg, now);
		break;
	case XM_CTRL_JOIN:
		on_join(m, l, f, msg, now);
		break;
	case XM_CTRL_LEAVE:
		on_leave(m, l, f, msg, now);
		break;
	default:
		on_report(m, l, msg, now);
		break;
	}
	flush(m);
	return XM_CTRL_OK;
}

uint64_t xm_mship_next_deadline(const struct xm_mship *m)
{
	uint64_t d = m->nheap ? m->heap[0].deadline : XM_MSHIP_FOREVER;
	uint32_t i;
	int f;

	for (i = 0; i < m->nlinks; i++) {
		for (f = 0; f < NFAM; f++) {
			const struct qstate *q = &m->links[i]->q[f];

			if (q->other_until)
				d = min64(d, q->other_until);
			if (q->querier && q->next_query)
				d = min64(d, q->next_query);
		}
	}
	return d;
}

void xm_mship_tick(struct xm_mship *m, uint64_t now)
{
	run_due(m, clock_of(now));
	flush(m);
}

/* The link of a static join, and the key as the state keeps it. */
static int static_target(struct xm_mship *m, const struct xm_mship_key *key,
			 struct link **l, struct xm_mship_key *k)
{
	*l = link_find(m, key->ifindex, key->vlan);
	if (!*l || (key->family != XM_AF_INET && key->family != XM_AF_INET6) ||
	    !link_version(*l, fam_of(key->family)))
		return -ENODEV;
	*k = *key;
	k->pad = 0;
	if (key->family == XM_AF_INET && (k->group[1] | k->group[2] | k->group[3]))
		return -EINVAL;
	return xm_addr_is_multicast(k->family, k->group) ? 0 : -EINVAL;
}

/* A static (*,G): EXCLUDE for ever, nothing blocked. */
static void pin_group(struct xm_mship *m, struct group *g)
{
	uint32_t i, w = 0;

	g->flags |= G_STATIC;
	if (g->mode != XM_MSHIP_EXCLUDE)
		touch(m, g, XM_MSHIP_CH_MODE);
	g->mode = XM_MSHIP_EXCLUDE;
	g->timer = XM_MSHIP_FOREVER;
	g->gq_left = 0;
	for (i = 0; i < g->nsrc; i++)
		if (g->src[i].timer)
			g->src[w++] = g->src[i];
	if (w != g->nsrc)
		touch(m, g, XM_MSHIP_CH_SOURCES);
	g->nsrc = w;
	src_fit(g);
	touch(m, g, XM_MSHIP_CH_TIMERS);
}

static int pin_source(struct xm_mship *m, struct group *g, const __be32 *source)
{
	struct xm_mship_source *s = src_find(g, source);

	if (!s) {
		if (g->nsrc >= g->link->cfg.max_sources) {
			g->link->cnt.c[XM_MSHIP_C_SOURCES_REFUSED]++;
			return -ENOSPC;
		}
		s = src_insert(g, source);
		if (!s)
			return -ENOMEM;
	}
	touch(m, g, s->timer ? XM_MSHIP_CH_TIMERS : XM_MSHIP_CH_SOURCES);
	s->flags |= XM_MSHIP_SRC_STATIC;
	s->timer = XM_MSHIP_FOREVER;
	s->rexmit = 0;
	return 0;
}

int xm_mship_static_join(struct xm_mship *m, const struct xm_mship_key *key,
			 const __be32 *source, uint64_t now)
{
	struct xm_mship_key k;
	struct link *l;
	struct group *g;
	int rc = static_target(m, key, &l, &k);

	if (rc)
		return rc;
	now = clock_of(now);
	run_due(m, now);
	g = find_alive(m, &k);
	if (!g) {
		if (l->ngroups >= l->cfg.max_groups) {
			l->cnt.c[XM_MSHIP_C_GROUPS_REFUSED]++;
			flush(m);
			return -ENOSPC;
		}
		g = group_new(m, l, &k);
		if (!g) {
			flush(m);
			return -ENOMEM;
		}
	}
	if (source)
		rc = pin_source(m, g, source);
	else
		pin_group(m, g);
	if (g->mode == XM_MSHIP_INCLUDE && !g->nsrc)
		group_kill(m, g);
	flush(m);
	return rc;
}

/*
 * Unpin, as if the static member had last reported now, then leave as a
 * host would: TO_IN({}) for (*,G), BLOCK({S}) for (S,G).  A non-querier
 * cannot query, so what no host still wants runs out after GMI.
 */
int xm_mship_static_leave(struct xm_mship *m, const struct xm_mship_key *key,
			  const __be32 *source, uint64_t now)
{
	struct xm_mship_source *s = NULL;
	struct xm_mship_key k;
	struct link *l;
	struct group *g;
	__be32 one[1][4];
	int rc = static_target(m, key, &l, &k);

	if (rc)
		return rc;
	now = clock_of(now);
	run_due(m, now);
	g = find_alive(m, &k);
	if (g && source)
		s = src_find(g, source);
	if (!g || (source ? !s || !(s->flags & XM_MSHIP_SRC_STATIC) : !(g->flags & G_STATIC))) {
		flush(m);
		return -ENOENT;
	}
	touch(m, g, XM_MSHIP_CH_TIMERS);
	if (source) {
		s->flags &= ~XM_MSHIP_SRC_STATIC;
		s->timer = now + gmi(l, fam_of(k.family));
		memcpy(one[0], source, sizeof(one[0]));
		on_record(m, l, &k, XM_REC_BLOCK, (const __be32 (*)[4])one, 1, NULL, now);
	} else {
		g->flags &= ~G_STATIC;
		g->timer = now + gmi(l, fam_of(k.family));
		on_record(m, l, &k, XM_REC_TO_IN, NULL, 0, NULL, now);
	}
	flush(m);
	return 0;
}

int xm_mship_group_get(const struct xm_mship *m, const struct xm_mship_key *key,
		       struct xm_mship_group_view *out)
{
	struct xm_mship_key k = *key;
	struct group *g;

	k.pad = 0;
	g = find_alive(m, &k);
	if (!g)
		return -ENOENT;
	fill_view(g, out);
	return 0;
}

int xm_mship_foreach(const struct xm_mship *m,
		     int (*fn)(void *ctx, const struct xm_mship_group_view *g), void *ctx)
{
	struct xm_mship_group_view v;
	struct group *g;
	uint32_t i;
	int rc;

	for (i = 0; i < m->nbuckets; i++) {
		for (g = m->buckets[i]; g; g = g->hnext) {
			if (g->flags & G_DEAD)
				continue;
			fill_view(g, &v);
			rc = fn(ctx, &v);
			if (rc)
				return rc;
		}
	}
	return 0;
}

size_t xm_mship_ngroups(const struct xm_mship *m)
{
	return m->nalive;
}

int xm_mship_querier_get(const struct xm_mship *m, uint32_t ifindex, uint16_t vlan,
			 uint8_t family, struct xm_mship_querier_view *out)
{
	const struct link *l = link_find(m, ifindex, vlan);
	const struct qstate *q;

	if (!l)
		return -ENOENT;
	q = &l->q[fam_of(family)];
	memset(out, 0, sizeof(*out));
	out->querier = q->querier;
	out->version = q->other_version;
	out->startup_left = q->startup_left;
	out->rv = q->rv;
	out->qi_ms = q->qi_ms;
	memcpy(out->addr, q->addr, sizeof(out->addr));
	out->other_present = q->other_until;
	out->next_query = q->querier ? q->next_query : 0;
	return 0;
}

int xm_mship_counters_get(const struct xm_mship *m, uint32_t ifindex, uint16_t vlan,
			  struct xm_mship_counters *out)
{
	const struct link *l = link_find(m, ifindex, vlan);

	if (!l)
		return -ENOENT;
	*out = l->cnt;
	return 0;
}

/* ---- invariants ---- */

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			snprintf(why, len, __VA_ARGS__);		\
			return -EUCLEAN;				\
		}							\
	} while (0)

static int check_sources(const struct group *g, uint64_t now, char *why, size_t len)
{
	uint32_t i;

	CHECK(g->nsrc <= g->cap, "nsrc %u above cap %u", g->nsrc, g->cap);
	CHECK(g->nsrc <= g->link->cfg.max_sources, "%u sources, limit %u", g->nsrc,
	      g->link->cfg.max_sources);
	for (i = 0; i < g->nsrc; i++) {
		const struct xm_mship_source *s = &g->src[i];
		bool pinned = s->flags & XM_MSHIP_SRC_STATIC;

		CHECK(!i || memcmp(g->src[i - 1].addr, s->addr, 16) < 0,
		      "sources out of order or twice at %u", i);
		CHECK(!(s->flags & ~XM_MSHIP_SRC_STATIC), "source flags %#x", s->flags);
		CHECK(pinned == (s->timer == XM_MSHIP_FOREVER), "static source without FOREVER");
		CHECK(!s->timer || s->timer > now, "source timer %llu due at %llu",
		      (unsigned long long)s->timer, (unsigned long long)now);
		CHECK(g->mode == XM_MSHIP_EXCLUDE || s->timer, "stopped source in INCLUDE");
		CHECK(!(g->flags & G_STATIC) || s->timer, "blocked source in a static (*,G)");
		CHECK(!s->rexmit || g->query_at, "source retransmissions without a query time");
	}
	return 0;
}

static int check_group(const struct xm_mship *m, const struct group *g, uint64_t now,
		       char *why, size_t len)
{
	uint64_t d = group_deadline(g);

	CHECK(!(g->flags & (G_DEAD | G_DIRTY | G_NEW)) && !g->what, "batch left over");
	CHECK(link_find(m, g->key.ifindex, g->key.vlan) == g->link, "group of a lost link");
	CHECK(link_version(g->link, group_fam(g)), "group of a disabled family");
	CHECK(!g->key.pad && xm_addr_is_multicast(g->key.family, g->key.group), "bad key");
	if (g->mode == XM_MSHIP_INCLUDE) {
		CHECK(!g->timer, "INCLUDE group with a group timer");
		CHECK(g->nsrc, "INCLUDE group without sources");
		CHECK(!(g->flags & G_STATIC), "static (*,G) in INCLUDE");
	} else {
		CHECK(g->mode == XM_MSHIP_EXCLUDE, "mode %u", g->mode);
		CHECK(g->timer, "EXCLUDE group without a group timer");
		CHECK(!!(g->flags & G_STATIC) == (g->timer == XM_MSHIP_FOREVER),
		      "static (*,G) and FOREVER disagree");
		CHECK(g->timer > now, "group timer due");
	}
	CHECK(!g->older[0] || g->older[0] > now, "v1 host timer due");
	CHECK(!g->older[1] || g->older[1] > now, "v2 host timer due");
	CHECK(!g->gq_left || g->query_at, "group query left without a time");
	CHECK(!g->query_at || g->query_at > now, "query due");
	if (d == XM_MSHIP_FOREVER) {
		CHECK(g->heap_idx == NO_HEAP, "group in the heap without a timer");
	} else {
		CHECK(g->heap_idx < m->nheap && m->heap[g->heap_idx].g == g,
		      "group with a timer not in the heap");
		CHECK(m->heap[g->heap_idx].deadline == d, "heap deadline %llu, group %llu",
		      (unsigned long long)m->heap[g->heap_idx].deadline,
		      (unsigned long long)d);
	}
	return check_sources(g, now, why, len);
}

int xm_mship_check(const struct xm_mship *m, uint64_t now, char *why, size_t len)
{
	size_t n = 0, per_link;
	const struct group *g;
	uint32_t i, j;
	int rc;

	CHECK(!m->batch, "a batch is open");
	for (i = 0; i < m->nbuckets; i++) {
		for (g = m->buckets[i]; g; g = g->hnext, n++) {
			CHECK(bucket(m, &g->key) == &m->buckets[i], "group in the wrong bucket");
			rc = check_group(m, g, now, why, len);
			if (rc)
				return rc;
		}
	}
	CHECK(n == m->nalive && n == m->nhashed, "%zu groups hashed, %zu counted", n, m->nalive);
	for (i = 0; i < m->nheap; i++)
		CHECK(!i || m->heap[(i - 1) / 2].deadline <= m->heap[i].deadline,
		      "heap order at %u", i);
	for (j = 0; j < m->nlinks; j++) {
		const struct link *l = m->links[j];

		per_link = 0;
		for (i = 0; i < m->nbuckets; i++)
			for (g = m->buckets[i]; g; g = g->hnext)
				per_link += g->link == l;
		CHECK(per_link == l->ngroups, "link %u: %zu groups, counted %u", l->ifindex,
		      per_link, l->ngroups);
		CHECK(l->ngroups <= l->cfg.max_groups, "link %u: %u groups, limit %u",
		      l->ifindex, l->ngroups, l->cfg.max_groups);
		for (i = 0; i < NFAM; i++) {
			CHECK(!l->q[i].querier || can_query(l, i), "querier that cannot query");
			CHECK(!l->q[i].querier || !l->q[i].other_until,
			      "querier with another querier present");
			CHECK(!l->q[i].other_until || l->q[i].other_until > now,
			      "other-querier timer due");
			CHECK(!l->q[i].querier || l->q[i].next_query > now, "general query due");
		}
	}
	return 0;
}
