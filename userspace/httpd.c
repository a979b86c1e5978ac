// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

enum conn_state {
	C_FREE,
	C_READING,	/* the request is arriving */
	C_READY,	/* complete: to answer in this round */
	C_WRITING,	/* the response is leaving */
	C_LINGER,	/* answered; reading what the client still sends */
};

struct conn {
	int fd;
	enum conn_state state;
	uint64_t accepted_ms, deadline_ms;
	char req[HTTPD_REQ_MAX];
	size_t req_len;
	int status;		/* of the answer, once decided */
	bool head;		/* HEAD: no body */
	char *out;
	size_t out_len, out_off;
	size_t drained;
};

struct httpd {
	int fd;
	char path[64];
	char content_type[96];
	httpd_render_fn render;
	void *ctx;
	struct conn conn[HTTPD_MAX_CONN];
	struct httpd_stats stats;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int httpd_open(struct httpd **out, const struct sockaddr *sa, socklen_t salen,
	       const char *path, const char *content_type, httpd_render_fn render, void *ctx)
{
	struct httpd *h = calloc(1, sizeof(*h));
	int one = 1, i, err;

	if (!h)
		return -ENOMEM;
	h->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		err = -errno;
		free(h);
		return err;
	}
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, sa, salen) || listen(h->fd, 64)) {
		err = -errno;
		close(h->fd);
		free(h);
		return err;
	}
	snprintf(h->path, sizeof(h->path), "%s", path);
	snprintf(h->content_type, sizeof(h->content_type), "%s", content_type);
	h->render = render;
	h->ctx = ctx;
	for (i = 0; i < HTTPD_MAX_CONN; i++)
		h->conn[i].fd = -1;
	*out = h;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->state = C_FREE;
}

void httpd_close(struct httpd *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < HTTPD_MAX_CONN; i++)
		conn_close(&h->conn[i]);
	close(h->fd);
	free(h);
}

const struct httpd_stats *httpd_stats(const struct httpd *h)
{
	return &h->stats;
}

int httpd_pollfds(const struct httpd *h, struct pollfd *pfd)
{
	int i, n = 0;

	pfd[n++] = (struct pollfd){ .fd = h->fd, .events = POLLIN };
	for (i = 0; i < HTTPD_MAX_CONN; i++) {
		const struct conn *c = &h->conn[i];

		if (c->state == C_FREE)
			continue;
		pfd[n++] = (struct pollfd){ .fd = c->fd,
					    .events = c->state == C_WRITING ? POLLOUT : POLLIN };
	}
	return n;
}

int httpd_timeout_ms(const struct httpd *h)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	int i;

	for (i = 0; i < HTTPD_MAX_CONN; i++)
		if (h->conn[i].state != C_FREE && h->conn[i].deadline_ms < next)
			next = h->conn[i].deadline_ms;
	if (next == UINT64_MAX)
		return -1;
	return next > now ? (int)(next - now) : 0;
}

static struct conn *conn_of(struct httpd *h, int fd)
{
	int i;

	for (i = 0; i < HTTPD_MAX_CONN; i++)
		if (h->conn[i].state != C_FREE && h->conn[i].fd == fd)
			return &h->conn[i];
	return NULL;
}

/*
 * A free slot; else one whose response has gone and which only lingers
 * (closing it loses nothing); else the one of the oldest client still
 * sending its request, closed.  NULL when every slot is answering.
 */
static struct conn *slot(struct httpd *h)
{
	struct conn *oldest = NULL, *linger = NULL;
	int i;

	for (i = 0; i < HTTPD_MAX_CONN; i++) {
		struct conn *c = &h->conn[i];

		if (c->state == C_FREE)
			return c;
		if (c->state == C_LINGER && !linger)
			linger = c;
		if (c->state == C_READING && (!oldest || c->accepted_ms < oldest->accepted_ms))
			oldest = c;
	}
	if (linger) {
		conn_close(linger);
		return linger;
	}
	if (oldest) {
		conn_close(oldest);
		h->stats.evicted++;
	}
	return oldest;
}

static void accept_all(struct httpd *h)
{
	int fd;

	while ((fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = slot(h);

		if (!c) {
			close(fd);
			h->stats.evicted++;
			continue;
		}
		c->fd = fd;
		c->state = C_READING;
		c->accepted_ms = now_ms();
		c->deadline_ms = c->accepted_ms + HTTPD_READ_MS;
		c->req_len = 0;
		c->out_len = c->out_off = c->drained = 0;
		c->head = false;
		c->status = 0;
	}
}

/* Decide the status of a complete request in c->req. */
static void parse_request(struct httpd *h, struct conn *c)
{
	char *sp1, *sp2, *eol, *q;
	size_t plen;

	eol = memchr(c->req, '\n', c->req_len);
	sp1 = eol ? memchr(c->req, ' ', eol - c->req) : NULL;
	sp2 = sp1 ? memchr(sp1 + 1, ' ', eol - sp1 - 1) : NULL;
	if (!sp2 || sp1 == c->req || sp2 == sp1 + 1 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		c->status = 400;
		return;
	}
	*sp1 = *sp2 = '\0';
	q = memchr(sp1 + 1, '?', sp2 - sp1 - 1);	/* a query string is ignored */
	plen = (q ? q : sp2) - (sp1 + 1);
	if (plen != strlen(h->path) || memcmp(sp1 + 1, h->path, plen))
		c->status = 404;
	else if (!strcmp(c->req, "GET"))
		c->status = 200;
	else if (!strcmp(c->req, "HEAD"))
		c->status = 200, c->head = true;
	else
		c->status = 405;
}

/* Read what arrived; a request is complete at its blank line. */
static void conn_read(struct httpd *h, struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->req_len == sizeof(c->req)) {
			c->status = 431;	/* still no end of headers */
			c->state = C_READY;
			return;
		}
		n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {		/* gone before asking */
			conn_close(c);
			return;
		}
		c->req_len += n;
		if (memmem(c->req, c->req_len, "\r\n\r\n", 4) || memmem(c->req, c->req_len, "\n\n", 2)) {
			parse_request(h, c);
			c->state = C_READY;
			return;
		}
	}
}

static void conn_linger(struct conn *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0) {
		c->drained += n;
		if (c->drained > 65536) {
			conn_close(c);
			return;
		}
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(c);
}

static void conn_write(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += n;
	}
	/* All sent: say so, then read to the client's end so that closing
	 * never turns into a reset that could cut the response short. */
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->deadline_ms = now_ms() + HTTPD_LINGER_MS;
	conn_linger(c);
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	default:  return "Internal Server Error";
	}
}

static void respond(struct httpd *h, struct conn *c, const char *body, size_t len)
{
	char head[256], err_body[64];
	int hl;

	if (c->status != 200) {
		len = snprintf(err_body, sizeof(err_body), "%d %s\n", c->status,
			       reason_phrase(c->status));
		body = err_body;
		h->stats.rejected++;
	}
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "%sConnection: close\r\n\r\n", c->status, reason_phrase(c->status),
		      c->status == 200 ? h->content_type : "text/plain; charset=utf-8", len,
		      c->status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (c->head)
		len = 0;
	c->out = malloc(hl + len + 1);
	if (!c->out) {
		conn_close(c);
		return;
	}
	memcpy(c->out, head, hl);
	if (len)
		memcpy(c->out + hl, body, len);
	c->out_len = hl + len;
	c->out_off = 0;
	c->state = C_WRITING;
	c->deadline_ms = now_ms() + HTTPD_WRITE_MS;
	h->stats.requests++;
	conn_write(c);
}

void httpd_process(struct httpd *h, const struct pollfd *pfd, int n)
{
	char *body = NULL;
	size_t len = 0;
	bool rendered = false;
	uint64_t now;
	int i;

	for (i = 0; i < n; i++) {
		struct conn *c;

		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == h->fd) {
			accept_all(h);
			continue;
		}
		c = conn_of(h, pfd[i].fd);
		if (!c)
			continue;
		if (c->state == C_READING)
			conn_read(h, c);
		else if (c->state == C_WRITING)
			conn_write(c);
		else if (c->state == C_LINGER)
			conn_linger(c);
	}
	now = now_ms();
	for (i = 0; i < HTTPD_MAX_CONN; i++) {
		struct conn *c = &h->conn[i];

		if (c->state == C_READY) {
			if (c->status == 200 && !rendered) {
				rendered = true;
				if (h->render(h->ctx, &body, &len)) {
					body = NULL;
					len = 0;
				}
			}
			if (c->status == 200 && !body)
				c->status = 500;
			respond(h, c, body, len);
		} else if (c->state != C_FREE && now >= c->deadline_ms) {
			if (c->state != C_LINGER)
				h->stats.timeouts++;
			conn_close(c);
		}
	}
	free(body);
}
