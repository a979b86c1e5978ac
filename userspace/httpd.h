/* SPDX-License-Identifier: GPL-2.0-only
 *
 * A small HTTP server for one page, run from the caller's poll loop: it
 * never blocks and never spawns.  Meant for Prometheus scrapes, hardened
 * against the clients a network may hold:
 *
 *  - a request (line and headers) larger than HTTPD_REQ_MAX gets 431;
 *  - a request must be complete HTTPD_READ_MS after the connection was
 *    accepted, however slowly its bytes trickle in (slowloris), and a
 *    response must be taken within HTTPD_WRITE_MS: else the connection is
 *    closed;
 *  - at most HTTPD_MAX_CONN connections; one more takes the place of one
 *    already answered that lingers, else evicts the oldest that is still
 *    sending its request;
 *  - only GET (and HEAD) of the one path is served (200); another path is
 *    404, another method 405, anything unparsable 400;
 *  - every response closes its connection; the page is rendered once for
 *    all the requests that complete in one call, so parallel scrapes cost
 *    one rendering.
 */
#ifndef XM_HTTPD_H
#define XM_HTTPD_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTPD_REQ_MAX	8192
#define HTTPD_READ_MS	5000
#define HTTPD_WRITE_MS	10000
#define HTTPD_LINGER_MS	1000	/* reading what a client still sends, after the response */
#define HTTPD_MAX_CONN	32
#define HTTPD_POLLFDS	(1 + HTTPD_MAX_CONN)

/* Renders the page into a malloc'ed *body of *len bytes; 0 or a negative
 * errno (answered with 500). */
typedef int (*httpd_render_fn)(void *ctx, char **body, size_t *len);

struct httpd_stats {
	uint64_t requests;	/* answered, any status */
	uint64_t rejected;	/* 4xx and 5xx among them */
	uint64_t timeouts;	/* closed for being too slow */
	uint64_t evicted;	/* closed to make room */
};

struct httpd;

/* Listen on sa, serving path (e.g. "/metrics") with content_type. */
int httpd_open(struct httpd **out, const struct sockaddr *sa, socklen_t salen,
	       const char *path, const char *content_type, httpd_render_fn render, void *ctx);
void httpd_close(struct httpd *h);

/* The fds to poll, at most HTTPD_POLLFDS of them, into pfd[]; returns
 * their count.  Pass the same entries back to httpd_process() after
 * poll(). */
int httpd_pollfds(const struct httpd *h, struct pollfd *pfd);
/* Milliseconds until the next deadline, or -1 for none. */
int httpd_timeout_ms(const struct httpd *h);
void httpd_process(struct httpd *h, const struct pollfd *pfd, int n);

const struct httpd_stats *httpd_stats(const struct httpd *h);

#endif
