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
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "policy.h"
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
 * next no longer has, then switch the policy.  All under the pin lock. */
static int apply(struct daemon *d, struct xm_conf *next)
{
	const struct load_opts *lo = &d->o->load;
	struct xm_policy_summary sum;
	struct xm_policy_maps pm;
	struct xm_load_ctx lc;
	char *gone[XM_MAX_IFACES];
	int i, ngone = 0, err;

	err = xm_load_begin(lo, &lc);
	for (i = 0; i < next->nphyints && !err; i++) {
		const struct xm_conf_phyint *pi = &next->phyints[i];

		err = xm_load_attach(&lc, pi->name, pi->mode >= 0 ? (enum xm_attach_mode)pi->mode : lo->mode);
	}
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

	for (i = 0; d->conf && i < d->conf->nphyints; i++)
		if (!has_phyint(next, d->conf->phyints[i].name))
			gone[ngone++] = d->conf->phyints[i].name;
	if (ngone)
		xm_cmd_unload(lo->pin_dir, gone, ngone, false);
	return 0;
}

static void reload(struct daemon *d)
{
	struct xm_conf *next = read_conf(d->o->config);

	if (!next) {
		pr_err("reload of '%s' failed; the running policy stays\n", d->o->config);
		return;
	}
	if (apply(d, next)) {
		pr_err("reload of '%s' could not be applied; the running policy stays\n",
		       d->o->config);
		xm_conf_free(next);
		return;
	}
	xm_conf_free(d->conf);
	d->conf = next;
}

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

int xm_cmd_daemon(const struct daemon_opts *o)
{
	struct daemon d = { .o = o };
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

	pr_warn("running with '%s', pid %d\n", o->config, (int)getpid());
	while (!want_stop) {
		/* Signals are delivered only inside ppoll(): no wake-up is lost. */
		ppoll(NULL, 0, NULL, &orig);
		if (want_reload) {
			want_reload = 0;
			reload(&d);
		}
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	unlink(o->pidfile);
out:
	shutdown_daemon(&d);
	xm_conf_free(d.conf);
	return err;
}

int xm_cmd_reload(const char *pidfile, const char *pin_dir)
{
	struct xm_policy_maps pm;
	struct xm_config before, now;
	uint32_t base;
	FILE *f = fopen(pidfile, "r");
	int pid = 0, i, have_maps;

	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
		pr_err("no running daemon: cannot read a pid from '%s'%s%s\n", pidfile,
		       f ? "" : ": ", f ? "" : strerror(errno));
		if (f)
			fclose(f);
		return -ESRCH;
	}
	fclose(f);
	have_maps = !xm_policy_maps_open(pin_dir, &pm) && !xm_policy_current(&pm, &before, &base);
	if (kill(pid, SIGHUP)) {
		pr_err("cannot signal the daemon (pid %d): %s\n", pid, strerror(errno));
		if (have_maps)
			xm_policy_maps_close(&pm);
		return -errno;
	}
	if (!have_maps)
		return 0;
	/* A reload that took effect switched the epoch. */
	for (i = 0; i < 100; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (!xm_policy_current(&pm, &now, &base) && now.epoch != before.epoch) {
			xm_policy_maps_close(&pm);
			printf("policy epoch %u in force\n", now.epoch);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	xm_policy_maps_close(&pm);
	pr_err("the daemon kept its policy: the config has errors or could not be "
	       "applied (its log says which; xdp-mcast check -c FILE shows them)\n");
	return -ENOEXEC;
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
