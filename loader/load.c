// SPDX-License-Identifier: GPL-2.0-only
/*
 * load and unload: open the object, load it once, pin program, maps and one
 * link per interface under the pin directory.  A second load adopts what is
 * pinned and only attaches the new interfaces.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "ifaces.h"
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "stats.h"
#include "util.h"
#include "xdp_mcast.skel.h"

int xm_report_not_loaded(const char *pin_dir, int err)
{
	if (err == -ENOENT)
		pr_err("nothing is loaded under '%s' (xdp-mcast load IFACE...)\n", pin_dir);
	else
		pr_err("cannot open the pinned maps under '%s': %s\n", pin_dir,
		       strerror(-err));
	return err;
}

static int link_pin_path(char *buf, size_t len, const char *dir, uint32_t ifindex)
{
	char name[32];

	snprintf(name, sizeof(name), XM_PIN_LINK_FMT, ifindex);
	return xm_pin_join(buf, len, dir, name);
}

/* The size of an already pinned map, 0 when there is none. */
static uint32_t pinned_capacity(const char *dir, const char *map)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	if (xm_pin_join(path, sizeof(path), dir, map))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

/* The sizes chosen at first load; a pinned map keeps its size. */
struct sized_map {
	const char *name;
	const char *option;
	uint32_t asked;		/* 0: not given */
	uint32_t dflt;
};

static uint32_t choose_size(const char *dir, const struct sized_map *m)
{
	uint32_t pinned = pinned_capacity(dir, m->name);

	if (pinned && m->asked && m->asked != pinned)
		pr_warn("keeping the pinned %s of %u entries (%s %u given); "
			"unload --all to resize\n", m->name, pinned, m->option, m->asked);
	if (pinned)
		return pinned;
	return m->asked ? m->asked : m->dflt;
}

static int pin_prog(struct bpf_program *prog, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int err = xm_pin_join(path, sizeof(path), dir, name);

	if (!err && bpf_obj_pin(bpf_program__fd(prog), path))
		err = -errno;
	if (err)
		pr_err("cannot pin the program at '%s/%s': %s\n", dir, name, strerror(-err));
	return err;
}

static int load_progs(const struct load_opts *o, struct xm_progs *pr)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = o->pin_dir);
	struct sized_map flows = { XM_MAP_FLOWS, "--flows", o->flows, XM_FLOWS_DEFAULT };
	struct sized_map ifaces = { XM_MAP_IFACES, "--max-ifindex", o->max_ifindex,
				    XM_IFINDEX_DEFAULT };
	struct sized_map pol = { XM_MAP_RULE_SRC, "--policy-size", o->policy_size,
				 XM_POLICY_DEFAULT };
	struct sized_map grp = { XM_MAP_MEMBERS, "--groups", o->groups, XM_MEMBERS_DEFAULT };
	struct sized_map gsrc = { XM_MAP_MEMBER_SRC, "--group-sources", o->group_sources,
				  XM_MEMBER_SRC_DEFAULT };
	struct xdp_mcast_bpf *skel;
	uint32_t nflows, nifaces, npol;
	int err;

	skel = xdp_mcast_bpf__open_opts(&oo);
	if (!skel) {
		err = -errno;
		pr_err("cannot open the XDP object: %s\n", strerror(errno));
		return err;
	}
	skel->rodata->cfg_check_mac = o->check_mac;
	nflows = choose_size(o->pin_dir, &flows);
	nifaces = choose_size(o->pin_dir, &ifaces);
	npol = choose_size(o->pin_dir, &pol);
	bpf_map__set_max_entries(skel->maps.xm_flows, nflows);
	bpf_map__set_max_entries(skel->maps.xm_ifaces, nifaces);
	bpf_map__set_max_entries(skel->maps.xm_boundary, npol);
	bpf_map__set_max_entries(skel->maps.xm_rule_grp, npol);
	bpf_map__set_max_entries(skel->maps.xm_rule_src, npol);
	bpf_map__set_max_entries(skel->maps.xm_pol_hits, 2 * npol);
	bpf_map__set_max_entries(skel->maps.xm_pol_desc, 2 * npol);
	bpf_map__set_max_entries(skel->maps.xm_members, choose_size(o->pin_dir, &grp));
	bpf_map__set_max_entries(skel->maps.xm_member_src, choose_size(o->pin_dir, &gsrc));

	err = xdp_mcast_bpf__load(skel);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			pr_err("cannot load the XDP program: %s (needs root, or CAP_BPF, "
			       "CAP_NET_ADMIN and CAP_PERFMON)\n", strerror(-err));
		else
			pr_err("cannot load the XDP program: %s (-v shows the verifier log)\n",
			       strerror(-err));
		goto out;
	}
	err = pin_prog(skel->progs.xdp_mcast, o->pin_dir, XM_PIN_PROG);
	if (!err)
		err = pin_prog(skel->progs.tc_mcast_egress, o->pin_dir, XM_PIN_TC_PROG);
	if (!err)
		err = pin_prog(skel->progs.xdp_mcast_egress, o->pin_dir, XM_PIN_EGRESS_PROG);
	if (err)
		goto out;
	pr->xdp_fd = dup(bpf_program__fd(skel->progs.xdp_mcast));
	pr->tc_fd = dup(bpf_program__fd(skel->progs.tc_mcast_egress));
	if (pr->xdp_fd < 0 || pr->tc_fd < 0)
		err = -errno;
	pr_info("loaded the programs: flow table %u, ifindex up to %u, policy tables %u, "
		"MAC check %s\n", nflows, nifaces - 1, npol, o->check_mac ? "on" : "off");
out:
	xdp_mcast_bpf__destroy(skel);
	return err;
}

/* Every map this version pins is there: what a later load adopts must be
 * what this version's programs use. */
static bool pinned_state_complete(const char *dir)
{
	static const char *const maps[] = {
		XM_MAP_IFACES, XM_MAP_REASONS, XM_MAP_FLOWS, XM_MAP_GLOBAL,
		XM_MAP_FLOW_CACHE, XM_MAP_CONFIG, XM_MAP_BOUNDARY, XM_MAP_RULE_GRP,
		XM_MAP_RULE_SRC, XM_MAP_POL_HITS, XM_MAP_POL_DESC, XM_MAP_CTRL_RING,
		XM_MAP_MEMBERS, XM_MAP_MEMBER_SRC, XM_MAP_SNOOP_CTR, XM_MAP_FWD,
		XM_MAP_FWD_WILD, XM_MAP_FWD_PORTS, XM_PIN_EGRESS_PROG,
	};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(maps); i++)
		if (xm_pin_join(path, sizeof(path), dir, maps[i]) || access(path, F_OK))
			return false;
	return true;
}

int xm_progs_get(const struct load_opts *o, struct xm_progs *pr)
{
	char xdp[PATH_MAX], tc[PATH_MAX];
	int err;

	pr->xdp_fd = pr->tc_fd = -1;
	err = xm_pin_join(xdp, sizeof(xdp), o->pin_dir, XM_PIN_PROG);
	if (!err)
		err = xm_pin_join(tc, sizeof(tc), o->pin_dir, XM_PIN_TC_PROG);
	if (err)
		return err;
	pr->xdp_fd = bpf_obj_get(xdp);
	pr->tc_fd = bpf_obj_get(tc);
	if ((pr->xdp_fd >= 0 || pr->tc_fd >= 0) && !pinned_state_complete(o->pin_dir)) {
		pr_err("the state pinned under '%s' is from another version of xdp-mcast; "
		       "unload --all first (this detaches every interface)\n", o->pin_dir);
		xm_progs_close(pr);
		return -ESTALE;
	}
	if (pr->xdp_fd >= 0 && pr->tc_fd >= 0) {
		struct sized_map sizes[] = {
			{ XM_MAP_FLOWS, "--flows", o->flows, 0 },
			{ XM_MAP_IFACES, "--max-ifindex", o->max_ifindex, 0 },
			{ XM_MAP_RULE_SRC, "--policy-size", o->policy_size, 0 },
			{ XM_MAP_MEMBERS, "--groups", o->groups, 0 },
			{ XM_MAP_MEMBER_SRC, "--group-sources", o->group_sources, 0 },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(sizes); i++)
			choose_size(o->pin_dir, &sizes[i]);
		pr_debug("adopting the programs pinned under '%s'\n", o->pin_dir);
		return 0;
	}
	xm_progs_close(pr);
	return load_progs(o, pr);
}

void xm_progs_close(struct xm_progs *pr)
{
	if (pr->xdp_fd >= 0)
		close(pr->xdp_fd);
	if (pr->tc_fd >= 0)
		close(pr->tc_fd);
	pr->xdp_fd = pr->tc_fd = -1;
}

static int alloc_slot(int ifaces_fd, uint32_t ifindex, uint32_t *slot)
{
	struct xm_iface_entry *v;
	bool used[XM_MAX_IFACES] = { [0] = true };
	int n, i;

	n = xm_list_ifaces(ifaces_fd, &v);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (v[i].ifindex == ifindex) {
			*slot = v[i].cfg.slot;
			free(v);
			return 0;
		}
		if (v[i].cfg.slot < XM_MAX_IFACES)
			used[v[i].cfg.slot] = true;
	}
	free(v);
	for (i = 1; i < XM_MAX_IFACES; i++) {
		if (!used[i]) {
			*slot = i;
			return 1;	/* a new slot: its counters need clearing */
		}
	}
	return -ENOSPC;
}

/* Is the link pinned at path still attached to ifindex? */
static bool link_alive(const char *path, uint32_t ifindex)
{
	struct bpf_link_info info = { 0 };
	uint32_t len = sizeof(info);
	bool alive;
	int fd;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	alive = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		info.type == BPF_LINK_TYPE_XDP && info.xdp.ifindex == ifindex;
	close(fd);
	return alive;
}

static void explain_attach_error(const char *ifname, enum xm_attach_mode mode, int err)
{
	switch (-err) {
	case EBUSY:
	case EEXIST:
		pr_err("cannot attach to '%s': another XDP program is attached; "
		       "detach it first (ip link set dev %s xdp off)\n", ifname, ifname);
		break;
	case EPERM:
	case EACCES:
		pr_err("cannot attach to '%s': %s (needs root, or CAP_BPF and CAP_NET_ADMIN)\n",
		       ifname, strerror(-err));
		break;
	case EOPNOTSUPP:
	case EINVAL:
		if (mode == XM_ATTACH_NATIVE) {
			pr_err("cannot attach to '%s' in native mode: %s (try --mode skb)\n",
			       ifname, strerror(-err));
			break;
		}
		/* fall through */
	default:
		pr_err("cannot attach to '%s' in %s mode: %s\n", ifname,
		       xm_attach_mode_name(mode), strerror(-err));
	}
}

#define XM_TC_HANDLE	1
#define XM_TC_PRIORITY	0x4d43	/* "MC" */

/* The egress program on clsact egress, replacing our own earlier one.  The
 * clsact qdisc is created only when attaching finds none. */
static int tc_attach(int tc_fd, uint32_t ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XM_TC_HANDLE, .priority = XM_TC_PRIORITY,
		    .prog_fd = tc_fd, .flags = BPF_TC_F_REPLACE);
	int err;

	xm_log_quiet_libbpf(true);	/* no clsact yet is the usual case */
	err = bpf_tc_attach(&hook, &opts);
	xm_log_quiet_libbpf(false);
	if (!err)
		return 0;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("cannot add a clsact qdisc to '%s': %s\n", ifname, strerror(-err));
		return err;
	}
	opts.prog_id = 0;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_err("cannot attach the egress program to '%s': %s\n", ifname, strerror(-err));
	return err;
}

/* Remove our egress filter; the clsact qdisc stays for whoever else uses it. */
static void tc_detach(uint32_t ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XM_TC_HANDLE, .priority = XM_TC_PRIORITY);

	bpf_tc_detach(&hook, &opts);
}

bool xm_tc_attached(uint32_t ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XM_TC_HANDLE, .priority = XM_TC_PRIORITY);

	return bpf_tc_query(&hook, &opts) == 0;
}

static int attach_one(const struct load_opts *o, struct xm_state *st,
		      const struct xm_progs *pr, const char *ifname, uint32_t ifindex)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct xm_iface cfg = { 0 };
	char path[PATH_MAX];
	uint32_t slot;
	int fresh, link_fd, err;

	err = link_pin_path(path, sizeof(path), o->pin_dir, ifindex);
	if (err)
		return err;
	if (link_alive(path, ifindex)) {
		pr_info("'%s' is already loaded\n", ifname);
		return tc_attach(pr->tc_fd, ifindex, ifname);
	}
	unlink(path);	/* a stale pin of an interface that went away */

	if (bpf_map_lookup_elem(st->ifaces_fd, &ifindex, &cfg)) {
		pr_err("cannot attach to '%s': its ifindex %u is beyond the interface "
		       "table (load with a larger --max-ifindex after unload --all)\n",
		       ifname, ifindex);
		return -ERANGE;
	}
	fresh = alloc_slot(st->ifaces_fd, ifindex, &slot);
	if (fresh < 0) {
		pr_err("cannot attach to '%s': all %d interface slots are taken\n",
		       ifname, XM_MAX_IFACES - 1);
		return fresh;
	}
	if (fresh && (err = xm_clear_reasons(st->reasons_fd, slot)))
		return err;
	cfg.slot = slot;	/* pol[] stays: the policy may name it already */
	cfg.attach_mode = o->mode;
	cfg.fwd_mode = XM_FWD_FILTER;
	cfg.fwd_role = XM_ROLE_NONE;
	cfg.egress_vlan = 0;
	xm_iface_mac(ifname, cfg.mac);
	snprintf(cfg.name, sizeof(cfg.name), "%s", ifname);
	if (bpf_map_update_elem(st->ifaces_fd, &ifindex, &cfg, BPF_ANY))
		return -errno;

	lo.flags = o->mode == XM_ATTACH_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	link_fd = bpf_link_create(pr->xdp_fd, ifindex, BPF_XDP, &lo);
	if (link_fd < 0) {
		err = -errno;
		explain_attach_error(ifname, o->mode, err);
		goto undo;
	}
	if (bpf_obj_pin(link_fd, path)) {
		err = -errno;
		pr_err("cannot pin the link of '%s' at '%s': %s\n", ifname, path,
		       strerror(errno));
		close(link_fd);
		goto undo;
	}
	close(link_fd);
	err = tc_attach(pr->tc_fd, ifindex, ifname);
	if (err) {
		unlink(path);
		goto undo;
	}
	pr_info("attached to '%s' (ifindex %u) in %s mode\n", ifname, ifindex,
		xm_attach_mode_name(o->mode));
	return 0;
undo:
	xm_iface_unregister(st->ifaces_fd, ifindex);
	return err;
}

int xm_load_begin(const struct load_opts *o, struct xm_load_ctx *lc)
{
	bool mounted;
	int err;

	lc->o = o;
	lc->lock_fd = -1;
	lc->progs = (struct xm_progs){ -1, -1 };
	lc->st = (struct xm_state){ -1, -1, -1, -1, -1 };
	err = xm_bpffs_ensure(o->pin_dir, &mounted);
	if (err)
		return err;
	if (mounted)
		pr_warn("mounted a bpffs on /sys/fs/bpf; under 'ip netns exec' that mount, "
			"and the pins with it, vanish when this command exits: "
			"use --pin-path on a bpffs mounted outside /sys\n");
	lc->lock_fd = xm_pin_lock(o->pin_dir, true);
	if (lc->lock_fd < 0) {
		err = lc->lock_fd;
		pr_err("cannot lock '%s': %s\n", o->pin_dir, strerror(-err));
		return err;
	}
	err = xm_progs_get(o, &lc->progs);
	if (!err) {
		err = xm_state_open(o->pin_dir, &lc->st);
		if (err)
			xm_report_not_loaded(o->pin_dir, err);
	}
	if (err)
		xm_load_end(lc);
	return err;
}

int xm_load_attach(struct xm_load_ctx *lc, const char *ifname, enum xm_attach_mode mode)
{
	struct load_opts o = *lc->o;
	uint32_t ifindex = if_nametoindex(ifname);

	if (!ifindex) {
		pr_err("unknown interface '%s'\n", ifname);
		return -ENODEV;
	}
	o.mode = mode;
	return attach_one(&o, &lc->st, &lc->progs, ifname, ifindex);
}

/* Safe to call twice. */
void xm_load_end(struct xm_load_ctx *lc)
{
	xm_progs_close(&lc->progs);
	xm_state_close(&lc->st);
	if (lc->lock_fd >= 0)
		close(lc->lock_fd);
	lc->lock_fd = -1;
}

int xm_cmd_load(const struct load_opts *o, char **ifnames, int n)
{
	struct xm_load_ctx lc;
	int i, err;

	for (i = 0; i < n; i++) {
		if (!if_nametoindex(ifnames[i])) {
			pr_err("unknown interface '%s'\n", ifnames[i]);
			return -ENODEV;
		}
	}
	err = xm_load_begin(o, &lc);
	for (i = 0; i < n && !err; i++)
		err = xm_load_attach(&lc, ifnames[i], o->mode);
	xm_load_end(&lc);
	return err;
}

/* Remove every pin and the directory itself. */
static int remove_all(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (xm_pin_join(path, sizeof(path), dir, de->d_name) || unlink(path)) {
			err = -errno;
			pr_err("cannot remove '%s/%s': %s\n", dir, de->d_name, strerror(errno));
		}
	}
	closedir(d);
	if (!err && rmdir(dir)) {
		err = -errno;
		pr_err("cannot remove '%s': %s\n", dir, strerror(errno));
	}
	return err;
}

static int find_iface(int ifaces_fd, const char *name, uint32_t *ifindex)
{
	struct xm_iface_entry *v;
	char buf[IF_NAMESIZE];
	int n, i, err = -ENODEV;

	*ifindex = if_nametoindex(name);
	n = xm_list_ifaces(ifaces_fd, &v);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if ((*ifindex && v[i].ifindex == *ifindex) ||
		    (!*ifindex && !strcmp(xm_iface_name(&v[i], buf), name))) {
			*ifindex = v[i].ifindex;
			err = 0;
			break;
		}
	}
	free(v);
	return err;
}

/* Detach one interface: its link pin (which detaches XDP), its TC filter
 * and its entry.  The shared state stays. */
static int detach_one(const char *pin_dir, struct xm_state *st, const char *ifname)
{
	char path[PATH_MAX];
	uint32_t ifindex;

	if (find_iface(st->ifaces_fd, ifname, &ifindex)) {
		pr_err("'%s' is not loaded\n", ifname);
		return -ENODEV;
	}
	link_pin_path(path, sizeof(path), pin_dir, ifindex);
	if (unlink(path) && errno != ENOENT) {
		int err = -errno;

		pr_err("cannot remove '%s': %s\n", path, strerror(errno));
		return err;
	}
	tc_detach(ifindex);
	xm_iface_unregister(st->ifaces_fd, ifindex);
	pr_info("detached from '%s'\n", ifname);
	return 0;
}

int xm_load_detach(struct xm_load_ctx *lc, const char *ifname)
{
	return detach_one(lc->o->pin_dir, &lc->st, ifname);
}

int xm_cmd_unload(const char *pin_dir, char **ifnames, int n, bool all)
{
	struct xm_iface_entry *left;
	struct xm_state st;
	int i, lock_fd, remaining, err = 0;

	lock_fd = xm_pin_lock(pin_dir, false);
	if (lock_fd < 0) {
		if (lock_fd == -ENOENT && all)
			return 0;	/* nothing to do is not an error */
		return xm_report_not_loaded(pin_dir, lock_fd);
	}
	err = xm_state_open(pin_dir, &st);
	if (err && all) {
		err = remove_all(pin_dir);	/* whatever is left of a broken state */
		goto out;
	}
	if (err) {
		xm_report_not_loaded(pin_dir, err);
		goto out;
	}
	if (all) {
		remaining = xm_list_ifaces(st.ifaces_fd, &left);
		for (i = 0; i < remaining; i++)
			tc_detach(left[i].ifindex);
		if (remaining >= 0)
			free(left);
		xm_state_close(&st);
		err = remove_all(pin_dir);
		goto out;
	}
	for (i = 0; i < n && !err; i++)
		err = detach_one(pin_dir, &st, ifnames[i]);
	remaining = xm_list_ifaces(st.ifaces_fd, &left);
	if (remaining >= 0)
		free(left);
	xm_state_close(&st);
	if (!err && remaining == 0)
		err = remove_all(pin_dir);
out:
	close(lock_fd);
	return err;
}
