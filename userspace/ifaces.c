// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_vlan.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>

#include "ifaces.h"

#define IFACE_BATCH 1024

int xm_ifaces_read_all(int ifaces_fd, struct xm_iface **out)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), in_batch, out_batch, count, *keys, got = 0;
	struct xm_iface *vals;
	void *in = NULL;
	int rc, err = 0;

	if (bpf_obj_get_info_by_fd(ifaces_fd, &info, &len))
		return -errno;
	vals = calloc(info.max_entries, sizeof(*vals));
	keys = calloc(info.max_entries, sizeof(*keys));
	if (!vals || !keys) {
		err = -ENOMEM;
		goto out;
	}
	while (got < info.max_entries) {
		count = info.max_entries - got;
		rc = bpf_map_lookup_batch(ifaces_fd, in, &out_batch, keys + got,
					  vals + got, &count, NULL);
		if (rc && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		got += count;
		if (rc)
			break;
		in_batch = out_batch;
		in = &in_batch;
	}
out:
	free(keys);
	if (err) {
		free(vals);
		return err;
	}
	*out = vals;
	return (int)info.max_entries;
}

int xm_list_ifaces(int ifaces_fd, struct xm_iface_entry **out)
{
	struct xm_iface_entry *v = calloc(XM_MAX_IFACES, sizeof(*v));
	struct xm_iface *vals = calloc(IFACE_BATCH, sizeof(*vals));
	uint32_t *keys = calloc(IFACE_BATCH, sizeof(*keys));
	uint32_t in_batch, out_batch, count, i;
	void *in = NULL;
	int n = 0, rc, err = 0;

	if (!v || !vals || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = IFACE_BATCH;
		rc = bpf_map_lookup_batch(ifaces_fd, in, &out_batch, keys, vals, &count, NULL);
		if (rc && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		for (i = 0; i < count && n < XM_MAX_IFACES; i++) {
			if (!vals[i].slot)
				continue;
			v[n].ifindex = keys[i];
			v[n].cfg = vals[i];
			n++;
		}
		if (rc)
			break;
		in_batch = out_batch;
		in = &in_batch;
	}
out:
	free(vals);
	free(keys);
	if (err) {
		free(v);
		return err;
	}
	*out = v;	/* array order is ifindex order */
	return n;
}

int xm_iface_unregister(int ifaces_fd, uint32_t ifindex)
{
	struct xm_iface zero = { 0 };

	return bpf_map_update_elem(ifaces_fd, &ifindex, &zero, BPF_ANY) ? -errno : 0;
}

const char *xm_iface_name(const struct xm_iface_entry *e, char buf[IF_NAMESIZE])
{
	if (if_indextoname(e->ifindex, buf))
		return buf;
	snprintf(buf, IF_NAMESIZE, "%.*s", IF_NAMESIZE - 1, e->cfg.name);
	return buf;
}

const char *xm_attach_mode_name(uint8_t mode)
{
	return mode == XM_ATTACH_SKB ? "skb" : "native";
}

int xm_iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	memset(mac, 0, 6);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else if (ifr.ifr_hwaddr.sa_family == 1 /* ARPHRD_ETHER */)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

int xm_iface_port(uint32_t ifindex, uint32_t *lower, uint16_t *vid)
{
	struct vlan_ioctl_args va = { 0 };
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];
	unsigned int link = 0;
	FILE *f;
	int fd;

	*lower = ifindex;
	*vid = 0;
	if (!if_indextoname(ifindex, name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	va.cmd = GET_VLAN_VID_CMD;
	snprintf(va.device1, sizeof(va.device1), "%s", name);
	if (ioctl(fd, SIOCGIFVLAN, &va)) {
		close(fd);
		return 0;	/* not a VLAN device */
	}
	close(fd);
	snprintf(path, sizeof(path), "/sys/class/net/%s/iflink", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &link) == 1 && link) {
		*lower = link;
		*vid = va.u.VID & 0x0fff;
	}
	fclose(f);
	return 0;
}
