#!/usr/bin/env bash
# Forwarding through a real router with xdp-mcast attached.
#
# A source host, a router and three receiver hosts in network namespaces,
# joined by veth pairs (tests/ns/lib.sh draws the picture).  xdp-mcast is
# attached in native mode to all four of the router's interfaces; the same
# static routes, in smcroute's syntax, forward the traffic.  FORWARDER says
# who forwards:
#
#   kernel  the kernel's multicast routing, driven by smcroute; xdp-mcast
#           only classifies and counts (filter mode).  The default where
#           the kernel routes multicast.
#   xdp     xdp-mcast's accelerator: the routes are `mroute` lines of the
#           config of `xdp-mcast daemon`, every phyint `forwarding
#           accelerate` (docs/accelerate.md).  The default where the kernel
#           cannot route multicast (no CONFIG_IP_MROUTE or
#           CONFIG_IPV6_MROUTE); FORWARDER=xdp asks for it on any kernel.
#
# Receivers join with real sockets (mcast-gen recv); the source sends
# numbered streams (mcast-gen send).  The test checks what every receiver
# got, what `xdp-mcast stats -j` counted for every (interface, group,
# source) and every reason, in and out, that link-local and TTL-1 traffic
# stays on its link, that unicast and IPv6 go through untouched, and that
# `unload --all` leaves nothing behind.  The two forwarders count what they
# forward under different reasons (`forward`, `accelerated`); each is held
# to its own.  Everything is removed on exit.
#
# shellcheck disable=SC2317  # functions called through wait_until and eval
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ns/lib.sh

XM=$XM_BUILD/xdp-mcast
GEN=$XM_BUILD/mcast-gen
for need in "$XM" "$GEN"; do
	if [ ! -x "$need" ]; then
		echo "ok - forwarding through xdp-mcast # SKIP $need is not built (make)"
		exit 0
	fi
done
forwarder_require "forwarding through xdp-mcast"
# What routed traffic counts as, arriving on up0 and leaving as each copy
# (TC egress after the kernel, devmap egress after the accelerator), and
# the reason the other forwarder would have used, which must stay at 0.
FWD_REASON=forward OTHER_REASON=accelerated
kernel_fwd || FWD_REASON=accelerated OTHER_REASON=forward

# ---- the plan ----
#
# route (smcroute's syntax)                 receivers
# 239.1.1.1 (*,G)        up0 -> dn1 dn2     h1 any source, h2 only from SRC_IP4,
#                                           h3 joined but not routed there
# 239.2.2.2 (SRC_IP4,G)  up0 -> dn2 dn3     h2, h3
# 239.3.3.3 (*,G)        up0 -> dn1         h1; the stream has TTL 1
# ff0e::114 (*,G)        up0 -> dn1 dn3     h1 any source, h3 only from SRC_IP6
# 224.0.0.251            never routed       the router itself on up0; h1 h2 h3
#
# Streams: name, group, source, count, payload bytes, TTL.
STREAMS=(
	"a   239.1.1.1   $SRC_IP4  40 100 8"
	"b   239.1.1.1   $SRC2_IP4 30 200 8"
	"c   239.2.2.2   $SRC_IP4  25 300 8"
	"ll1 224.0.0.251 $SRC_IP4  10  60 255"
	"ll2 224.0.0.251 $SRC2_IP4 10  60 1"
	"t1  239.3.3.3   $SRC_IP4  20  80 1"
	"v6  ff0e::114   $SRC_IP6  20 120 8"
)
RATE=100	# per stream; a (*,G) resolves well within the kernel's queue of 4
declare -A S_GROUP S_SRC S_N S_SIZE S_TTL
for s in "${STREAMS[@]}"; do
	read -r name g src n size ttl <<<"$s"
	S_GROUP[$name]=$g S_SRC[$name]=$src S_N[$name]=$n S_SIZE[$name]=$size S_TTL[$name]=$ttl
done
# frame_bytes STREAM: one whole frame as XDP sees it (Ethernet, IP, UDP, payload).
frame_bytes() {
	local ip=20
	[[ ${S_GROUP[$1]} == *:* ]] && ip=40
	echo $((14 + ip + 8 + S_SIZE[$1]))
}

# ---- helpers ----

xm() { ip netns exec "$NS_RTR" "$XM" --pin-path "$PIN" "$@"; }
stats_now() { xm stats -j >"$XM_TMP/stats.json" 2>"$XM_TMP/stats.err"; }
# st EXPR: EXPR over the last stats_now (see json_get).
st() { json_get "$1" <"$XM_TMP/stats.json"; }

declare -A R_PID
# recv NAME NS ARGS...: start mcast-gen recv in NS; its JSON goes to NAME.json.
recv() {
	local name=$1 ns=$2
	shift 2
	ns_bg "$ns" "$XM_TMP/$name.json" "$XM_TMP/$name.err" \
		"$GEN" recv --ready-file "$XM_TMP/$name.ready" -T 30 "$@"
	R_PID[$name]=$BG_PID
}
recv_done() { [ -s "$XM_TMP/$1.json" ]; }
all_done() {
	local n
	for n in "$@"; do recv_done "$n" || return 1; done
}
all_ready() {
	local n
	for n in "$@"; do [ -e "$XM_TMP/$n.ready" ] || return 1; done
}
# r NAME EXPR: EXPR over receiver NAME's JSON.
r() { json_get "$2" <"$XM_TMP/$1.json"; }

# send STREAM: start the stream from the source host in the background.
send() {
	local s=$1
	ns_bg "$NS_SRC" "$XM_TMP/send-$s.json" "$XM_TMP/send-$s.err" \
		"$GEN" send -g "${S_GROUP[$s]}" --source "${S_SRC[$s]}" -I eth0 \
		-n "${S_N[$s]}" -s "${S_SIZE[$s]}" -t "${S_TTL[$s]}" -r $RATE
}

# expect_recv TEST-NAME RECEIVER UNIQUE: exactly UNIQUE datagrams, none twice.
expect_recv() {
	expect_eq "$1" "$3 $3 0" \
		"$(r "$2" '"%s %s %s" % (d["received"], d["unique"], d["duplicates"])')" \
		"$(cat "$XM_TMP/$2.json" "$XM_TMP/$2.err" 2>/dev/null)"
}

# expect_flow TEST-NAME IFACE STREAM...: the flow of the streams' (group,
# source) on IFACE counts exactly their frames and bytes.
expect_flow() {
	local name=$1 ifc=$2 s pk=0 by=0
	shift 2
	for s in "$@"; do
		pk=$((pk + S_N[$s])) by=$((by + S_N[$s] * $(frame_bytes "$s")))
	done
	s=$1
	expect_eq "$name" "$pk $by" \
		"$(st "'%s %s' % (flow('$ifc', '${S_GROUP[$s]}', '${S_SRC[$s]}').get('packets'), flow('$ifc', '${S_GROUP[$s]}', '${S_SRC[$s]}').get('bytes'))")"
}

# ---- topology, xdp-mcast, routes ----

topo_create 3
check "topology: source, router and three hosts are up" topo_links_up
if ! kernel_fwd; then
	# The hosts' eth0 receive redirected copies, and a redirected frame
	# needs NAPI on the veth that receives it: xdp_pass gives it that.
	# The copies leave with the checksum the source left, which a veth
	# leaves partial (tx_csum_off in tests/ns/lib.sh).
	for ns in "${NS_HOST[@]:1}"; do
		ip -n "$ns" link set dev eth0 xdp obj "$XM_BUILD/bpf/xdp_pass.bpf.o" sec xdp ||
			not_ok "xdp_pass on $ns's eth0"
	done
	tx_csum_off "$NS_SRC" eth0 || not_ok "tx off on $NS_SRC's eth0"
	check "accelerator: xdp_pass on every host's eth0, software checksums on the source" \
		wait_until 5 topo_links_up
fi

BPFFS=$(bpffs_create)
PIN=$BPFFS/xm
export XDP_MCAST_PIN_PATH=$PIN	# for the daemon and lib.sh's xmd_* helpers
IFACES=$(topo_router_ifaces | xargs)
# shellcheck disable=SC2086
out=$(xm load --mode native $IFACES 2>&1)
expect_eq "xdp-mcast loads on $IFACES in native mode" 0 $? "$out"
xdp_modes() {
	local i
	for i in $IFACES; do
		ip -n "$NS_RTR" -j link show dev "$i" | json_get '[0].get("xdp", {}).get("mode", 0)'
	done | xargs
}
# 1 is XDP_ATTACHED_DRV: native, not the generic skb path.
expect_eq "the kernel shows native XDP on every router interface" "1 1 1 1" "$(xdp_modes)"
wait_until 5 topo_links_up

ROUTES="mroute from up0 group 239.1.1.1 to dn1 dn2
mroute from up0 source $SRC_IP4 group 239.2.2.2 to dn2 dn3
mroute from up0 group 239.3.3.3 to dn1
mroute from up0 group ff0e::114 to dn1 dn3"
if kernel_fwd; then
	smcroute_start "# generated by $0
phyint up0 enable
phyint dn1 enable
phyint dn2 enable
phyint dn3 enable
$ROUTES"
	vifs_ready() {
		[ "$(ip netns exec "$NS_RTR" cat /proc/net/ip_mr_vif | grep -cE ' (up0|dn[123]) ')" = 4 ] &&
			[ "$(ip netns exec "$NS_RTR" cat /proc/net/ip6_mr_vif | grep -cE ' (up0|dn[123]) ')" = 4 ] &&
			ip -n "$NS_RTR" mroute show | grep -q "($SRC_IP4,239.2.2.2)"
	}
	wait_until 10 vifs_ready
	expect_eq "smcrouted runs with 4 VIFs, 4 MIFs and its (S,G) route" 0 $? \
		"$(cat "$SMC_LOG" "$SMC_LOG.err" 2>/dev/null | tail -20)"
else
	# The daemon adopts what `load` pinned.  With --keep it leaves the
	# data path in place when it stops, so that `unload --all` below
	# still has everything to remove.
	CONF=$XM_TMP/xdp-mcast.conf
	printf '%s\n' "# generated by $0" "phyint up0 forwarding accelerate" \
		"phyint dn1 forwarding accelerate" "phyint dn2 forwarding accelerate" \
		"phyint dn3 forwarding accelerate" "$ROUTES" >"$CONF"
	xmd_start xmd "$NS_RTR" "$CONF" --keep
	expect_eq "xdp-mcast daemon runs with the routes in its config" 0 $? \
		"$(cat "$XM_TMP/xmd.log")"
	# GROUP/SOURCE/IIF/OIFS/ORIGIN of each entry, in routes -j's order;
	# the daemon writes them after the policy is in force.
	xm_routes() {
		xm routes -j | json_get "' '.join('%s/%s/%s/%s/%s' % (r['group'], r['source'] if r['source_len'] else '*', r['iif'], ','.join(sorted(o['iface'] for o in r['oifs'])), r['origin']) for r in d['routes'])"
	}
	ROUTES_WANT="239.1.1.1/*/up0/dn1,dn2/config 239.2.2.2/$SRC_IP4/up0/dn2,dn3/config 239.3.3.3/*/up0/dn1/config ff0e::114/*/up0/dn1,dn3/config"
	routes_written() { [ "$(xm_routes)" = "$ROUTES_WANT" ]; }
	wait_until 5 routes_written
	expect_eq "accelerator: one forwarding entry per route of the config" \
		"$ROUTES_WANT" "$(xm_routes)" "$(xm routes -j) $(cat "$XM_TMP/xmd.log")"
fi

# ---- receivers ----

H1=${NS_HOST[1]} H2=${NS_HOST[2]} H3=${NS_HOST[3]}
recv h1-g1 "$H1" -g 239.1.1.1 -I eth0 -n $((S_N[a] + S_N[b]))
recv h2-g1 "$H2" -g 239.1.1.1 -I eth0 --source "$SRC_IP4" -n "${S_N[a]}"
recv h3-g1 "$H3" -g 239.1.1.1 -I eth0
recv h2-g2 "$H2" -g 239.2.2.2 -I eth0 -n "${S_N[c]}"
recv h3-g2 "$H3" -g 239.2.2.2 -I eth0 -n "${S_N[c]}"
recv h1-t1 "$H1" -g 239.3.3.3 -I eth0
recv h1-v6 "$H1" -g ff0e::114 -I eth0 -n "${S_N[v6]}"
recv h3-v6 "$H3" -g ff0e::114 -I eth0 --source "$SRC_IP6" -n "${S_N[v6]}"
recv rtr-ll "$NS_RTR" -g 224.0.0.251 -I up0 -n $((S_N[ll1] + S_N[ll2]))
recv h1-ll "$H1" -g 224.0.0.251 -I eth0
recv h2-ll "$H2" -g 224.0.0.251 -I eth0
recv h3-ll "$H3" -g 224.0.0.251 -I eth0
POSITIVE=(h1-g1 h2-g1 h2-g2 h3-g2 h1-v6 h3-v6 rtr-ll)
NEGATIVE=(h3-g1 h1-t1 h1-ll h2-ll h3-ll)
wait_until 10 all_ready "${POSITIVE[@]}" "${NEGATIVE[@]}"
expect_eq "12 receivers joined (mcast-gen recv)" 0 $? \
	"$(cat "$XM_TMP"/*.err 2>/dev/null)"

# ---- traffic ----

names=()
for s in "${STREAMS[@]}"; do
	read -r name _ <<<"$s"
	send "$name"
	names+=("send-$name")
done
wait_until 20 all_done "${names[@]}"
sent_ok=0 sent_diag=
for s in "${STREAMS[@]}"; do
	read -r name _ <<<"$s"
	got=$(r "send-$name" '"%s %s" % (d["sent"], d["errors"])')
	[ "$got" = "${S_N[$name]} 0" ] || sent_ok=1
	sent_diag+="$name: $(cat "$XM_TMP/send-$name.json" "$XM_TMP/send-$name.err" 2>/dev/null)"$'\n'
done
expect_eq "7 streams sent in full (mcast-gen send)" 0 "$sent_ok" "$sent_diag"

# Everything routed has arrived once the receivers that expect it are done;
# by then anything wrongly forwarded would have arrived too, so the
# receivers that expect nothing can stop.
wait_until 15 all_done "${POSITIVE[@]}"
ttl1_counted() {
	stats_now && [ "$(st "flow('up0', '239.3.3.3', '$SRC_IP4').get('packets')")" = "${S_N[t1]}" ]
}
wait_until 5 ttl1_counted
# Stop the rest; one still running here failed, and stops with its counts.
for n in "${POSITIVE[@]}" "${NEGATIVE[@]}"; do
	recv_done "$n" || kill -TERM "${R_PID[$n]}" 2>/dev/null
done
wait_until 5 all_done "${POSITIVE[@]}" "${NEGATIVE[@]}"

expect_recv "h1 gets 239.1.1.1 from both sources" h1-g1 $((S_N[a] + S_N[b]))
expect_eq "h1 sees 239.1.1.1 one hop away (TTL 8 -> 7)" "7 7" \
	"$(r h1-g1 '"%s %s" % (d["ttl_min"], d["ttl_max"])')"
expect_recv "h2 gets 239.1.1.1 only from $SRC_IP4 (source-specific join)" h2-g1 "${S_N[a]}"
expect_recv "h3, joined to 239.1.1.1 but not on its route, gets nothing" h3-g1 0
expect_recv "h2 gets 239.2.2.2" h2-g2 "${S_N[c]}"
expect_recv "h3 gets 239.2.2.2" h3-g2 "${S_N[c]}"
expect_recv "h1 gets nothing of the TTL 1 stream to 239.3.3.3" h1-t1 0
expect_recv "h1 gets ff0e::114 (IPv6 forwarding)" h1-v6 "${S_N[v6]}"
expect_recv "h3 gets ff0e::114 from $SRC_IP6 (IPv6 source-specific join)" h3-v6 "${S_N[v6]}"
expect_recv "the router's own stack gets 224.0.0.251" rtr-ll $((S_N[ll1] + S_N[ll2]))
expect_eq "224.0.0.251 reached the router with TTL 1 and 255" "1 255" \
	"$(r rtr-ll '"%s %s" % (d["ttl_min"], d["ttl_max"])')"
expect_recv "h1 never gets 224.0.0.251" h1-ll 0
expect_recv "h2 never gets 224.0.0.251" h2-ll 0
expect_recv "h3 never gets 224.0.0.251" h3-ll 0

# ---- what xdp-mcast counted ----

stats_now
expect_eq "stats -j reports all four interfaces" "up0 dn1 dn2 dn3" \
	"$(st '" ".join(i["name"] for i in d["interfaces"])')" \
	"$(cat "$XM_TMP/stats.err")"
expect_flow "flow up0 239.1.1.1 from $SRC_IP4: exact packets and bytes" up0 a
expect_flow "flow up0 239.1.1.1 from $SRC2_IP4: exact packets and bytes" up0 b
expect_flow "flow up0 239.2.2.2 from $SRC_IP4: exact packets and bytes" up0 c
expect_flow "flow up0 ff0e::114 from $SRC_IP6: exact packets and bytes" up0 v6
expect_flow "flow up0 224.0.0.251 from $SRC_IP4: exact packets and bytes" up0 ll1
expect_flow "flow up0 224.0.0.251 from $SRC2_IP4: exact packets and bytes" up0 ll2
expect_flow "flow up0 239.3.3.3 from $SRC_IP4: exact packets and bytes" up0 t1
expect_eq "the flows' last reasons: $FWD_REASON, link_local, ttl_expired" \
	"$FWD_REASON $FWD_REASON $FWD_REASON $FWD_REASON link_local link_local ttl_expired" \
	"$(st "' '.join(str(flow('up0', g, s).get('last_reason')) for g, s in [
		('239.1.1.1', '$SRC_IP4'), ('239.1.1.1', '$SRC2_IP4'), ('239.2.2.2', '$SRC_IP4'),
		('ff0e::114', '$SRC_IP6'), ('224.0.0.251', '$SRC_IP4'), ('224.0.0.251', '$SRC2_IP4'),
		('239.3.3.3', '$SRC_IP4')])")"

fwd_pk=0 fwd_by=0
for s in a b c v6; do
	fwd_pk=$((fwd_pk + S_N[$s])) fwd_by=$((fwd_by + S_N[$s] * $(frame_bytes $s)))
done
expect_eq "reason $FWD_REASON on up0 equals what was sent to routed groups, $OTHER_REASON is 0" \
	"$fwd_pk $fwd_by 0" \
	"$(st "'%s %s %s' % (reason('up0', '$FWD_REASON')['packets'], reason('up0', '$FWD_REASON')['bytes'], reason('up0', '$OTHER_REASON')['packets'])")"
# What left, per interface: every copy of the routes, counted once it is
# sent (TC egress after the kernel, devmap egress after the accelerator).
# h2's source-specific join filters in h2's own stack: dn2 gets b too.
declare -A OUT_STREAMS=([up0]="" [dn1]="a b v6" [dn2]="a b c" [dn3]="c v6")
want_out='' got_out=''
for i in $IFACES; do
	pk=0 by=0
	for s in ${OUT_STREAMS[$i]}; do
		pk=$((pk + S_N[$s])) by=$((by + S_N[$s] * $(frame_bytes "$s")))
	done
	want_out+="$i=$pk/$by/0 "
	got_out+="$(st "'$i=%s/%s/%s' % (egress('$i', '$FWD_REASON')['packets'], egress('$i', '$FWD_REASON')['bytes'], egress('$i', '$OTHER_REASON')['packets'])") "
done
expect_eq "egress $FWD_REASON counts every copy that left, per interface (packets/bytes/$OTHER_REASON)" \
	"$want_out" "$got_out"
expect_eq "no copy was held back on its way out (egress boundary, ttl_threshold, policy)" "0 0 0" \
	"$(st "' '.join(str(sum(i['egress_reasons'][r]['packets'] for i in d['interfaces'])) for r in ('boundary', 'ttl_threshold', 'policy'))")"
expect_eq "reason ttl_expired on up0 is the TTL 1 stream, not forwarded" \
	"${S_N[t1]} $((S_N[t1] * $(frame_bytes t1)))" \
	"$(st "'%s %s' % (reason('up0', 'ttl_expired')['packets'], reason('up0', 'ttl_expired')['bytes'])")"
# Link-local also counts the neighbour discovery IPv6 does on its own.
ll_min=$((S_N[ll1] * $(frame_bytes ll1) + S_N[ll2] * $(frame_bytes ll2)))
expect_eq "reason link_local on up0 counts 224.0.0.251 (and IPv6 neighbour discovery)" True \
	"$(st "reason('up0', 'link_local')['packets'] >= $((S_N[ll1] + S_N[ll2])) and reason('up0', 'link_local')['bytes'] >= $ll_min")"
expect_eq "no multicast frame was dropped (malformed, bad_source, mac_mismatch, node_local, rpf_fail, no_oif)" \
	"0 0 0 0 0 0" \
	"$(st "' '.join(str(sum(i['reasons'][r]['packets'] for i in d['interfaces'])) for r in ('malformed', 'bad_source', 'mac_mismatch', 'node_local', 'rpf_fail', 'no_oif'))")"
expect_eq "nothing arrived as forward, accelerated or ttl_expired on dn1 dn2 dn3" "0 0 0" \
	"$(st "' '.join(str(reason(i, 'forward')['packets'] + reason(i, 'accelerated')['packets'] + reason(i, 'ttl_expired')['packets']) for i in ('dn1', 'dn2', 'dn3'))")"
expect_eq "forwarded traffic leaves no flow on the downstream interfaces" "[]" \
	"$(st "[f['group'] for f in d['flows'] if f['iface'] != 'up0' and f['group'] in ('239.1.1.1', '239.2.2.2', '239.3.3.3', 'ff0e::114', '224.0.0.251')]")"
expect_eq "every reason is present on every interface, in and out" True \
	"$(st "all(set(i[k]) >= {'forward', 'link_local', 'node_local', 'igmp', 'mld', 'ttl_expired', 'malformed', 'bad_source', 'mac_mismatch', 'fragment', 'boundary', 'ttl_threshold', 'policy', 'policy_audit', 'rpf_fail', 'accelerated', 'no_oif'} for i in d['interfaces'] for k in ('reasons', 'egress_reasons'))")"
# Every host joined IPv4 groups after the load; h1 and h3 joined ff0e::114.
expect_eq "the hosts' IGMP and MLD reports are counted where they arrive" "True True" \
	"$(st "'%s %s' % (all(reason(i, 'igmp')['packets'] > 0 for i in ('dn1', 'dn2', 'dn3')), all(reason(i, 'mld')['packets'] > 0 for i in ('dn1', 'dn3')))")" \
	"$(st "[(i['name'], i['reasons']['igmp'], i['reasons']['mld']) for i in d['interfaces']]")"
expect_eq "no flow insert failed, no frame from an unregistered interface" "0 0" \
	"$(st "'%s %s' % (d['counters']['flow_insert_failed'], d['counters']['unregistered_iface'])")"

# ---- unicast goes through uncounted ----

# Reasons that only multicast data can move; IGMP, MLD and link-local can
# move on their own (reports, neighbour discovery) and are left out.
DATA_REASONS="('forward', 'accelerated', 'ttl_expired', 'fragment', 'malformed', 'bad_source', 'mac_mismatch', 'node_local', 'rpf_fail', 'no_oif')"
data_counts() {
	st "' '.join(str(i['reasons'][r]['packets']) for i in d['interfaces'] for r in $DATA_REASONS)"
}
before=$(data_counts)
expect_eq "unicast IPv4: 5 pings from the source to h1 answered through the router" 5 \
	"$(xm_ping "$NS_SRC" "$(host_ip4 1)" 5)"
expect_eq "unicast IPv6: 5 pings from the source to h3 answered through the router" 5 \
	"$(xm_ping "$NS_SRC" "$(host_ip6 3)" 5)"
stats_now
expect_eq "unicast moved no multicast counter" "$before" "$(data_counts)"
expect_eq "unicast made no flow" "[]" \
	"$(st "[f['group'] for f in d['flows'] if not (f['group'].startswith('ff') or 224 <= int(f['group'].split('.')[0] if '.' in f['group'] else 0) < 240)]")"

# ---- unload ----

tc_egress_filters() {
	local i
	for i in $IFACES; do
		tc -n "$NS_RTR" filter show dev "$i" egress 2>/dev/null | grep -c 'tc_mcast_egress'
	done | xargs
}
if ! kernel_fwd; then
	xmd_stop xmd
	expect_eq "the daemon (--keep) exits 0 on SIGTERM and leaves XDP and TC in place" \
		"0 / 1 1 1 1 / 1 1 1 1" "$XMD_RC / $(xdp_modes) / $(tc_egress_filters)" \
		"$(tail -5 "$XM_TMP/xmd.log")"
fi
out=$(xm unload --all 2>&1)
expect_eq "xdp-mcast unload --all" 0 $? "$out"
expect_eq "no XDP program is left on the router's interfaces" "0 0 0 0" "$(xdp_modes)"
expect_eq "no TC egress filter is left on the router's interfaces" "0 0 0 0" "$(tc_egress_filters)"
expect_eq "the pin directory is gone" absent "$([ -e "$PIN" ] && ls "$PIN" || echo absent)"

S_N[c]=10
if kernel_fwd; then
	recv h3-after "$H3" -g 239.2.2.2 -I eth0 -n 10
	wait_until 5 all_ready h3-after
	send c
	wait_until 10 all_done h3-after
	expect_recv "forwarding goes on after unload (h3 gets 239.2.2.2)" h3-after 10
else
	# Nothing routes multicast any more: h3 must get nothing within a
	# second of the last datagram.
	recv h3-after "$H3" -g 239.2.2.2 -I eth0 --log "$XM_TMP/h3-after.log"
	wait_until 5 all_ready h3-after
	rm -f "$XM_TMP/send-c.json"
	send c
	wait_until 10 all_done send-c
	h3_got_some() { [ -s "$XM_TMP/h3-after.log" ]; }
	wait_until 1 h3_got_some
	kill -TERM "${R_PID[h3-after]}" 2>/dev/null
	wait_until 5 all_done h3-after
	expect_recv "after unload nothing forwards (no multicast routing runs): h3 gets nothing of 239.2.2.2" \
		h3-after 0
fi

smcroute_stop
tap_done
