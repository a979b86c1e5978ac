// SPDX-License-Identifier: GPL-2.0-only
/*
 * Snooping in the daemon.  See snoop.h for the flow; the choices:
 *
 * - Links are (ifindex, VLAN).  A phyint's untagged link is set up from the
 *   config; a tagged link is set up, with the phyint's settings, the first
 *   time a message arrives with that VLAN tag.
 * - Every change the state machine reports is written to the maps when the
 *   loop turn ends (at most 1 ms later), in batched calls, a group once
 *   however many reports of the turn changed it.  Sources are written as a
 *   diff against what was written before (kept here), and those a report
 *   refreshed share the group's timer, so a refresh costs one map row, not
 *   one per source (docs/snooping.md).
 * - Messages beyond a link's ctrl-rate (a token bucket, one second deep)
 *   are refused and counted before they are parsed.
 * - Counters are published at most every 100 ms and at exit.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctrl.h"
#include "log.h"
#include "pins.h"
#include "query.h"
#include "snoop.h"
#include "snoop_ctr.h"
#include "util.h"

#define MAX_LINKS		1024
#define PUBLISH_EVERY_MS	100
#define LATENCY_SAMPLES		4096	/* a ring of the newest */
#define SHADOW_BUCKETS		65536
#define BATCH_ROWS		1024	/* rows a batched map write */
#define WRITE_WITHIN_NS		1000000	/* a change waits at most this for its turn's end */

struct link {
	uint32_t ifindex;
	uint16_t vlan;
	uint32_t slot;		/* xm_ifaces slot, 0 unknown */
	uint32_t rate;		/* messages a second, 0 unlimited */
	double tokens;
	uint64_t refill_ms;
	uint8_t mac[6];
	char name[IF_NAMESIZE];	/* as of the last snoop_apply() */
	const struct xm_conf_phyint *pi;	/* its phyint in the config in force */
};

/* A source's row of xm_member_src, as written. */
struct shadow_src {
	__be32 addr[4];		/* net */
	uint64_t expires_ns;	/* XM_SRC_EXPIRES_GROUP, 0, or a time */
	uint8_t forward;
};

/* What the maps hold for one group. */
struct shadow {
	struct shadow *next;
	struct xm_mship_key key;
	uint32_t n, cap;
	struct shadow_src *src;	/* sorted by address */
	bool dirty;		/* on the dirty list */
	bool broken;		/* a row was refused: rewrite them all */
};

/* A group changed since the maps were written, and the time stamp of the
 * message that changed it first (0: a timer or the config did). */
struct dirty {
	struct shadow *sh;	/* the group's, on no other entry */
	uint64_t ts;
};

/* Rows for one batched system call; vals is NULL for deletes. */
struct batch {
	void *keys, *vals;
	size_t n, ksz, vsz;
};

enum { B_SRC_DEL, B_SRC_SET, B_MEMBER_SET, B_MEMBER_DEL, B_COUNT };

struct snoop {
	struct xm_mship *m;
	struct ring_buffer *rb;
	const struct xm_conf *conf;
	int ring_fd, members_fd, src_fd, ctr_fd, config_fd, ifaces_fd;
	int pkt_fd;		/* -1: queries are built, not sent */
	struct xm_ctrl_msg *msg;
	struct link links[MAX_LINKS];
	int nlinks;
	uint64_t own[XM_MAX_IFACES][XM_SNOOP_SLOTS];	/* our part of each row */
	bool dirty[XM_MAX_IFACES];
	uint64_t published_ms;
	struct shadow *shadow[SHADOW_BUCKETS];
	uint64_t lat[LATENCY_SAMPLES];
	uint64_t nlat;
	uint64_t event_ts;	/* XDP stamp of the message being handled */
	struct dirty *changed;	/* groups to write at the end of the turn */
	size_t nchanged, changed_cap;
	uint64_t changed_since;	/* CLOCK_MONOTONIC ns of the oldest of them */
	struct batch b[B_COUNT];
	struct shadow_src *scratch;	/* write_group()'s new shadow */
	uint32_t scratch_cap;
	uint64_t write_failed;	/* map writes the kernel refused */
	uint64_t generation;	/* bumped by every change of what is forwarded */
};

uint64_t snoop_now_ms(void)
{
	return xm_now_mono_ns() / 1000000;
}

static uint64_t ms_to_ns(uint64_t ms)
{
	return ms == XM_MSHIP_FOREVER ? 0 : ms * 1000000;
}

static struct link *link_find(struct snoop *s, uint32_t ifindex, uint16_t vlan)
{
	int i;

	for (i = 0; i < s->nlinks; i++)
		if (s->links[i].ifindex == ifindex && s->links[i].vlan == vlan)
			return &s->links[i];
	return NULL;
}

static void count(struct snoop *s, const struct link *l, unsigned int idx)
{
	if (!l || !l->slot || l->slot >= XM_MAX_IFACES)
		return;
	s->own[l->slot][idx]++;
	s->dirty[l->slot] = true;
}

/* ---- the maps ---- */

/* murmur3's 64-bit finaliser: every input bit reaches the low bits. */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint32_t shadow_hash(const struct xm_mship_key *k)
{
	uint64_t w[3];

	_Static_assert(sizeof(*k) == sizeof(w), "shadow_hash() reads three words");
	memcpy(w, k, sizeof(w));
	return mix64(w[0] ^ mix64(w[1] ^ mix64(w[2]))) % SHADOW_BUCKETS;
}

static struct shadow *shadow_get(struct snoop *s, const struct xm_mship_key *k, bool create)
{
	struct shadow **at = &s->shadow[shadow_hash(k)], *sh;

	for (sh = *at; sh; sh = sh->next)
		if (!memcmp(&sh->key, k, sizeof(*k)))
			return sh;
	if (!create)
		return NULL;
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	sh->key = *k;
	sh->next = *at;
	*at = sh;
	return sh;
}

static void shadow_drop(struct snoop *s, const struct xm_mship_key *k)
{
	struct shadow **at = &s->shadow[shadow_hash(k)], *sh;

	for (; (sh = *at); at = &sh->next) {
		if (!memcmp(&sh->key, k, sizeof(*k))) {
			*at = sh->next;
			free(sh->src);
			free(sh);
			return;
		}
	}
}

static void src_key(struct xm_member_src_key *sk, const struct xm_mship_key *k,
		    const __be32 src[4])
{
	memset(sk, 0, sizeof(*sk));
	memcpy(&sk->g, k, sizeof(sk->g));
	memcpy(sk->source, src, sizeof(sk->source));
}

/* A write the kernel refused (a full map): counted on the group's link, and
 * the group's rows are all written again at its next change. */
static void write_failed(struct snoop *s, const struct xm_mship_key *k, const char *map)
{
	struct link *l = link_find(s, k->ifindex, k->vlan);
	struct shadow *sh = shadow_get(s, k, false);

	if (sh)
		sh->broken = true;
	count(s, l ? l : link_find(s, k->ifindex, 0), XM_SNOOP_MAP_WRITE_FAILED);
	if (!s->write_failed++)
		pr_warn("cannot write to %s: %s; counted as map_write_failed in stats, "
			"warned once\n", map, strerror(errno));
}

static int batch_init(struct batch *b, size_t ksz, size_t vsz)
{
	b->ksz = ksz;
	b->vsz = vsz;
	b->keys = malloc(BATCH_ROWS * ksz);
	b->vals = vsz ? malloc(BATCH_ROWS * vsz) : NULL;
	return b->keys && (b->vals || !vsz) ? 0 : -ENOMEM;
}

static void batch_free(struct batch *b)
{
	free(b->keys);
	free(b->vals);
}

/*
 * One system call for a batch.  Where the kernel stops (a full map, or a
 * key to delete that is not there), the rest go one by one, so that each
 * refused write is counted on its link; a delete of a missing row is not
 * an error.  Every key starts with its group's struct xm_member_key.
 */
static void batch_write(struct snoop *s, struct batch *b, int fd, const char *map)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = b->n;
	size_t i;
	int err;

	if (!b->n)
		return;
	err = b->vals ? bpf_map_update_batch(fd, b->keys, b->vals, &done, &opts) :
			bpf_map_delete_batch(fd, b->keys, &done, &opts);
	for (i = err ? done : b->n; i < b->n; i++) {
		const char *k = (const char *)b->keys + i * b->ksz;

		if (!b->vals)
			bpf_map_delete_elem(fd, k);
		else if (bpf_map_update_elem(fd, k, (const char *)b->vals + i * b->vsz, BPF_ANY))
			write_failed(s, (const struct xm_mship_key *)k, map);
	}
	b->n = 0;
}

/* Sources go before their group, and deletes before writes, so that a
 * reader that finds a group finds its sources. */
static void batches_write(struct snoop *s)
{
	batch_write(s, &s->b[B_SRC_DEL], s->src_fd, XM_MAP_MEMBER_SRC);
	batch_write(s, &s->b[B_SRC_SET], s->src_fd, XM_MAP_MEMBER_SRC);
	batch_write(s, &s->b[B_MEMBER_SET], s->members_fd, XM_MAP_MEMBERS);
	batch_write(s, &s->b[B_MEMBER_DEL], s->members_fd, XM_MAP_MEMBERS);
}

/* The next row of batch i, written out first when full. */
static void *row(struct snoop *s, int i, void **val)
{
	struct batch *b = &s->b[i];

	if (b->n == BATCH_ROWS)
		batches_write(s);
	if (val)
		*val = (char *)b->vals + b->n * b->vsz;
	return (char *)b->keys + b->n++ * b->ksz;
}

static void queue_src_set(struct snoop *s, const struct xm_mship_key *k,
			  const struct shadow_src *v)
{
	struct xm_member_src *sv;

	src_key(row(s, B_SRC_SET, (void **)&sv), k, v->addr);
	memset(sv, 0, sizeof(*sv));
	sv->expires_ns = v->expires_ns;
	sv->forward = v->forward;
}

static void queue_src_del(struct snoop *s, const struct xm_mship_key *k, const __be32 addr[4])
{
	src_key(row(s, B_SRC_DEL, NULL), k, addr);
}

/*
 * The shared source timer: the latest of the running ones, which every
 * source a report refreshed has.  Sources at it are written as
 * XM_SRC_EXPIRES_GROUP, so that when the next report refreshes them
 * again only the group's row changes.
 */
static uint64_t shared_timer(const struct xm_mship_group_view *g)
{
	uint64_t t = 0;
	uint32_t i;

	for (i = 0; i < g->nsrc; i++)
		if (g->src[i].timer != XM_MSHIP_FOREVER && g->src[i].timer > t)
			t = g->src[i].timer;
	return t;
}

static void member_value(const struct xm_mship_group_view *g, uint64_t shared,
			 struct xm_member *v)
{
	uint64_t expires = g->timer;
	uint32_t i;

	/* An INCLUDE group lives as long as its longest-lived source. */
	if (g->mode == XM_MSHIP_INCLUDE)
		for (i = 0, expires = 0; i < g->nsrc; i++)
			if (g->src[i].timer > expires)
				expires = g->src[i].timer;
	memset(v, 0, sizeof(*v));
	v->filter_mode = g->mode == XM_MSHIP_EXCLUDE ? XM_FILTER_EXCLUDE : XM_FILTER_INCLUDE;
	v->compat = g->compat;
	v->flags = g->is_static ? XM_MEMBER_STATIC : 0;
	v->nsources = g->nsrc;
	v->expires_ns = ms_to_ns(expires);
	v->src_expires_ns = ms_to_ns(shared);
	memcpy(v->last_reporter, g->reporter, sizeof(v->last_reporter));
}

/* A group that is gone: its rows go, and what we knew of them. */
static void write_gone(struct snoop *s, const struct xm_mship_key *key, struct shadow *sh)
{
	uint32_t i;

	for (i = 0; sh && i < sh->n; i++)
		queue_src_del(s, key, sh->src[i].addr);
	memcpy(row(s, B_MEMBER_DEL, NULL), key, sizeof(struct xm_member_key));
	if (sh)
		shadow_drop(s, key);
}

/*
 * Queue the rows that make the maps hold group key as the state machine
 * has it now: its row of xm_members, and of its sources those that are
 * new or whose row changed, deleting those it lost.  Both source lists are
 * sorted by address, so one merge walks them.
 */
static void write_group(struct snoop *s, const struct xm_mship_key *key, struct shadow *sh)
{
	struct xm_mship_group_view g;
	struct shadow_src want, *grown;
	uint32_t i = 0, j = 0, n = 0;
	struct xm_member *mv;
	uint64_t shared;
	bool all;

	if (xm_mship_group_get(s->m, key, &g)) {
		write_gone(s, key, sh);
		return;
	}
	if (!sh && !(sh = shadow_get(s, key, true)))
		return;
	if (g.nsrc > s->scratch_cap) {
		grown = realloc(s->scratch, g.nsrc * sizeof(*grown));
		if (!grown)
			return;
		s->scratch = grown;
		s->scratch_cap = g.nsrc;
	}
	shared = shared_timer(&g);
	all = sh->broken;
	sh->broken = false;
	while (i < sh->n || j < g.nsrc) {
		int c = i == sh->n ? 1 : j == g.nsrc ? -1 :
			xm_addr16_cmp(sh->src[i].addr, g.src[j].addr);

		if (c < 0) {		/* written before, gone now */
			queue_src_del(s, key, sh->src[i++].addr);
			continue;
		}
		memcpy(want.addr, g.src[j].addr, 16);
		want.forward = g.src[j].timer != 0;
		want.expires_ns = shared && g.src[j].timer == shared ? XM_SRC_EXPIRES_GROUP :
				  ms_to_ns(g.src[j].timer);
		if (c > 0 || all || sh->src[i].expires_ns != want.expires_ns ||
		    sh->src[i].forward != want.forward)
			queue_src_set(s, key, &want);
		if (c == 0)
			i++;
		s->scratch[n++] = want;
		j++;
	}
	if (n > sh->cap) {
		grown = realloc(sh->src, n * sizeof(*grown));
		if (!grown) {	/* keep the old shadow, and write it all next time */
			sh->broken = true;
			goto group;
		}
		sh->src = grown;
		sh->cap = n;
	}
	memcpy(sh->src, s->scratch, n * sizeof(*sh->src));
	sh->n = n;
group:
	memcpy(row(s, B_MEMBER_SET, (void **)&mv), key, sizeof(struct xm_member_key));
	member_value(&g, shared, mv);
}

/* Write every changed group, then note how long each took from its report. */
static void write_changed(struct snoop *s)
{
	struct shadow *sh;
	uint64_t now;
	size_t i;

	for (i = 0; i < s->nchanged; i++) {
		sh = s->changed[i].sh;
		sh->dirty = false;
		write_group(s, &sh->key, sh);
	}
	batches_write(s);
	now = xm_now_mono_ns();
	for (i = 0; i < s->nchanged; i++) {
		if (!s->changed[i].ts)
			continue;
		s->lat[s->nlat % LATENCY_SAMPLES] = now - s->changed[i].ts;
		s->nlat++;
	}
	s->nchanged = 0;
}

/*
 * Every change is written at the end of the loop turn (snoop_process()),
 * or once the oldest has waited WRITE_WITHIN_NS, in batched system calls:
 * well within the 10 ms the issue allows.  A group changed by many
 * reports in one turn is written once.
 */
static void on_change(void *ctx, const struct xm_mship_change *c)
{
	struct snoop *s = ctx;
	struct shadow *sh = shadow_get(s, &c->g.key, true);
	struct dirty *grown;
	size_t cap;

	if (c->kind != XM_MSHIP_CHANGED || (c->what & XM_MSHIP_CH_FORWARDING))
		s->generation++;
	if (sh && sh->dirty)
		return;
	if (sh && s->nchanged == s->changed_cap) {
		cap = s->changed_cap ? 2 * s->changed_cap : 1024;
		grown = realloc(s->changed, cap * sizeof(*grown));
		if (grown) {
			s->changed = grown;
			s->changed_cap = cap;
		}
	}
	if (!sh || s->nchanged == s->changed_cap) {	/* no memory: write it now */
		write_group(s, &c->g.key, sh);
		batches_write(s);
		return;
	}
	if (!s->nchanged)
		s->changed_since = xm_now_mono_ns();
	s->changed[s->nchanged].sh = sh;
	s->changed[s->nchanged++].ts = s->event_ts;
	sh->dirty = true;
}

/* ---- queries ---- */

static void on_action(void *ctx, const struct xm_mship_action *a)
{
	struct snoop *s = ctx;
	struct link *l = link_find(s, a->ifindex, a->vlan);
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = a->ifindex,
		.sll_halen = 6,
	};
	uint8_t frame[XM_QUERY_FRAME_MAX];
	size_t n;

	if (!l)
		l = link_find(s, a->ifindex, 0);
	n = xm_query_build(a, l ? l->mac : (uint8_t[6]){ 0 }, frame, sizeof(frame));
	if (!n) {
		count(s, l, XM_SNOOP_SEND_FAILED);
		return;
	}
	if (s->pkt_fd < 0) {
		count(s, l, XM_SNOOP_QUERIES_SENT);
		return;
	}
	memcpy(to.sll_addr, frame, 6);
	if (sendto(s->pkt_fd, frame, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		pr_debug("cannot send a query on ifindex %u: %s\n", a->ifindex, strerror(errno));
		count(s, l, XM_SNOOP_SEND_FAILED);
		return;
	}
	count(s, l, XM_SNOOP_QUERIES_SENT);
}

/* A join for a group the policy keeps off this interface: a boundary of
 * its phyint, or an inbound rule without a source that denies it.  The
 * link holds the interface's name and phyint, looked up when the config
 * was applied: asking the kernel for a name costs three system calls. */
static bool on_forbidden(void *ctx, const struct xm_mship_key *k)
{
	struct snoop *s = ctx;
	const struct xm_conf *c = s->conf;
	const struct xm_conf_rule *r;
	struct xm_prefix g = { .family = k->family };
	struct link *l = link_find(s, k->ifindex, k->vlan);
	int j;

	if (!l)
		l = link_find(s, k->ifindex, 0);
	if (!c || !l || !l->pi)
		return false;
	g.len = k->family == XM_AF_INET ? 32 : 128;
	memcpy(g.addr, k->group, sizeof(g.addr));
	for (j = 0; j < l->pi->nboundaries; j++)
		if (xm_prefix_contains(&l->pi->boundaries[j], &g))
			return true;
	r = xm_policy_match(c, XM_DIR_IN, l->name, &g, NULL);
	return r && r->deny && !r->audit;
}

/* ---- messages ---- */

/* A token bucket per link, refilled by the clock, one second deep. */
static bool rate_ok(struct link *l, uint64_t now)
{
	if (!l->rate)
		return true;
	if (now > l->refill_ms) {
		l->tokens += (double)(now - l->refill_ms) * l->rate / 1000.0;
		if (l->tokens > l->rate)
			l->tokens = l->rate;
		l->refill_ms = now;
	}
	if (l->tokens < 1.0)
		return false;
	l->tokens -= 1.0;
	return true;
}

static const struct xm_conf_phyint *phyint_of(const struct xm_conf *c, uint32_t ifindex,
					      char name[IF_NAMESIZE])
{
	int i;

	if (!c || !if_indextoname(ifindex, name))
		return NULL;
	for (i = 0; i < c->nphyints; i++)
		if (!strcmp(c->phyints[i].name, name))
			return &c->phyints[i];
	return NULL;
}

static int link_setup(struct snoop *s, uint32_t ifindex, uint16_t vlan, uint64_t now);

void snoop_event(struct snoop *s, const void *data, size_t len)
{
	const struct xm_ctrl_event *ev = data;
	enum xm_ctrl_reason why;
	uint64_t now = snoop_now_ms();
	struct link *l;
	unsigned int i;

	if (len < offsetof(struct xm_ctrl_event, data) || ev->len > XM_CTRL_CAPTURE ||
	    len < offsetof(struct xm_ctrl_event, data) + ev->len)
		return;
	l = link_find(s, ev->ifindex, ev->vlan);
	if (!l && ev->vlan && link_find(s, ev->ifindex, 0) &&
	    !link_setup(s, ev->ifindex, ev->vlan, now))
		l = link_find(s, ev->ifindex, ev->vlan);
	if (!l)
		return;		/* not a snooping interface */
	if (!rate_ok(l, now)) {
		count(s, l, XM_SNOOP_RATE_LIMITED);
		return;
	}
	why = xm_ctrl_parse(ev->data, ev->len, ev->ifindex, ev->vlan, s->msg);
	if (why == XM_CTRL_OK) {
		s->event_ts = ev->ts_ns;
		why = xm_mship_input(s->m, s->msg, now);
		s->event_ts = 0;
	}
	if (why != XM_CTRL_OK) {
		count(s, l, XM_SNOOP_BASE_REASON + why);
		return;
	}
	switch (s->msg->kind) {
	case XM_CTRL_QUERY:
		count(s, l, XM_SNOOP_QUERIES_SEEN);
		break;
	case XM_CTRL_LEAVE:
		count(s, l, XM_SNOOP_LEAVES);
		break;
	default:
		count(s, l, s->msg->version == 1 ? XM_SNOOP_REPORTS_V1 :
			    s->msg->version == 2 ? XM_SNOOP_REPORTS_V2 : XM_SNOOP_REPORTS_V3);
	}
	for (i = 0; i < XM_CTRL_SKIP_COUNT; i++)
		if (s->msg->skipped[i]) {
			s->own[l->slot][XM_SNOOP_BASE_SKIP + i] += s->msg->skipped[i];
			s->dirty[l->slot] = true;
		}
	/* A long turn (a ring full of new 64-source groups) writes as it goes. */
	if (s->nchanged && xm_now_mono_ns() - s->changed_since >= WRITE_WITHIN_NS)
		write_changed(s);
}

static int ring_cb(void *ctx, void *data, size_t len)
{
	snoop_event(ctx, data, len);
	return 0;
}

/* ---- counters ---- */

static void publish(struct snoop *s, uint64_t now)
{
	struct xm_mship_counters mc;
	uint64_t row[XM_SNOOP_SLOTS];
	uint32_t slot, idx, i;
	int k;

	for (slot = 1; slot < XM_MAX_IFACES; slot++) {
		if (!s->dirty[slot])
			continue;
		memcpy(row, s->own[slot], sizeof(row));
		for (k = 0; k < s->nlinks; k++) {
			if (s->links[k].slot != slot ||
			    xm_mship_counters_get(s->m, s->links[k].ifindex, s->links[k].vlan, &mc))
				continue;
			for (i = 0; i < XM_MSHIP_C_COUNT; i++)
				row[XM_SNOOP_BASE_MSHIP + i] += mc.c[i];
		}
		for (i = 0; i < XM_SNOOP_SLOTS; i++) {
			idx = slot * XM_SNOOP_SLOTS + i;
			bpf_map_update_elem(s->ctr_fd, &idx, &row[i], BPF_ANY);
		}
		s->dirty[slot] = false;
	}
	s->published_ms = now;
}

/* ---- setup ---- */

static void iface_addrs(uint32_t ifindex, struct xm_mship_cfg *cfg)
{
	struct ifaddrs *ifa, *a;
	char name[IF_NAMESIZE];

	if (!if_indextoname(ifindex, name) || getifaddrs(&ifa))
		return;
	for (a = ifa; a; a = a->ifa_next) {
		if (!a->ifa_addr || strcmp(a->ifa_name, name))
			continue;
		if (a->ifa_addr->sa_family == AF_INET && !cfg->addr4[0]) {
			cfg->addr4[0] = ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr;
		} else if (a->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *in6 = &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(in6) && xm_addr_is_zero(cfg->addr6))
				memcpy(cfg->addr6, in6, 16);
		}
	}
	freeifaddrs(ifa);
}

static void iface_mac(uint32_t ifindex, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (if_indextoname(ifindex, ifr.ifr_name) && !ioctl(fd, SIOCGIFHWADDR, &ifr))
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

static int link_setup(struct snoop *s, uint32_t ifindex, uint16_t vlan, uint64_t now)
{
	char name[IF_NAMESIZE];
	const struct xm_conf_phyint *pi = phyint_of(s->conf, ifindex, name);
	struct xm_mship_cfg cfg;
	struct xm_iface ifc;
	struct link *l = link_find(s, ifindex, vlan);
	int err;

	if (!pi)
		return -ENODEV;
	if (!l) {
		if (s->nlinks == MAX_LINKS)
			return -ENOSPC;
		l = &s->links[s->nlinks++];
		memset(l, 0, sizeof(*l));
		l->ifindex = ifindex;
		l->vlan = vlan;
		l->refill_ms = now;
	}
	memcpy(l->name, name, sizeof(l->name));
	l->pi = pi;
	if (!bpf_map_lookup_elem(s->ifaces_fd, &ifindex, &ifc))
		l->slot = ifc.slot;
	iface_mac(ifindex, l->mac);
	xm_conf_phyint_mship_cfg(pi, &cfg);
	l->rate = pi->ctrl_rate >= 0 ? (uint32_t)pi->ctrl_rate : XM_CONF_CTRL_RATE_DEFAULT;
	l->tokens = l->rate;
	iface_addrs(ifindex, &cfg);
	err = xm_mship_iface_set(s->m, ifindex, vlan, &cfg, now);
	if (err)
		pr_err("cannot set up snooping on ifindex %u vlan %u: %s\n", ifindex, vlan,
		       strerror(-err));
	return err;
}

static void adopt_pinned(struct snoop *s);

static bool join_equal(const struct xm_conf_join *a, const struct xm_conf_join *b)
{
	return !strcmp(a->iface, b->iface) && xm_prefix_equal(&a->group, &b->group) &&
	       a->source.family == b->source.family &&
	       (!a->source.family || xm_prefix_equal(&a->source, &b->source));
}

static bool has_join(const struct xm_conf *c, const struct xm_conf_join *j)
{
	int i;

	for (i = 0; i < c->njoins; i++)
		if (join_equal(&c->joins[i], j))
			return true;
	return false;
}

/* A join line, in or out.  A join the policy forbids is not made. */
static int static_join(struct snoop *s, const struct xm_conf_join *j, uint64_t now, bool in)
{
	struct xm_mship_key k = { .family = j->group.family };
	const __be32 *src = j->source.family ? j->source.addr : NULL;
	int err;

	k.ifindex = if_nametoindex(j->iface);
	memcpy(k.group, j->group.addr, sizeof(k.group));
	if (!in) {
		err = xm_mship_static_leave(s->m, &k, src, now);
		return err == -ENOENT ? 0 : err;
	}
	if (on_forbidden(s, &k)) {
		pr_warn("not joining on %s: the policy keeps the group off it\n", j->iface);
		return 0;
	}
	err = xm_mship_static_join(s->m, &k, src, now);
	if (err == -EEXIST)
		err = 0;
	if (err)
		pr_err("cannot join on %s statically: %s\n", j->iface, strerror(-err));
	return err;
}

int snoop_apply(struct snoop *s, const struct xm_conf *conf)
{
	const struct xm_conf *before = s->conf;
	uint64_t now = snoop_now_ms();
	bool first = !s->conf;
	int i, err = 0;

	s->conf = conf;
	/* Static joins that left the config leave, as a host's leave would. */
	for (i = 0; before && i < before->njoins; i++)
		if (!has_join(conf, &before->joins[i]))
			static_join(s, &before->joins[i], now, false);
	/* Links of phyints that left the config go, with their groups. */
	for (i = 0; i < s->nlinks; ) {
		char name[IF_NAMESIZE];

		if (phyint_of(conf, s->links[i].ifindex, name)) {
			i++;
			continue;
		}
		xm_mship_iface_del(s->m, s->links[i].ifindex, s->links[i].vlan, now);
		s->links[i] = s->links[--s->nlinks];
	}
	for (i = 0; i < conf->nphyints && !err; i++) {
		uint32_t ifindex = if_nametoindex(conf->phyints[i].name);

		err = ifindex ? link_setup(s, ifindex, 0, now) : -ENODEV;
	}
	for (i = 0; i < s->nlinks && !err; i++)
		if (s->links[i].vlan)
			err = link_setup(s, s->links[i].ifindex, s->links[i].vlan, now);
	for (i = 0; i < conf->njoins && !err; i++)
		err = static_join(s, &conf->joins[i], now, true);
	if (first && !err)
		adopt_pinned(s);
	write_changed(s);
	return err;
}

/*
 * A restarted daemon adopts the memberships a previous one left in the maps:
 * each pinned group goes into the state machine as a current-state record
 * from its last reporter (IS_EX with its blocked sources, or IS_IN with its
 * sources), so forwarding goes on with fresh timers while the startup
 * queries re-learn the link.  Groups nobody answers for expire as usual.
 * What the maps cannot tell (older-host timers) starts afresh.
 */
struct pinned_src {
	struct xm_member_src_key k;
	bool forward;
};

static int pinned_src_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct pinned_src *)a)->k, &((const struct pinned_src *)b)->k,
		      sizeof(struct xm_member_src_key));
}

/* Every pinned source record, sorted so a group's sources are adjacent. */
static struct pinned_src *read_pinned_sources(int fd, size_t *n)
{
	struct xm_member_src_key k, next, *prev = NULL;
	struct pinned_src *v = NULL, *grown;
	struct xm_member_src val;
	size_t cap = 0;

	*n = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &val))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 256;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				break;
			v = grown;
		}
		v[*n].k = k;
		v[*n].forward = val.forward;
		(*n)++;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), pinned_src_cmp);
	return v;
}

static void adopt_pinned(struct snoop *s)
{
	struct xm_member_key key, next, *prev = NULL;
	struct xm_member mv;
	size_t nsrc, lo, hi, i;
	struct pinned_src *src = read_pinned_sources(s->src_fd, &nsrc);
	uint8_t *list = malloc(XM_CTRL_MAX_SOURCES * 16);
	uint64_t now = snoop_now_ms();
	int adopted = 0;

	if (!list)
		goto out;
	while (bpf_map_get_next_key(s->members_fd, prev, &next) == 0) {
		struct xm_ctrl_msg *msg = s->msg;
		size_t alen = next.family == XM_AF_INET ? 4 : 16;
		uint16_t n = 0;
		bool excl;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(s->members_fd, &key, &mv) || (mv.flags & XM_MEMBER_STATIC))
			continue;
		excl = mv.filter_mode == XM_FILTER_EXCLUDE;
		/* The group's sources: the first record not below it, onwards. */
		for (lo = 0, hi = nsrc; lo < hi; ) {
			size_t mid = (lo + hi) / 2;

			if (memcmp(&src[mid].k.g, &key, sizeof(key)) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < nsrc && !memcmp(&src[i].k.g, &key, sizeof(key)) &&
			     n < XM_CTRL_MAX_SOURCES; i++)
			if (src[i].forward != excl)	/* listed: wanted, or blocked */
				memcpy(list + alen * n++, src[i].k.source, alen);

		memset(msg, 0, offsetof(struct xm_ctrl_msg, rec) + sizeof(msg->rec[0]));
		msg->ifindex = key.ifindex;
		msg->vlan = key.vlan;
		msg->family = key.family;
		msg->kind = XM_CTRL_REPORT;
		msg->version = key.family == XM_AF_INET ? 3 : 2;
		msg->ttl = 1;
		msg->router_alert = true;
		memcpy(msg->src, mv.last_reporter, sizeof(msg->src));
		msg->nrec = 1;
		msg->rec[0].type = excl ? XM_REC_IS_EX : XM_REC_IS_IN;
		msg->rec[0].nsrc = n;
		memcpy(msg->rec[0].group, key.group, sizeof(key.group));
		msg->rec[0].src = list;
		if (xm_mship_input(s->m, msg, now) == XM_CTRL_OK)
			adopted++;
	}
	if (adopted)
		pr_info("adopted %d pinned memberships\n", adopted);
out:
	free(list);
	free(src);
}

int snoop_init(struct snoop **out, const char *pin_dir, bool send)
{
	struct xm_mship_ops ops = {
		.change = on_change,
		.action = on_action,
		.forbidden = on_forbidden,
	};
	struct { int *fd; const char *name; } maps[] = {
		{ NULL, XM_MAP_CTRL_RING }, { NULL, XM_MAP_MEMBERS }, { NULL, XM_MAP_MEMBER_SRC },
		{ NULL, XM_MAP_SNOOP_CTR }, { NULL, XM_MAP_CONFIG }, { NULL, XM_MAP_IFACES },
	};
	char path[PATH_MAX];
	struct xm_config cfg;
	struct snoop *s;
	uint64_t seed = 0;
	uint32_t zero = 0, slot, idx;
	size_t i;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->msg = calloc(1, sizeof(*s->msg));
	s->pkt_fd = -1;
	err = batch_init(&s->b[B_SRC_DEL], sizeof(struct xm_member_src_key), 0) ?:
	      batch_init(&s->b[B_SRC_SET], sizeof(struct xm_member_src_key),
			 sizeof(struct xm_member_src)) ?:
	      batch_init(&s->b[B_MEMBER_SET], sizeof(struct xm_member_key),
			 sizeof(struct xm_member)) ?:
	      batch_init(&s->b[B_MEMBER_DEL], sizeof(struct xm_member_key), 0);
	maps[0].fd = &s->ring_fd, maps[1].fd = &s->members_fd, maps[2].fd = &s->src_fd;
	maps[3].fd = &s->ctr_fd, maps[4].fd = &s->config_fd, maps[5].fd = &s->ifaces_fd;
	for (i = 0; i < ARRAY_SIZE(maps); i++)
		*maps[i].fd = -1;
	if (!err && !s->msg)
		err = -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(maps) && !err; i++) {
		err = xm_pin_join(path, sizeof(path), pin_dir, maps[i].name);
		if (!err && (*maps[i].fd = bpf_obj_get(path)) < 0)
			err = -errno;
	}
	if (err) {
		pr_err("cannot open the snooping maps under '%s': %s\n", pin_dir, strerror(-err));
		goto fail;
	}
	/* Count on from what an earlier daemon published, so that a restart
	 * does not set the counters of `stats` back to zero. */
	for (slot = 1; slot < XM_MAX_IFACES; slot++)
		for (idx = slot * XM_SNOOP_SLOTS; idx < (slot + 1) * XM_SNOOP_SLOTS; idx++)
			bpf_map_lookup_elem(s->ctr_fd, &idx, &s->own[slot][idx % XM_SNOOP_SLOTS]);
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = xm_now_mono_ns();
	ops.ctx = s;
	s->m = xm_mship_new(&ops, seed);
	s->rb = ring_buffer__new(s->ring_fd, ring_cb, s, NULL);
	if (!s->m || !s->rb) {
		err = -ENOMEM;
		goto fail;
	}
	if (send) {
		s->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (s->pkt_fd < 0) {
			err = -errno;
			pr_err("cannot open a packet socket for queries: %s\n", strerror(errno));
			goto fail;
		}
	}
	/* From now on the XDP program copies IGMP and MLD to the ring. */
	if (!bpf_map_lookup_elem(s->config_fd, &zero, &cfg)) {
		cfg.flags |= XM_CFG_SNOOP;
		bpf_map_update_elem(s->config_fd, &zero, &cfg, BPF_ANY);
	}
	*out = s;
	return 0;
fail:
	snoop_exit(s);
	return err;
}

int snoop_fd(const struct snoop *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

int snoop_timeout_ms(const struct snoop *s)
{
	uint64_t due = xm_mship_next_deadline(s->m), now = snoop_now_ms();
	uint64_t publish = s->published_ms + PUBLISH_EVERY_MS;

	if (publish < due)
		due = publish;
	if (due == XM_MSHIP_FOREVER)
		return -1;
	return due <= now ? 0 : (int)(due - now > 60000 ? 60000 : due - now);
}

void snoop_process(struct snoop *s)
{
	uint64_t now;

	ring_buffer__consume(s->rb);
	now = snoop_now_ms();
	xm_mship_tick(s->m, now);
	write_changed(s);
	if (now >= s->published_ms + PUBLISH_EVERY_MS)
		publish(s, now);
}

void snoop_flush(struct snoop *s)
{
	write_changed(s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void snoop_latency(const struct snoop *s, struct snoop_latency *out)
{
	uint64_t n = s->nlat < LATENCY_SAMPLES ? s->nlat : LATENCY_SAMPLES;
	uint64_t v[LATENCY_SAMPLES];

	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	memcpy(v, s->lat, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), cmp_u64);
	out->count = s->nlat;
	out->p50_ns = v[n / 2];
	out->p99_ns = v[(n * 99) / 100];
	out->max_ns = v[n - 1];
}

uint64_t snoop_generation(const struct snoop *s)
{
	return s ? s->generation : 0;
}

size_t snoop_ngroups(const struct snoop *s)
{
	return xm_mship_ngroups(s->m);
}

void snoop_exit(struct snoop *s)
{
	struct xm_config cfg;
	uint32_t zero = 0;
	size_t i;
	int *fds[] = { &s->ring_fd, &s->members_fd, &s->src_fd, &s->ctr_fd, &s->config_fd,
		       &s->ifaces_fd, &s->pkt_fd };

	if (!s)
		return;
	if (s->config_fd >= 0 && !bpf_map_lookup_elem(s->config_fd, &zero, &cfg)) {
		cfg.flags &= ~XM_CFG_SNOOP;
		bpf_map_update_elem(s->config_fd, &zero, &cfg, BPF_ANY);
	}
	if (s->m && s->ctr_fd >= 0) {
		snoop_flush(s);
		memset(s->dirty, 1, sizeof(s->dirty));
		publish(s, snoop_now_ms());
	}
	ring_buffer__free(s->rb);
	xm_mship_free(s->m);
	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	for (i = 0; i < SHADOW_BUCKETS; i++) {
		while (s->shadow[i]) {
			struct shadow *next = s->shadow[i]->next;

			free(s->shadow[i]->src);
			free(s->shadow[i]);
			s->shadow[i] = next;
		}
	}
	free(s->changed);
	free(s->scratch);
	for (i = 0; i < B_COUNT; i++)
		batch_free(&s->b[i]);
	free(s->msg);
	free(s);
}
