// SPDX-License-Identifier: GPL-2.0-only
/*
 * mfc_watch: the kernel's multicast routes as userspace/mfc.c mirrors
 * them, one line a route, a table each time the module reports a change,
 * for tests/ns/test-mfc.sh:
 *
 *   table N
 *   v4 S/LEN G/LEN iif IFNAME oif IFNAME:THRESHOLD ...
 *   end
 *
 * It runs until SIGTERM; every table is flushed at once.  -r MS sets the
 * period of the full dumps (0: never, notifications only).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfc.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *ifname(uint32_t ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%u", ifindex);
	return buf;
}

static void print_table(void *ctx, const struct xm_mroute *r, size_t n)
{
	static unsigned int tables;
	char s[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], name[IF_NAMESIZE];
	size_t i;
	uint32_t o;

	(void)ctx;
	printf("table %u\n", ++tables);
	for (i = 0; i < n; i++) {
		inet_ntop(r[i].family, r[i].src, s, sizeof(s));
		inet_ntop(r[i].family, r[i].grp, g, sizeof(g));
		printf("%s %s/%u %s/%u iif %s oif", r[i].family == AF_INET ? "v4" : "v6", s,
		       r[i].src_len, g, r[i].grp_len, ifname(r[i].iif, name));
		for (o = 0; o < r[i].noif; o++)
			printf(" %s:%u", ifname(r[i].oif[o].ifindex, name),
			       r[i].oif[o].ttl_threshold);
		printf("\n");
	}
	printf("end\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	int err, resync = -1;
	struct mfc *m;

	if (argc == 3 && !strcmp(argv[1], "-r")) {
		resync = atoi(argv[2]);
	} else if (argc != 1) {
		fprintf(stderr, "usage: mfc_watch [-r RESYNC_MS]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	err = mfc_open(&m, print_table, NULL);
	if (err) {
		fprintf(stderr, "mfc_watch: %s\n", strerror(-err));
		return 1;
	}
	if (resync >= 0)
		mfc_set_resync_ms(m, resync);
	while (!stop) {
		struct pollfd p = { .fd = mfc_fd(m), .events = POLLIN };

		if (poll(&p, 1, mfc_timeout_ms(m)) < 0 && errno != EINTR)
			break;
		mfc_process(m);
	}
	mfc_close(m);
	return 0;
}
