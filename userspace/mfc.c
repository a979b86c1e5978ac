// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's multicast forwarding cache, mirrored through rtnetlink
 * (see mfc.h).  Two netlink sockets: one subscribed to the MFC
 * notifications, read without blocking from the daemon's loop, and one for
 * the dumps, which are synchronous (a dump of thousands of entries takes
 * milliseconds).  The table is kept sorted by (family, group, source) so
 * that a notification finds its entry by binary search.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "ctrl.h"
#include "log.h"
#include "mfc.h"
#include "util.h"

#define NL_BUF		(64 * 1024)

struct table {
	struct xm_mroute *r;
	size_t n, cap;
};

struct mfc {
	int mon_fd;		/* notifications */
	int dump_fd;		/* dumps */
	uint32_t seq;
	struct table t;
	uint64_t resync_ms;	/* next full dump; UINT64_MAX never */
	unsigned int period_ms;	/* between dumps; 0 never */
	mfc_cb cb;
	void *ctx;
	char *buf;
};

static uint64_t now_ms(void)
{
	return xm_now_mono_ns() / 1000000;
}

static int route_cmp(const void *a, const void *b)
{
	const struct xm_mroute *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->grp, y->grp, sizeof(x->grp));
	if (c)
		return c;
	if (x->src_len != y->src_len)
		return x->src_len < y->src_len ? -1 : 1;
	return memcmp(x->src, y->src, sizeof(x->src));
}

static int table_reserve(struct table *t, size_t n)
{
	size_t cap = t->cap ? t->cap : 64;
	void *grown;

	if (n <= t->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	grown = realloc(t->r, cap * sizeof(*t->r));
	if (!grown)
		return -ENOMEM;
	t->r = grown;
	t->cap = cap;
	return 0;
}

/* The index of r's key in t, or where it would go (*found false). */
static size_t table_find(const struct table *t, const struct xm_mroute *r, bool *found)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = route_cmp(&t->r[mid], r);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Insert or replace; true when the table changed. */
static bool table_put(struct table *t, const struct xm_mroute *r)
{
	bool found;
	size_t i = table_find(t, r, &found);

	if (found) {
		if (!memcmp(&t->r[i], r, sizeof(*r)))
			return false;
		t->r[i] = *r;
		return true;
	}
	if (table_reserve(t, t->n + 1))
		return false;
	memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof(*r));
	t->r[i] = *r;
	t->n++;
	return true;
}

static bool table_del(struct table *t, const struct xm_mroute *r)
{
	bool found;
	size_t i = table_find(t, r, &found);

	if (!found)
		return false;
	memmove(&t->r[i], &t->r[i + 1], (t->n - i - 1) * sizeof(*r));
	t->n--;
	return true;
}

/*
 * One RTM_NEWROUTE or RTM_DELROUTE of family RTNL_FAMILY_IPMR or
 * RTNL_FAMILY_IP6MR into r.  Returns 1 for an entry to mirror, 0 for one
 * to leave out (another table, unresolved, (*,*)), -EINVAL when malformed.
 * For a deletion only the key is needed.
 */
static int parse_route(const struct nlmsghdr *nh, struct xm_mroute *r)
{
	const struct rtmsg *rtm = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*rtm));
	uint32_t table, alen, dflt;
	const struct rtattr *a;
	bool have_grp = false, have_iif = false;

	if (len < 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	/* The default tables differ: ipmr's is RT_TABLE_DEFAULT, ip6mr's
	 * RT6_TABLE_DFLT, which the kernel defines as RT_TABLE_MAIN. */
	if (rtm->rtm_family == RTNL_FAMILY_IPMR) {
		r->family = AF_INET;
		alen = 4;
		dflt = RT_TABLE_DEFAULT;
	} else if (rtm->rtm_family == RTNL_FAMILY_IP6MR) {
		r->family = AF_INET6;
		alen = 16;
		dflt = RT_TABLE_MAIN;
	} else {
		return 0;
	}
	table = rtm->rtm_table;
	r->origin = XM_ORIGIN_KERNEL;
	r->grp_len = r->src_len = alen * 8;
	for (a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case RTA_TABLE:
			if (RTA_PAYLOAD(a) < 4)
				return -EINVAL;
			memcpy(&table, RTA_DATA(a), 4);
			break;
		case RTA_SRC:
		case RTA_DST:
			if (RTA_PAYLOAD(a) != alen)
				return -EINVAL;
			memcpy(a->rta_type == RTA_SRC ? r->src : r->grp, RTA_DATA(a), alen);
			have_grp |= a->rta_type == RTA_DST;
			break;
		case RTA_IIF:
			if (RTA_PAYLOAD(a) < 4)
				return -EINVAL;
			memcpy(&r->iif, RTA_DATA(a), 4);
			have_iif = true;
			break;
		case RTA_MULTIPATH: {
			const struct rtnexthop *nh6 = RTA_DATA(a);
			int left = (int)RTA_PAYLOAD(a);

			while (left >= (int)sizeof(*nh6) && nh6->rtnh_len >= sizeof(*nh6) &&
			       nh6->rtnh_len <= left) {
				if (r->noif < XM_MROUTE_MAX_OIF) {
					r->oif[r->noif].ifindex = (uint32_t)nh6->rtnh_ifindex;
					r->oif[r->noif].ttl_threshold = nh6->rtnh_hops;
					r->noif++;
				}
				left -= RTNH_ALIGN(nh6->rtnh_len);
				nh6 = RTNH_NEXT(nh6);
			}
			break;
		}
		}
	}
	if (table != dflt || !have_grp || xm_addr_is_zero(r->grp))
		return 0;
	if (xm_addr_is_zero(r->src))
		r->src_len = 0;		/* (*,G) */
	if (nh->nlmsg_type == RTM_NEWROUTE && (rtm->rtm_flags & RTNH_F_UNRESOLVED || !have_iif))
		return 0;
	return 1;
}

static int dump_one(struct mfc *m, unsigned char family, struct table *into)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rtm;
	} req = {
		.nh = {
			.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
			.nlmsg_type = RTM_GETROUTE,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = ++m->seq,
		},
		.rtm = { .rtm_family = family },
	};
	struct xm_mroute r;

	if (send(m->dump_fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(m->dump_fd, m->buf, NL_BUF, 0);
		struct nlmsghdr *nh;
		int left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		left = (int)n;
		for (nh = (struct nlmsghdr *)m->buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != m->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				/* No multicast routing in this kernel or family:
				 * an empty table, not an error. */
				if (e->error == -EAFNOSUPPORT || e->error == -EOPNOTSUPP)
					return 0;
				return e->error;
			}
			if (nh->nlmsg_type == RTM_NEWROUTE && parse_route(nh, &r) == 1 &&
			    !table_reserve(into, into->n + 1))
				into->r[into->n++] = r;
		}
	}
}

/* Both tables afresh; true when the result differs from what was held. */
static bool resync(struct mfc *m)
{
	struct table t = { 0 };
	bool changed;
	int err;

	m->resync_ms = m->period_ms ? now_ms() + m->period_ms : UINT64_MAX;
	err = dump_one(m, RTNL_FAMILY_IPMR, &t);
	if (!err)
		err = dump_one(m, RTNL_FAMILY_IP6MR, &t);
	if (err) {
		pr_warn("cannot dump the kernel's multicast routes: %s; keeping the last table\n",
			strerror(-err));
		free(t.r);
		return false;
	}
	if (t.n)
		qsort(t.r, t.n, sizeof(*t.r), route_cmp);
	changed = t.n != m->t.n || (t.n && memcmp(t.r, m->t.r, t.n * sizeof(*t.r)));
	free(m->t.r);
	m->t = t;
	return changed;
}

/* A bound NETLINK_ROUTE socket; with groups, subscribed to both MFC
 * notification groups and non-blocking. */
static int nl_socket(bool groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0),
			NETLINK_ROUTE);
	int v4 = RTNLGRP_IPV4_MROUTE, v6 = RTNLGRP_IPV6_MROUTE;
	int rcvbuf = 1 << 20;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (groups && (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v4, sizeof(v4)) < 0 ||
		       setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v6, sizeof(v6)) < 0))
		goto fail;
	return fd;
fail:
	{
		int err = -errno;

		close(fd);
		return err;
	}
}

int mfc_open(struct mfc **out, mfc_cb cb, void *ctx)
{
	struct mfc *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	m->cb = cb;
	m->ctx = ctx;
	m->period_ms = MFC_RESYNC_MS;
	m->mon_fd = m->dump_fd = -1;
	m->buf = malloc(NL_BUF);
	if (!m->buf) {
		err = -ENOMEM;
		goto fail;
	}
	/* Subscribe first: a change made while we dump is then seen twice,
	 * never missed. */
	m->mon_fd = nl_socket(true);
	if (m->mon_fd < 0) {
		err = m->mon_fd;
		goto fail;
	}
	m->dump_fd = nl_socket(false);
	if (m->dump_fd < 0) {
		err = m->dump_fd;
		goto fail;
	}
	resync(m);
	if (m->cb)
		m->cb(m->ctx, m->t.r, m->t.n);
	*out = m;
	return 0;
fail:
	pr_err("cannot follow the kernel's multicast routes: %s\n", strerror(-err));
	mfc_close(m);
	return err;
}

void mfc_set_resync_ms(struct mfc *m, unsigned int ms)
{
	m->period_ms = ms;
	m->resync_ms = ms ? now_ms() + ms : UINT64_MAX;
}

int mfc_fd(const struct mfc *m)
{
	return m->mon_fd;
}

int mfc_timeout_ms(const struct mfc *m)
{
	uint64_t now = now_ms();

	if (m->resync_ms == UINT64_MAX)
		return -1;
	return m->resync_ms <= now ? 0 : (int)(m->resync_ms - now > 60000 ? 60000
									   : m->resync_ms - now);
}

void mfc_process(struct mfc *m)
{
	bool changed = false, lost = false;
	struct xm_mroute r;

	for (;;) {
		ssize_t n = recv(m->mon_fd, m->buf, NL_BUF, MSG_DONTWAIT);
		struct nlmsghdr *nh;
		int left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: notifications were lost; the dump below
			 * tells the truth. */
			lost |= errno == ENOBUFS;
			break;
		}
		left = (int)n;
		for (nh = (struct nlmsghdr *)m->buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_type != RTM_NEWROUTE && nh->nlmsg_type != RTM_DELROUTE)
				continue;
			switch (parse_route(nh, &r)) {
			case 1:
				changed |= nh->nlmsg_type == RTM_NEWROUTE ? table_put(&m->t, &r)
									  : table_del(&m->t, &r);
				break;
			case 0:		/* another table, unresolved, (*,*) */
				break;
			default:
				pr_debug("a malformed multicast route notification, ignored\n");
			}
		}
	}
	if (lost) {
		pr_warn("missed kernel multicast route notifications; dumping the table again\n");
		m->resync_ms = 0;
	}
	if (now_ms() >= m->resync_ms)
		changed |= resync(m);
	if (changed && m->cb)
		m->cb(m->ctx, m->t.r, m->t.n);
}

const struct xm_mroute *mfc_routes(const struct mfc *m, size_t *n)
{
	*n = m->t.n;
	return m->t.r;
}

void mfc_close(struct mfc *m)
{
	if (!m)
		return;
	if (m->mon_fd >= 0)
		close(m->mon_fd);
	if (m->dump_fd >= 0)
		close(m->dump_fd);
	free(m->t.r);
	free(m->buf);
	free(m);
}
