#!/usr/bin/env bash
# The accelerator's forwarding entries as `xdp-mcast routes` shows them,
# and the groups the router itself listens to.
#
# The topology of tests/ns/lib.sh (a source, a router, three hosts), the
# daemon in accelerate mode on the router.
#
#  1. Config routes: the exact text of `routes` and of `routes -i dn2`,
#     and the JSON of one entry.  A static join on a downstream phyint
#     gives a membership route (origin membership).
#  2. Kernel routes (smcroute's daemon installs them): a socket on the
#     router joins a routed group on the incoming interface.  The entry
#     gets the listener and kernel flags, the frames go to the kernel
#     (nothing accelerated), and the local socket and every downstream
#     receiver get each datagram exactly once.  When the socket leaves, the
#     flags go and the frames are accelerated again, still exactly once.
#  3. A config route with a listener: flagged listener but not kernel
#     (the kernel has no route to forward it with), still accelerated to
#     the downstream receiver, and the daemon says so.
#  4. A second upstream phyint is refused at reload with its position; the
#     entries in force stay.
#  5. Part 2's flag without a routing daemon (for kernels without ipmr):
#     build/tests/fwd_feed hands the table a route as the kernel's; with a
#     listener its frames reach the local socket once each and none is
#     accelerated; without, all are.
#
# Everything is removed on exit, whatever happens.
#
# shellcheck disable=SC2317  # functions called through wait_until
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ns/lib.sh

for need in "$XM_BIN" "$XM_GEN" "$XM_BUILD/bpf/xdp_pass.bpf.o"; do
	if [ ! -e "$need" ]; then
		echo "ok - forwarding entries # SKIP $need is not built (make)"
		exit 0
	fi
done
T0=$SECONDS

topo_create 3
check "topology: source, router and three hosts are up" topo_links_up
# A redirected frame needs NAPI on the receiving veth.
for i in 1 2 3; do
	ip -n "${NS_HOST[$i]}" link set dev eth0 xdp obj "$XM_BUILD/bpf/xdp_pass.bpf.o" sec xdp
done
wait_until 5 topo_links_up
tx_csum_off "$NS_SRC" eth0

BPFFS=$(bpffs_create)
export XDP_MCAST_PIN_PATH=$BPFFS/xm
CONF=$XM_TMP/xdp-mcast.conf
xm() { ip netns exec "$NS_RTR" "$XM_BIN" "$@"; }
conf_write() { printf '%s\n' "$1" >"$CONF.new" && mv "$CONF.new" "$CONF"; }

PHY="phyint up0 forwarding accelerate
phyint dn1 forwarding accelerate
phyint dn2 forwarding accelerate
phyint dn3 forwarding accelerate ttl-threshold 32"

# row SOURCE GROUP IIF VLAN ORIGIN FLAGS OIFS...: one line of `routes`.
row() {
	local s=$1 g=$2 i=$3 v=$4 o=$5 f=$6
	shift 6
	printf '%-26s %-26s %-12s %4u %-10s %-15s %s\n' "$s" "$g" "$i" "$v" "$o" "$f" "$*"
}
HEAD=$(printf '%-26s %-26s %-12s %4s %-10s %-15s %s' SOURCE GROUP IIF VLAN ORIGIN FLAGS OIFS)

# ---- 1. config routes ----

conf_write "$PHY
mroute from up0 source $SRC_IP4 group 239.1.1.1 to dn1 dn2
mroute from up0 group 239.1.1.2 to dn1 dn2 dn3
mroute from up0 group 239.2.0.0/16 to dn3
mroute from up0 source $SRC_IP6 group ff0e::1:1 to dn1 dn3
mroute from up0 source 10.10.0.0/24 group 239.1.1.3 to dn2
mroute from up0 group ff0e::/16 to dn1"
xmd_start xmd "$NS_RTR" "$CONF" || not_ok "daemon starts"

WANT="$HEAD
$(row "$SRC_IP4" 239.1.1.1 up0 0 config - dn1 dn2)
$(row '*' 239.1.1.2 up0 0 config - dn1 dn2 dn3)
$(row 10.10.0.0/24 239.1.1.3 up0 0 config - dn2)
$(row '*' 239.2.0.0/16 up0 0 config - dn3)
$(row '*' ff0e::/16 up0 0 config - dn1)
$(row "$SRC_IP6" ff0e::1:1 up0 0 config - dn1 dn3)"
routes_are() { [ "$(xm routes 2>&1)" = "$1" ]; }
# expect_routes NAME DEADLINE WANT: `routes` shows WANT within DEADLINE s.
expect_routes() {
	wait_until "$2" routes_are "$3"
	expect_eq "$1" "$3" "$(xm routes 2>&1)"
}
wait_until 5 routes_are "$WANT"
expect_eq "routes: the config's (S,G), (*,G), source and group prefixes, IPv6, in order" \
	"$WANT" "$(xm routes 2>&1)"
expect_eq "routes -i dn2: only the entries through dn2" "$HEAD
$(row "$SRC_IP4" 239.1.1.1 up0 0 config - dn1 dn2)
$(row '*' 239.1.1.2 up0 0 config - dn1 dn2 dn3)
$(row 10.10.0.0/24 239.1.1.3 up0 0 config - dn2)" "$(xm routes -i dn2 2>&1)"
expect_eq "routes -j: the group prefix entry" \
	'{"family": "ipv4", "source": "0.0.0.0", "source_len": 0, "group": "239.2.0.0", "group_len": 16, "iif": "up0", "vlan": 0, "origin": "config", "kernel": false, "listener": false, "oifs": [{"iface": "dn3", "vlan": 0, "ttl_threshold": 1}]}' \
	"$(xm routes -j | json_get '[{k: v for k, v in r.items() if k != "ifindex"} | {"oifs": [{k: v for k, v in o.items() if k != "ifindex"} for o in r["oifs"]]} for r in d["routes"] if r["group"] == "239.2.0.0"][0]')"
expect_match "routes -i with an unknown interface fails and says so" "unknown interface 'nosuch0'" \
	"$(xm routes -i nosuch0 2>&1)"

# A static join on a downstream phyint, traffic from the upstream one.
conf_write "phyint up0 forwarding accelerate upstream
phyint dn1 forwarding accelerate downstream
join dn1 239.6.6.6"
xmd_reload xmd
expect_eq "reload into proxy roles with a static join" 0 "$XMD_RC" "$XMD_OUT"
WANT="$HEAD
$(row '*' 239.6.6.6 up0 0 membership - dn1)"
expect_routes "routes: the static join is a membership route from the upstream" \
	 5 "$WANT"

# ---- 2. kernel routes with a listener on the router ----

# accelerated: up0's accelerated frame counter.
accelerated() { xm stats -j -i up0 | json_get 'reason("up0", "accelerated").get("packets", 0)'; }
# one_pass TAG: 20 datagrams (stream 1) to h1 and h2 (and the
# router's socket LOCAL when set), then one of stream 2: once every
# receiver has that one, any duplicate of stream 1 (same path, sent
# before) has arrived too.  Each must have all 20, once each.
one_pass() {
	local tag=$1 names="$1-h1 $1-h2" n
	rx_start "$tag-h1" "${NS_HOST[1]}" eth0 $G -T 10
	rx_start "$tag-h2" "${NS_HOST[2]}" eth0 $G -T 10
	if [ -n "${LOCAL:-}" ]; then names="$names $LOCAL"; fi
	# shellcheck disable=SC2086
	wait_until 5 rx_ready $names
	A0=$(accelerated)
	tx_start "$tag-tx" "$NS_SRC" eth0 $G "$SRC_IP4" -n 20 -r 500 -t 16 --stream 1
	wait_until 5 tx_done "$tag-tx"
	tx_start "$tag-end" "$NS_SRC" eth0 $G "$SRC_IP4" -n 1 -t 16 --stream 2
	# shellcheck disable=SC2086
	wait_until 5 got_end $names
	A1=$(accelerated)
	rx_stop "$tag-h1" "$tag-h2"
	for n in $names; do
		expect_eq "$tag: $n gets each of the 20 datagrams exactly once" "20 20" \
			"$(awk '$1 == 1' "$XM_TMP/$n.log" | wc -l) $(awk '$1 == 1 {print $2}' \
			"$XM_TMP/$n.log" | sort -u | wc -l)"
	done
}
got_end() {
	local n
	for n in "$@"; do awk '$1 == 2 { f = 1 } END { exit !f }' "$XM_TMP/$n.log" || return 1; done
}

conf_write "$PHY"
xmd_reload xmd
expect_eq "reload into accelerate mode without routes" 0 "$XMD_RC" "$XMD_OUT"
if ! command -v smcrouted >/dev/null || ! command -v smcroutectl >/dev/null; then
	skip "a listener on the router with kernel routes" "smcroute is not installed (make deps)"
elif kernel_mroute_missing >/dev/null; then
	skip "a listener on the router with kernel routes" \
		"this kernel has no multicast routing (CONFIG_IP_MROUTE)"
else
	smcroute_start "phyint up0 enable
phyint dn1 enable
phyint dn2 enable ttl-threshold 5
phyint dn3 enable
mroute from up0 source $SRC_IP4 group 239.3.3.3 to dn1 dn2"
	check "smcrouted runs in the router namespace" smcroute_ready
	G=239.3.3.3
	WANT="$HEAD
$(row "$SRC_IP4" $G up0 0 kernel - dn1 dn2:5)"
	expect_routes "routes: smcroute's (S,G), mirrored from the kernel, with dn2's threshold" \
		 10 "$WANT"

	rx_start local "$NS_RTR" up0 $G -T 30
	check "a socket on the router joins $G on up0" wait_until 5 rx_ready local
	WANT="$HEAD
$(row "$SRC_IP4" $G up0 0 kernel kernel,listener dn1 dn2:5)"
	expect_routes "routes: the entry gets the listener and kernel flags" \
		 5 "$WANT"
	LOCAL=local one_pass listener
	expect_eq "with the listener, nothing is accelerated: the kernel forwards and delivers" \
		0 "$((A1 - A0))"
	expect_eq "the local copies arrive as sent (TTL 16), the downstream ones as forwarded (15)" \
		"16 15" "$(awk '{print $3}' "$XM_TMP/local.log" | sort -u | paste -sd,) $(awk '{print $3}' \
		"$XM_TMP/listener-h1.log" | sort -u | paste -sd,)"
	rx_stop local

	WANT="$HEAD
$(row "$SRC_IP4" $G up0 0 kernel - dn1 dn2:5)"
	expect_routes "the socket leaves: the flags go" 5 "$WANT"
	LOCAL='' one_pass again
	expect_eq "without the listener, all 21 frames (20 and the last) are accelerated" 21 \
		"$((A1 - A0))"
	smcroute_stop
	check "smcroute stops: its entry goes" wait_until 10 routes_are "$HEAD"
fi

# ---- 3. a config route with a listener ----

conf_write "$PHY
mroute from up0 group 239.4.4.4 to dn1 dn2"
xmd_reload xmd
expect_eq "reload with a config route" 0 "$XMD_RC" "$XMD_OUT"
G=239.4.4.4
rx_start cfg-local "$NS_RTR" up0 $G -T 20
check "a socket on the router joins 239.4.4.4 on up0" wait_until 5 rx_ready cfg-local
WANT="$HEAD
$(row '*' 239.4.4.4 up0 0 config listener dn1 dn2)"
expect_routes "routes: a config route with a listener is flagged listener, not kernel" \
	 5 "$WANT"
expect_match "the daemon says the local listener of a config route gets nothing" \
	"listens to 239.4.4.4 on up0, but its route \(\*, 239.4.4.4\) comes from the config" \
	"$(cat "$XM_TMP/xmd.log")"
LOCAL='' one_pass config
expect_eq "config route with a listener: all 21 frames (20 and the last) are accelerated" 21 \
	"$((A1 - A0))"
expect_eq "... and the local listener gets none of them" 0 "$(rx_count cfg-local)"
rx_stop cfg-local

# ---- 4. one upstream ----

conf_write "phyint up0 forwarding accelerate upstream
phyint dn1 forwarding accelerate downstream
phyint dn2 forwarding accelerate upstream"
xmd_reload xmd
expect_eq "a second upstream: the reload fails (EX_CONFIG)" 78 "$XMD_RC" "$XMD_OUT"
expect_match "and the daemon says where, and where the first is" \
	"$CONF:3:34: phyint dn2 cannot be upstream: phyint up0 is, at $CONF:1:8" \
	"$(cat "$XM_TMP/xmd.log")"
expect_eq "the entries in force stay" "$HEAD
$(row '*' 239.4.4.4 up0 0 config - dn1 dn2)" "$(xm routes 2>&1)"

xmd_stop xmd
expect_eq "the daemon exits cleanly" 0 "$XMD_RC"

# ---- 5. the kernel flag without a routing daemon ----

# Where no multicast routing daemon can run (no ipmr), part 2 cannot; the
# forwarding table and the listener follower alone (build/tests/fwd_feed)
# take a route handed over as the kernel's.  With a listener the frames
# must go to the kernel: the local socket gets each once and nothing is
# accelerated (the kernel has no route to forward them by, so the hosts
# get nothing); without one they are accelerated again.
FEED=$XM_BUILD/tests/fwd_feed
if [ ! -x "$FEED" ]; then
	skip "the kernel flag with fwd_feed" "$FEED is not built (make test-bins)"
else
	G=239.8.8.8
	xm load up0 dn1 dn2 >/dev/null
	ns_bg "$NS_RTR" "$XM_TMP/feed.out" "$XM_TMP/feed.err" "$FEED" up0 "$SRC_IP4" $G dn1 dn2
	FEED_PID=$BG_PID
	check "fwd_feed puts a kernel route in" wait_until 5 grep -qx ready "$XM_TMP/feed.out"
	expect_routes "routes: the kernel route" 5 "$HEAD
$(row "$SRC_IP4" $G up0 0 kernel - dn1 dn2)"
	rx_start feed-local "$NS_RTR" up0 $G -T 20
	check "a socket on the router joins $G on up0" wait_until 5 rx_ready feed-local
	expect_routes "routes: the kernel route with a listener is flagged kernel,listener" 5 "$HEAD
$(row "$SRC_IP4" $G up0 0 kernel kernel,listener dn1 dn2)"
	rx_start feed-h1 "${NS_HOST[1]}" eth0 $G -T 20
	wait_until 5 rx_ready feed-h1
	A0=$(accelerated)
	tx_start feed-tx "$NS_SRC" eth0 $G "$SRC_IP4" -n 20 -r 500 -t 16 --stream 1
	wait_until 5 tx_done feed-tx
	tx_start feed-end "$NS_SRC" eth0 $G "$SRC_IP4" -n 1 -t 16 --stream 2
	wait_until 5 got_end feed-local
	expect_eq "kernel flag: the local socket gets each of the 20 datagrams exactly once" "20 20" \
		"$(awk '$1 == 1' "$XM_TMP/feed-local.log" | wc -l) $(awk '$1 == 1 {print $2}' \
		"$XM_TMP/feed-local.log" | sort -u | wc -l)"
	expect_eq "kernel flag: nothing accelerated, h1 gets nothing" "0 0" \
		"$(($(accelerated) - A0)) $(rx_count feed-h1)"
	rx_stop feed-local feed-h1
	expect_routes "the socket leaves: the flags go" 5 "$HEAD
$(row "$SRC_IP4" $G up0 0 kernel - dn1 dn2)"
	LOCAL='' one_pass feed
	expect_eq "without the listener, all 21 frames (20 and the last) are accelerated" 21 \
		"$((A1 - A0))"
	xm_stop_pids "$FEED_PID"
	check "fwd_feed removes its entries when it ends" routes_are "$HEAD"
fi
echo "# $(basename "$0"): $((SECONDS - T0)) s"
tap_done
