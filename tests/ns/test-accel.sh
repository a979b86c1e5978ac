#!/usr/bin/env bash
# The accelerator against the kernel and against a model of the kernel.
#
# The topology of tests/ns/lib.sh (a source, a router, three hosts).  The
# same frames (several groups and sources, TTLs 1 to 64, IPv4 and IPv6,
# and frames that arrive on the wrong interface) are sent through the
# router: once forwarded by the kernel (ipmr, routes from smcroute,
# xdp-mcast in filter mode enforcing a TTL threshold on its TC egress
# program), once replicated by xdp-mcast in accelerate mode with smcroute
# stopped.  Every host logs every frame it gets (MACs, VLAN, and the IP
# packet's bytes); the two logs of each host must be equal.
#
# tests/ns/accel-model.py writes the logs the kernel would give, from the
# kernel's rules (ipmr's route lookup, wrong-interface drop, TTL
# thresholds, ip_decrease_ttl, the group's MAC and the router's): every
# accelerated pass is compared with it too, and on a kernel with multicast
# routing so is every kernel pass, which checks the model.  On a kernel
# without it (CONFIG_IP_MROUTE, CONFIG_IPV6_MROUTE), or without smcroute,
# the kernel passes and part 3 are skipped, saying why, and the model is
# the only reference; everything else runs.
#
#  1. Routes from the config: smcroute's own mroute lines, (S,G), (*,G), a
#     group prefix, IPv6.  The counters say what happened: accelerated in
#     and out, rpf_fail, the egress ttl_threshold.
#  2. Routes from memberships: hosts join with real sockets (any-source,
#     INCLUDE, EXCLUDE with a blocked source) on downstream interfaces;
#     the kernel gets the equivalent smcroute routes, and the model the
#     memberships themselves (RFC 3376's forwarding rule).
#  3. Routes from the kernel: smcroute runs with the same mroute lines and
#     the daemon mirrors the kernel's table.
#  4. VLAN: this kernel has no 802.1Q devices, so the kernel cannot be the
#     reference here.  h2 reports a group on VLAN 20 (a tagged IGMPv2
#     report); the copies to dn2 leave tagged 20 with the router's MAC and
#     TTL - 1, the untagged member on dn1 gets them untagged, as the model
#     says of a router with an 802.1Q device dn2.20.  (The tag rewrite,
#     push and pop are checked byte by byte in tests/bpf.)
#  5. Thresholds per outgoing interface in a kernel route:
#     build/tests/fwd_feed hands the route over as the mirror would, so
#     this part needs no ipmr either.
#
# Everything is removed on exit, whatever happens.
#
# shellcheck disable=SC2317  # functions called through wait_until
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ns/lib.sh

for need in "$XM_BIN" "$XM_BUILD/bpf/xdp_pass.bpf.o"; do
	if [ ! -e "$need" ]; then
		echo "ok - accelerator differential # SKIP $need is not built (make)"
		exit 0
	fi
done
# The kernel passes need the kernel to route multicast, and smcroute.
KERNEL_WHY=
if why=$(kernel_mroute_missing); then
	KERNEL_WHY=$why
elif ! command -v smcrouted >/dev/null || ! command -v smcroutectl >/dev/null; then
	KERNEL_WHY="smcroute is not installed (make deps)"
fi
kernel_ref() { [ -z "$KERNEL_WHY" ]; }

WIRE=$XM_ROOT/tests/ns/accel-wire.py
MODEL=$XM_ROOT/tests/ns/accel-model.py
topo_create 3
check "topology: source, router and three hosts are up" topo_links_up
H1=${NS_HOST[1]} H2=${NS_HOST[2]} H3=${NS_HOST[3]}

# A redirected frame needs NAPI on the receiving veth.
for i in 1 2 3; do
	ip -n "${NS_HOST[$i]}" link set dev eth0 xdp obj "$XM_BUILD/bpf/xdp_pass.bpf.o" sec xdp
done
wait_until 5 topo_links_up

BPFFS=$(bpffs_create)
export XDP_MCAST_PIN_PATH=$BPFFS/xm
CONF=$XM_TMP/xdp-mcast.conf
xm() { ip netns exec "$NS_RTR" "$XM_BIN" "$@"; }

# ---- the routes, in smcroute's words ----

VSRC=10.10.100.2
ROUTES="mroute from up0 source $SRC_IP4 group 239.1.1.1 to dn1 dn2
mroute from up0 group 239.1.1.2 to dn1 dn2 dn3
mroute from up0 group 239.2.0.0/16 to dn3
mroute from up0 source $SRC_IP6 group ff0e::1:1 to dn1 dn3
mroute from up0 group ff0e::1:2 to dn2"

# The frames: every (source, group) at TTLs from expired to plenty; a
# source the (S,G) route does not name; a group nobody routes; and, from
# h1, on a downstream interface (wrong interface), a group of a (*,G)
# route and the very (S,G) of an (S,G) route (frames_write).
frames_static() {
	local ttl id=0
	for ttl in 1 2 32 33 64; do
		for fl in "0 $SRC_IP4 239.1.1.1" "0 $SRC2_IP4 239.1.1.1" "0 $SRC_IP4 239.1.1.2" \
			"0 $SRC2_IP4 239.1.1.2" "0 $SRC_IP4 239.2.3.4" "0 $SRC_IP4 239.9.9.9" \
			"0 $SRC_IP6 ff0e::1:1" "0 $SRC2_IP6 ff0e::1:1" "0 $SRC_IP6 ff0e::1:2"; do
			id=$((id + 1))
			echo "$fl $ttl $1$id"
		done
	done
	echo "0 $SRC_IP4 239.1.1.2 64 $1$(csum_edge_id "$SRC_IP4" 239.1.1.2 64)"
}

# csum_edge_id SRC GROUP TTL: the ID (the IPv4 id, accel-wire.py) that
# gives that frame the header checksum 0xfeff, where one hop's update
# sums to 0xffff: ip_decrease_ttl() folds it to 0x0000 (as a full
# recomputation would), a fold that stops short leaves 0xffff.
csum_edge_id() {
	local s g sum=$((0x4500 + 60 + ($3 << 8 | 17)))
	IFS=. read -ra s <<<"$1"
	IFS=. read -ra g <<<"$2"
	sum=$((sum + (s[0] << 8 | s[1]) + (s[2] << 8 | s[3]) + (g[0] << 8 | g[1]) + (g[2] << 8 | g[3])))
	while ((sum >> 16)); do sum=$(((sum & 0xffff) + (sum >> 16))); done
	echo $(((0x0100 - sum + 0xffff) % 0xffff))
}

# ---- running one pass ----

sniff_start() {
	local i
	for i in 1 2 3; do
		rm -f "$XM_TMP/rx-$1-h$i" "$XM_TMP/rx-$1-h$i.ready"
		ns_bg "${NS_HOST[$i]}" /dev/null "$XM_TMP/sniff-h$i.err" "$XM_PY" "$WIRE" sniff eth0 \
			"$XM_TMP/rx-$1-h$i"
		SNIFF_PID[$i]=$BG_PID
	done
	wait_until 10 sniff_ready "$1"
}
sniff_ready() {
	local i
	for i in 1 2 3; do [ -e "$XM_TMP/rx-$1-h$i.ready" ] || return 1; done
}
declare -A SNIFF_PID
sniff_stop() { xm_stop_pids "${SNIFF_PID[@]}"; }

# lines_total TAG: frames every host logged in pass TAG.
lines_total() { cat "$XM_TMP"/rx-"$1"-h? 2>/dev/null | wc -l; }

# frames_write TAG FRAMES-FUNCTION: the frames of pass TAG, those the
# source sends in $XM_TMP/frames-TAG, the wrong-interface ones from h1 in
# frames-TAG.h1: its own to a (*,G) group, and one in the source's name to
# the (S,G) of part 1 (ipmr's cache holds an (S,G) once, with its incoming
# interface: no other route can take it).
frames_write() {
	"$2" "$1-" >"$XM_TMP/frames-$1"
	printf '0 %s 239.1.1.2 64 %sh1\n0 %s 239.1.1.1 64 %sh1sg\n' "$(host_ip4 1)" "$1-" \
		"$SRC_IP4" "$1-" >"$XM_TMP/frames-$1.h1"
}

# send_pass TAG FRAMES-FUNCTION: send the frames from the source (and
# the wrong-interface ones from h1), then wait until the logs are quiet.
send_pass() {
	local tag=$1 spec=$XM_TMP/frames-$1
	frames_write "$tag" "$2"
	ip netns exec "$NS_SRC" "$XM_PY" "$WIRE" send eth0 "$spec" 2>&1
	ip netns exec "$H1" "$XM_PY" "$WIRE" send eth0 "$spec.h1" 2>&1
	local before=-1 now
	# Quiet for half a second: every copy is in.
	while now=$(lines_total "$tag"); [ "$now" != "$before" ]; do
		before=$now
		sleep 0.5
	done
}

# normalized TAG HOST: a host's log of pass TAG with the pass's tag taken
# out of the ids (and their bytes), sorted.
normalized() {
	awk -v t="$1-" '{ sub(t, "", $7); print }' "$XM_TMP/rx-$1-$2" |
		"$XM_PY" -c '
import sys
for l in sys.stdin:
    w = l.split()
    # the payload in the packet bytes carries the tag: compare the headers
    # up to the UDP checksum (which covers the payload) and the tag-free
    # id; the payload is checked by the id itself.
    ip = bytes.fromhex(w[7])
    hl = (ip[0] & 15) * 4 if ip[0] >> 4 == 4 else 40
    print(" ".join(w[:7] + [ip[:hl + 6].hex()]))' | sort
}

# model_pass TAG FRAMES-FUNCTION MODEL-OPTION...: what the model says
# each host gets of the frames of FRAMES-FUNCTION, written as the sniffers
# of a pass TAG would have logged them (tests/ns/accel-model.py).
model_pass() {
	local tag=$1 frames=$2 i args=()
	shift 2
	frames_write "$tag" "$frames"
	for i in 1 2 3; do
		args+=(--mac "dn$i=$(ip netns exec "$NS_RTR" cat "/sys/class/net/dn$i/address")"
			--out "dn$i=$XM_TMP/rx-$tag-h$i")
	done
	"$XM_PY" "$MODEL" --in "up0=$XM_TMP/frames-$tag" --in "dn1=$XM_TMP/frames-$tag.h1" \
		"${args[@]}" "$@" || not_ok "the model runs for $tag"
}

# same_as WHAT REF PASS [FILTER]: every host's normalized log of PASS
# equals that of REF, a kernel pass or the model (a TAG starting with
# "model"), lines matching FILTER left out of both.  A kernel pass must
# have given every host something (a kernel that forwards nothing proves
# nothing); the model may say a host gets nothing.
same_as() {
	local what=$1 ref=$2 p=$3 filter=${4:-^$} i k a who=kernel
	[[ $ref == model* ]] && who=model
	for i in 1 2 3; do
		k=$(normalized "$ref" "h$i" | grep -v -- "$filter") a=$(normalized "$p" "h$i" | grep -v -- "$filter")
		if [ -z "$k" ] && [ -z "$a" ] && [ $who = model ]; then
			ok "$what: h$i gets nothing, as the model says"
		elif [ -n "$k" ] && [ "$k" = "$a" ]; then
			ok "$what: h$i gets the $who's frames, TTLs, MACs and bytes ($(wc -l <<<"$k") frames)"
		else
			not_ok "$what: h$i gets the $who's frames, TTLs, MACs and bytes" \
				"$ref $(grep -c . <<<"$k"), $p $(grep -c . <<<"$a")" \
				"$(diff <(echo "$k") <(echo "$a") | head -20)"
		fi
	done
}

smc_routes_ready() {
	[ "$(ip -n "$NS_RTR" mroute show | grep -c resolved)" -ge "$1" ]
}

# ---- part 1: routes from the config ----

SMC_PHY="phyint up0 enable
phyint dn1 enable
phyint dn2 enable
phyint dn3 enable"

conf_write() { printf '%s\n' "$1" >"$CONF.new" && mv "$CONF.new" "$CONF"; }
xm_conf() {
	local fwd=$1
	shift
	printf 'phyint up0 %s\nphyint dn1 %s\nphyint dn2 %s\nphyint dn3 ttl-threshold 32 %s\n%s\n' \
		"$fwd" "$fwd" "$fwd" "$fwd" "$*"
}

# Kernel pass: smcroute routes, xdp-mcast filters (TTL threshold on dn3).
conf_write "$(xm_conf "forwarding filter" "$ROUTES")"
xmd_start xmd "$NS_RTR" "$CONF" || not_ok "daemon starts"
if kernel_ref; then
	smcroute_start "$SMC_PHY
$ROUTES"
	check "smcroute installs the (S,G) route" wait_until 10 smc_routes_ready 1
	sniff_start k1
	send_pass k1 frames_static
	sniff_stop
	smcroute_stop
	wait_until 5 eval '[ "$(ip -n "$NS_RTR" mroute show | grep -c .)" = 0 ]'
else
	skip "config routes: the kernel pass" "$KERNEL_WHY"
fi

# The model: smcroute's config, and dn3's threshold of 32 (xdp-mcast's
# egress policy in both passes, compared as ipmr compares a VIF's).
printf '%s\n%s\n' "$SMC_PHY" "$ROUTES" >"$XM_TMP/routes-static"
model_pass model1 frames_static --routes "$XM_TMP/routes-static" --threshold dn3=32

# Accelerated pass: no smcroute, no kernel routes; the same config with
# forwarding accelerate.
conf_write "$(xm_conf "forwarding accelerate" "$ROUTES")"
xmd_reload xmd
expect_eq "reload into accelerate mode" 0 "$XMD_RC" "$XMD_OUT"
xm stats -j >"$XM_TMP/stats-a0.json"
sniff_start a1
send_pass a1 frames_static
sniff_stop
xm stats -j >"$XM_TMP/stats-a1.json"

same_as "config routes" model1 a1
if kernel_ref; then
	same_as "config routes, the model" k1 model1
	same_as "config routes" k1 a1
fi

# What the model says, beyond agreement (ids: k1-N; see frames_static).
got() { awk '{print $5, $6, $3}' "$XM_TMP/rx-a1-$1" | sort -u | tr '\n' ' '; }
expect_match "h1: (S,G), (*,G) and IPv6 (S,G), TTL decremented" \
	"239.1.1.1 63 0 .*239.1.1.2 63 0 .*ff0e::1:1 63 0" "$(got h1)"
expect_eq "h3: nothing at or below its threshold of 32" "" \
	"$(awk '$6 <= 31' "$XM_TMP/rx-a1-h3")"
expect_eq "nobody gets the unrouted group, TTL 1, or the unnamed source" "" \
	"$(cat "$XM_TMP"/rx-a1-h? | awk -v s="$SRC2_IP4" '$5 == "239.9.9.9" || $6 == 0 ||
		($4 == s && $5 == "239.1.1.1")')"

XM_DELTA_PY='
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
iface, key, reason = sys.argv[3:6]
def get(d):
    for i in d["interfaces"]:
        if i["name"] == iface:
            return i.get(key, {}).get(reason, {}).get("packets", 0)
    return 0
print(get(b) - get(a))
'
delta() { "$XM_PY" -c "$XM_DELTA_PY" "$XM_TMP/stats-$1.json" "$XM_TMP/stats-$2.json" "$3" "$4" "$5"; }
expect_match "up0 counts what it accelerated" '^[1-9]' "$(delta a0 a1 up0 reasons accelerated)"
expect_match "dn1 counts accelerated copies leaving" '^[1-9]' \
	"$(delta a0 a1 dn1 egress_reasons accelerated)"
expect_eq "dn1 counts the two frames from h1 as rpf_fail" 2 "$(delta a0 a1 dn1 reasons rpf_fail)"
expect_match "dn3 counts what its threshold kept back as egress ttl_threshold" '^[1-9]' \
	"$(delta a0 a1 dn3 egress_reasons ttl_threshold)"

# ---- part 3: routes from the kernel (smcroute's daemon, mirrored) ----

# The daemon in accelerate mode with no route of its own; smcroute runs
# with the same mroute lines and installs them in the kernel, which the
# daemon mirrors (docs/kernel-routes.md).  smcroute's (*,G) routes reach
# the kernel as (S,G) at their first packet, so the first packets go
# through ipmr and the rest through XDP: every host must still get exactly
# what the kernel alone delivered in part 1.
# Without ipmr there is no kernel table to mirror: skipped.
if kernel_ref; then
	conf_write "$(xm_conf "forwarding accelerate")"
	xmd_reload xmd
	expect_eq "reload into accelerate mode without routes" 0 "$XMD_RC" "$XMD_OUT"
	fwd_entries() { bpftool map dump pinned "$XDP_MCAST_PIN_PATH/xm_fwd" -j 2>/dev/null | json_get 'len(d)'; }
	expect_eq "no forwarding entry before smcroute runs" 0 "$(fwd_entries)"
	smcroute_start "$SMC_PHY
$ROUTES"
	check "smcroute installs the (S,G) route" wait_until 10 smc_routes_ready 1
	check "the daemon mirrors smcroute's two (S,G) routes (v4, v6) into its forwarding entries" \
		wait_until 5 eval '[ "$(fwd_entries)" = 2 ]'
	xm stats -j >"$XM_TMP/stats-m0.json"
	sniff_start m3
	send_pass m3 frames_static
	sniff_stop
	xm stats -j >"$XM_TMP/stats-m3.json"
	same_as "kernel routes" k1 m3
	expect_match "kernel routes: the frames after a route reached the mirror were accelerated (up0 accelerated)" '^[1-9]' \
		"$(delta m0 m3 up0 reasons accelerated)"
	expect_match "kernel routes: smcroute's (*,G) routes arrived as (S,G) at their first packet and were mirrored too (2 + 4 at least)" \
		'^([6-9]|[1-9][0-9])$' "$(fwd_entries)"
	smcroute_stop
	check "smcroute stops: the kernel drops its routes and the mirror empties the forwarding entries" \
		wait_until 10 eval '[ "$(fwd_entries)" = 0 ]'
else
	skip "kernel routes: smcroute's routes mirrored from the kernel" "$KERNEL_WHY"
fi

# ---- part 2: routes from memberships ----

# h1 any-source to 239.5.5.5 and ff0e::5:5; h2 only SRC to 239.5.5.5 and
# every source but SRC to 239.5.5.6; h3 any-source to 239.5.5.6.
printf '239.5.5.5\nff0e::5:5\n' >"$XM_TMP/join-h1"
printf '239.5.5.5 include %s\n239.5.5.6 exclude %s\n' "$SRC_IP4" "$SRC_IP4" >"$XM_TMP/join-h2"
printf '239.5.5.6\n' >"$XM_TMP/join-h3"
MSHIP_ROUTES="mroute from up0 group 239.5.5.5 to dn1
mroute from up0 source $SRC_IP4 group 239.5.5.5 to dn1 dn2
mroute from up0 group 239.5.5.6 to dn2 dn3
mroute from up0 source $SRC_IP4 group 239.5.5.6 to dn3
mroute from up0 group ff0e::5:5 to dn1"
frames_mship() {
	local ttl id=0 g s
	for ttl in 2 64; do
		for g in 239.5.5.5 239.5.5.6; do
			for s in $SRC_IP4 $SRC2_IP4; do
				id=$((id + 1))
				echo "0 $s $g $ttl $1$id"
			done
		done
		id=$((id + 1))
		echo "0 $SRC_IP6 ff0e::5:5 $ttl $1$id"
	done
}

MSHIP_CONF="phyint up0 upstream forwarding accelerate
phyint dn1 downstream forwarding accelerate
phyint dn2 downstream forwarding accelerate
phyint dn3 downstream forwarding accelerate"
conf_write "$MSHIP_CONF"
xmd_reload xmd
expect_eq "reload into proxy roles" 0 "$XMD_RC" "$XMD_OUT"
declare -A JOIN_PID
for i in 1 2 3; do
	ns_bg "${NS_HOST[$i]}" /dev/null "$XM_TMP/join-h$i.err" "$XM_PY" "$WIRE" join eth0 \
		"$XM_TMP/join-h$i"
	JOIN_PID[$i]=$BG_PID
done
mship_ready() {
	local g
	g=$(snoop_groups "$NS_RTR")
	grep -q "^dn1 239.5.5.5 exclude" <<<"$g" && grep -q "^dn1 ff0e::5:5 exclude" <<<"$g" &&
		grep -q "^dn2 239.5.5.5 include $SRC_IP4+" <<<"$g" &&
		grep -q "^dn2 239.5.5.6 exclude.* $SRC_IP4-" <<<"$g" &&
		grep -q "^dn3 239.5.5.6 exclude" <<<"$g"
}
check "the daemon learns every membership from the hosts" wait_until 15 mship_ready
sniff_start a2
send_pass a2 frames_mship
sniff_stop

# The model from the memberships the hosts hold, and from the routes the
# kernel gets for them: the two must agree, or MSHIP_ROUTES is not the
# kernel's equivalent of the memberships.
model_pass model2 frames_mship --upstream up0 --members "dn1=$XM_TMP/join-h1" \
	--members "dn2=$XM_TMP/join-h2" --members "dn3=$XM_TMP/join-h3"
printf '%s\n%s\n' "$SMC_PHY" "$MSHIP_ROUTES" >"$XM_TMP/routes-mship"
model_pass model2r frames_mship --routes "$XM_TMP/routes-mship"
same_as "membership routes, the kernel's equivalent in the model" model2 model2r
same_as "membership routes" model2 a2

# The kernel with the equivalent static routes.
if kernel_ref; then
	conf_write "${MSHIP_CONF//accelerate/filter}"
	xmd_reload xmd
	smcroute_start "$SMC_PHY
$MSHIP_ROUTES"
	check "smcroute installs the membership-equivalent (S,G) routes" wait_until 10 smc_routes_ready 2
	sniff_start k2
	send_pass k2 frames_mship
	sniff_stop
	smcroute_stop

	# (239.1.1.2 is the wrong-interface frame from h1, routed only in part 1)
	same_as "membership routes, the model" k2 model2 ' 239.1.1.2 '
	same_as "membership routes" k2 a2 ' 239.1.1.2 '
else
	skip "membership routes: the kernel pass" "$KERNEL_WHY"
fi
expect_eq "h2 never gets the source it blocked, nor one it did not include" "" \
	"$(awk -v s="$SRC_IP4" -v s2="$SRC2_IP4" '($5 == "239.5.5.6" && $4 == s) ||
		($5 == "239.5.5.5" && $4 == s2)' "$XM_TMP/rx-a2-h2")"

# ---- part 4: a member on a VLAN ----

# A port sends with one tag (docs/accelerate.md): h2's untagged groups
# go first.
xm_stop_pids "${JOIN_PID[@]}"
no_dn2_groups() { ! grep -q "^dn2 239" <<<"$(snoop_groups "$NS_RTR")"; }
check "h2's untagged memberships leave" wait_until 15 no_dn2_groups

conf_write "$MSHIP_CONF"
xmd_reload xmd
expect_eq "reload into proxy roles again" 0 "$XMD_RC" "$XMD_OUT"
ip netns exec "$H2" "$XM_PY" "$XM_WIRE" send "eth0 v2 239.7.7.7 vlan=20" 2>&1
ip netns exec "$H1" "$XM_PY" "$XM_WIRE" send "eth0 v2 239.7.7.7" 2>&1
vlan_ready() {
	local g
	g=$(snoop_groups "$NS_RTR")
	grep -q "^dn2.20 239.7.7.7 exclude" <<<"$g" && grep -q "^dn1 239.7.7.7 exclude" <<<"$g"
}
if wait_until 10 vlan_ready; then
	ok "the daemon learns the tagged membership on dn2 VLAN 20"
else
	not_ok "the daemon learns the tagged membership on dn2 VLAN 20" "$(snoop_groups "$NS_RTR")" \
		"$(xm stats -j | json_get '[(i["name"], {k: v for k, v in i["snooping"].items() if v}) for i in d["interfaces"]]')"
fi
# The entry of 239.7.7.7 says how many ports its set has: the copies the
# flows count (ntiers and nports, from the pinned xm_fwd).
fwd_tiers() {
	ip netns exec "$NS_RTR" bpftool -j map dump pinned "$XDP_MCAST_PIN_PATH/xm_fwd" |
		"$XM_PY" -c 'import json, socket, struct, sys
g = struct.unpack("<I", socket.inet_aton(sys.argv[1]))[0]
for e in json.load(sys.stdin):
    f = e["formatted"]
    if f["key"]["group"][0] == g:
        v = f["value"]
        print(v["ntiers"], *v["nports"][:v["ntiers"]])' "$1"
}
expect_eq "the entry of 239.7.7.7 has one tier of two ports (dn1, dn2 VLAN 20)" "1 2" \
	"$(fwd_tiers 239.7.7.7)"
frames_vlan() { echo "0 $SRC_IP4 239.7.7.7 64 ${1}1"; echo "0 $SRC_IP4 239.7.7.7 9 ${1}2"; }
sniff_start a4
send_pass a4 frames_vlan
sniff_stop
printf '239.7.7.7\n' >"$XM_TMP/join-vlan"
model_pass model4 frames_vlan --upstream up0 --members "dn1=$XM_TMP/join-vlan" \
	--members "dn2.20=$XM_TMP/join-vlan"
same_as "a member on VLAN 20" model4 a4
DN2_MAC=$(cat "/sys/class/net/dn2/address" 2>/dev/null ||
	ip netns exec "$NS_RTR" cat /sys/class/net/dn2/address)
DN1_MAC=$(ip netns exec "$NS_RTR" cat /sys/class/net/dn1/address)
expect_eq "h2 gets both copies tagged 20, from dn2's MAC, TTL - 1" \
	"01:00:5e:07:07:07 $DN2_MAC 20 $SRC_IP4 239.7.7.7 63 a4-1
01:00:5e:07:07:07 $DN2_MAC 20 $SRC_IP4 239.7.7.7 8 a4-2" \
	"$(cut -d' ' -f1-7 "$XM_TMP/rx-a4-h2" | sort -k7)"
expect_eq "h1 gets them untagged, from dn1's MAC" \
	"01:00:5e:07:07:07 $DN1_MAC 0 $SRC_IP4 239.7.7.7 63 a4-1
01:00:5e:07:07:07 $DN1_MAC 0 $SRC_IP4 239.7.7.7 8 a4-2" \
	"$(cut -d' ' -f1-7 "$XM_TMP/rx-a4-h1" | sort -k7)"

xmd_stop xmd
expect_eq "the daemon exits cleanly" 0 "$XMD_RC"

# ---- part 5: the thresholds of a kernel route ----

# Only a route of the kernel's MFC has thresholds of its own per outgoing
# interface (ipmr's ttls[], from smcroute's `phyint ttl-threshold`; config
# and membership routes have 1), and part 3 needs ipmr.  So
# build/tests/fwd_feed hands the forwarding table such a route, as the
# mirror would: the entry's tiers pick the copies at ingress, and the
# model holds them to ipmr's `ttl > ttls[vif]`.
FEED=$XM_BUILD/tests/fwd_feed
frames_thr() {
	local ttl
	for ttl in 1 2 3 32 33 64; do echo "0 $SRC_IP4 239.1.1.1 $ttl $1$ttl"; done
}
if [ ! -x "$FEED" ]; then
	skip "the thresholds of a kernel route" "$FEED is not built (make test-bins)"
else
	xm load up0 dn1 dn2 dn3 >/dev/null
	ns_bg "$NS_RTR" "$XM_TMP/feed.out" "$XM_TMP/feed.err" "$FEED" up0 "$SRC_IP4" 239.1.1.1 \
		dn1 dn2:2 dn3:32
	FEED_PID=$BG_PID
	check "fwd_feed puts in a kernel route with thresholds 1, 2 and 32" \
		wait_until 5 grep -qx ready "$XM_TMP/feed.out"
	sniff_start a5
	send_pass a5 frames_thr
	sniff_stop
	printf 'phyint dn2 ttl-threshold 2\nphyint dn3 ttl-threshold 32\n%s\n' \
		"mroute from up0 source $SRC_IP4 group 239.1.1.1 to dn1 dn2 dn3" >"$XM_TMP/routes-thr"
	model_pass model5 frames_thr --routes "$XM_TMP/routes-thr"
	same_as "a kernel route's thresholds" model5 a5
	xm_stop_pids "$FEED_PID"
fi
echo "# $((SECONDS)) s"
tap_done
