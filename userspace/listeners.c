// SPDX-License-Identifier: GPL-2.0-only
/*
 * The groups the router listens to (listeners.h): /proc/net/igmp and
 * /proc/net/igmp6 read again whenever the kernel announces a join or a
 * leave, or every LISTENERS_POLL_MS where it announces nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "listeners.h"
#include "log.h"
#include "util.h"

/* Linux 6.13's groups; older headers lack them, the numbers are ABI. */
#ifndef RTNLGRP_IPV4_MCADDR
#define RTNLGRP_IPV4_MCADDR	37
#define RTNLGRP_IPV6_MCADDR	38
#endif

#define PROC_MAX	(1 << 22)	/* a file larger than 4 MiB is cut */

struct listeners {
	int fd;			/* notifications; -1: polling */
	uint64_t next_ms;	/* next read; UINT64_MAX only on news */
	struct xm_listener *l;
	size_t n;
	listeners_cb cb;
	void *ctx;
};

static uint64_t now_ms(void)
{
	return xm_now_mono_ns() / 1000000;
}

bool xm_group_link_local(int family, const __be32 group[4])
{
	const uint8_t *b = (const uint8_t *)group;

	if (family == AF_INET)
		return b[0] == 224 && b[1] == 0 && b[2] == 0;
	return b[0] == 0xff && (b[1] & 0x0f) <= 2;
}

static int push(struct xm_listener **l, size_t *n, size_t *cap, const struct xm_listener *x)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 32;
		struct xm_listener *nl = realloc(*l, c * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		*l = nl;
		*cap = c;
	}
	(*l)[(*n)++] = *x;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * /proc/net/igmp: a header line, then per device "IDX\tNAME: COUNT
 * QUERIER" and one indented line per group, "\t\t\t\tGROUP USERS
 * TIMER...", GROUP the __be32 printed as a host-order integer in hex (so
 * its bytes read back in host order are the address).
 * /proc/net/igmp6: "IDX NAME GROUP USERS FLAGS TIMER", GROUP 32 hex digits
 * in network order.
 */
int listeners_parse(int family, const char *text, struct xm_listener **l, size_t *n,
		    size_t *cap)
{
	const char *p = text, *eol;
	uint32_t ifindex = 0;

	for (; *p; p = *eol ? eol + 1 : eol) {
		struct xm_listener x = { .family = family };
		char line[256];
		size_t len;

		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		len = (size_t)(eol - p) < sizeof(line) - 1 ? (size_t)(eol - p) : sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = 0;
		if (family == AF_INET) {
			unsigned int idx, g;
			char name[32];

			if (line[0] != '\t') {
				/* a device line, or the header */
				if (sscanf(line, "%u %31s", &idx, name) == 2)
					ifindex = idx;
				else
					ifindex = 0;
				continue;
			}
			if (!ifindex || sscanf(line, " %8x", &g) != 1)
				continue;
			memcpy(x.group, &g, 4);
		} else {
			unsigned int idx;
			char name[32], hex[40];
			int i;

			if (sscanf(line, "%u %31s %39s", &idx, name, hex) != 3 || strlen(hex) != 32)
				continue;
			for (i = 0; i < 16; i++) {
				int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

				if (hi < 0 || lo < 0)
					break;
				((uint8_t *)x.group)[i] = (uint8_t)(hi << 4 | lo);
			}
			if (i < 16)
				continue;
			ifindex = idx;
		}
		x.ifindex = ifindex;
		if (xm_group_link_local(family, x.group))
			continue;
		if (push(l, n, cap, &x))
			return -ENOMEM;
	}
	return 0;
}

static int listener_cmp(const void *a, const void *b)
{
	const struct xm_listener *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->group, y->group, sizeof(x->group));
	if (c)
		return c;
	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static char *read_text(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *grown;
	FILE *f = fopen(path, "re");
	size_t got;

	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (len + 1 == cap) {
			if (cap >= PROC_MAX)
				break;
			grown = realloc(buf, cap * 2);
			if (!grown)
				break;
			buf = grown;
			cap *= 2;
		}
	}
	buf[len] = 0;
	fclose(f);
	return buf;
}

/* Both files afresh; true when the list changed.  A file that cannot be
 * read (no IPv6) counts as empty. */
static bool reread(struct listeners *ls)
{
	static const struct { int family; const char *path; } files[] = {
		{ AF_INET, "/proc/net/igmp" },
		{ AF_INET6, "/proc/net/igmp6" },
	};
	struct xm_listener *l = NULL;
	size_t n = 0, cap = 0, i;
	bool changed;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char *text = read_text(files[i].path);

		if (text && listeners_parse(files[i].family, text, &l, &n, &cap)) {
			free(text);
			free(l);
			pr_warn("cannot read the router's own groups: out of memory\n");
			return false;
		}
		free(text);
	}
	if (n)
		qsort(l, n, sizeof(*l), listener_cmp);
	changed = n != ls->n || (n && memcmp(l, ls->l, n * sizeof(*l)));
	free(ls->l);
	ls->l = l;
	ls->n = n;
	return changed;
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int g4 = RTNLGRP_IPV4_MCADDR, g6 = RTNLGRP_IPV6_MCADDR;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g4, sizeof(g4)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g6, sizeof(g6)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int listeners_open(struct listeners **out, listeners_cb cb, void *ctx)
{
	struct listeners *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return -ENOMEM;
	ls->cb = cb;
	ls->ctx = ctx;
	/* Subscribe first: a join while we read is then read again. */
	ls->fd = nl_open();
	ls->next_ms = ls->fd < 0 ? now_ms() + LISTENERS_POLL_MS : UINT64_MAX;
	if (ls->fd < 0)
		pr_info("no multicast address notifications from this kernel; reading the "
			"router's groups every %d ms\n", LISTENERS_POLL_MS);
	reread(ls);
	if (ls->cb)
		ls->cb(ls->ctx, ls->l, ls->n);
	*out = ls;
	return 0;
}

int listeners_fd(const struct listeners *ls)
{
	return ls->fd;
}

int listeners_timeout_ms(const struct listeners *ls)
{
	uint64_t now = now_ms();

	if (ls->next_ms == UINT64_MAX)
		return -1;
	return ls->next_ms <= now ? 0 : (int)(ls->next_ms - now);
}

void listeners_process(struct listeners *ls)
{
	bool news = false;
	char buf[8192];

	while (ls->fd >= 0) {
		ssize_t n = recv(ls->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			news |= errno == ENOBUFS;	/* lost some: read anyway */
			break;
		}
		news = true;	/* what changed is in the files */
	}
	if (ls->fd < 0 && now_ms() >= ls->next_ms) {
		news = true;
		ls->next_ms = now_ms() + LISTENERS_POLL_MS;
	}
	if (news && reread(ls) && ls->cb)
		ls->cb(ls->ctx, ls->l, ls->n);
}

void listeners_close(struct listeners *ls)
{
	if (!ls)
		return;
	if (ls->fd >= 0)
		close(ls->fd);
	free(ls->l);
	free(ls);
}
