// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "metrics_srv.h"
#include "snapshot.h"
#include "util.h"

struct metrics_srv {
	char pin_dir[256];
	struct httpd *h;		/* NULL: off */
	struct xm_conf_metrics cur;	/* what h listens on */
	int top_groups;
	struct xm_reader r;
	bool reader_open;
};

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

int metrics_srv_init(struct metrics_srv **out, const char *pin_dir)
{
	struct metrics_srv *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	snprintf(m->pin_dir, sizeof(m->pin_dir), "%s", pin_dir);
	m->top_groups = XM_METRICS_TOP_DEFAULT;
	*out = m;
	return 0;
}

/* One scrape: a snapshot of everything, as text. */
static int render(void *ctx, char **body, size_t *len)
{
	struct metrics_srv *m = ctx;
	struct xm_snapshot s;
	FILE *f;
	int err;

	if (!m->reader_open) {
		err = xm_reader_open(&m->r, m->pin_dir);
		if (err) {
			pr_err("metrics: cannot open the maps under '%s': %s\n", m->pin_dir,
			       strerror(-err));
			return err;
		}
		m->reader_open = true;
	}
	err = xm_snapshot_take(&m->r, XM_SNAP_ALL, &s);
	if (err) {
		pr_err("metrics: cannot read the maps: %s\n", strerror(-err));
		return err;
	}
	f = open_memstream(body, len);
	if (!f) {
		xm_snapshot_free(&s);
		return -ENOMEM;
	}
	xm_metrics_write(f, &s, m->top_groups);
	xm_snapshot_free(&s);
	if (fclose(f)) {
		free(*body);
		return -ENOMEM;
	}
	return 0;
}

static const char *where(const struct xm_conf_metrics *c, char *buf, size_t len)
{
	char a[XM_ADDR_STRLEN];

	xm_format_addr(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, c->family == XM_AF_INET6 ? "[%s]:%u" : "%s:%u", a, c->port);
	return buf;
}

int metrics_srv_apply(struct metrics_srv *m, const struct xm_conf *conf)
{
	const struct xm_conf_metrics *c = &conf->metrics;
	struct sockaddr_storage ss = { 0 };
	struct httpd *h;
	socklen_t len;
	char buf[64];
	int err;

	m->top_groups = c->top_groups >= 0 ? c->top_groups : XM_METRICS_TOP_DEFAULT;
	if (!c->listen) {
		if (m->h)
			pr_warn("metrics: no longer listening on %s\n", where(&m->cur, buf, sizeof(buf)));
		httpd_close(m->h);
		m->h = NULL;
		return 0;
	}
	if (m->h && c->family == m->cur.family && c->port == m->cur.port &&
	    !memcmp(c->addr, m->cur.addr, sizeof(c->addr)))
		return 0;
	if (c->family == XM_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(c->port);
		memcpy(&sin->sin_addr, c->addr, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(c->port);
		memcpy(&sin6->sin6_addr, c->addr, 16);
		len = sizeof(*sin6);
	}
	/* Same port, other address: the old socket may be in the way, so it
	 * goes first (and is not kept when the new one fails). */
	if (m->h && c->port == m->cur.port) {
		httpd_close(m->h);
		m->h = NULL;
	}
	err = httpd_open(&h, (struct sockaddr *)&ss, len, "/metrics", PROM_CONTENT_TYPE,
			 render, m);
	if (err) {
		pr_err("metrics: cannot listen on %s: %s%s\n", where(c, buf, sizeof(buf)),
		       strerror(-err), m->h ? " (still serving the previous address)" : "");
		return err;
	}
	httpd_close(m->h);
	m->h = h;
	m->cur = *c;
	pr_warn("metrics: serving http://%s/metrics\n", where(c, buf, sizeof(buf)));
	return 0;
}

int metrics_srv_pollfds(const struct metrics_srv *m, struct pollfd *pfd)
{
	return m && m->h ? httpd_pollfds(m->h, pfd) : 0;
}

int metrics_srv_timeout_ms(const struct metrics_srv *m)
{
	return m && m->h ? httpd_timeout_ms(m->h) : -1;
}

void metrics_srv_process(struct metrics_srv *m, const struct pollfd *pfd, int n)
{
	if (m && m->h)
		httpd_process(m->h, pfd, n);
}

void metrics_srv_exit(struct metrics_srv *m)
{
	if (!m)
		return;
	httpd_close(m->h);
	if (m->reader_open)
		xm_reader_close(&m->r);
	free(m);
}
