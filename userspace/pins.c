// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "log.h"
#include "pins.h"
#include "xdp_mcast_kern_user.h"

#define BPFFS_ROOT "/sys/fs/bpf"

const char *xm_pin_dir(const char *opt)
{
	const char *env = getenv(XM_PIN_ENV);

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	return XM_PIN_DEFAULT;
}

int xm_pin_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* 1 on a bpffs, 0 elsewhere, a negative errno when path cannot be seen. */
static int on_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return errno == ENOENT ? 0 : -errno;
	return st.f_type == BPF_FS_MAGIC;
}

int xm_bpffs_ensure(const char *dir, bool *mounted)
{
	char parent[PATH_MAX];
	char *slash;
	int err;

	*mounted = false;
	if (snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		pr_err("pin path '%s' must be a directory below a bpffs mount\n", dir);
		return -EINVAL;
	}
	*slash = '\0';
	err = on_bpffs(parent);
	if (err < 0) {
		pr_err("cannot look at '%s': %s\n", parent, strerror(-err));
		return err;
	}
	if (err)
		return 0;

	if (strcmp(parent, BPFFS_ROOT) != 0) {
		pr_err("'%s' is not on a bpffs; mount one first (mount -t bpf bpf %s)\n",
		       parent, parent);
		return -ENOTDIR;
	}
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		err = -errno;
		pr_err("cannot mount bpffs on %s: %s\n", BPFFS_ROOT, strerror(errno));
		return err;
	}
	*mounted = true;
	return 0;
}

int xm_pin_lock(const char *dir, bool create)
{
	int fd;

	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		pr_err("cannot create pin directory '%s': %s\n", dir, strerror(errno));
		return err;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int open_pinned(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	err = xm_pin_join(path, sizeof(path), dir, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int xm_state_open(const char *dir, struct xm_state *st)
{
	struct { int *fd; const char *name; } maps[] = {
		{ &st->ifaces_fd, XM_MAP_IFACES },
		{ &st->reasons_fd, XM_MAP_REASONS },
		{ &st->flows_fd, XM_MAP_FLOWS },
		{ &st->global_fd, XM_MAP_GLOBAL },
		{ &st->flow_cache_fd, XM_MAP_FLOW_CACHE },
	};
	size_t i;

	st->ifaces_fd = st->reasons_fd = st->flows_fd = st->global_fd = -1;
	st->flow_cache_fd = -1;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		*maps[i].fd = open_pinned(dir, maps[i].name);
		if (*maps[i].fd < 0) {
			int err = *maps[i].fd;

			xm_state_close(st);
			return err;
		}
	}
	return 0;
}

void xm_state_close(struct xm_state *st)
{
	int *fds[] = { &st->ifaces_fd, &st->reasons_fd, &st->flows_fd, &st->global_fd,
		       &st->flow_cache_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
