# Shared by the namespace tests and the demo; source it, don't run it.
#
#   . tests/ns/lib.sh
#
# Gives: per-run names (everything this run creates is called xm-<pid>-*),
# one EXIT trap that removes every namespace, mount, process and temporary
# file the run made, even after a failure or ^C; TAP output; polling with a
# deadline instead of sleeps; JSON queries; raw frames and pings from inside
# a namespace; and the router topology the forwarding test and the demo use.
#
# Needs root.  Without it a test prints one SKIP line and exits 0.

set -u
XM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-build}
case $O in
/*) XM_BUILD=$O ;;
*) XM_BUILD=$XM_ROOT/$O ;;
esac
XM_PY=/usr/bin/python3		# the one that sees Debian's python3 packages
XM_RUN=xm-$$			# prefix of every namespace this run creates
XM_PIDS=()			# background processes to stop on exit
XM_AT_EXIT=()			# commands to run first on exit

if [ "$(id -u)" -ne 0 ]; then
	echo "ok - $(basename "$0") # SKIP needs root for network namespaces"
	exit 0
fi
XM_TMP=$(mktemp -d "/tmp/$XM_RUN.XXXXXX")
chmod 755 "$XM_TMP"	# tests that drop privileges still reach their bpffs

# ---- TAP ----

TAP_N=0
TAP_FAILED=0

ok() { TAP_N=$((TAP_N + 1)); echo "ok - $1"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok - $1 # SKIP $2"; }
# not_ok NAME [DIAGNOSTIC...]: each diagnostic line is printed as a comment.
not_ok() {
	local name=$1
	shift
	TAP_N=$((TAP_N + 1)) TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok - $name"
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/# /'
	return 0
}
# check NAME CMD...: ok when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
# expect_eq NAME EXPECTED ACTUAL [OUTPUT]
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2" "got:      $3" ${4:+"output:" "$4"}
	fi
}
# expect_match NAME EXTENDED-REGEX TEXT
expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1" "expected to match: $2" "got:" "$3"
	fi
}
# tap_done: the plan line, then exit 1 if anything failed.
tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ] && exit 0
	exit 1
}

# ---- waiting ----

# wait_until DEADLINE_SEC CMD...: run CMD every 0.1 s until it succeeds (0)
# or DEADLINE_SEC (whole or fractional seconds) have passed (1).
wait_until() {
	local sec=${1%%.*} frac=000000
	[[ $1 == *.* ]] && frac=${1#*.}000000
	local end=$((${EPOCHREALTIME/./} + ${sec:-0} * 1000000 + 10#${frac:0:6}))
	shift
	while :; do
		"$@" && return 0
		[ "${EPOCHREALTIME/./}" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# ---- cleanup ----

# at_exit CMD: run CMD (with eval) first when the script exits.
at_exit() { XM_AT_EXIT+=("$1"); }

xm_alive() {
	local p
	for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}

# Stop PIDS with SIGTERM, then SIGKILL what is left after two seconds.
xm_stop_pids() {
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	wait_until 2 eval '! xm_alive '"$*" || kill -KILL "$@" 2>/dev/null
	return 0
}

xm_cleanup() {
	local rc=$? c ns pids m
	trap - EXIT INT TERM HUP
	for c in "${XM_AT_EXIT[@]}"; do eval "$c" >/dev/null 2>&1; done
	# Only those of our background jobs that still run: a pid that has
	# ended may belong to someone else by now.
	local live=" $(jobs -pr | tr '\n' ' ') " mine=() p
	for p in "${XM_PIDS[@]}"; do [[ $live == *" $p "* ]] && mine+=("$p"); done
	xm_stop_pids "${mine[@]}"
	# Whatever still runs inside our namespaces was started by this run.
	for ns in $(ip netns list 2>/dev/null | awk -v p="$XM_RUN-" 'index($1, p) == 1 {print $1}'); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && xm_stop_pids $pids
		ip netns del "$ns" 2>/dev/null
	done
	# bpffs mounts made under XM_TMP, deepest first; unmounting drops
	# the pinned links, which detaches their programs.
	for m in $(awk -v p="$XM_TMP/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rm -rf "$XM_TMP"
	exit "$rc"
}
trap xm_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- namespaces, mounts, processes ----

# ns_name TAG: this run's name for namespace TAG.
ns_name() { echo "$XM_RUN-$1"; }

# ns_create NAME...: new namespaces with lo up, no DAD and no router
# solicitations (so addresses work at once and the wire stays quiet).
ns_create() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.default.router_solicitations=0 >/dev/null
	done
}

# bpffs_create: mount a fresh bpffs under this run's temporary directory and
# print its path.  Safe in $(...): cleanup finds it by its path.
bpffs_create() {
	local d
	d=$(mktemp -d "$XM_TMP/bpffs.XXXXXX") || return 1
	mount -t bpf bpf "$d" || return 1
	echo "$d"
}

# ns_bg NS OUT ERR CMD...: run CMD in NS in the background, stdout to OUT,
# stderr to ERR; sets BG_PID and stops it on exit.  `ip netns exec` execs
# CMD, so BG_PID is CMD's own pid.
ns_bg() {
	local ns=$1 out=$2 err=$3
	shift 3
	ip netns exec "$ns" "$@" >"$out" 2>"$err" &
	BG_PID=$!
	XM_PIDS+=("$BG_PID")
}

# ---- JSON ----

XM_JSON_PY='
import json, sys
def flow(iface, group, source, vlan=0):
    for f in d.get("flows", []):
        if (f["iface"], f["group"], f["source"], f.get("vlan", 0)) == (iface, group, source, vlan):
            return f
    return {}
def reason(iface, name):
    for i in d.get("interfaces", []):
        if i["name"] == iface:
            return i["reasons"][name]
    return {}
def egress(iface, name):
    for i in d.get("interfaces", []):
        if i["name"] == iface:
            return i["egress_reasons"][name]
    return {}
def group(iface, grp, vlan=0):
    for g in d.get("groups", []):
        if (g["iface"], g["group"], g.get("vlan", 0)) == (iface, grp, vlan):
            return g
    return {}
def snooping(iface, name):
    for i in d.get("interfaces", []):
        if i["name"] == iface:
            return i.get("snooping", {}).get(name)
    return None
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(1)
e = sys.argv[1]
try:
    v = eval("d" + e) if e[:1] in "[." else eval(e)
except Exception:
    try:
        v = eval(e)  # a list display such as [x for x in d["flows"]][0]
    except Exception:
        sys.exit(1)
print(v if not isinstance(v, (dict, list)) else json.dumps(v))
'
# json_get EXPR: read one JSON document on stdin and print EXPR, a Python
# expression over it as `d` (one starting with "[" or "." is tried as d[...]
# first: "[0]["id"]" means d[0]["id"]).  With stats JSON,
# flow(IFACE, GROUP, SOURCE), reason(IFACE, NAME) and egress(IFACE, NAME)
# (what left: egress_reasons) find entries ({} when absent) and
# snooping(IFACE, NAME) is a snooping counter (None when absent); with
# groups JSON, group(IFACE, GROUP) is a membership ({} when
# absent).  Prints nothing and fails on bad JSON or a failing expression.
json_get() { "$XM_PY" -c "$XM_JSON_PY" "$1" 2>/dev/null; }

# ---- traffic ----

XM_FRAMES_PY='
import socket, struct, sys
ifname, count, group, src = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ttl = int(sys.argv[5])
g = socket.inet_aton(group)
dmac = bytes([0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]])
smac = bytes.fromhex(open("/sys/class/net/%s/address" % ifname).read().strip().replace(":", ""))
payload = b"xdp-mcast test frame...."
udp = struct.pack("!HHHH", 5001, 5001, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, ttl, 17, 0,
                 socket.inet_aton(src), g)
s = sum(struct.unpack("!10H", ip))
s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((ifname, 0))
for _ in range(count):
    sock.send(dmac + smac + b"\x08\x00" + ip + udp)
'
# send_frames NS IFACE COUNT [GROUP [SOURCE [TTL]]]: write COUNT IPv4 UDP
# multicast frames (default 239.1.1.1 from 192.0.2.1, TTL 64, 66 bytes)
# straight onto IFACE in NS with a packet socket, no routing involved.
send_frames() {
	ip netns exec "$1" "$XM_PY" -c "$XM_FRAMES_PY" "$2" "$3" \
		"${4:-239.1.1.1}" "${5:-192.0.2.1}" "${6:-64}"
}

XM_PING_PY='
import os, select, socket, struct, sys, time
dst, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
v6 = ":" in dst
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t & 0xffff) + (t >> 16); t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
got = set()
end = time.monotonic() + timeout
for seq in range(count):
    body = struct.pack("!HH", ident, seq) + b"xdp-mcast-ping.."
    if v6:  # the kernel fills in the ICMPv6 checksum
        pkt = struct.pack("!BBH", 128, 0, 0) + body
    else:
        pkt = struct.pack("!BBH", 8, 0, 0) + body
        pkt = struct.pack("!BBH", 8, 0, csum(pkt)) + body
    s.sendto(pkt, (dst, 0))
while len(got) < count and time.monotonic() < end:
    r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
    if not r:
        break
    b = s.recv(2048)
    if not v6:
        b = b[(b[0] & 15) * 4:]
    t, _, _, i, q = struct.unpack("!BBHHH", b[:8])
    if t == (129 if v6 else 0) and i == ident:
        got.add(q)
print(len(got))
'
# xm_ping NS DEST COUNT [TIMEOUT_SEC]: send COUNT ICMP(v6) echo requests from
# NS to DEST and print how many were answered.  (Raw sockets: the image has
# no ping.)
xm_ping() {
	ip netns exec "$1" "$XM_PY" -c "$XM_PING_PY" "$2" "$3" "${4:-3}"
}

XM_TXCSUM_PY='
import ctypes, fcntl, socket, struct, sys
ev = ctypes.create_string_buffer(struct.pack("II", 0x17, 0))  # ETHTOOL_STXCSUM, off
ifr = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(ev))
s = socket.socket()
fcntl.ioctl(s.fileno(), 0x8946, ifr)  # SIOCETHTOOL
'
# tx_csum_off NS IFACE: IFACE in NS computes its checksums in software
# (ethtool -K IFACE tx off; the image has no ethtool).  A veth leaves a UDP
# checksum to the receiver otherwise (CHECKSUM_PARTIAL), which the kernel
# honours when it forwards the skb, but a frame XDP replicates carries
# only the pseudo-header's sum, and the receiving socket drops it.  A real
# wire always carries complete checksums.
tx_csum_off() { ip netns exec "$1" "$XM_PY" -c "$XM_TXCSUM_PY" "$2"; }

# ---- the router topology ----
#
#                      up0  +-----+  dn1 ---- eth0 h1
#   src eth0 --------------- | rtr |  dn2 ---- eth0 h2
#                            +-----+  dn3 ---- eth0 h3
#
#   upstream   10.10.0.0/24  fd10::/64        rtr .1/::1, src .2 and .3 (two sources)
#   towards hN 10.10.N.0/24  fd10:0:0:N::/64  rtr .1/::1, hN .2/::2
#
# topo_create [NHOSTS]: build it (default 3 hosts), with forwarding on and
# rp_filter off on the router and default routes through it on the hosts.
# Sets NS_SRC, NS_RTR, NS_HOST[1..N], TOPO_HOSTS, and the addresses below.
SRC_IP4=10.10.0.2
SRC2_IP4=10.10.0.3
SRC_IP6=fd10::2
SRC2_IP6=fd10::3
RTR_UP_IP4=10.10.0.1
RTR_UP_IP6=fd10::1
host_ip4() { echo "10.10.$1.2"; }
host_ip6() { echo "fd10:0:0:$1::2"; }

topo_create() {
	local n=${1:-3} i ns
	TOPO_HOSTS=$n
	NS_SRC=$(ns_name src)
	NS_RTR=$(ns_name rtr)
	NS_HOST=("")
	for i in $(seq 1 "$n"); do NS_HOST+=("$(ns_name h$i)"); done
	ns_create "$NS_SRC" "$NS_RTR" "${NS_HOST[@]:1}" || return 1

	ip link add eth0 netns "$NS_SRC" type veth peer name up0 netns "$NS_RTR" || return 1
	ip -n "$NS_SRC" addr add $SRC_IP4/24 dev eth0
	ip -n "$NS_SRC" addr add $SRC2_IP4/24 dev eth0
	ip -n "$NS_SRC" addr add $SRC_IP6/64 dev eth0 nodad
	ip -n "$NS_SRC" addr add $SRC2_IP6/64 dev eth0 nodad
	ip -n "$NS_RTR" addr add $RTR_UP_IP4/24 dev up0
	ip -n "$NS_RTR" addr add $RTR_UP_IP6/64 dev up0 nodad
	for i in $(seq 1 "$n"); do
		ns=${NS_HOST[$i]}
		ip link add eth0 netns "$ns" type veth peer name "dn$i" netns "$NS_RTR" || return 1
		ip -n "$ns" addr add "$(host_ip4 "$i")/24" dev eth0
		ip -n "$ns" addr add "$(host_ip6 "$i")/64" dev eth0 nodad
		ip -n "$NS_RTR" addr add "10.10.$i.1/24" dev "dn$i"
		ip -n "$NS_RTR" addr add "fd10:0:0:$i::1/64" dev "dn$i" nodad
	done
	ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.forwarding=1 >/dev/null || return 1
	for ns in "$NS_SRC" "$NS_RTR" "${NS_HOST[@]:1}"; do
		for i in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
			[ "$i" = lo ] && continue
			ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$i.rp_filter=0" >/dev/null
			ip -n "$ns" link set "$i" up
		done
	done
	ip -n "$NS_SRC" route add default via $RTR_UP_IP4
	ip -n "$NS_SRC" -6 route add default via $RTR_UP_IP6
	for i in $(seq 1 "$n"); do
		ip -n "${NS_HOST[$i]}" route add default via "10.10.$i.1"
		ip -n "${NS_HOST[$i]}" -6 route add default via "fd10:0:0:$i::1"
	done
	wait_until 5 topo_links_up
}

# topo_links_up: every link of the topology is operationally up.  Carrier
# alone is not enough: until the kernel's link watcher has marked the link up
# (up to a second later) IPv6 finds no route for what arrives on it.
topo_links_up() {
	local ns
	for ns in "$NS_SRC" "$NS_RTR" "${NS_HOST[@]:1}"; do
		ip -n "$ns" -o link show | grep -v ': lo:' | grep -qv 'state UP' && return 1
	done
	return 0
}

# topo_router_ifaces: the router's interface names, upstream first.
topo_router_ifaces() {
	local i
	echo up0
	for i in $(seq 1 "$TOPO_HOSTS"); do echo "dn$i"; done
}

# ---- smcroute on the router ----

# forwarder_choose: who forwards in a suite that runs either way: FORWARDER
# kernel (smcroute's routes, ipmr) or xdp (the same routes in the daemon's
# config, accelerated), from the environment or, unset, xdp where the
# kernel cannot route multicast and kernel elsewhere.  Sets FORWARDER and
# KERNEL_WHY, why the kernel does not forward in this run (empty when it
# does).  Returns 1 when FORWARDER=kernel was asked of a kernel that cannot
# (FORWARDER stays kernel), 2 for a FORWARDER that is neither, with the
# reason in FORWARDER_ERR.
forwarder_choose() {
	local why
	FORWARDER_ERR= KERNEL_WHY=
	case ${FORWARDER:-} in
	'' | kernel | xdp) ;;
	*)
		FORWARDER_ERR="FORWARDER is kernel or xdp, not '$FORWARDER'"
		return 2 ;;
	esac
	if why=$(kernel_mroute_missing); then
		KERNEL_WHY=$why
		if [ "${FORWARDER:-xdp}" != xdp ]; then
			FORWARDER_ERR="FORWARDER=$FORWARDER, but $why"
			return 1
		fi
		FORWARDER=xdp
	elif [ "${FORWARDER:-kernel}" = xdp ]; then
		KERNEL_WHY="FORWARDER=xdp asks for the accelerator, not the kernel"
	fi
	FORWARDER=${FORWARDER:-kernel}
}

kernel_fwd() { [ "$FORWARDER" = kernel ]; }

# forwarder_missing: after forwarder_choose, when what FORWARDER needs here
# is not there (smcroute; the xdp_pass program the accelerator's receiving
# veths run), print why and succeed; else fail, silently.
forwarder_missing() {
	if kernel_fwd; then
		{ command -v smcrouted && command -v smcroutectl; } >/dev/null && return 1
		echo "smcroute is not installed (make deps)"
	else
		[ -e "$XM_BUILD/bpf/xdp_pass.bpf.o" ] && return 1
		echo "$XM_BUILD/bpf/xdp_pass.bpf.o is not built (make)"
	fi
}

# forwarder_require NAME: forwarder_choose for a suite that cannot run
# without forwarding: the suite NAME ends with a skip when the forwarder
# cannot run here, with a failure when FORWARDER is neither kernel nor xdp.
forwarder_require() {
	local rc=0 why
	forwarder_choose || rc=$?
	case $rc in
	1)
		echo "ok - $1 # SKIP $FORWARDER_ERR"
		exit 0 ;;
	2)
		echo "not ok - $FORWARDER_ERR"
		exit 1 ;;
	esac
	if why=$(forwarder_missing); then
		echo "ok - $1 # SKIP $why"
		exit 0
	fi
	echo "# forwarder: $FORWARDER${KERNEL_WHY:+ ($KERNEL_WHY)}"
}


# kernel_mroute_missing: when this kernel cannot route multicast (no ipmr
# or ip6mr: CONFIG_IP_MROUTE, CONFIG_IPV6_MROUTE), print why and succeed;
# else fail, silently.  The suites that forward through the kernel, or
# compare with it, skip then: smcroute would start and route nothing.
kernel_mroute_missing() {
	local missing=
	[ -e /proc/net/ip_mr_vif ] || missing=CONFIG_IP_MROUTE
	[ -e /proc/net/ip6_mr_vif ] || missing="${missing:+$missing and }CONFIG_IPV6_MROUTE"
	[ -n "$missing" ] || return 1
	echo "this kernel has no multicast routing ($missing not set)"
}

# smcroute_start CONF_TEXT: write CONF_TEXT to a file, start smcrouted in
# the router namespace in the foreground (logging to $XM_TMP/smcroute.log)
# and wait until its control socket answers.
smcroute_start() {
	SMC_CONF=$XM_TMP/smcroute.conf
	SMC_SOCK=$XM_TMP/smcroute.sock
	SMC_LOG=$XM_TMP/smcroute.log
	printf '%s\n' "$1" >"$SMC_CONF"
	ns_bg "$NS_RTR" "$SMC_LOG" "$SMC_LOG.err" smcrouted -n -N -f "$SMC_CONF" \
		-u "$SMC_SOCK" -P "$XM_TMP/smcroute.pid" -l debug
	SMC_PID=$BG_PID
	wait_until 10 smcroute_ready
}

smcroute_ready() {
	xm_alive "$SMC_PID" && [ -S "$SMC_SOCK" ] &&
		smcroutectl -u "$SMC_SOCK" show interfaces >/dev/null 2>&1
}

smcroute_stop() {
	[ -n "${SMC_PID:-}" ] || return 0
	xm_stop_pids "$SMC_PID"
	SMC_PID=
}

# ---- receivers and senders (tools/mcast-gen) ----
#
# Each receiver or sender has a NAME; its files are $XM_TMP/NAME.json (the
# JSON line mcast-gen prints when it ends), NAME.err, and for receivers
# NAME.ready (written once joined) and NAME.log (one line per datagram as it
# arrives: STREAM SEQ TTL).

XM_GEN=$XM_BUILD/mcast-gen
declare -A RX_PID TX_PID

# rx_start NAME NS IFACE GROUP [RECV-OPTIONS...]: join GROUP on IFACE in NS
# with `mcast-gen recv` in the background (at most 60 s unless -T is given).
rx_start() {
	local name=$1 ns=$2 ifc=$3 group=$4
	shift 4
	rm -f "$XM_TMP/$name".{json,err,ready,log}
	ns_bg "$ns" "$XM_TMP/$name.json" "$XM_TMP/$name.err" "$XM_GEN" recv -g "$group" \
		-I "$ifc" --ready-file "$XM_TMP/$name.ready" --log "$XM_TMP/$name.log" -T 60 "$@"
	RX_PID[$name]=$BG_PID
}
# rx_ready NAME...: every receiver has joined.
rx_ready() {
	local n
	for n in "$@"; do [ -e "$XM_TMP/$n.ready" ] || return 1; done
}
# rx_done NAME...: every receiver or sender has ended and printed its counts.
rx_done() {
	local n
	for n in "$@"; do [ -s "$XM_TMP/$n.json" ] || return 1; done
}
tx_done() { rx_done "$@"; }
# rx_stop NAME...: stop the receivers still running (they print their counts
# on SIGTERM) and wait for their JSON.
rx_stop() {
	local n
	for n in "$@"; do
		rx_done "$n" || kill -TERM "${RX_PID[$n]}" 2>/dev/null
	done
	wait_until 5 rx_done "$@"
}
# rx_get NAME EXPR: EXPR (see json_get) over what NAME printed when it ended.
rx_get() { json_get "$2" <"$XM_TMP/$1.json"; }
# rx_count NAME: datagrams NAME has logged so far.
rx_count() { local n=0; [ -e "$XM_TMP/$1.log" ] && n=$(wc -l <"$XM_TMP/$1.log"); echo $((n)); }

# tx_start NAME NS IFACE GROUP SOURCE [SEND-OPTIONS...]: send a numbered
# stream to GROUP from SOURCE out of IFACE in NS with `mcast-gen send`, in
# the background.
tx_start() {
	local name=$1 ns=$2 ifc=$3 group=$4 src=$5
	shift 5
	rm -f "$XM_TMP/$name".{json,err}
	ns_bg "$ns" "$XM_TMP/$name.json" "$XM_TMP/$name.err" "$XM_GEN" send -g "$group" \
		--source "$src" -I "$ifc" "$@"
	TX_PID[$name]=$BG_PID
}

# ---- the xdp-mcast daemon ----
#
# The daemon runs in the foreground in a namespace; its pin directory is
# $XDP_MCAST_PIN_PATH (export it, on a bpffs from bpffs_create).  A daemon
# NAME has $XM_TMP/NAME.pid (its --pidfile) and NAME.log (its stderr).

XM_BIN=$XM_BUILD/xdp-mcast
declare -A XMD_PID XMD_NS

# xm_policy_epoch NS: the policy epoch in force in NS, or nothing.
xm_policy_epoch() {
	ip netns exec "$1" "$XM_BIN" policy -j 2>/dev/null | json_get 'd["epoch"] if d["active"] else ""'
}

# xmd_start NAME NS CONF [DAEMON-OPTIONS...]: start `xdp-mcast daemon -c CONF`
# in NS and wait (10 s at most) until it has written its pid file and a
# policy epoch newer than the one before is in force.  Fails, with the
# daemon's log on stderr, when the daemon exits or times out.
xmd_start() {
	local name=$1 ns=$2 conf=$3 before
	shift 3
	before=$(xm_policy_epoch "$ns")
	rm -f "$XM_TMP/$name.pid"
	ns_bg "$ns" /dev/null "$XM_TMP/$name.log" "$XM_BIN" daemon -c "$conf" \
		--pidfile "$XM_TMP/$name.pid" "$@"
	XMD_PID[$name]=$BG_PID XMD_NS[$name]=$ns
	if ! wait_until 10 xmd_up "$name" "${before:-0}"; then
		sed 's/^/  daemon: /' "$XM_TMP/$name.log" >&2
		return 1
	fi
}
xmd_up() {
	local e
	xm_alive "${XMD_PID[$1]}" || return 1
	[ "$(cat "$XM_TMP/$1.pid" 2>/dev/null)" = "${XMD_PID[$1]}" ] || return 1
	e=$(xm_policy_epoch "${XMD_NS[$1]}")
	[ -n "$e" ] && [ "$e" -gt "$2" ]
}

# xmd_reload NAME: `xdp-mcast reload` for daemon NAME; sets XMD_RC and
# XMD_OUT (its exit status and output).
xmd_reload() {
	XMD_OUT=$(ip netns exec "${XMD_NS[$1]}" "$XM_BIN" reload --pidfile "$XM_TMP/$1.pid" 2>&1)
	XMD_RC=$?
}

# xmd_stop NAME: SIGTERM to daemon NAME; wait (10 s at most) for it to exit
# and set XMD_RC to its exit status (255 when it had to be killed).
xmd_stop() {
	local pid=${XMD_PID[$1]}
	kill -TERM "$pid" 2>/dev/null
	if wait_until 10 eval "! xm_alive $pid"; then
		wait "$pid" 2>/dev/null
		XMD_RC=$?
	else
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		XMD_RC=255
	fi
}

# xmd_kill NAME: SIGKILL to daemon NAME, as a crash would, and wait for it;
# XMD_RC is its exit status (137).  Whatever it pinned stays.
xmd_kill() {
	local pid=${XMD_PID[$1]}
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	XMD_RC=$?
}

# ---- IGMP and MLD on the hosts ----

# mcast_versions NS IFACE IGMP MLD: make NS's kernel speak IGMP version IGMP
# (1-3) and MLD version MLD (1-2) on IFACE, whatever the queriers speak
# (force_igmp_version, force_mld_version; 0 gives the automatic choice back).
mcast_versions() {
	ip netns exec "$1" sysctl -qw "net.ipv4.conf.$2.force_igmp_version=$3" \
		"net.ipv6.conf.$2.force_mld_version=$4" >/dev/null
}

# ---- crafted IGMP and MLD on a wire (tests/ns/mcast-wire.py) ----
#
# One mcast-wire.py runs in the background in a namespace standing for the
# hosts and routers of the links: it sends the messages it is given (scapy
# builds them; the script's help lists the words) and logs every IGMP and
# MLD message that arrives on the interfaces it listens on to $WIRE_LOG,
# one a line: TIME IFACE igmp|mld query|type=N src= dst= ttl= ra= csum=
# [v= group= mrt= s= qrv= qqi= sources=], TIME as $EPOCHREALTIME has it.

XM_WIRE=$XM_ROOT/tests/ns/mcast-wire.py

# wire_start NS IFACE...: start it in NS, listening on each IFACE, and wait
# until it is ready (20 s at most: scapy takes a while to import).  Sets
# WIRE_PID (stopped on exit like every ns_bg process) and WIRE_LOG.
wire_start() {
	local ns=$1 i args=()
	shift
	for i in "$@"; do args+=(--listen "$i"); done
	WIRE_IN=$XM_TMP/wire.in WIRE_ACK=$XM_TMP/wire.ack WIRE_LOG=$XM_TMP/wire.log WIRE_N=0
	rm -f "$WIRE_IN" "$WIRE_ACK"
	mkfifo "$WIRE_IN" || return 1
	: >"$WIRE_LOG"
	exec {WIRE_FD}<>"$WIRE_IN"	# read-write: opening never blocks
	ns_bg "$ns" /dev/null "$XM_TMP/wire.err" "$XM_PY" "$XM_WIRE" serve --input "$WIRE_IN" \
		--ack "$WIRE_ACK" --log "$WIRE_LOG" "${args[@]}"
	WIRE_PID=$BG_PID
	if ! wait_until 20 wire_acked 0; then
		sed 's/^/  mcast-wire: /' "$XM_TMP/wire.err" >&2
		return 1
	fi
}
# wire_acked N: the wire has acknowledged message N.
wire_acked() {
	local last
	last=$(tail -n 1 "$WIRE_ACK" 2>/dev/null) || return 1
	[ -n "$last" ] && [ "${last%% *}" -ge "$1" ] 2>/dev/null
}

# wire MESSAGE...: send each MESSAGE (a line of words, not a comment) and
# return once all are on the wire; on an error say why and fail.
wire() {
	local m first=$((WIRE_N + 1))
	for m in "$@"; do
		printf '%s\n' "$m" >&"$WIRE_FD"
		WIRE_N=$((WIRE_N + 1))
	done
	if ! wait_until 10 wire_acked "$WIRE_N"; then
		echo "mcast-wire: no answer for message $WIRE_N: $(tail -3 "$XM_TMP/wire.err")" >&2
		return 1
	fi
	! awk -v f="$first" '$1 >= f && $2 == "error:" { print "mcast-wire: " $0; bad = 1 }
		END { exit !bad }' "$WIRE_ACK" >&2
}

# wire_seen SINCE IFACE: what arrived on IFACE at or after SINCE (an
# $EPOCHREALTIME), one message a line, without its time and interface.
wire_seen() {
	awk -v t="$1" -v i="$2" '$1 >= t && $2 == i { $1 = $2 = ""; sub(/^ +/, ""); print }' \
		"$WIRE_LOG"
}

# ---- the daemon's snooping state ----

XM_GROUPS_PY='
import ipaddress, json, sys
low = float(sys.argv[1])
def mark(expires):
    return "~" if expires is not None and expires <= low else ""
for g in json.load(sys.stdin)["groups"]:
    link = g["iface"] + ("." + str(g["vlan"]) if g["vlan"] else "")
    mode = g["filter_mode"] + (mark(g["expires_in"]) if g["filter_mode"] == "exclude" else "")
    src = sorted(g["sources"], key=lambda s: ipaddress.ip_address(s["address"]))
    print(" ".join([link, g["group"], mode] + [s["address"] + ("+" if s["forwarding"] else "-")
                                                + mark(s["expires_in"]) for s in src]))
'
# snoop_groups NS [LOWERED_SEC]: every membership of `xdp-mcast groups -j`
# in NS, one a line: IFACE[.VLAN] GROUP MODE SOURCE..., MODE include or
# exclude, each SOURCE ADDRESS+ (forwarded) or ADDRESS- (blocked), in
# address order.  A "~" after an exclude or a source marks a timer that
# runs out within LOWERED_SEC (one a query lowered; default 0: none).
snoop_groups() {
	ip netns exec "$1" "$XM_BIN" groups -j 2>/dev/null | "$XM_PY" -c "$XM_GROUPS_PY" "${2:-0}"
}
# snoop_state GROUPS IFACE[.VLAN] GROUP: GROUP's line of snoop_groups output
# GROUPS without link and group ("none" when absent).
snoop_state() {
	awk -v l="$2" -v g="$3" '$1 == l && $2 == g { $1 = $2 = ""; sub(/^ +/, ""); print; f = 1 }
		END { if (!f) print "none" }' <<<"$1"
}

# snoop_snap NS TAG: `xdp-mcast stats -j` in NS now, kept as TAG.
snoop_snap() {
	ip netns exec "$1" "$XM_BIN" stats -j >"$XM_TMP/snoop-$2.json" 2>/dev/null
}
XM_SNOOP_MOVED_PY='
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
iface, quiet = sys.argv[3], sys.argv[4].split()
def row(d):
    return next((i.get("snooping", {}) for i in d["interfaces"] if i["name"] == iface), {})
ra, rb = row(a), row(b)
print(" ".join("%s=%d" % (k, rb[k] - ra.get(k, 0)) for k in sorted(rb)
               if k not in quiet and rb[k] != ra.get(k, 0)))
'
# snoop_moved FROM TO IFACE: IFACE's snooping counters that changed between
# snapshots FROM and TO, as NAME=DELTA in name order, leaving out those the
# querier moves by itself (queries_sent, general_queries).
snoop_moved() {
	"$XM_PY" -c "$XM_SNOOP_MOVED_PY" "$XM_TMP/snoop-$1.json" "$XM_TMP/snoop-$2.json" "$3" \
		"queries_sent general_queries"
}
# snoop_ctr TAG IFACE NAME: one snooping counter of IFACE in snapshot TAG.
snoop_ctr() {
	json_get "[i for i in d['interfaces'] if i['name'] == '$2'][0]['snooping']['$3']" \
		<"$XM_TMP/snoop-$1.json"
}
