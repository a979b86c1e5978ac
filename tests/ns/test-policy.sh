#!/usr/bin/env bash
# The scope policy end to end, on the real kernel.
#
# The topology of tests/ns/lib.sh: a source host, a router and three
# receiver hosts.  `xdp-mcast daemon` runs in the router with a config file
# and enforces it with the XDP program (arriving) and, on what leaves, the
# egress program of whoever forwards.  FORWARDER says who that is:
#
#   kernel  ipmr, static (S,G) routes from smcroute; the TC egress program
#           polices what the kernel sends.  The default where the kernel
#           routes multicast.
#   xdp     xdp-mcast's accelerator: the same (S,G) routes as `mroute`
#           lines of the daemon's config, every phyint `forwarding
#           accelerate`; the devmap egress program polices each copy
#           (docs/accelerate.md).  The default where the kernel cannot
#           route multicast (no CONFIG_IP_MROUTE or CONFIG_IPV6_MROUTE);
#           FORWARDER=xdp asks for it on any kernel.
#
# Receivers join with real sockets and log every datagram (mcast-gen recv
# --log: stream, sequence, TTL).  The test checks:
#
#  1. TTL thresholds, differentially: one packet per TTL goes through the
#     router with the kernel's own thresholds (smcroute), with xdp-mcast's,
#     and with both; every receiver gets the same TTLs each time, exactly
#     those above its interface's threshold, and xdp-mcast counts what it
#     dropped as egress ttl_threshold on the right interface.  The kernel's
#     thresholds exist only with ipmr: with FORWARDER=xdp only xdp-mcast's
#     run, held to the thresholds themselves.
#  2. Boundaries (local, organization, ipv6-site) on a downstream and, in a
#     second config, on the upstream interface: scoped groups neither enter
#     nor leave there, the other receivers still get them, 239.1/16 and
#     ff0e::/16 pass, and ff02:: stays on its link whatever the policy.
#  3. Filter rules: deny in, deny out on one interface, allows more specific
#     than a deny (by group and by source), audit rules, and the per-rule
#     hit counters of `xdp-mcast policy -j`.
#  4. Reload under 2 x 2000 pps of traffic: nothing of the newly blocked
#     group leaks past the switch, the other group loses nothing, and a
#     config with an error is refused (exit 78, FILE:LINE:COLUMN in the
#     daemon's log) while the policy in force stays.
#  5. The daemon's life: SIGTERM detaches XDP and TC everywhere and removes
#     the pins; with --keep the data path and the policy stay, and a new
#     daemon adopts them.
#
# Where the two forwarders count differently, each is held to its own
# counts: the accelerator counts what it replicates as `accelerated` (in
# and out), not `forward`, and a copy an audit rule lets out as
# `accelerated`, not `policy_audit` (the rule's hit counter has it).
#
# Everything is removed on exit, whatever happens.
#
# shellcheck disable=SC2317  # functions called through wait_until and eval
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ns/lib.sh

T0=$SECONDS
for need in "$XM_BIN" "$XM_GEN"; do
	if [ ! -x "$need" ]; then
		echo "ok - scope policy end to end # SKIP $need is not built (make)"
		exit 0
	fi
done
forwarder_require "scope policy end to end"

# ---- topology, routes ----

topo_create 3
check "topology: source, router and three hosts are up" topo_links_up
H1=${NS_HOST[1]} H2=${NS_HOST[2]}
if ! kernel_fwd; then
	# Every host's eth0 receives redirected copies, the source's too (h2
	# sends towards it), and a redirected frame needs NAPI on the veth
	# that receives it: xdp_pass gives it that.  Every host sends, and the
	# copies leave with the checksum the sender left, which a veth leaves
	# partial (tx_csum_off in tests/ns/lib.sh).
	for ns in "$NS_SRC" "${NS_HOST[@]:1}"; do
		if ! ip -n "$ns" link set dev eth0 xdp obj "$XM_BUILD/bpf/xdp_pass.bpf.o" sec xdp ||
			! tx_csum_off "$ns" eth0; then
			not_ok "xdp_pass and tx off on $ns's eth0"
		fi
	done
	check "accelerator: xdp_pass and software checksums on every host's eth0" \
		wait_until 5 topo_links_up
fi
H2_IP4=$(host_ip4 2) H2_IP6=$(host_ip6 2)
BPFFS=$(bpffs_create)
export XDP_MCAST_PIN_PATH=$BPFFS/xm
PIN=$XDP_MCAST_PIN_PATH
CONF=$XM_TMP/xdp-mcast.conf
ROUTER_IFACES="up0 dn1 dn2 dn3"

xm() { ip netns exec "$NS_RTR" "$XM_BIN" "$@"; }

# Every route of every part, all (S,G), so that no first packet waits in
# the kernel's unresolved queue for smcroute to install a route.
TTL_GROUP=239.1.2.3
BND_UP_V4="239.255.1.1 239.192.1.1 239.195.1.1 239.1.1.1"
BND_UP_V6="ff05::1:3 ff15::1:3 ff0e::1:3"
BND_DN_V4="239.255.2.2 239.192.2.2 239.195.2.2 239.1.2.2"
BND_DN_V6="ff05::2:3 ff15::2:3 ff0e::2:3"
FLT_V4="239.10.1.1 239.10.2.1 239.10.3.3 239.10.3.4 239.10.4.1"
FLT_V6="ff0e::10:1"
GRP_A=239.255.10.1	# part 4: blocked by the reload (inside 'local')
GRP_B=239.1.10.1	# part 4: untouched
SMC_ROUTES="mroute from up0 source $SRC_IP4 group $TTL_GROUP to dn1 dn2 dn3"
for g in $BND_UP_V4 $FLT_V4; do
	SMC_ROUTES+=$'\n'"mroute from up0 source $SRC_IP4 group $g to dn1 dn2 dn3"
done
for g in $BND_UP_V6 $FLT_V6; do
	SMC_ROUTES+=$'\n'"mroute from up0 source $SRC_IP6 group $g to dn1 dn2 dn3"
done
for g in $BND_DN_V4; do
	SMC_ROUTES+=$'\n'"mroute from dn2 source $H2_IP4 group $g to up0 dn1 dn3"
done
for g in $BND_DN_V6; do
	SMC_ROUTES+=$'\n'"mroute from dn2 source $H2_IP6 group $g to up0 dn1 dn3"
done
SMC_ROUTES+="
mroute from up0 source $SRC2_IP4 group 239.10.3.4 to dn1 dn2 dn3
mroute from up0 source $SRC_IP4 group $GRP_A to dn1 dn2
mroute from up0 source $SRC_IP4 group $GRP_B to dn1"
SMC_V4_ROUTES=$(grep -c "source [0-9.]* group" <<<"$SMC_ROUTES")
SMC_V6_ROUTES=$(grep -c "source [0-9a-f:]*:[0-9a-f:]* group" <<<"$SMC_ROUTES")

# The TTL thresholds of part 1, per downstream interface.
declare -A TH=([dn1]=1 [dn2]=32 [dn3]=64)

# smc_start with|without: smcrouted with every route, with or without the
# kernel's TTL thresholds on the downstream VIFs; waits for all routes.
smc_start() {
	local i phy="phyint up0 enable"
	for i in dn1 dn2 dn3; do
		phy+=$'\n'"phyint $i enable"
		[ "$1" = with ] && phy+=" ttl-threshold ${TH[$i]}"
	done
	smcroute_start "# $0, thresholds: $1
$phy
$SMC_ROUTES" && wait_until 10 smc_routes_ready
}
smc_routes_ready() {
	[ "$(ip -n "$NS_RTR" mroute show | grep -c resolved)" = "$SMC_V4_ROUTES" ] &&
		[ "$(ip -n "$NS_RTR" -6 mroute show | grep -c resolved)" = "$SMC_V6_ROUTES" ]
}
# smc_oif_ttls: the kernel's per-VIF thresholds of the TTL test's route.
# (iproute2 6.1 cannot filter `ip mroute show` by address: grep instead.)
smc_oif_ttls() {
	ip -n "$NS_RTR" mroute show | grep -F "($SRC_IP4,$TTL_GROUP)" | grep -o 'Oifs:.*State' |
		sed 's/Oifs: *//; s/ *State//'
}

# conf_write TEXT: the daemon's config file, replaced whole.  With
# FORWARDER=xdp every phyint also gets `forwarding accelerate` at the end of
# its line and the routes follow the text, so the lines and columns of TEXT
# stay what they are.
conf_write() {
	local text=$1
	if ! kernel_fwd; then
		text=$(sed -E 's/^(phyint [^#]*[^ #])/\1 forwarding accelerate/' <<<"$text")
		text+=$'\n'"# the routes, as smcroute would have them"$'\n'"$SMC_ROUTES"
	fi
	printf '%s\n' "$text" >"$CONF.new" && mv "$CONF.new" "$CONF"
}
# xm_routes: the accelerator's forwarding entries, by family.
xm_routes() {
	xm routes -j | json_get '"%d %d" % (sum(r["family"] == "ipv4" for r in d["routes"]), sum(r["family"] == "ipv6" for r in d["routes"]))'
}

# ---- counters ----

# snap NAME: `xdp-mcast stats -j` now, kept as NAME.
snap() { xm stats -j >"$XM_TMP/snap-$1.json" 2>"$XM_TMP/snap-$1.err"; }
XM_MOVED_PY='
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
reasons = sys.argv[3].split()
def rows(d):
    out = {}
    for i in d["interfaces"]:
        for k, dirn in (("reasons", "in"), ("egress_reasons", "out")):
            for r, c in i.get(k, {}).items():
                out[(i["name"], dirn, r)] = c["packets"]
    return out
ra, rb = rows(a), rows(b)
order = {n: k for k, n in enumerate("up0 dn1 dn2 dn3".split())}
moved = sorted(((k, rb[k] - ra.get(k, 0)) for k in rb if k[2] in reasons and rb[k] != ra.get(k, 0)),
               key=lambda x: (order.get(x[0][0], 9), x[0][1], x[0][2]))
print(" ".join("%s:%s:%s=%d" % (k[0], k[1], k[2], v) for k, v in moved))
'
# moved FROM TO REASON...: the counters of those reasons that changed between
# two snapshots, as IFACE:in|out:REASON=DELTA (in: XDP, out: TC egress or,
# for accelerated copies, devmap egress).
moved() {
	local a=$1 b=$2
	shift 2
	"$XM_PY" -c "$XM_MOVED_PY" "$XM_TMP/snap-$a.json" "$XM_TMP/snap-$b.json" "$*"
}
# moved_now FROM EXPECTED REASON...: take snapshot "now" and compare.
moved_now() {
	local from=$1 want=$2
	shift 2
	snap now && [ "$(moved "$from" now "$@")" = "$want" ]
}
POLICY_REASONS="boundary ttl_threshold policy policy_audit"
ALL_REASONS="accelerated forward ttl_expired $POLICY_REASONS"
# What passing traffic counts as, in and out: the accelerator replicates.
FWD_REASON=forward EGRESS=TC
kernel_fwd || FWD_REASON=accelerated EGRESS="devmap egress"

# ---- streams and receivers ----
#
# A batch is a set of streams (one mcast-gen sender each, with its own
# stream id) and a set of receivers, each expecting a set of streams.
declare -A S_NS S_IF S_GROUP S_SRC S_ID S_N R_NS R_IF R_GROUP R_WANT R_OPTS
STREAM_SEQ=100
# stream NAME NS GROUP SOURCE COUNT
stream() {
	STREAM_SEQ=$((STREAM_SEQ + 1))
	S_NS[$1]=$2 S_IF[$1]=eth0 S_GROUP[$1]=$3 S_SRC[$1]=$4 S_N[$1]=$5 S_ID[$1]=$STREAM_SEQ
}
# receiver NAME NS IFACE GROUP "STREAM..." [RECV-OPTIONS...]
receiver() {
	local name=$1
	R_NS[$name]=$2 R_IF[$name]=$3 R_GROUP[$name]=$4 R_WANT[$name]=$5
	shift 5
	R_OPTS[$name]="$*"
}
# want_of RECEIVER: what it must log, as sorted "STREAM-ID:COUNT" words.
want_of() {
	local s
	for s in ${R_WANT[$1]}; do echo "${S_ID[$s]}:${S_N[$s]}"; done | sort | xargs
}
# got_of RECEIVER: what it logged, in the same form.
got_of() {
	awk '{n[$1]++} END {for (s in n) print s ":" n[s]}' "$XM_TMP/$1.log" 2>/dev/null | sort | xargs
}
# batch_run SETTLE-CMD STREAM... -- RECEIVER...: start the receivers (those
# expecting datagrams stop once they have them all), send the streams at
# 200 pps, wait for the senders, for the expecting receivers, and for
# SETTLE-CMD (the counters that show every datagram has been decided), then
# stop the rest.  Each receiver is then checked: exactly the datagrams of
# the streams it expects, none twice.
batch_run() {
	local settle=$1 s r n streams=() rxs=() want=() opts=() diag=
	shift
	while [ "$1" != -- ]; do streams+=("$1"); shift; done
	shift
	rxs=("$@")
	for r in "${rxs[@]}"; do
		n=0
		for s in ${R_WANT[$r]}; do n=$((n + S_N[$s])); done
		read -ra opts <<<"${R_OPTS[$r]}"
		[ "$n" -gt 0 ] && want+=("$r") opts+=(-n "$n")
		rx_start "$r" "${R_NS[$r]}" "${R_IF[$r]}" "${R_GROUP[$r]}" "${opts[@]}"
	done
	if ! wait_until 10 rx_ready "${rxs[@]}"; then
		not_ok "${#rxs[@]} receivers joined" "$(cat "$XM_TMP"/*.err 2>/dev/null | sort -u)"
		rx_stop "${rxs[@]}"
		return 1
	fi
	for s in "${streams[@]}"; do
		tx_start "$s" "${S_NS[$s]}" "${S_IF[$s]}" "${S_GROUP[$s]}" "${S_SRC[$s]}" \
			--stream "${S_ID[$s]}" -n "${S_N[$s]}" -r 200 -t 16
	done
	wait_until 10 tx_done "${streams[@]}"
	for s in "${streams[@]}"; do
		[ "$(rx_get "$s" '"%s %s" % (d["sent"], d["errors"])')" = "${S_N[$s]} 0" ] ||
			diag+="$s: $(cat "$XM_TMP/$s.json" "$XM_TMP/$s.err" 2>/dev/null)"$'\n'
	done
	expect_eq "${#streams[@]} streams sent in full (mcast-gen send)" "" "$diag"
	wait_until 10 rx_done "${want[@]}"
	wait_until 10 eval "$settle"
	rx_stop "${rxs[@]}"
	for r in "${rxs[@]}"; do
		expect_eq "$r gets ${R_WANT[$r]:-nothing}" "$(want_of "$r") dup=0" \
			"$(got_of "$r") dup=$(rx_get "$r" 'd["duplicates"]')" \
			"$(cat "$XM_TMP/$r.json" "$XM_TMP/$r.err" 2>/dev/null)"
	done
}

# ---- the router's state, as the kernel shows it ----

# xdp_prog_ids: the XDP program id on each router interface (0: none).
xdp_prog_ids() {
	local i
	for i in $ROUTER_IFACES; do
		ip -n "$NS_RTR" -j link show dev "$i" | json_get '[0].get("xdp", {}).get("prog", {}).get("id", 0)'
	done | xargs
}
# tc_egress_filters: how many tc_mcast_egress filters each router interface has.
tc_egress_filters() {
	local i
	for i in $ROUTER_IFACES; do
		tc -n "$NS_RTR" filter show dev "$i" egress 2>/dev/null | grep -c 'tc_mcast_egress'
	done | xargs
}
# mfc_pkts SOURCE GROUP: packets the kernel's route for (SOURCE, GROUP) has
# taken, counted by ipmr as each packet enters ip_mr_forward().
mfc_pkts() {
	ip -n "$NS_RTR" -s mroute show | grep -A1 -F "($1,$2)" | awk '/ packets,/ {print $1; exit}'
}
# a_count: how many packets of A have reached the router: its kernel route's
# count, or its flow's on up0 when the accelerator forwards (part 4).
a_count() {
	if kernel_fwd; then
		mfc_pkts "$SRC_IP4" $GRP_A
	else
		xm stats -j | json_get "flow('up0', '$GRP_A', '$SRC_IP4').get('packets')"
	fi
}
policy_json() { xm policy -j >"$XM_TMP/policy.json" 2>"$XM_TMP/policy.err"; }
pol() { json_get "$1" <"$XM_TMP/policy.json"; }

# ==== 1. TTL thresholds, differentially ====
#
# One datagram per TTL; its stream id is the TTL it was sent with.  A
# receiver sees it one lower: the router decremented it once.
TTLS="$(seq 1 70 | xargs) 100 128 254 255"
# expected_ttls IFACE: the TTLs that leave through IFACE: above its threshold
# (before the decrement), and never 1.
expected_ttls() {
	local t out=()
	for t in $TTLS; do
		[ "$t" -gt 1 ] && [ "$t" -gt "${TH[$1]}" ] && out+=("$t")
	done
	echo "${out[*]}"
}
declare -A GOT
ttl_last_in() {
	local r
	for r in "$@"; do grep -q '^255 ' "$XM_TMP/$r.log" 2>/dev/null || return 1; done
}
# ttl_sweep PHASE: h1 h2 h3 join $TTL_GROUP; the source sends one datagram
# per TTL of $TTLS, in order; GOT[PHASE:dnN] is what hN received.
ttl_sweep() {
	local p=$1 i r rxs=() bad
	for i in 1 2 3; do
		rx_start "ttl-$p-h$i" "${NS_HOST[$i]}" eth0 $TTL_GROUP
		rxs+=("ttl-$p-h$i")
	done
	wait_until 10 rx_ready "${rxs[@]}"
	# shellcheck disable=SC2016,SC2086
	ip netns exec "$NS_SRC" bash -c 'gen=$1 g=$2 src=$3; shift 3
		for t in "$@"; do
			"$gen" send -g "$g" --source "$src" -I eth0 -n 1 -r 0 -t "$t" --stream "$t" >/dev/null || exit 1
		done' _ "$XM_GEN" $TTL_GROUP "$SRC_IP4" $TTLS
	expect_eq "$p: one datagram sent per TTL ($(wc -w <<<"$TTLS") TTLs)" 0 $?
	# TTL 255 is sent last and passes every threshold: once it is in, all
	# that went before it on the same path is in too.
	wait_until 10 ttl_last_in "${rxs[@]}"
	rx_stop "${rxs[@]}"
	bad=
	for i in 1 2 3; do
		r=ttl-$p-h$i
		GOT[$p:dn$i]=$(awk '{print $1}' "$XM_TMP/$r.log" | sort -n | xargs)
		bad+=$(awk -v r="$r" '$3 != $1 - 1 {print r ": sent with TTL " $1 ", received with " $3}' "$XM_TMP/$r.log")
	done
	expect_eq "$p: every datagram arrived with its TTL decremented once" "" "$bad"
}
# ttl_moved THRESHOLDS-ENFORCED-BY-XDP: the counters part 1 must move.
ttl_moved() {
	local n=0 t i pass out
	for t in $TTLS; do [ "$t" -gt 1 ] && n=$((n + 1)); done
	out="up0:in:$FWD_REASON=$n up0:in:ttl_expired=1"
	for i in dn1 dn2 dn3; do
		pass=$(wc -w <<<"$(expected_ttls $i)")
		out+=" $i:out:$FWD_REASON=$pass"
		[ "$1" = yes ] && [ $((n - pass)) -gt 0 ] && out+=" $i:out:ttl_threshold=$((n - pass))"
	done
	echo "$out"
}

# (a) the reference: the kernel's own thresholds, no xdp-mcast at all.
if kernel_fwd; then
	check "smcrouted with thresholds: all $SMC_V4_ROUTES IPv4 and $SMC_V6_ROUTES IPv6 routes installed" \
		smc_start with
	expect_eq "smcroute with thresholds: the kernel's route has dn1, dn2 at 32, dn3 at 64" \
		"dn1 dn2(ttl 32) dn3(ttl 64)" "$(smc_oif_ttls)" "$(tail -20 "$SMC_LOG" "$SMC_LOG.err" 2>/dev/null)"
	ttl_sweep kernel
	for i in dn1 dn2 dn3; do
		expect_eq "kernel thresholds: ${i/dn/h} gets exactly the TTLs above ${TH[$i]}" \
			"$(expected_ttls $i)" "${GOT[kernel:$i]}"
	done
else
	skip "kernel thresholds (smcroute's ttl-threshold), the reference of part 1" "$KERNEL_WHY"
fi

# (c) the same thresholds in the kernel and in xdp-mcast.  The daemon starts
# here in both modes; with FORWARDER=xdp it is the only forwarder.
TTL_CONF="phyint up0
phyint dn1 ttl-threshold ${TH[dn1]}
phyint dn2 ttl-threshold ${TH[dn2]}
phyint dn3 ttl-threshold ${TH[dn3]}"
conf_write "$TTL_CONF"
xmd_start xmd1 "$NS_RTR" "$CONF"
expect_eq "xdp-mcast daemon runs, policy epoch 1 in force" 1 "$(xm_policy_epoch "$NS_RTR")" \
	"$(cat "$XM_TMP/xmd1.log")"
expect_eq "the daemon attached XDP (native) and TC egress to every phyint" "1 1 1 1 / 1 1 1 1" \
	"$(for i in $ROUTER_IFACES; do ip -n "$NS_RTR" -j link show dev "$i" | json_get '[0].get("xdp", {}).get("mode", 0)'; done | xargs) / $(tc_egress_filters)"
kernel_fwd ||
	expect_eq "accelerator: every route of the config is a forwarding entry (IPv4, IPv6)" \
		"$SMC_V4_ROUTES $SMC_V6_ROUTES" "$(xm_routes)" "$(cat "$XM_TMP/xmd1.log")"
policy_json
expect_eq "policy -j shows the thresholds" "up0=0 dn1=1 dn2=32 dn3=64" \
	"$(pol '" ".join("%s=%d" % (i["name"], i["ttl_threshold"]) for i in d["interfaces"])')"
if kernel_fwd; then
	snap c0
	ttl_sweep both
	for i in dn1 dn2 dn3; do
		expect_eq "kernel and xdp-mcast thresholds: ${i/dn/h} gets what the kernel alone delivered" \
			"${GOT[kernel:$i]}" "${GOT[both:$i]}"
	done
	wait_until 5 moved_now c0 "$(ttl_moved no)" $ALL_REASONS
	expect_eq "with both, the kernel drops first: xdp-mcast forwards the rest, counts no ttl_threshold" \
		"$(ttl_moved no)" "$(moved c0 now $ALL_REASONS)"

	# (b) xdp-mcast's thresholds alone: smcroute's VIFs at the default 1.
	smcroute_stop
	check "smcrouted restarted without thresholds: all routes installed" smc_start without
	expect_eq "smcroute without thresholds: the kernel's route forwards to all three at TTL > 1" \
		"dn1 dn2 dn3" "$(smc_oif_ttls)" "$(tail -20 "$SMC_LOG" "$SMC_LOG.err" 2>/dev/null)"
else
	skip "kernel and xdp-mcast thresholds together" "$KERNEL_WHY"
fi
# (b) xdp-mcast's thresholds alone.  With FORWARDER=xdp the config's routes
# have threshold 1 on every outgoing interface, smcroute's default, so the
# interfaces' thresholds decide, per copy, in the devmap egress program.
snap b0
ttl_sweep xdp
for i in dn1 dn2 dn3; do
	kernel_fwd &&
		expect_eq "xdp-mcast thresholds alone: ${i/dn/h} gets what the kernel alone delivered" \
			"${GOT[kernel:$i]}" "${GOT[xdp:$i]}"
	expect_eq "xdp-mcast thresholds alone: ${i/dn/h} gets exactly the TTLs above ${TH[$i]}" \
		"$(expected_ttls $i)" "${GOT[xdp:$i]}"
done
kernel_fwd || skip "xdp-mcast thresholds alone: each host gets what the kernel alone delivered" "$KERNEL_WHY"
wait_until 5 moved_now b0 "$(ttl_moved yes)" $ALL_REASONS
expect_eq "xdp-mcast counts every TTL it held back as egress ttl_threshold on its interface" \
	"$(ttl_moved yes)" "$(moved b0 now $ALL_REASONS)"

# ==== 2. Boundaries, both directions ====
#
# Scoped and unscoped groups flow from the source down to h1 h2 h3 and from
# h2 up to the source, h1 and h3.  First dn2, then up0 is a boundary of
# local (239.255/16), organization (239.192/14: 239.192.x and 239.195.x)
# and ipv6-site (scope 5 whatever the flags: ff05::, ff15::).
N=10
bu=() bd=()
for g in $BND_UP_V4; do stream "bu-$g" "$NS_SRC" "$g" "$SRC_IP4" $N; bu+=("bu-$g"); done
for g in $BND_UP_V6; do stream "bu-$g" "$NS_SRC" "$g" "$SRC_IP6" $N; bu+=("bu-$g"); done
for g in $BND_DN_V4; do stream "bd-$g" "$H2" "$g" "$H2_IP4" $N; bd+=("bd-$g"); done
for g in $BND_DN_V6; do stream "bd-$g" "$H2" "$g" "$H2_IP6" $N; bd+=("bd-$g"); done
stream ll "$NS_SRC" ff02::1:5 "$SRC_IP6" $N
UNSCOPED="bu-239.1.1.1 bu-ff0e::1:3 bd-239.1.2.2 bd-ff0e::2:3"
unscoped() { [[ " $UNSCOPED " == *" $1 "* ]]; }
# boundary_receivers CASE BLOCKED-HOST [HOST:STREAM...]: receivers for every
# stream; the scoped streams miss BLOCKED-HOST (h2 or src), where the
# boundary is, and each HOST misses its STREAM.
boundary_receivers() {
	local c=$1 blocked=$2 s h ns w
	shift 2
	RXS=()
	for s in "${bu[@]}" "${bd[@]}"; do
		for h in src h1 h2 h3; do
			[[ $s == bu-* && $h == src ]] && continue
			[[ $s == bd-* && $h == h2 ]] && continue
			if [ "$h" = src ]; then ns=$NS_SRC; else ns=${NS_HOST[${h#h}]}; fi
			w=$s
			unscoped "$s" || [ "$h" != "$blocked" ] || w=
			# Coming from h2 with the boundary on dn2, a scoped group never enters.
			[[ $blocked == h2 && $s == bd-* ]] && ! unscoped "$s" && w=
			# Coming from the source with the boundary on up0, likewise.
			[[ $blocked == src && $s == bu-* ]] && ! unscoped "$s" && w=
			[[ " $* " == *" $h:$s "* ]] && w=
			receiver "$c-$h-$s" "$ns" eth0 "${S_GROUP[$s]}" "$w"
			RXS+=("$c-$h-$s")
		done
	done
	receiver "$c-rtr-ll" "$NS_RTR" up0 ff02::1:5 ll
	receiver "$c-h1-ll" "$H1" eth0 ff02::1:5 ""
	RXS+=("$c-rtr-ll" "$c-h1-ll")
}
# boundary_hits IFACE: the policy's boundary hit counters on IFACE.
boundary_hits() {
	pol "' '.join('%s=%d' % (b['prefix'], b['packets']) for i in d['interfaces'] if i['name'] == '$1' for b in i['boundaries'] if b['packets'])"
}
SCOPED_HITS="239.255.0.0/16=$((2 * N)) 239.192.0.0/14=$((4 * N)) ff05::/16=$((2 * N)) ff15::/16=$((2 * N))"

# dn3 has a boundary written as a prefix: ff05::/16 is only the groups
# without flags, so ff15:: passes there.
conf_write "# 2a: a downstream boundary
phyint up0
phyint dn1
phyint dn2 boundary local boundary organization boundary ipv6-site
phyint dn3 boundary ff05::/16"
xmd_reload xmd1
expect_eq "reload to a boundary on dn2: exit 0, epoch 2" "0 policy epoch 2 in force" "$XMD_RC $XMD_OUT"
snap 2a
boundary_receivers 2a h2 h3:bu-ff05::1:3
WANT_2A="dn2:in:boundary=$((5 * N)) dn2:out:boundary=$((5 * N)) dn3:out:boundary=$N"
batch_run "moved_now 2a '$WANT_2A' $POLICY_REASONS" "${bu[@]}" "${bd[@]}" ll -- "${RXS[@]}"
expect_eq "boundary on dn2: scoped groups dropped arriving on dn2 (XDP) and leaving through dn2 ($EGRESS); ff05:: on dn3; nothing else" \
	"$WANT_2A" "$(moved 2a now $POLICY_REASONS)"
policy_json
expect_eq "boundary on dn2: policy -j hits per prefix (both directions; 239.192/14 holds 239.195.x)" \
	"$SCOPED_HITS" "$(boundary_hits dn2)"
expect_eq "boundary ff05::/16 on dn3: policy -j hits (ff15:: is not in it)" "ff05::/16=$N" "$(boundary_hits dn3)"

conf_write "# 2b: an upstream boundary
phyint up0 boundary local boundary organization boundary ipv6-site
phyint dn1
phyint dn2
phyint dn3"
xmd_reload xmd1
expect_eq "reload to a boundary on up0: exit 0, epoch 3" "0 policy epoch 3 in force" "$XMD_RC $XMD_OUT"
snap 2b
boundary_receivers 2b src
WANT_2B="up0:in:boundary=$((5 * N)) up0:out:boundary=$((5 * N))"
batch_run "moved_now 2b '$WANT_2B' $POLICY_REASONS" "${bu[@]}" "${bd[@]}" ll -- "${RXS[@]}"
expect_eq "boundary on up0: scoped groups dropped arriving on up0 (XDP) and leaving through up0 ($EGRESS), nothing else" \
	"$WANT_2B" "$(moved 2b now $POLICY_REASONS)"
policy_json
expect_eq "boundary on up0: policy -j hits per prefix; dn2 has none left" \
	"$SCOPED_HITS /" "$(boundary_hits up0) /$(boundary_hits dn2)"
expect_eq "ff02::1:5 reached the router through both configs as link_local, never policed" \
	"$((2 * N)) link_local" \
	"$(json_get "'%s %s' % (flow('up0', 'ff02::1:5', '$SRC_IP6').get('packets'), flow('up0', 'ff02::1:5', '$SRC_IP6').get('last_reason'))" <"$XM_TMP/snap-now.json")"

# ==== 3. Filter rules ====
FLT_CONF="# 3: filter rules
phyint up0
phyint dn1
phyint dn2
phyint dn3
deny in up0 group 239.10.1.0/24
deny out dn2 group 239.10.2.0/24
deny in up0 group 239.10.3.0/24
allow in any group 239.10.3.3
allow in up0 group 239.10.3.0/24 source $SRC2_IP4
deny in up0 group 239.10.4.0/24 audit
allow out dn3 group 239.10.4.0/24 audit
deny out dn1 group ff0e::10:0/112"
stream f-deny-in "$NS_SRC" 239.10.1.1 "$SRC_IP4" $N
stream f-deny-out "$NS_SRC" 239.10.2.1 "$SRC_IP4" $N
stream f-allow-group "$NS_SRC" 239.10.3.3 "$SRC_IP4" $N
stream f-denied "$NS_SRC" 239.10.3.4 "$SRC_IP4" $N
stream f-allow-source "$NS_SRC" 239.10.3.4 "$SRC2_IP4" $N
stream f-audit "$NS_SRC" 239.10.4.1 "$SRC_IP4" $N
stream f-v6-deny-out "$NS_SRC" ff0e::10:1 "$SRC_IP6" $N
RXS=()
for h in 1 2 3; do
	ns=${NS_HOST[$h]}
	receiver "3-h$h-deny-in" "$ns" eth0 239.10.1.1 ""
	receiver "3-h$h-deny-out" "$ns" eth0 239.10.2.1 "$([ $h = 2 ] || echo f-deny-out)"
	receiver "3-h$h-allow-group" "$ns" eth0 239.10.3.3 f-allow-group
	receiver "3-h$h-allow-source" "$ns" eth0 239.10.3.4 f-allow-source
	receiver "3-h$h-audit" "$ns" eth0 239.10.4.1 f-audit
	receiver "3-h$h-v6" "$ns" eth0 ff0e::10:1 "$([ $h = 1 ] || echo f-v6-deny-out)"
	RXS+=("3-h$h-deny-in" "3-h$h-deny-out" "3-h$h-allow-group" "3-h$h-allow-source" "3-h$h-audit" "3-h$h-v6")
done
conf_write "$FLT_CONF"
xmd_reload xmd1
expect_eq "reload to filter rules: exit 0, epoch 4" "0 policy epoch 4 in force" "$XMD_RC $XMD_OUT"
snap 3
WANT_3="up0:in:policy=$((2 * N)) up0:in:policy_audit=$N dn1:out:policy=$N dn2:out:policy=$N dn3:out:policy_audit=$N"
AUDIT_3="audit passes counted in (up0) and out (dn3)"
if ! kernel_fwd; then
	# An audited frame the accelerator replicates, and an audited copy, are
	# counted as accelerated (one reason a frame); the rules' own hit
	# counters below have them.
	WANT_3="up0:in:policy=$((2 * N)) dn1:out:policy=$N dn2:out:policy=$N"
	AUDIT_3="audit passes counted as accelerated"
fi
batch_run "moved_now 3 '$WANT_3' $POLICY_REASONS" f-deny-in f-deny-out f-allow-group f-denied \
	f-allow-source f-audit f-v6-deny-out -- "${RXS[@]}"
expect_eq "filter rules: policy drops in (up0) and out (dn1, dn2), $AUDIT_3" \
	"$WANT_3" "$(moved 3 now $POLICY_REASONS)"
policy_json
expect_eq "policy -j lists the rules in file order, with their lines" \
	"deny/in/up0/239.10.1.0/24/-/6 deny/out/dn2/239.10.2.0/24/-/7 deny/in/up0/239.10.3.0/24/-/8 allow/in/any/239.10.3.3/32/-/9 allow/in/up0/239.10.3.0/24/$SRC2_IP4/32/10 deny/in/up0/239.10.4.0/24/-/11a allow/out/dn3/239.10.4.0/24/-/12a deny/out/dn1/ff0e::10:0/112/-/13" \
	"$(pol "' '.join('%s/%s/%s/%s/%s/%d%s' % (r['action'], r['direction'], r['iface'], r['group'], r['source'] or '-', r['line'], 'a' if r['audit'] else '') for r in d['rules'])")"
expect_eq "policy -j: every rule's hit counter equals the $N packets it decided" \
	"$N $N $N $N $N $N $N $N" "$(pol "' '.join(str(r['packets']) for r in d['rules'])")"

# ==== 4. Reload under traffic ====
#
# A ($GRP_A, routed to dn1 and dn2) and B ($GRP_B, routed to dn1) flow at
# 2000 pps each; h1 receives both, h2 receives A.  A reload adds 'boundary
# local' to dn1: from then on A must not leave through dn1.
#
# The bound.  ipmr counts a packet on its route (mfc_pkts) when it enters
# ip_mr_forward(), and that same call chain hands it to dn1's TC egress
# program; A's packets reach ipmr in sequence order (one sender, one veth
# queue, sequence numbers from 0).  `reload` returns once the new epoch is
# in force; right after, A's route count reads K.  Every packet of A with a
# sequence >= K met the TC program after that read, so after the switch, and
# must have been dropped: h1 may hold only sequences below K, the packets
# already past the router, or inside it, when reload returned (K exceeds the
# true cut by the few milliseconds between reload's return and the read).
# That the cut is clean is checked exactly: h1's sequences are 0..m-1 with
# no gap (nothing lost before the switch) and m + dn1's egress boundary
# drops = sent (nothing delivered after it).
#
# With FORWARDER=xdp the count is A's flow on up0 (stats -j): the XDP
# program counts each frame as it arrives, in sequence order, before it
# makes the copies, and the devmap egress program meets dn1's copy within
# the same NAPI poll.  `reload` returns 20 ms after the switch at the
# earliest (docs/policy.md), and the flow cache leaves out of a read at
# most one tick's frames (4 ms here) that move during it (docs/design.md,
# "The flow cache"), all of them long after the switch: the bound holds.
NA=16000 NB=16000 RATE=2000
A_COUNT="route count"
kernel_fwd || A_COUNT="flow count"
conf_write "# 4: before
phyint up0
phyint dn1
phyint dn2
phyint dn3"
xmd_reload xmd1
expect_eq "reload to no policy for A and B: exit 0, epoch 5" "0 policy epoch 5 in force" "$XMD_RC $XMD_OUT"
rx_start 4-h1-A "$H1" eth0 $GRP_A
rx_start 4-h2-A "$H2" eth0 $GRP_A -n $NA
rx_start 4-h1-B "$H1" eth0 $GRP_B -n $NB
wait_until 10 rx_ready 4-h1-A 4-h2-A 4-h1-B
tx_start 4-A "$NS_SRC" eth0 $GRP_A "$SRC_IP4" --stream 1 -n $NA -r $RATE -t 16
tx_start 4-B "$NS_SRC" eth0 $GRP_B "$SRC_IP4" --stream 2 -n $NB -r $RATE -t 16
a_flowing() { [ "$(rx_count 4-h1-A)" -ge $RATE ] && [ "$(rx_count 4-h1-B)" -ge $RATE ]; }
wait_until 10 a_flowing
expect_eq "A and B flow to h1 (a second's worth each)" 0 $? \
	"h1-A: $(rx_count 4-h1-A) h1-B: $(rx_count 4-h1-B)"

BLOCK_A_CONF="# 4: after
phyint up0
phyint dn1 boundary local
phyint dn2
phyint dn3"
conf_write "$BLOCK_A_CONF"
snap 4
xmd_reload xmd1
K=$(a_count)
expect_eq "reload adding 'boundary local' to dn1 under traffic: exit 0, epoch 6" \
	"0 policy epoch 6 in force" "$XMD_RC $XMD_OUT"

# A config with an error: refused as a whole, the policy in force stays.
conf_write "# 4: broken
phyint up0
phyint dn1 boundary local
phyint dn2 ttl-threshold 300
phyint dn3"
xmd_reload xmd1
K2=$(a_count)
expect_eq "reload of a config with ttl-threshold 300: exit 78 (EX_CONFIG)" 78 "$XMD_RC" "$XMD_OUT"
expect_match "reload says the daemon kept its policy" "kept its policy" "$XMD_OUT"
expect_match "the daemon logs the error as FILE:LINE:COLUMN" \
	"$CONF:4:26: ttl-threshold must be 0\.\.255, not '300'" "$(cat "$XM_TMP/xmd1.log")"
expect_eq "the epoch is still 6" 6 "$(xm_policy_epoch "$NS_RTR")"

wait_until 15 tx_done 4-A 4-B
expect_eq "A and B sent in full at $RATE pps" "$NA 0 $NB 0" \
	"$(rx_get 4-A '"%s %s" % (d["sent"], d["errors"])') $(rx_get 4-B '"%s %s" % (d["sent"], d["errors"])')" \
	"$(cat "$XM_TMP"/4-[AB].{json,err} 2>/dev/null)"
wait_until 10 rx_done 4-h2-A 4-h1-B
a_drops() {
	local n
	n=$(moved 4 now boundary | sed -n 's/^dn1:out:boundary=//p')
	echo "${n:-0}"
}
a_accounted() { snap now && [ $(($(rx_count 4-h1-A) + $(a_drops))) -eq $NA ]; }
wait_until 5 a_accounted
rx_stop 4-h1-A 4-h2-A 4-h1-B
expect_eq "B lost nothing across both reloads: h1 got all $NB sequence numbers, none twice" \
	"$NB $NB 0 2:$NB" \
	"$(rx_get 4-h1-B '"%s %s %s" % (d["received"], d["unique"], d["duplicates"])') $(got_of 4-h1-B)"
expect_eq "A lost nothing on dn2, which has no boundary: h2 got all $NA" \
	"$NA $NA 0" "$(rx_get 4-h2-A '"%s %s %s" % (d["received"], d["unique"], d["duplicates"])')"
read -r m mn mx distinct <<<"$(awk 'NR == 1 || $2 < mn {mn = $2} $2 > mx {mx = $2} !s[$2]++ {u++}
	END {print NR + 0, (NR ? mn : -1), (NR ? mx : -1), u + 0}' "$XM_TMP/4-h1-A.log")"
expect_eq "h1 got A without a gap until the switch: sequences 0..m-1, none twice" \
	"0 $((m - 1)) $m" "$mn $mx $distinct"
expect_eq "nothing of A that reached the router after reload returned left through dn1 (h1's last $mx < K $K)" \
	yes "$([ "$m" -gt 0 ] && [ "$mx" -lt "$K" ] && echo yes || echo no)" \
	"delivered $m, $A_COUNT when reload returned $K: $((K - m)) dropped in between"
expect_eq "every packet of A is accounted for: $m delivered + dn1's egress boundary drops = $NA sent" \
	"$NA" "$((m + $(a_drops)))"
expect_eq "only dn1's egress boundary counter moved" "dn1:out:boundary=$((NA - m))" \
	"$(moved 4 now $POLICY_REASONS)"
expect_eq "A still flowed after the refused reload returned ($A_COUNT $K2 < $NA), and was dropped" \
	yes "$([ "$K2" -lt "$NA" ] && echo yes || echo no)"

# A config without phyints: the daemon detaches the ones that left, but the
# state stays (rules keep applying to interfaces loaded by hand).
conf_write "# 4: rules only
deny in any group 239.0.0.0/8"
xmd_reload xmd1
expect_eq "reload to a rules-only config: exit 0, epoch 7" "0 policy epoch 7 in force" \
	"$XMD_RC $XMD_OUT"
expect_eq "rules only: the phyints are detached, the pins stay" "0 0 0 0 present" \
	"$(xdp_prog_ids) $([ -d "$PIN" ] && echo present || echo absent)"
expect_eq "rules only: policy -j shows the one rule" "deny 239.0.0.0/8" \
	"$(xm policy -j | json_get '" ".join(r["action"] + " " + r["group"] for r in d["rules"])')"
conf_write "$BLOCK_A_CONF"
xmd_reload xmd1
expect_eq "reload back to four phyints: exit 0, epoch 8, all attached again" \
	"0 policy epoch 8 in force 4" \
	"$XMD_RC $XMD_OUT $(xm status -j | json_get 'sum(1 for i in d["interfaces"] if i["attached"] and i["tc_egress"])')"

# ==== 5. The daemon's life ====

# a_burst TAG H1-GETS-IT: 20 datagrams to A; h2 must get them, h1 only when
# H1-GETS-IT is yes (otherwise dn1's boundary must count them).  With
# "none" nothing forwards: nobody may get anything within a second of the
# last datagram sent, and the source's count of datagrams sent follows.
a_burst() {
	local t=5$1 h1n="" h2n="-n 20"
	[ "$2" = yes ] && h1n="-n 20"
	[ "$2" = none ] && h2n=
	# shellcheck disable=SC2086
	rx_start "$t-h1" "$H1" eth0 $GRP_A $h1n
	# shellcheck disable=SC2086
	rx_start "$t-h2" "$H2" eth0 $GRP_A $h2n
	wait_until 10 rx_ready "$t-h1" "$t-h2"
	[ "$2" = no ] && snap "$t"
	tx_start "$t-A" "$NS_SRC" eth0 $GRP_A "$SRC_IP4" --stream 5 -n 20 -r 200 -t 16
	if [ "$2" = none ]; then
		wait_until 10 tx_done "$t-A"
		wait_until 1 eval "[ \$((\$(rx_count $t-h1) + \$(rx_count $t-h2))) -gt 0 ]"
	else
		wait_until 10 rx_done "$t-A" "$t-h2"
	fi
	if [ "$2" = yes ]; then
		wait_until 10 rx_done "$t-h1"
	elif [ "$2" = no ]; then
		wait_until 5 moved_now "$t" "dn1:out:boundary=20" $POLICY_REASONS
	fi
	rx_stop "$t-h1" "$t-h2"
	local sent=
	[ "$2" = none ] && sent=" sent $(rx_get "$t-A" 'd["sent"]')"
	echo "$(rx_get "$t-h1" 'd["unique"]') $(rx_get "$t-h2" 'd["unique"]')$sent"
}
# tc_prog_ids: the egress program id on each router interface (0: none).
tc_prog_ids() {
	local i
	for i in $ROUTER_IFACES; do
		tc -n "$NS_RTR" filter show dev "$i" egress 2>/dev/null |
			sed -n 's/.*tc_mcast_egress:\[\([0-9]*\)\].*/\1/p' | grep . || echo 0
	done | xargs
}

# SIGTERM: everything detached, pins removed.
xmd_stop xmd1
expect_eq "SIGTERM: the daemon exits 0" 0 "$XMD_RC" "$(tail -5 "$XM_TMP/xmd1.log")"
expect_match "SIGTERM: it says it detached from 4 interfaces" "detached from 4 interfaces" \
	"$(cat "$XM_TMP/xmd1.log")"
expect_eq "SIGTERM: no XDP program on any phyint" "0 0 0 0" "$(xdp_prog_ids)"
expect_eq "SIGTERM: no TC egress filter on any phyint" "0 0 0 0" "$(tc_egress_filters)"
expect_eq "SIGTERM: the pins and their directory are gone" absent \
	"$([ -e "$PIN" ] && ls "$PIN" || echo absent)"
expect_eq "SIGTERM: the pid file is gone" absent "$([ -e "$XM_TMP/xmd1.pid" ] && echo present || echo absent)"
if kernel_fwd; then
	expect_eq "without xdp-mcast A reaches h1 again (and h2)" "20 20" "$(a_burst a yes)"
else
	expect_eq "without xdp-mcast nothing forwards A (no multicast routing runs): h1 0, h2 0 of 20 sent" \
		"0 0 sent 20" "$(a_burst a none)"
fi

# --keep: the data path and the policy outlive the daemon.
conf_write "$BLOCK_A_CONF"
xmd_start xmd2 "$NS_RTR" "$CONF" --keep
expect_eq "a daemon with --keep starts (epoch 1 on fresh pins)" 1 "$(xm_policy_epoch "$NS_RTR")" \
	"$(cat "$XM_TMP/xmd2.log")"
xdp_ids=$(xdp_prog_ids) tc_ids=$(tc_prog_ids)
links=$(xm status -j | json_get '" ".join(str(i["link_id"]) for i in d["interfaces"])')
expect_eq "with the daemon running, A is blocked on dn1 (h1 0, h2 20)" "0 20" "$(a_burst b no)"
xmd_stop xmd2
expect_eq "--keep, SIGTERM: the daemon exits 0" 0 "$XMD_RC" "$(tail -5 "$XM_TMP/xmd2.log")"
expect_match "--keep, SIGTERM: it says it leaves the data path in place" "leaving the data path" \
	"$(cat "$XM_TMP/xmd2.log")"
expect_eq "--keep: the same XDP and TC programs stay on every phyint" "$xdp_ids / $tc_ids" \
	"$(xdp_prog_ids) / $(tc_prog_ids)"
expect_eq "--keep: the policy stays in force (epoch 1)" 1 "$(xm_policy_epoch "$NS_RTR")"
expect_eq "--keep: with no daemon, A is still blocked on dn1 (h1 0, h2 20)" "0 20" "$(a_burst c no)"
snap kept

# A new daemon adopts what the old one left.
xmd_start xmd3 "$NS_RTR" "$CONF"
expect_eq "a new daemon adopts the pinned state and switches the policy (epoch 2)" 2 \
	"$(xm_policy_epoch "$NS_RTR")" "$(cat "$XM_TMP/xmd3.log")"
expect_eq "adopted: the same programs and the same XDP links, nothing reattached" \
	"$xdp_ids / $tc_ids / $links" \
	"$(xdp_prog_ids) / $(tc_prog_ids) / $(xm status -j | json_get '" ".join(str(i["link_id"]) for i in d["interfaces"])')"
snap adopted
expect_eq "adopted: the counters went on (dn1's egress boundary count kept its 40)" "40 40" \
	"$(for s in kept adopted; do json_get "[i for i in d['interfaces'] if i['name'] == 'dn1'][0]['egress_reasons']['boundary']['packets']" <"$XM_TMP/snap-$s.json"; done | xargs)"
expect_eq "the new daemon blocks A on dn1 (h1 0, h2 20)" "0 20" "$(a_burst d no)"
xmd_stop xmd3
expect_eq "the new daemon, SIGTERM: exits 0, detaches XDP and TC, removes the pins" \
	"0 / 0 0 0 0 / 0 0 0 0 / absent" \
	"$XMD_RC / $(xdp_prog_ids) / $(tc_egress_filters) / $([ -e "$PIN" ] && ls "$PIN" || echo absent)"

smcroute_stop
echo "# $(basename "$0"): $((SECONDS - T0)) s"
tap_done
