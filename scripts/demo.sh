#!/usr/bin/env bash
# `make demo`: xdp-mcast on a router in network namespaces, with live traffic.
#
# Builds a source host, a router and three receiver hosts (tests/ns/lib.sh),
# attaches xdp-mcast to the router's four interfaces, starts smcroute with
# static multicast routes (or, on a kernel without multicast routing, the
# xdp-mcast daemon forwarding the same routes in accelerate mode), sends six streams (two sources to one group, an
# IPv6 group, a TTL-1 stream and link-local mDNS), prints what xdp-mcast
# counts every second, then what each receiver got, and removes everything.
# Builds nothing itself: `make demo` builds first.  Needs root.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root for network namespaces and XDP; run: sudo make demo" >&2
	exit 77
fi
SECS=${DEMO_SECONDS:-6}
. tests/ns/lib.sh

XM=$XM_BUILD/xdp-mcast
GEN=$XM_BUILD/mcast-gen
for need in "$XM" "$GEN"; do
	[ -x "$need" ] || { echo "demo: $need is missing; run make demo (it builds first)" >&2; exit 1; }
done
# Who forwards: the kernel's multicast routing, driven by smcroute, with
# xdp-mcast filtering; or, on a kernel built without multicast routing,
# xdp-mcast itself in accelerate mode, from the same routes.
if NO_MROUTE=$(kernel_mroute_missing); then
	FORWARDER=xdp-mcast
else
	FORWARDER=kernel
	command -v smcrouted >/dev/null || { echo "demo: smcrouted is missing; run make deps" >&2; exit 1; }
fi

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
[ -t 1 ] || bold() { printf '\n== %s\n' "$*"; }
xm() { ip netns exec "$NS_RTR" "$XM" --pin-path "$PIN" "$@"; }

bold "1. Topology: a source, a router and three receivers, in network namespaces"
topo_create 3 || { echo "demo: cannot build the topology" >&2; exit 1; }
cat <<EOF
                              +--------+ dn1 --- h1 10.10.1.2  fd10:0:0:1::2
  src 10.10.0.2 --------- up0 | router | dn2 --- h2 10.10.2.2  fd10:0:0:2::2
      10.10.0.3  fd10::2      +--------+ dn3 --- h3 10.10.3.2  fd10:0:0:3::2
  (namespaces $NS_SRC, $NS_RTR, ${NS_HOST[1]} ...)
EOF

bold "2. xdp-mcast load --mode native up0 dn1 dn2 dn3   (on the router)"
BPFFS=$(bpffs_create)
PIN=$BPFFS/xm
xm load --mode native up0 dn1 dn2 dn3 || { echo "demo: xdp-mcast load failed" >&2; exit 1; }
wait_until 5 topo_links_up
xm status | sed 's/^./  &/'

ROUTES="mroute from up0 group 239.1.1.1 to dn1 dn2
mroute from up0 source $SRC_IP4 group 239.2.2.2 to dn2 dn3
mroute from up0 group 239.3.3.3 to dn1
mroute from up0 group ff0e::114 to dn1 dn3"
if [ "$FORWARDER" = kernel ]; then
	bold "3. smcroute: the kernel forwards by these static routes"
	smcroute_start "phyint up0 enable
phyint dn1 enable
phyint dn2 enable
phyint dn3 enable
$ROUTES" || { echo "demo: smcrouted did not start; see $SMC_LOG" >&2; exit 1; }
else
	bold "3. xdp-mcast daemon, accelerate mode: XDP forwards by these static routes"
	echo "  ($NO_MROUTE: the kernel cannot forward multicast here)"
	# A frame redirected into a veth needs NAPI on the receiving end.
	for h in 1 2 3; do
		ip -n "${NS_HOST[$h]}" link set dev eth0 xdp obj "$XM_BUILD/bpf/xdp_pass.bpf.o" \
			sec xdp || { echo "demo: cannot attach xdp_pass to h$h" >&2; exit 1; }
	done
	# A veth hands its peer UDP with the checksum left to offload; a frame
	# XDP redirects keeps it partial (a NIC fills it in on the wire), so the
	# source computes its checksums itself (docs/accelerate.md).
	tx_csum_off "$NS_SRC" eth0 ||
		{ echo "demo: cannot turn off the source's checksum offload" >&2; exit 1; }
	CONF=$XM_TMP/xdp-mcast.conf
	printf 'phyint %s forwarding accelerate\n' up0 dn1 dn2 dn3 >"$CONF"
	echo "$ROUTES" >>"$CONF"
	export XDP_MCAST_PIN_PATH=$PIN
	xmd_start xmd "$NS_RTR" "$CONF" ||
		{ echo "demo: the daemon did not start" >&2; exit 1; }
	wait_until 5 topo_links_up
fi
echo "$ROUTES" | sed 's/^/  /'

# Receivers: name, namespace, interface, group, extra options.
RECEIVERS=(
	"h1 ${NS_HOST[1]} eth0 239.1.1.1"
	"h2 ${NS_HOST[2]} eth0 239.1.1.1 --source $SRC_IP4"
	"h2 ${NS_HOST[2]} eth0 239.2.2.2"
	"h3 ${NS_HOST[3]} eth0 239.2.2.2"
	"h1 ${NS_HOST[1]} eth0 239.3.3.3"
	"h1 ${NS_HOST[1]} eth0 ff0e::114"
	"h3 ${NS_HOST[3]} eth0 ff0e::114"
	"h3 ${NS_HOST[3]} eth0 224.0.0.251"
	"router $NS_RTR up0 224.0.0.251"
)
i=0 rpids=() rfiles=()
for rc in "${RECEIVERS[@]}"; do
	read -r who ns ifc grp extra <<<"$rc"
	# shellcheck disable=SC2086
	ns_bg "$ns" "$XM_TMP/r$i.json" "$XM_TMP/r$i.err" "$GEN" recv -g "$grp" -I "$ifc" \
		$extra -T $((SECS + 10)) --ready-file "$XM_TMP/r$i.ready"
	rpids+=("$BG_PID") rfiles+=("$XM_TMP/r$i")
	i=$((i + 1))
done
all_ready() {
	local f
	for f in "${rfiles[@]}"; do [ -e "$f.ready" ] || return 1; done
}
wait_until 10 all_ready || echo "demo: not every receiver joined: $(cat "$XM_TMP"/r*.err)" >&2

bold "4. Streams from the source (mcast-gen send), for about $SECS seconds"
# group, source, packets per second, payload bytes, TTL, what to expect
STREAMS=(
	"239.1.1.1   $SRC_IP4  50 200   8 routed to h1 and h2"
	"239.1.1.1   $SRC2_IP4 20 500   8 routed to h1; h2 joined only $SRC_IP4"
	"239.2.2.2   $SRC_IP4  30 300   8 routed to h2 and h3"
	"239.3.3.3   $SRC_IP4  10 100   1 TTL 1: counted ttl_expired, never forwarded"
	"224.0.0.251 $SRC_IP4   5  80 255 link-local (mDNS): for the router only"
	"ff0e::114   $SRC_IP6  20 120   8 IPv6, routed to h1 and h3"
)
printf '  %-12s %-10s %4s %5s %4s  %s\n' GROUP SOURCE PPS BYTES TTL ""
sfiles=()
for s in "${STREAMS[@]}"; do
	read -r grp src pps size ttl what <<<"$s"
	printf '  %-12s %-10s %4s %5s %4s  %s\n' "$grp" "$src" "$pps" "$size" "$ttl" "$what"
	ns_bg "$NS_SRC" "$XM_TMP/s$i.json" "$XM_TMP/s$i.err" "$GEN" send -g "$grp" --source "$src" \
		-I eth0 -r "$pps" -s "$size" -t "$ttl" -n $((pps * SECS))
	sfiles+=("$XM_TMP/s$i")
	i=$((i + 1))
done

TABLE_PY='
import json, sys
cur = json.load(open(sys.argv[1]))
try:
    prev = {(f["iface"], f["group"], f["source"]): f["packets"]
            for f in json.load(open(sys.argv[2]))["flows"]}
except Exception:
    prev = {}
def control(f):  # IPv6 neighbour discovery and MLD reports: shown as a count
    return f["group"].startswith("ff02:")
rows = [f for f in cur["flows"] if not control(f)]
print("  %-5s %-12s %-10s %9s %10s %6s  %s" % ("IFACE", "GROUP", "SOURCE", "PACKETS", "BYTES", "PPS", "REASON"))
for f in rows:
    pps = f["packets"] - prev.get((f["iface"], f["group"], f["source"]), 0)
    print("  %-5s %-12s %-10s %9d %10d %6d  %s" % (f["iface"], f["group"], f["source"],
          f["packets"], f["bytes"], pps, f.get("last_reason", "")))
n = len(cur["flows"]) - len(rows)
if n:
    print("  (+%d IPv6 link-local control flows: neighbour discovery, MLD)" % n)
for i in cur["interfaces"]:
    r = ["%s %d" % (k, v["packets"]) for k, v in i["reasons"].items() if v["packets"]]
    print("  %-5s %s" % (i["name"], ", ".join(r) or "-"))
'
bold "5. What xdp-mcast sees on the router, every second (xdp-mcast stats -j)"
for t in $(seq 1 "$SECS"); do
	sleep 1
	xm stats -j >"$XM_TMP/now.json" || break
	printf '\n  -- %d s --\n' "$t"
	"$XM_PY" -c "$TABLE_PY" "$XM_TMP/now.json" "$XM_TMP/prev.json"
	mv "$XM_TMP/now.json" "$XM_TMP/prev.json"
done

bold "6. Summary: xdp-mcast stats"
xm stats | sed 's/^./  &/'

bold "7. What each receiver got (mcast-gen recv)"
done_all() {
	local f
	for f in "$@"; do [ -s "$f.json" ] || return 1; done
}
wait_until 5 done_all "${sfiles[@]}"	# the streams have ended
kill -TERM "${rpids[@]}" 2>/dev/null
wait_until 5 done_all "${rfiles[@]}"
i=0
for rc in "${RECEIVERS[@]}"; do
	read -r who ns ifc grp extra <<<"$rc"
	printf '  %-7s %-12s %-22s' "$who" "$grp" "${extra:-(any source)}"
	json_get '"%6d datagrams, %d lost, %d duplicates, TTL %s" % (d["unique"], d["lost"], d["duplicates"], "-" if d["ttl_min"] is None else d["ttl_min"] if d["ttl_min"] == d["ttl_max"] else "%s-%s" % (d["ttl_min"], d["ttl_max"]))' \
		<"${rfiles[$i]}.json" || echo "  (no result: $(cat "${rfiles[$i]}.err"))"
	i=$((i + 1))
done
cat <<'EOF'

  Routed groups arrive complete, once each, with TTL 7 (one hop through the
  router).  h1 gets both sources of 239.1.1.1, h2 only the one it joined.
  h1 gets nothing of the TTL-1 stream and h3 nothing of 224.0.0.251: only
  the router's own socket receives link-local traffic.
EOF

bold "8. xdp-mcast unload --all, then everything is removed"
[ "$FORWARDER" = kernel ] || xmd_stop xmd
xm unload --all && echo "  unloaded; namespaces, $([ "$FORWARDER" = kernel ] && echo "smcrouted, ")and the bpffs mount go on exit"
