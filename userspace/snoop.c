// SPDX-License-Identifier: GPL-2.0-only
/*
 * Snooping in the daemon.  See snoop.h for the flow; the choices:
 *
 * - Links are (ifindex, VLAN).  A phyint's untagged link is set up from the
 *   config; a tagged link is set up, with the phyint's settings, the first
 *   time a message arrives with that VLAN tag.
 * - Every change the state machine reports is written to the maps at once,
 *   so a report is in xm_members within a ring-buffer wakeup.  Sources are
 *   written as a diff against what was written before (kept here), so a
 *   refresh costs one map update, not one per source.
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
#define STALE_BUDGET		128	/* map rows a write_stale() call: ~0.1 ms */

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

/* What was written to xm_member_src for one group. */
struct shadow {
	struct shadow *next;
	struct xm_mship_key key;
	uint32_t n, cap;
	__be32 (*src)[4];
	bool stale;		/* on the stale list: timers to write */
};

struct batch {
	void *keys, *vals;
	size_t n, cap;
};

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
	/* Groups whose timers, reporter or version moved since publish():
	 * rewritten there, not at once (see on_change()). */
	struct xm_mship_key *stale;
	size_t nstale, stale_cap;
	size_t stale_at;	/* write_stale() goes on from here */
	bool flushing;		/* a publish() left part of the list */
	struct batch bm, bs;	/* write_stale()'s rows of xm_members, xm_member_src */
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

static uint32_t shadow_hash(const struct xm_mship_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % SHADOW_BUCKETS;
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

static void src_value(const struct xm_mship_source *src, struct xm_member_src *v)
{
	memset(v, 0, sizeof(*v));
	v->expires_ns = ms_to_ns(src->timer);
	v->forward = src->timer != 0;
}

/* A write the kernel refused (a full map): counted on the group's link. */
static void write_failed(struct snoop *s, const struct xm_mship_key *k, const char *map)
{
	struct link *l = link_find(s, k->ifindex, k->vlan);

	count(s, l ? l : link_find(s, k->ifindex, 0), XM_SNOOP_MAP_WRITE_FAILED);
	if (!s->write_failed++)
		pr_warn("cannot write to %s: %s; counted as map_write_failed in stats, "
			"warned once\n", map, strerror(errno));
}

/*
 * Write g's sources, and delete the ones written before that it lost.  Both
 * lists are sorted by address (the state machine keeps them so, and the
 * shadow is a copy), so one merge walks them.  A source the kernel refused
 * (a full map) is not remembered as written: it is tried again next time.
 */
static void write_sources(struct snoop *s, const struct xm_mship_group_view *g)
{
	struct shadow *sh = shadow_get(s, &g->key, true);
	struct xm_member_src_key sk;
	struct xm_member_src v;
	uint32_t i = 0, j = 0, n = 0;
	__be32 (*out)[4];

	if (!sh)
		return;
	out = malloc((g->nsrc ? g->nsrc : 1) * sizeof(*out));
	if (!out)
		return;
	while (i < sh->n || j < g->nsrc) {
		int c = i == sh->n ? 1 : j == g->nsrc ? -1 : memcmp(sh->src[i], g->src[j].addr, 16);

		if (c < 0) {		/* written before, gone now */
			src_key(&sk, &g->key, sh->src[i++]);
			bpf_map_delete_elem(s->src_fd, &sk);
			continue;
		}
		if (c == 0)
			i++;
		src_value(&g->src[j], &v);
		src_key(&sk, &g->key, g->src[j].addr);
		if (bpf_map_update_elem(s->src_fd, &sk, &v, BPF_ANY))
			write_failed(s, &g->key, XM_MAP_MEMBER_SRC);
		else
			c = 0;
		if (c == 0)	/* in the map, old value or new */
			memcpy(out[n++], g->src[j].addr, 16);
		j++;
	}
	free(sh->src);
	sh->src = out;
	sh->n = n;
	sh->cap = g->nsrc;
}

static void member_value(const struct xm_mship_group_view *g, struct xm_member *v)
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
	memcpy(v->last_reporter, g->reporter, sizeof(v->last_reporter));
}

/* The group's row of xm_members, and its sources. */
static void write_group(struct snoop *s, const struct xm_mship_group_view *g)
{
	struct xm_member_key key;
	struct xm_member v;

	memcpy(&key, &g->key, sizeof(key));
	member_value(g, &v);
	write_sources(s, g);
	if (bpf_map_update_elem(s->members_fd, &key, &v, BPF_ANY))
		write_failed(s, &g->key, XM_MAP_MEMBERS);
}

/*
 * What forwards (a group's existence, its filter mode, which sources are
 * wanted) reaches the maps at once.  What only informs (timers, the last
 * reporter, the compatibility version) waits for the next publish(), at
 * most PUBLISH_EVERY_MS: a refresh from every host at every query would
 * otherwise cost a map write per group and per source, and each replaced
 * element is garbage the kernel frees later (docs/bench.md).
 */
static void on_change(void *ctx, const struct xm_mship_change *c)
{
	struct snoop *s = ctx;
	const struct xm_mship_group_view *g = &c->g;

	if (c->kind != XM_MSHIP_CHANGED || (c->what & XM_MSHIP_CH_FORWARDING))
		s->generation++;
	if (c->kind == XM_MSHIP_DELETED) {
		struct shadow *sh = shadow_get(s, &g->key, false);
		struct xm_member_key key;
		struct xm_member_src_key sk;
		uint32_t i;

		for (i = 0; sh && i < sh->n; i++) {
			src_key(&sk, &g->key, sh->src[i]);
			bpf_map_delete_elem(s->src_fd, &sk);
		}
		shadow_drop(s, &g->key);
		memcpy(&key, &g->key, sizeof(key));
		bpf_map_delete_elem(s->members_fd, &key);
	} else if (c->kind == XM_MSHIP_CREATED || (c->what & XM_MSHIP_CH_FORWARDING)) {
		write_group(s, g);
	} else {
		struct shadow *sh = shadow_get(s, &g->key, true);

		if (sh && !sh->stale) {
			if (s->nstale == s->stale_cap) {
				size_t cap = s->stale_cap ? 2 * s->stale_cap : 256;
				void *grown = realloc(s->stale, cap * sizeof(*s->stale));

				if (!grown) {
					write_group(s, g);
					goto done;
				}
				s->stale = grown;
				s->stale_cap = cap;
			}
			s->stale[s->nstale++] = g->key;
			sh->stale = true;
		}
	}
done:
	if (s->event_ts) {
		s->lat[s->nlat % LATENCY_SAMPLES] = xm_now_mono_ns() - s->event_ts;
		s->nlat++;
	}
}

/* Room for n more rows in a batch of key/value pairs. */
static int batch_room(struct batch *b, size_t n, size_t ksz, size_t vsz)
{
	size_t cap;
	void *k, *v;

	if (b->n + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap < b->n + n)
		cap *= 2;
	k = realloc(b->keys, cap * ksz);
	if (k)
		b->keys = k;
	v = realloc(b->vals, cap * vsz);
	if (v)
		b->vals = v;
	if (!k || !v)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

/* One system call for the batch; where the kernel stops (a full map),
 * the rest go one by one, so that each refusal is counted on its link.
 * Every key starts with its group's struct xm_member_key. */
static void batch_write(struct snoop *s, int fd, struct batch *b, size_t ksz, size_t vsz,
			const char *map)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = b->n;
	size_t i;

	if (b->n && bpf_map_update_batch(fd, b->keys, b->vals, &done, &opts)) {
		for (i = done; i < b->n; i++) {
			const char *k = (const char *)b->keys + i * ksz;

			if (bpf_map_update_elem(fd, k, (const char *)b->vals + i * vsz, BPF_ANY))
				write_failed(s, (const struct xm_mship_key *)k, map);
		}
	}
	b->n = 0;
}

/*
 * The groups on the stale list, as they are now (gone ones are skipped),
 * in two batched writes: their rows of xm_members and their sources.  A
 * group whose sources differ from what the maps hold (a write refused
 * before) goes through write_group() and its diff instead.  At most about
 * budget rows a call, so that reports waiting in the ring are not held up
 * behind a long list (the rest goes at the next snoop_process()).  Returns
 * true when the list is done.
 */
static bool write_stale(struct snoop *s, size_t budget)
{
	struct xm_mship_group_view g;
	struct xm_member_src_key *sk;
	struct xm_member_src *sv;
	struct xm_member *mv;
	struct shadow *sh;
	size_t i;
	uint32_t j;

	for (i = s->stale_at; i < s->nstale && s->bm.n + s->bs.n < budget; i++) {
		sh = shadow_get(s, &s->stale[i], false);
		if (!sh || !sh->stale)
			continue;
		sh->stale = false;
		if (xm_mship_group_get(s->m, &s->stale[i], &g))
			continue;
		if (sh->n != g.nsrc || batch_room(&s->bm, 1, sizeof(struct xm_member_key),
						  sizeof(struct xm_member)) ||
		    batch_room(&s->bs, g.nsrc, sizeof(*sk), sizeof(*sv))) {
			write_group(s, &g);
			continue;
		}
		memcpy((struct xm_member_key *)s->bm.keys + s->bm.n, &g.key,
		       sizeof(struct xm_member_key));
		mv = (struct xm_member *)s->bm.vals + s->bm.n++;
		member_value(&g, mv);
		for (j = 0; j < g.nsrc; j++) {
			sk = (struct xm_member_src_key *)s->bs.keys + s->bs.n;
			sv = (struct xm_member_src *)s->bs.vals + s->bs.n++;
			src_key(sk, &g.key, g.src[j].addr);
			src_value(&g.src[j], sv);
		}
	}
	s->stale_at = i;
	if (i == s->nstale)
		s->nstale = s->stale_at = 0;
	batch_write(s, s->members_fd, &s->bm, sizeof(struct xm_member_key),
		    sizeof(struct xm_member), XM_MAP_MEMBERS);
	batch_write(s, s->src_fd, &s->bs, sizeof(*sk), sizeof(*sv), XM_MAP_MEMBER_SRC);
	return !s->nstale;
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

	if (!s->flushing)
		s->flushing = !write_stale(s, STALE_BUDGET);
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
	maps[0].fd = &s->ring_fd, maps[1].fd = &s->members_fd, maps[2].fd = &s->src_fd;
	maps[3].fd = &s->ctr_fd, maps[4].fd = &s->config_fd, maps[5].fd = &s->ifaces_fd;
	for (i = 0; i < ARRAY_SIZE(maps); i++)
		*maps[i].fd = -1;
	err = s->msg ? 0 : -ENOMEM;
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

	if (s->flushing)
		return 0;
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
	if (s->flushing)
		s->flushing = !write_stale(s, STALE_BUDGET);
	if (now >= s->published_ms + PUBLISH_EVERY_MS)
		publish(s, now);
}

void snoop_flush(struct snoop *s)
{
	while (!write_stale(s, SIZE_MAX))
		;
	s->flushing = false;
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
	free(s->stale);
	free(s->bm.keys);
	free(s->bm.vals);
	free(s->bs.keys);
	free(s->bs.vals);
	free(s->msg);
	free(s);
}
