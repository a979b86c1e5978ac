/* SPDX-License-Identifier: GPL-2.0-only
 *
 * The daemon's metrics module: serves GET /metrics (userspace/metrics.c,
 * through userspace/httpd.c) on the address of the config's
 * `metrics listen`, from the daemon's poll loop.
 *
 *	metrics_srv_init(); metrics_srv_apply(conf);
 *	loop: n = metrics_srv_pollfds(pfd); ppoll(..., metrics_srv_timeout_ms());
 *	      metrics_srv_process(pfd, n);
 *	metrics_srv_exit();
 */
#ifndef XM_METRICS_SRV_H
#define XM_METRICS_SRV_H

#include <poll.h>

#include "conf.h"
#include "httpd.h"

#define METRICS_SRV_POLLFDS	HTTPD_POLLFDS

struct metrics_srv;

int metrics_srv_init(struct metrics_srv **out, const char *pin_dir);
/* Listen where conf says, or stop when it says nothing.  When the new
 * address cannot be bound, the error is returned and logged and the
 * endpoint in service (if any) stays. */
int metrics_srv_apply(struct metrics_srv *m, const struct xm_conf *conf);
int metrics_srv_pollfds(const struct metrics_srv *m, struct pollfd *pfd);
int metrics_srv_timeout_ms(const struct metrics_srv *m);
void metrics_srv_process(struct metrics_srv *m, const struct pollfd *pfd, int n);
void metrics_srv_exit(struct metrics_srv *m);

#endif
