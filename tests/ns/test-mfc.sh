#!/usr/bin/env bash
# The kernel's multicast routes, mirrored (userspace/mfc.c).
#
# smcroute's own daemon installs routes into the router namespace's ipmr and
# ip6mr; build/tests/mfc_watch runs the mirror module there and prints its
# table every time the module reports a change.  The test compares that
# table with what the kernel itself shows (`ip mroute show`, the same
# netlink dump through iproute2) and with the routes smcroute was given:
# entries at start, TTL thresholds, an (S,G) smcroute installs when the
# first packet of a (*,G) route arrives, a route deleted at run time, and the
# whole table going when smcroute stops.  Everything is removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/ns/lib.sh

WATCH=$XM_BUILD/tests/mfc_watch
if [ ! -x "$WATCH" ]; then
	echo "ok - the kernel MFC mirror # SKIP $WATCH is not built (make test-bins)"
	exit 0
fi
if ! command -v smcrouted >/dev/null || ! command -v smcroutectl >/dev/null; then
	echo "ok - the kernel MFC mirror # SKIP smcroute is not installed (make deps)"
	exit 0
fi
if ! kernel_mroute; then
	echo "ok - the kernel MFC mirror # SKIP this kernel has no multicast routing (CONFIG_IP_MROUTE)"
	exit 0
fi
T0=$SECONDS

topo_create 3
check "topology: source, router and three hosts are up" topo_links_up

# Two mirrors, started before smcroute: they must see routes arrive.  The
# first never dumps after its start (-r 0): what it learns comes from the
# kernel's notifications alone.  The second dumps every 300 ms: it sees
# what the kernel does not announce.
MIRROR=$XM_TMP/mirror.out
ns_bg "$NS_RTR" "$MIRROR" "$XM_TMP/mirror.err" "$WATCH" -r 0
WATCH_PID=$BG_PID
ns_bg "$NS_RTR" "$XM_TMP/mirror-r.out" "$XM_TMP/mirror-r.err" "$WATCH" -r 300
WATCH_R_PID=$BG_PID
# mirror_now [FILE]: the newest complete table a mirror printed, sorted.
mirror_now() {
	awk '/^table / { n = 0; next } /^end$/ { done = n; for (i = 0; i < n; i++) t[i] = c[i]; next }
		{ c[n++] = $0 } END { for (i = 0; i < done; i++) print t[i] }' "${1:-$MIRROR}" | sort
}
tables() { grep -c '^table ' "$MIRROR"; }
mirror_is() { [ "$(mirror_now | paste -sd '|')" = "$1" ]; }
check "the mirror starts and reports an empty table" wait_until 5 eval '[ "$(tables)" -ge 1 ]'
expect_eq "with no multicast routing daemon the mirrored table is empty" "" "$(mirror_now)"

# ---- smcroute with static routes ----
smcroute_start "phyint up0 enable ttl-threshold 1
phyint dn1 enable ttl-threshold 1
phyint dn2 enable ttl-threshold 5
phyint dn3 enable ttl-threshold 64
mroute from up0 source $SRC_IP4 group 239.1.1.1 to dn1 dn2
mroute from up0 source $SRC2_IP4 group 239.1.1.1 to dn3
mroute from up0 source $SRC_IP6 group ff0e::1:1 to dn1 dn3
mroute from up0 group 239.2.2.2 to dn2 dn3"
check "smcrouted runs in the router namespace" smcroute_ready

WANT="v4 $SRC_IP4/32 239.1.1.1/32 iif up0 oif dn1:1 dn2:5|v4 $SRC2_IP4/32 239.1.1.1/32 iif up0 oif dn3:64|v6 $SRC_IP6/128 ff0e::1:1/128 iif up0 oif dn1:1 dn3:1"
wait_until 10 mirror_is "$WANT"
# (ip6mr has no TTL thresholds: MRT6_ADD_MFC takes a set of MIFs, each
# forwarding at hop limit > 1.)
expect_eq "the mirror holds smcroute's three (S,G) routes, v4 and v6, each v4 oif with its VIF's TTL threshold" \
	"$WANT" "$(mirror_now | paste -sd '|')" "$(cat "$XM_TMP/mirror.err")"

# The kernel's own view, through iproute2: "(S, G) Iif: X Oifs: A B(ttl N) State: resolved".
kernel_routes() {
	{
		ip -n "$NS_RTR" -4 mroute show
		ip -n "$NS_RTR" -6 mroute show
	} | awk '/State: resolved/ {
		gsub(/[(),]/, " "); s = $1; g = $2; iif = $4; o = ""
		for (i = 6; i <= NF && $i != "State:"; i++) o = o " " $i
		print s, g, iif, o }' | sed 's/ *$//' | sort
}
mirror_plain() {
	mirror_now | awk '{ sub(/\/[0-9]+$/, "", $2); sub(/\/[0-9]+$/, "", $3); o = ""
		for (i = 7; i <= NF; i++) { split($i, a, ":"); o = o " " a[1] (a[2] > 1 ? "ttl" a[2] : "") }
		print $2, $3, $5, o }' | sed 's/ *$//' | sort
}
kernel_plain() { kernel_routes | sed 's/ ttl \([0-9]*\)/ttl\1/g'; }
expect_eq "the mirror agrees with the kernel's own dump (ip mroute show)" \
	"$(kernel_plain | paste -sd '|')" "$(mirror_plain | paste -sd '|')"

# ---- a (*,G) route: smcroute installs (S,G) at the first packet ----
expect_eq "a (*,G) route of smcroute is not in the kernel before traffic" "" \
	"$(mirror_now | grep 239.2.2.2)"
ip netns exec "$NS_SRC" "$XM_PY" -c "$XM_FRAMES_PY" eth0 3 239.2.2.2 "$SRC_IP4" 8
WANT_SG="v4 $SRC_IP4/32 239.2.2.2/32 iif up0 oif dn2:5 dn3:64"
check "the first packet of 239.2.2.2 from $SRC_IP4 makes smcroute install (S,G): the mirror follows the notification (no dumps)" \
	wait_until 5 eval '[ "$(mirror_now | grep 239.2.2.2)" = "$WANT_SG" ]'

# ---- a route deleted at run time ----
ip netns exec "$NS_RTR" smcroutectl -u "$SMC_SOCK" del up0 "$SRC2_IP4" 239.1.1.1 >/dev/null 2>&1
check "smcroutectl del: the route leaves the mirror (no dumps: by the notification)" \
	wait_until 5 eval '! mirror_now | grep -q "^v4 $SRC2_IP4/32 239.1.1.1/32"'
expect_eq "and the kernel agrees" "$(kernel_plain | paste -sd '|')" "$(mirror_plain | paste -sd '|')"

# ---- what the kernel does not announce: a VIF going away ----
# Deleting dn2 deletes its VIF; the kernel's entries lose the oif with no
# notification.  Only the dumping mirror can see it.
ip -n "$NS_RTR" link del dn2
check "dn2 deleted: the periodic dump drops it from every route's oifs" \
	wait_until 5 eval '! mirror_now "$XM_TMP/mirror-r.out" | grep -q "dn2\|#"'
expect_eq "and that mirror agrees with the kernel" "$(kernel_plain | paste -sd '|')" \
	"$(MIRROR=$XM_TMP/mirror-r.out mirror_plain | paste -sd '|')"

# ---- smcroute stops: the kernel flushes its tables ----
smcroute_stop
check "smcroute stops: the kernel drops every route and the mirror is empty" \
	wait_until 10 mirror_is ""

check "smcroute stops: the dumping mirror is empty too" \
	wait_until 10 eval '[ -z "$(mirror_now "$XM_TMP/mirror-r.out")" ]'
check "both mirrors are still running" eval "xm_alive $WATCH_PID && xm_alive $WATCH_R_PID"
expect_eq "and wrote nothing to stderr" "" "$(cat "$XM_TMP/mirror.err" "$XM_TMP/mirror-r.err")"
echo "# $(basename "$0"): $((SECONDS - T0)) s"
tap_done
