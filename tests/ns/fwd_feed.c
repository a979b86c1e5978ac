// SPDX-License-Identifier: GPL-2.0-only
/*
 * fwd_feed: the daemon's forwarding table (userspace/fwd.c) and its
 * follower of the router's own groups (userspace/listeners.c) on their
 * own, with one route handed over as the kernel's MFC would hand it, for
 * tests/ns/test-routes.sh on kernels without multicast routing:
 *
 *   fwd_feed IIF SOURCE GROUP OIF[:TTL]...
 *
 * TTL is the outgoing interface's threshold in the route (ipmr's
 * ttls[vif], which smcroute fills from `phyint ttl-threshold`); default 1.
 * The data path must be loaded on IIF and every OIF (xdp-mcast load), in
 * the pin directory of $XDP_MCAST_PIN_PATH; they are switched to
 * accelerate mode.  Writes "ready" once the route is in, runs until
 * SIGTERM, then removes its entries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"
#include "listeners.h"
#include "pins.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void own_groups(void *ctx, const struct xm_listener *l, size_t n)
{
	fwd_set_listeners(ctx, l, n);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct xm_mroute r = { 0 };
	struct listeners *ls = NULL;
	struct fwd *f;
	int i, err, fam;

	if (argc < 5) {
		fprintf(stderr, "usage: fwd_feed IIF SOURCE GROUP OIF[:TTL]...\n");
		return 2;
	}
	fam = strchr(argv[3], ':') ? AF_INET6 : AF_INET;
	r.family = fam;
	r.src_len = r.grp_len = fam == AF_INET ? 32 : 128;
	r.iif = if_nametoindex(argv[1]);
	if (!r.iif || inet_pton(fam, argv[2], r.src) != 1 || inet_pton(fam, argv[3], r.grp) != 1) {
		fprintf(stderr, "fwd_feed: bad interface or address\n");
		return 2;
	}
	for (i = 4; i < argc && r.noif < XM_MROUTE_MAX_OIF; i++) {
		char *ttl = strchr(argv[i], ':');	/* never in a device name */
		unsigned long thr = 1;

		if (ttl) {
			*ttl++ = '\0';
			thr = strtoul(ttl, NULL, 10);
		}
		r.oif[r.noif].ifindex = if_nametoindex(argv[i]);
		r.oif[r.noif].ttl_threshold = thr;
		if (!r.oif[r.noif].ifindex || thr < 1 || thr > 255) {
			fprintf(stderr, "fwd_feed: bad outgoing interface or TTL '%s'\n", argv[i]);
			return 2;
		}
		r.noif++;
	}
	err = fwd_init(&f, xm_pin_dir(NULL));
	if (err)
		return 1;
	fwd_set_iface(f, r.iif, XM_FWD_ACCELERATE, XM_ROLE_NONE);
	for (i = 0; i < (int)r.noif; i++)
		fwd_set_iface(f, r.oif[i].ifindex, XM_FWD_ACCELERATE, XM_ROLE_NONE);
	err = fwd_set_routes(f, XM_ORIGIN_KERNEL, &r, 1);
	if (!err)
		err = listeners_open(&ls, own_groups, f);
	if (err) {
		fprintf(stderr, "fwd_feed: %s\n", strerror(-err));
		fwd_exit(f);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		struct pollfd p = { .fd = listeners_fd(ls), .events = POLLIN };

		if (poll(&p, 1, listeners_timeout_ms(ls)) < 0 && errno != EINTR)
			break;
		listeners_process(ls);
	}
	listeners_close(ls);
	fwd_exit(f);
	return 0;
}
