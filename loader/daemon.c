// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp-mcast daemon: attach every phyint of the config, enforce its policy,
 * read the config again on SIGHUP (or `xdp-mcast reload`), and detach on
 * SIGTERM unless told to keep the data path.  It runs in the foreground,
 * as systemd and containers expect.  Signal handlers only set flags; one
 * loop does the work.
 *
 * A config with errors never replaces the running one: the errors are
 * logged with file, line and column, and the policy in force stays.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "conf.h"
#include "fwd.h"
#include "listeners.h"
#include "mfc.h"
#include "loader.h"
#include "log.h"
#include "metrics_srv.h"
#include "pins.h"
#include "policy.h"
#include "routes.h"
#include "snoop.h"
#include "util.h"

static volatile sig_atomic_t want_reload, want_stop;

static void on_hup(int sig)
{
	want_reload = 1;
}

static void on_term(int sig)
{
	want_stop = 1;
}

struct daemon {
	const struct daemon_opts *o;
	struct xm_conf *conf;	/* in force */
	struct snoop *snoop;
	struct metrics_srv *metrics;
	struct mfc *mfc;	/* the kernel's multicast routes, mirrored */
	struct listeners *listeners;	/* the groups the router itself joined */
	struct fwd *fwd;	/* the accelerator's forwarding table */
	int members_fd, member_src_fd;
	uint64_t snoop_gen;	/* of the membership routes in force */
	unsigned int reloads;	/* attempts so far, for the status file */
	uint32_t epoch;		/* of the policy in force */
};

static uint32_t ifindex_of(const char *name, void *ctx)
{
	return if_nametoindex(name);
}

static struct xm_conf *read_conf(const char *path)
{
	struct xm_conf_env env = { .iface_exists = xm_conf_iface_exists };
	struct xm_conf_errors errs;
	struct xm_conf *c = NULL;
	char text[XM_CONF_ERRLEN];
	int err, i;

	err = xm_conf_load(path, &env, &c, &errs);
	if (!err)
		return c;
	for (i = 0; i < errs.count && i < XM_CONF_MAX_ERRORS; i++) {
		snprintf(text, sizeof(text), "%s", errs.msg[i]);
		pr_err("%s\n", text);
	}
	if (errs.count > XM_CONF_MAX_ERRORS)
		pr_err("... and %d more errors\n", errs.count - XM_CONF_MAX_ERRORS);
	if (!errs.count)
		pr_err("cannot read '%s': %s\n", path, strerror(-err));
	return NULL;
}

static bool has_phyint(const struct xm_conf *c, const char *name)
{
	int i;

	for (i = 0; c && i < c->nphyints; i++)
		if (!strcmp(c->phyints[i].name, name))
			return true;
	return false;
}

/* Attach the phyints of next, detach those of the config in force that
 * next no longer has, then switch the policy: all under the pin lock, so
 * when the epoch moves the interfaces are already as the file says. */
static int apply(struct daemon *d, struct xm_conf *next)
{
	const struct load_opts *lo = &d->o->load;
	struct xm_policy_summary sum;
	struct xm_policy_maps pm;
	struct xm_load_ctx lc;
	int i, err;

	err = xm_load_begin(lo, &lc);
	for (i = 0; i < next->nphyints && !err; i++) {
		const struct xm_conf_phyint *pi = &next->phyints[i];

		err = xm_load_attach(&lc, pi->name, pi->mode >= 0 ?
				     (enum xm_attach_mode)pi->mode : lo->mode);
	}
	for (i = 0; !err && d->conf && d->conf != next && i < d->conf->nphyints; i++)
		if (!has_phyint(next, d->conf->phyints[i].name))
			xm_load_detach(&lc, d->conf->phyints[i].name);
	if (!err)
		err = xm_policy_maps_open(lo->pin_dir, &pm);
	if (!err) {
		err = xm_policy_apply(&pm, next, ifindex_of, NULL, &sum);
		xm_policy_maps_close(&pm);
	}
	xm_load_end(&lc);
	if (err)
		return err;
	pr_warn("policy epoch %u in force: %d phyints, %d rules, %d boundaries "
		"(%d group nodes, %d source entries)\n", sum.epoch, next->nphyints,
		sum.rules, sum.boundaries, sum.group_nodes, sum.source_entries);
	d->epoch = sum.epoch;
	return 0;
}

static bool is_downstream(uint32_t ifindex, void *ctx)
{
	const struct xm_conf *c = ctx;
	int i;

	for (i = 0; i < c->nphyints; i++)
		if (c->phyints[i].downstream && if_nametoindex(c->phyints[i].name) == ifindex)
			return true;
	return false;
}

/* The routes that serve the downstream memberships, from the maps the
 * snooping module keeps. */
static void membership_routes(struct daemon *d, const struct xm_conf *c)
{
	struct xm_route_members m;
	struct xm_mroute *r = NULL;
	uint32_t upstream = 0;
	size_t n = 0;
	int i;

	d->snoop_gen = snoop_generation(d->snoop);
	for (i = 0; i < c->nphyints && !upstream; i++)
		if (c->phyints[i].upstream)
			upstream = if_nametoindex(c->phyints[i].name);
	if (upstream && !xm_route_members_read(d->members_fd, d->member_src_fd, &m)) {
		if (xm_routes_from_members(&m, upstream, is_downstream, (void *)c, &r, &n))
			pr_err("cannot derive the membership routes: out of memory\n");
		xm_route_members_free(&m);
	}
	fwd_set_routes(d->fwd, XM_ORIGIN_MEMBERSHIP, r, n);
	free(r);
}

/* The accelerator's part of a config: modes and roles of the phyints,
 * the static routes, and the membership routes for the new roles. */
static void fwd_apply(struct daemon *d, const struct xm_conf *c)
{
	struct xm_mroute *r = NULL;
	struct fwd_stats st;
	size_t n = 0, skipped = 0;
	int i;

	if (!d->fwd)
		return;
	for (i = 0; i < c->nphyints; i++) {
		const struct xm_conf_phyint *pi = &c->phyints[i];

		fwd_set_iface(d->fwd, if_nametoindex(pi->name),
			      pi->forwarding == XM_FWD_ACCELERATE ? XM_FWD_ACCELERATE : XM_FWD_FILTER,
			      pi->upstream ? XM_ROLE_UPSTREAM :
			      pi->downstream ? XM_ROLE_DOWNSTREAM : XM_ROLE_NONE);
	}
	if (xm_routes_from_conf(c, ifindex_of, NULL, &r, &n, &skipped))
		pr_err("cannot read the static routes: out of memory\n");
	if (skipped)
		pr_warn("%zu mroute lines name an interface that is gone; skipped\n", skipped);
	fwd_set_routes(d->fwd, XM_ORIGIN_STATIC, r, n);
	free(r);
	membership_routes(d, c);
	fwd_stats(d->fwd, &st);
	pr_warn("forwarding: %zu entries (%zu static, %zu membership, %zu kernel routes), "
		"%zu port sets, %zu routes left to the kernel\n", st.entries,
		st.routes[XM_ORIGIN_STATIC], st.routes[XM_ORIGIN_MEMBERSHIP],
		st.routes[XM_ORIGIN_KERNEL], st.port_sets, st.not_accelerated);
}

static int open_pinned(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (xm_pin_join(path, sizeof(path), dir, name))
		return -1;
	return bpf_obj_get(path);
}

/*
 * The outcome of the latest reload, for `xdp-mcast reload` to wait on:
 * "RELOADS ok|error EPOCH" in PIDFILE.status, replaced atomically.
 */
static void write_status(struct daemon *d, bool ok)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s.status", d->o->pidfile) >= (int)sizeof(path))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%u %s %u\n", d->reloads, ok ? "ok" : "error", d->epoch);
	if (fclose(f) || rename(tmp, path))
		unlink(tmp);
}

static void reload(struct daemon *d)
{
	struct xm_conf *next = read_conf(d->o->config);

	d->reloads++;
	if (!next) {
		pr_err("reload of '%s' failed; the running policy stays\n", d->o->config);
		write_status(d, false);
		return;
	}
	if (apply(d, next)) {
		pr_err("reload of '%s' could not be applied; the running policy stays\n",
		       d->o->config);
		xm_conf_free(next);
		write_status(d, false);
		return;
	}
	if (d->snoop && snoop_apply(d->snoop, next))
		pr_err("snooping could not follow every change of '%s'\n", d->o->config);
	metrics_srv_apply(d->metrics, next);	/* a failure is logged, the old endpoint stays */
	fwd_apply(d, next);
	xm_conf_free(d->conf);
	d->conf = next;
	write_status(d, true);
}

static void remove_status(const char *pidfile);

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		pr_err("cannot write the pid file '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) ? -errno : 0;
}

static void shutdown_daemon(struct daemon *d)
{
	char *names[XM_MAX_IFACES];
	int i, n = 0;

	if (d->o->keep) {
		pr_warn("leaving the data path and the policy in place (--keep)\n");
		return;
	}
	for (i = 0; d->conf && i < d->conf->nphyints && n < XM_MAX_IFACES; i++)
		names[n++] = d->conf->phyints[i].name;
	if (n)
		xm_cmd_unload(d->o->load.pin_dir, names, n, false);
	pr_warn("detached from %d interfaces\n", n);
}

/* The mirror's whole table, each time it changed. */
static void kernel_routes(void *ctx, const struct xm_mroute *r, size_t n)
{
	struct daemon *d = ctx;

	if (d->fwd && fwd_set_routes(d->fwd, XM_ORIGIN_KERNEL, r, n))
		pr_err("cannot apply the kernel's multicast routes to the forwarding table\n");
}

/* The router's own groups, each time they changed. */
static void own_groups(void *ctx, const struct xm_listener *l, size_t n)
{
	struct daemon *d = ctx;

	if (d->fwd && fwd_set_listeners(d->fwd, l, n))
		pr_err("cannot apply the router's own groups to the forwarding table\n");
}

int xm_cmd_daemon(const struct daemon_opts *o)
{
	struct daemon d = { .o = o, .members_fd = -1, .member_src_fd = -1 };
	struct sigaction sa = { 0 };
	sigset_t block, orig;
	int err;

	d.conf = read_conf(o->config);
	if (!d.conf)
		return -ENOEXEC;
	err = apply(&d, d.conf);
	if (err) {
		xm_conf_free(d.conf);
		return err;
	}
	err = write_pidfile(o->pidfile);
	if (err)
		goto out;
	write_status(&d, true);

	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	err = snoop_init(&d.snoop, o->load.pin_dir, true);
	if (!err)
		err = snoop_apply(d.snoop, d.conf);
	if (!err)
		err = metrics_srv_init(&d.metrics, o->load.pin_dir);
	if (!err)
		err = metrics_srv_apply(d.metrics, d.conf);
	if (!err)
		err = fwd_init(&d.fwd, o->load.pin_dir);
	if (err)
		goto out_signals;
	d.members_fd = open_pinned(o->load.pin_dir, XM_MAP_MEMBERS);
	d.member_src_fd = open_pinned(o->load.pin_dir, XM_MAP_MEMBER_SRC);
	fwd_apply(&d, d.conf);
	/* Routes that smcroute, pimd or FRR put in the kernel are accelerated
	 * too (docs/kernel-routes.md).  Without them the daemon still runs. */
	if (mfc_open(&d.mfc, kernel_routes, &d))
		pr_warn("kernel multicast routes are not mirrored; config and membership "
			"routes are\n");
	/* Groups a socket on the router joined: passed to the kernel where it
	 * forwards them too (docs/accelerate.md, local listeners). */
	if (listeners_open(&d.listeners, own_groups, &d))
		pr_warn("the router's own groups are not followed: their traffic is "
			"accelerated without a local copy\n");

	pr_warn("running with '%s', pid %d\n", o->config, (int)getpid());
	while (!want_stop) {
		struct pollfd pfd[3 + METRICS_SRV_POLLFDS];
		int ms = snoop_timeout_ms(d.snoop), mms = metrics_srv_timeout_ms(d.metrics), n;
		int lms = d.listeners ? listeners_timeout_ms(d.listeners) : -1;
		struct timespec ts;

		pfd[0] = (struct pollfd){ .fd = snoop_fd(d.snoop), .events = POLLIN };
		n = metrics_srv_pollfds(d.metrics, pfd + 1);
		pfd[1 + n] = (struct pollfd){ .fd = d.mfc ? mfc_fd(d.mfc) : -1, .events = POLLIN };
		pfd[2 + n] = (struct pollfd){ .fd = d.listeners ? listeners_fd(d.listeners) : -1,
					      .events = POLLIN };
		if (d.mfc && mfc_timeout_ms(d.mfc) >= 0 &&
		    (ms < 0 || mfc_timeout_ms(d.mfc) < ms))
			ms = mfc_timeout_ms(d.mfc);
		if (mms >= 0 && (ms < 0 || mms < ms))
			ms = mms;
		if (lms >= 0 && (ms < 0 || lms < ms))
			ms = lms;
		ts = (struct timespec){ ms / 1000, (ms % 1000) * 1000000L };
		/* Signals are delivered only inside ppoll(): no wake-up is lost. */
		if (ppoll(pfd, 3 + n, ms < 0 ? NULL : &ts, &orig) < 0)
			for (int i = 0; i <= n + 2; i++)
				pfd[i].revents = 0;
		snoop_process(d.snoop);
		metrics_srv_process(d.metrics, pfd + 1, n);
		if (d.mfc)
			mfc_process(d.mfc);
		if (d.listeners)
			listeners_process(d.listeners);
		if (snoop_generation(d.snoop) != d.snoop_gen)
			membership_routes(&d, d.conf);
		if (want_reload) {
			want_reload = 0;
			reload(&d);
		}
	}
out_signals:
	sigprocmask(SIG_SETMASK, &orig, NULL);
	unlink(o->pidfile);
	remove_status(o->pidfile);
out:
	mfc_close(d.mfc);
	listeners_close(d.listeners);
	metrics_srv_exit(d.metrics);
	snoop_exit(d.snoop);
	if (o->keep)
		fwd_close(d.fwd);
	else
		fwd_exit(d.fwd);
	if (d.members_fd >= 0)
		close(d.members_fd);
	if (d.member_src_fd >= 0)
		close(d.member_src_fd);
	shutdown_daemon(&d);
	xm_conf_free(d.conf);
	return err;
}

static void remove_status(const char *pidfile)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s.status", pidfile) < (int)sizeof(path))
		unlink(path);
}

struct reload_status {
	unsigned int reloads;
	char result[8];
	unsigned int epoch;
};

static bool read_status(const char *pidfile, struct reload_status *st)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	if (snprintf(path, sizeof(path), "%s.status", pidfile) >= (int)sizeof(path))
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fscanf(f, "%u %7s %u", &st->reloads, st->result, &st->epoch) == 3;
	fclose(f);
	return ok;
}

#define RELOAD_WAIT_MS	10000

int xm_cmd_reload(const char *pidfile)
{
	struct reload_status before, now;
	FILE *f = fopen(pidfile, "r");
	int pid = 0, waited;

	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
		pr_err("no running daemon: cannot read a pid from '%s'%s%s\n", pidfile,
		       f ? "" : ": ", f ? "" : strerror(errno));
		if (f)
			fclose(f);
		return -ESRCH;
	}
	fclose(f);
	if (!read_status(pidfile, &before)) {
		pr_err("no status from the daemon (pid %d) next to '%s'\n", pid, pidfile);
		return -ESRCH;
	}
	if (kill(pid, SIGHUP)) {
		pr_err("cannot signal the daemon (pid %d): %s\n", pid, strerror(errno));
		return -errno;
	}
	for (waited = 0; waited < RELOAD_WAIT_MS; waited += 10) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (read_status(pidfile, &now) && now.reloads != before.reloads) {
			if (!strcmp(now.result, "ok")) {
				printf("policy epoch %u in force\n", now.epoch);
				return 0;
			}
			pr_err("the daemon kept its policy: the config has errors or could "
			       "not be applied (its log says which; xdp-mcast check -c FILE "
			       "shows them)\n");
			return -ENOEXEC;
		}
		if (kill(pid, 0) && errno == ESRCH) {
			pr_err("the daemon (pid %d) is gone\n", pid);
			return -ESRCH;
		}
		nanosleep(&ts, NULL);
	}
	pr_err("the daemon (pid %d) did not answer within %d s\n", pid, RELOAD_WAIT_MS / 1000);
	return -ETIMEDOUT;
}

int xm_cmd_check(const char *path)
{
	struct xm_conf *c = read_conf(path);

	if (!c)
		return -ENOEXEC;
	xm_conf_print(c, stdout);
	xm_conf_free(c);
	return 0;
}
