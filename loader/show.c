// SPDX-License-Identifier: GPL-2.0-only
/* status and stats: read the pinned state, print it as text or JSON
 * (docs/json.md is the schema). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ifaces.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "snoop_ctr.h"
#include "stats.h"
#include "util.h"

struct link_state {
	uint32_t link_id;
	uint32_t prog_id;
	bool attached;
};

static struct link_state read_link(const char *dir, uint32_t ifindex)
{
	struct link_state ls = { 0 };
	struct bpf_link_info info = { 0 };
	uint32_t len = sizeof(info);
	char name[32], path[PATH_MAX];
	int fd;

	snprintf(name, sizeof(name), XM_PIN_LINK_FMT, ifindex);
	if (xm_pin_join(path, sizeof(path), dir, name))
		return ls;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return ls;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ls.link_id = info.id;
		ls.prog_id = info.prog_id;
		ls.attached = info.xdp.ifindex == ifindex;
	}
	close(fd);
	return ls;
}

static uint32_t map_capacity(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

static int count_keys(int fd, size_t key_size)
{
	char key[key_size], next[key_size];
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

int xm_cmd_status(const char *pin_dir, bool json)
{
	struct xm_iface_entry *ifs;
	struct xm_state st;
	char name[IF_NAMESIZE];
	int n, i, flows, err;

	err = xm_state_open(pin_dir, &st);
	if (err)
		return xm_report_not_loaded(pin_dir, err);
	n = xm_list_ifaces(st.ifaces_fd, &ifs);
	if (n < 0) {
		xm_state_close(&st);
		return n;
	}
	flows = count_keys(st.flows_fd, sizeof(struct xm_flow_key));

	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_string(&j, "pin_path", pin_dir);
		json_array_begin(&j, "interfaces");
		for (i = 0; i < n; i++) {
			struct link_state ls = read_link(pin_dir, ifs[i].ifindex);

			json_object_begin(&j, NULL);
			json_string(&j, "name", xm_iface_name(&ifs[i], name));
			json_u64(&j, "ifindex", ifs[i].ifindex);
			json_string(&j, "mode", xm_attach_mode_name(ifs[i].cfg.attach_mode));
			json_bool(&j, "attached", ls.attached);
			json_u64(&j, "link_id", ls.link_id);
			json_u64(&j, "prog_id", ls.prog_id);
			json_bool(&j, "tc_egress", xm_tc_attached(ifs[i].ifindex));
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_begin(&j, "maps");
		json_object_begin(&j, XM_MAP_FLOWS);
		json_u64(&j, "entries", flows);
		json_u64(&j, "max_entries", map_capacity(st.flows_fd));
		json_object_end(&j);
		json_object_begin(&j, XM_MAP_IFACES);
		json_u64(&j, "entries", n);
		json_u64(&j, "max_entries", XM_MAX_IFACES - 1);
		json_u64(&j, "max_ifindex", map_capacity(st.ifaces_fd) - 1);
		json_object_end(&j);
		json_object_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("pin path %s\n", pin_dir);
		printf("flows %d/%u, interfaces %d/%d (ifindex up to %u)\n", flows,
		       map_capacity(st.flows_fd), n, XM_MAX_IFACES - 1,
		       map_capacity(st.ifaces_fd) - 1);
		for (i = 0; i < n; i++) {
			struct link_state ls = read_link(pin_dir, ifs[i].ifindex);

			printf("%-16s ifindex %-5u %-6s ", xm_iface_name(&ifs[i], name),
			       ifs[i].ifindex, xm_attach_mode_name(ifs[i].cfg.attach_mode));
			if (ls.attached)
				printf("link %u prog %u%s\n", ls.link_id, ls.prog_id,
				       xm_tc_attached(ifs[i].ifindex) ? ", tc egress" :
				       ", tc egress missing");
			else
				printf("detached (interface gone or link removed)\n");
		}
	}
	free(ifs);
	xm_state_close(&st);
	return 0;
}

/* The registered interface a flow arrived on, or one with only its
 * ifindex when it was unloaded since. */
static struct xm_iface_entry flow_iface(const struct xm_iface_entry *ifs, int n,
					uint32_t ifindex)
{
	struct xm_iface_entry ie = { .ifindex = ifindex };
	int i;

	for (i = 0; i < n; i++)
		if (ifs[i].ifindex == ifindex)
			return ifs[i];
	return ie;
}

static void print_stats_text(struct xm_iface_entry *ifs, int n,
			     struct xm_counter (*reasons)[2][XM_REASON_SLOTS],
			     struct xm_flow_entry *flows, int nflows,
			     const uint64_t *globals)
{
	char name[IF_NAMESIZE], grp[XM_ADDR_STRLEN], src[XM_ADDR_STRLEN];
	uint64_t now = xm_now_mono_ns();
	int i, r, d;

	for (i = 0; i < n; i++) {
		printf("%s (ifindex %u, %s)\n", xm_iface_name(&ifs[i], name),
		       ifs[i].ifindex, xm_attach_mode_name(ifs[i].cfg.attach_mode));
		for (d = XM_DIR_IN; d <= XM_DIR_OUT; d++) {
			for (r = 0; r < XM_R_COUNT; r++) {
				const struct xm_counter *c = &reasons[i][d][r];

				if (!c->packets)
					continue;
				printf("  %-3s %-14s %12llu pkts %14llu bytes\n",
				       d == XM_DIR_IN ? "in" : "out", xm_reason_names[r],
				       (unsigned long long)c->packets,
				       (unsigned long long)c->bytes);
			}
		}
	}
	printf("\n%-12s %5s %-28s %-28s %10s %12s %7s\n", "IFACE", "VLAN", "GROUP",
	       "SOURCE", "PACKETS", "BYTES", "IDLE");
	for (i = 0; i < nflows; i++) {
		const struct xm_flow_entry *e = &flows[i];
		struct xm_iface_entry ie = flow_iface(ifs, n, e->key.ifindex);
		printf("%-12s %5u %-28s %-28s %10llu %12llu %6.1fs\n",
		       xm_iface_name(&ie, name), e->key.vlan,
		       xm_format_addr(e->key.family, e->key.group, grp, sizeof(grp)),
		       xm_format_addr(e->key.family, e->key.source, src, sizeof(src)),
		       (unsigned long long)e->flow.packets,
		       (unsigned long long)e->flow.bytes,
		       now > e->flow.last_seen_ns ? (now - e->flow.last_seen_ns) / 1e9 : 0.0);
	}
	printf("\n");
	for (i = 0; i < XM_G_COUNT; i++)
		printf("%s %" PRIu64 "%s", xm_global_names[i], globals[i],
		       i + 1 < XM_G_COUNT ? ", " : "\n");
}

static void json_reasons(struct json *j, const char *key,
			 const struct xm_counter *reasons)
{
	int r;

	json_object_begin(j, key);
	for (r = 0; r < XM_R_COUNT; r++) {
		json_object_begin(j, xm_reason_names[r]);
		json_u64(j, "packets", reasons[r].packets);
		json_u64(j, "bytes", reasons[r].bytes);
		json_object_end(j);
	}
	json_object_end(j);
}

/* The interface's row of snooping counters; zeros when there is none. */
static void read_snoop_row(int fd, uint32_t slot, uint64_t row[XM_SNOOP_SLOTS])
{
	uint32_t i, idx;

	for (i = 0; i < XM_SNOOP_SLOTS; i++) {
		idx = slot * XM_SNOOP_SLOTS + i;
		if (fd < 0 || bpf_map_lookup_elem(fd, &idx, &row[i]))
			row[i] = 0;
	}
}

static void json_snooping(struct json *j, int fd, uint32_t slot)
{
	uint64_t row[XM_SNOOP_SLOTS];
	const char *name;
	char buf[64];
	unsigned int i;

	read_snoop_row(fd, slot, row);
	json_object_begin(j, "snooping");
	for (i = 0; i < XM_SNOOP_SLOTS; i++)
		if ((name = xm_snoop_ctr_name(i, buf, sizeof(buf))))
			json_u64(j, name, row[i]);
	json_object_end(j);
}

static void print_stats_json(int snoop_fd, struct xm_iface_entry *ifs, int n,
			     struct xm_counter (*reasons)[2][XM_REASON_SLOTS],
			     struct xm_flow_entry *flows, int nflows,
			     const uint64_t *globals)
{
	char name[IF_NAMESIZE], addr[XM_ADDR_STRLEN];
	struct json j;
	int i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "interfaces");
	for (i = 0; i < n; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "name", xm_iface_name(&ifs[i], name));
		json_u64(&j, "ifindex", ifs[i].ifindex);
		json_string(&j, "mode", xm_attach_mode_name(ifs[i].cfg.attach_mode));
		json_reasons(&j, "reasons", reasons[i][XM_DIR_IN]);
		json_reasons(&j, "egress_reasons", reasons[i][XM_DIR_OUT]);
		json_snooping(&j, snoop_fd, ifs[i].cfg.slot);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "flows");
	for (i = 0; i < nflows; i++) {
		const struct xm_flow_entry *e = &flows[i];
		struct xm_iface_entry ie = flow_iface(ifs, n, e->key.ifindex);
		json_object_begin(&j, NULL);
		json_string(&j, "iface", xm_iface_name(&ie, name));
		json_u64(&j, "ifindex", e->key.ifindex);
		json_u64(&j, "vlan", e->key.vlan);
		json_string(&j, "family", xm_family_name(e->key.family));
		json_string(&j, "group", xm_format_addr(e->key.family, e->key.group,
							addr, sizeof(addr)));
		json_string(&j, "source", xm_format_addr(e->key.family, e->key.source,
							 addr, sizeof(addr)));
		json_u64(&j, "packets", e->flow.packets);
		json_u64(&j, "bytes", e->flow.bytes);
		json_double(&j, "first_seen", xm_mono_to_epoch(e->flow.first_seen_ns));
		json_double(&j, "last_seen", xm_mono_to_epoch(e->flow.last_seen_ns));
		json_string(&j, "last_reason", e->flow.last_reason < XM_R_COUNT ?
			    xm_reason_names[e->flow.last_reason] : "unknown");
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_begin(&j, "counters");
	for (i = 0; i < XM_G_COUNT; i++)
		json_u64(&j, xm_global_names[i], globals[i]);
	json_object_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

int xm_cmd_stats(const char *pin_dir, bool json, const char *ifname)
{
	struct xm_counter (*reasons)[2][XM_REASON_SLOTS] = NULL;
	struct xm_flow_entry *flows = NULL;
	struct xm_iface_entry *ifs = NULL;
	uint64_t globals[XM_G_COUNT] = { 0 };
	char name[IF_NAMESIZE];
	struct xm_state st;
	int n, nflows, i, kept, err;

	err = xm_state_open(pin_dir, &st);
	if (err)
		return xm_report_not_loaded(pin_dir, err);
	n = xm_list_ifaces(st.ifaces_fd, &ifs);
	if (n < 0) {
		err = n;
		goto out;
	}
	if (ifname) {
		for (i = kept = 0; i < n; i++)
			if (!strcmp(xm_iface_name(&ifs[i], name), ifname))
				ifs[kept++] = ifs[i];
		if (!kept) {
			pr_err("'%s' is not loaded\n", ifname);
			err = -ENODEV;
			goto out;
		}
		n = kept;
	}
	reasons = calloc(n ? n : 1, sizeof(*reasons));
	if (!reasons) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !err; i++) {
		err = xm_read_reasons(st.reasons_fd, XM_DIR_IN, ifs[i].cfg.slot,
				      reasons[i][XM_DIR_IN]);
		if (!err)
			err = xm_read_reasons(st.reasons_fd, XM_DIR_OUT, ifs[i].cfg.slot,
					      reasons[i][XM_DIR_OUT]);
	}
	if (!err)
		err = xm_read_globals(st.global_fd, globals);
	if (err) {
		pr_err("cannot read counters: %s\n", strerror(-err));
		goto out;
	}
	nflows = xm_read_flows(st.flows_fd, st.flow_cache_fd, &flows);
	if (nflows < 0) {
		err = nflows;
		pr_err("cannot read the flow table: %s\n", strerror(-err));
		goto out;
	}
	if (ifname) {
		for (i = kept = 0; i < nflows; i++)
			if (flows[i].key.ifindex == ifs[0].ifindex)
				flows[kept++] = flows[i];
		nflows = kept;
	}
	if (json) {
		char path[PATH_MAX];
		int fd = -1;

		if (!xm_pin_join(path, sizeof(path), pin_dir, XM_MAP_SNOOP_CTR))
			fd = bpf_obj_get(path);
		print_stats_json(fd, ifs, n, reasons, flows, nflows, globals);
		if (fd >= 0)
			close(fd);
	} else {
		print_stats_text(ifs, n, reasons, flows, nflows, globals);
	}
out:
	free(flows);
	free(reasons);
	free(ifs);
	xm_state_close(&st);
	return err;
}
