#!/usr/bin/env bash
# The accelerator's throughput bench (issue 5; docs/bench.md "The
# accelerator").
#
#   bench/accel.sh [-r ROUNDS] [-w WINDOW_SEC] [-k "1 4 8"] [-o OUT.tsv]
#                  [-p PLOT.png] [-e]
#
# Topology, all in namespaces of this run (xb-<pid>-*), veth pairs:
#
#   gen eth0 -- up0 rtr dn1 -- eth0 r1
#                       ...
#                       dnK -- eth0 rK
#
# The generator (bench_gen gen, CPU 0) injects a 64-byte UDP frame
# 10.99.0.2 -> 239.1.1.1 out of gen's eth0 with one long
# BPF_F_TEST_XDP_LIVE_FRAMES test run (xdp_gen XDP_TXes it).  Each receiver
# counts and drops in xdp_count (bench/bench_count.bpf.c).  For each K,
# each round runs the four scenarios one after the other (the order
# rotates from round to round):
#
#   kernel   ipmr: smcrouted with one (S,G) route up0 -> dn1..dnK, a
#            224.0.0.0/4 route on each egress device; up0 has an XDP_PASS
#            program only to give the veth NAPI (there is no ethtool for GRO).
#            Left out, with a note, on a kernel without CONFIG_IP_MROUTE.
#   accel    xdp-mcast daemon, every phyint `forwarding accelerate`, one
#            `mroute from up0 source ... group ... to dn1..dnK` line, with
#            the full feature set: snooping (IGMP/MLD on every phyint), flow
#            counting, and a scope policy: up0 an upstream with four
#            boundaries, a TTL threshold, inbound rules (one an audit) and
#            an outbound rule; each dnI a downstream with a TTL threshold
#            and, with -e, a boundary too (so that every copy takes the
#            egress policy's table lookups).  None of it stops the bench's
#            flow.
#   ceiling  xdp_bcast on up0: one broadcast redirect into a devmap of the K
#            egress veths, nothing else.
#   drop     xdp_count on up0: what the router can receive at all.
#
# A window: start the generator, warm up 1 s, then the reader (bench_gen
# read, CPU 1) takes the counters of the generator (offered) and of every
# receiver (delivered) over WINDOW seconds.  Loss = 1 - delivered / (K x
# offered), reported; a window with more than 1% loss is flagged.  Column
# "others": how busy CPU 1 (where only the reader sleeps) was during the
# window, in percent: other work on the machine, which also takes CPU 0.
# Prints one line per window (TSV, also to OUT) and a summary: min / median
# / max of delivered pps by scenario and K, and the ratios taken within
# each round.  Needs root; exit 0 unless something failed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/ns/lib.sh
# shellcheck disable=SC2034 # read by lib.sh's cleanup
XM_RUN=xb-$$	# this run's namespaces: xb-<pid>-*; lib.sh's cleanup removes them

ROUNDS=3 WINDOW=2 KS="1 4 8" OUT='' PNG='' EGRESS_POL=''
while getopts "r:w:k:o:p:e" o; do
	case $o in
	e) EGRESS_POL=1 ;;
	r) ROUNDS=$OPTARG ;;
	w) WINDOW=$OPTARG ;;
	k) KS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	p) PNG=$OPTARG ;;
	*) exit 64 ;;
	esac
done
KMAX=0
for k in $KS; do [ "$k" -gt "$KMAX" ] && KMAX=$k; done

GEN=$XM_BUILD/bench/bench_gen
OBJ=$XM_BUILD/bench/bench_count.bpf.o
for need in "$GEN" "$OBJ" "$XM_BIN"; do
	[ -e "$need" ] || { echo "accel: $need not built (make bench-bins)" >&2; exit 1; }
done
command -v smcrouted >/dev/null || { echo "accel: smcrouted missing (make deps)" >&2; exit 1; }

NS_GEN=$(ns_name gen) NS_RTR=$(ns_name rtr)
GROUP=239.1.1.1 SRC=10.99.0.2
ns_create "$NS_GEN" "$NS_RTR" || exit 1
ip link add eth0 netns "$NS_GEN" type veth peer up0 netns "$NS_RTR" || exit 1
ip -n "$NS_GEN" addr add $SRC/24 dev eth0
ip -n "$NS_RTR" addr add 10.99.0.1/24 dev up0
ip -n "$NS_GEN" link set eth0 up
ip -n "$NS_RTR" link set up0 up
ip netns exec "$NS_RTR" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.up0.rp_filter=0 \
	net.ipv4.ip_forward=1 >/dev/null
BPFFS=$(bpffs_create) || exit 1
export XDP_MCAST_PIN_PATH=$BPFFS/xm
# pin_maps DIR: pin the maps of the programs loaded at DIR (bpftool
# loadall) as DIR_maps/NAME.  (bpftool's pinmaps would do it, but libbpf
# turns every dot of the path into "_", and XM_TMP has one.)
pin_maps() {
	local id name p
	mkdir -p "$1_maps" || return 1
	for id in $(for p in xdp_count xdp_bcast; do bpftool -j prog show pinned "$1/$p"; echo; done |
		"$XM_PY" -c 'import json,sys
print(*sorted({i for l in sys.stdin if l.strip() for i in json.loads(l).get("map_ids", [])}))'); do
		name=$(bpftool -j map show id "$id" | "$XM_PY" -c \
			'import json,sys; print(json.load(sys.stdin)["name"])')
		case $name in bench_cnt | bench_ports) ;; *) continue ;; esac
		bpftool map pin id "$id" "$1_maps/$name" || return 1
	done
}
RX_PINS=()
for i in $(seq 1 "$KMAX"); do
	ns=$(ns_name "r$i")
	ns_create "$ns" || exit 1
	ip link add "dn$i" netns "$NS_RTR" type veth peer eth0 netns "$ns" || exit 1
	ip -n "$NS_RTR" addr add "10.99.$i.1/24" dev "dn$i"
	ip -n "$ns" addr add "10.99.$i.2/24" dev eth0
	ip -n "$NS_RTR" link set "dn$i" up
	ip -n "$ns" link set eth0 up
	# the best ipmr configuration: a multicast route on every egress device
	# (with it the output route of each copy is cached; without, ipmr makes
	# a new one per copy)
	ip -n "$NS_RTR" route add 224.0.0.0/4 dev "dn$i" metric "$i" || exit 1
	bpftool prog loadall "$OBJ" "$BPFFS/r$i" type xdp || exit 1
	pin_maps "$BPFFS/r$i" || exit 1
	ip -n "$ns" link set dev eth0 xdp pinned "$BPFFS/r$i/xdp_count" || exit 1
	RX_PINS+=("$BPFFS/r${i}_maps/bench_cnt")
done
# The router's own programs: xdp_pass_n (kernel), xdp_bcast (ceiling),
# xdp_count (drop), sharing bench_ports and bench_cnt.
bpftool prog loadall "$OBJ" "$BPFFS/rtr" type xdp || exit 1
pin_maps "$BPFFS/rtr" || exit 1

log() { echo "accel: $*" >&2; }

# ---- scenarios: up K / down ----

CONF=$XM_TMP/xdp-mcast.conf
oifs() { local i s=; for i in $(seq 1 "$1"); do s="$s dn$i"; done; echo "${s# }"; }

up_kernel() {
	ip -n "$NS_RTR" link set dev up0 xdp pinned "$BPFFS/rtr/xdp_pass_n" || return 1
	smcroute_start "phyint up0 enable
$(for i in $(seq 1 "$1"); do echo "phyint dn$i enable"; done)
mroute from up0 source $SRC group $GROUP to $(oifs "$1")" || return 1
}
down_kernel() {
	smcroute_stop
	ip -n "$NS_RTR" link set dev up0 xdp off
}
up_accel() {
	local dn_pol="ttl-threshold 1"
	[ -n "$EGRESS_POL" ] && dn_pol="$dn_pol boundary organization"
	{
		echo "phyint up0 forwarding accelerate upstream ttl-threshold 8" \
			"boundary local boundary organization boundary ipv6-site" \
			"boundary ipv6-organization"
		for i in $(seq 1 "$1"); do
			echo "phyint dn$i forwarding accelerate downstream $dn_pol"
		done
		echo "deny in up0 group 239.255.255.250"
		echo "allow in up0 group 232.1.1.0/24 source 198.51.100.0/24"
		echo "deny in up0 group 232.0.0.0/8 audit"
		echo "deny in any group 239.1.0.0/16 source 192.0.2.0/24"
		echo "deny out up0 group 239.0.0.0/8"
		echo "mroute from up0 source $SRC group $GROUP to $(oifs "$1")"
	} >"$CONF"
	xmd_start xmd "$NS_RTR" "$CONF"
}
down_accel() { xmd_stop xmd; }
up_ceiling() {
	local i idx
	for i in $(seq 1 "$KMAX"); do
		idx=$(ip netns exec "$NS_RTR" cat "/sys/class/net/dn$i/ifindex") || return 1
		# shellcheck disable=SC2046 # le32 prints the key's four bytes
		if [ "$i" -le "$1" ]; then
			ip netns exec "$NS_RTR" bpftool map update pinned "$BPFFS/rtr_maps/bench_ports" \
				key $(le32 "$idx") value $(le32 "$idx") || return 1
		else
			bpftool map delete pinned "$BPFFS/rtr_maps/bench_ports" key $(le32 "$idx") \
				2>/dev/null
		fi
	done
	ip -n "$NS_RTR" link set dev up0 xdp pinned "$BPFFS/rtr/xdp_bcast"
}
down_ceiling() { ip -n "$NS_RTR" link set dev up0 xdp off; }
up_drop() { ip -n "$NS_RTR" link set dev up0 xdp pinned "$BPFFS/rtr/xdp_count"; }
down_drop() { ip -n "$NS_RTR" link set dev up0 xdp off; }

le32() { printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }

# window SCENARIO K ROUND: one measurement; prints its TSV line.
window() {
	local sc=$1 k=$2 r=$3 gpid line pins=() i
	if [ "$sc" = drop ]; then
		pins=("$BPFFS/rtr_maps/bench_cnt")
	else
		for i in $(seq 1 "$k"); do pins+=("${RX_PINS[$((i - 1))]}"); done
	fi
	rm -f "$BPFFS/gen_cnt"
	"$GEN" gen -o "$OBJ" -n "/run/netns/$NS_GEN" -i eth0 -s "$SRC" -g "$GROUP" \
		-p "$BPFFS/gen_cnt" -c 0 2>"$XM_TMP/gen.err" &
	gpid=$!
	XM_PIDS+=("$gpid")
	wait_until 5 test -e "$BPFFS/gen_cnt" || { cat "$XM_TMP/gen.err" >&2; return 1; }
	sleep 1	# the first second after a change loses frames
	c1=$(cpu1_busy)
	line=$(taskset -c 1 "$GEN" read -w "$WINDOW" "$BPFFS/gen_cnt" "${pins[@]}") || return 1
	c1="$c1 $(cpu1_busy)"
	kill -TERM "$gpid"
	wait "$gpid" 2>/dev/null
	# line: ns offered delivered...; c1: busy total, before and after
	awk -v sc="$sc" -v k="$k" -v r="$r" -v c1="$c1" '{
		d = 0; for (i = 3; i <= NF; i++) d += $i
		kk = sc == "drop" ? 1 : k
		pps = d / ($1 / 1e9); off = $2 / ($1 / 1e9)
		loss = $2 ? 1 - d / (kk * $2) : 1
		split(c1, c, " ")
		others = c[4] > c[2] ? 100 * (c[3] - c[1]) / (c[4] - c[2]) : 0
		printf "%d\t%d\t%s\t%.0f\t%.0f\t%.1f\t%.4f\t%s\t%.0f\n", k, r, sc, off, pps, \
			pps ? 1e9 * kk / pps : 0, loss, (loss > 0.01 || loss < -0.01) ? "LOSS" : "ok", \
			others
	}' <<<"$line"
}

# cpu1_busy: CPU 1's busy and total jiffies so far ("busy total").
cpu1_busy() {
	awk '$1 == "cpu1" { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t }' /proc/stat
}

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
SCEN=(kernel accel ceiling drop)
HAVE_IPMR=1
if ! ip netns exec "$NS_RTR" test -e /proc/net/ip_mr_vif; then
	HAVE_IPMR=
	log "this kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE): no kernel scenario"
fi
[ -n "$EGRESS_POL" ] && log "accel: a boundary on every downstream port too (-e)"
RES=$XM_TMP/res.tsv
printf 'k\tround\tscenario\toffered_pps\tdelivered_pps\tns_per_in_pkt\tloss\twindow\tothers\n' |
	tee "$RES"
for k in $KS; do
	for r in $(seq 1 "$ROUNDS"); do
		for j in 0 1 2 3; do
			sc=${SCEN[$(((j + r + k) % 4))]}
			[ "$sc" = kernel ] && [ -z "$HAVE_IPMR" ] && continue
			if ! "up_$sc" "$k"; then
				log "cannot set up $sc (K=$k)"
				exit 1
			fi
			window "$sc" "$k" "$r" | tee -a "$RES" || { log "window $sc failed"; exit 1; }
			"down_$sc" "$k"
		done
	done
done
[ -n "$OUT" ] && cp "$RES" "$OUT"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- summary ----
"$XM_PY" - "$RES" <<'EOF'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
d = {}
lossy = 0
others = []
for k, r, sc, off, pps, ns, loss, ok, oth in rows:
    d[(int(k), int(r), sc)] = (float(pps), float(ns), float(loss))
    lossy += ok != "ok"
    others.append(float(oth))
ks = sorted({k for k, _, _ in d})
def mmm(v):
    v = sorted(v)
    return "%s / %s / %s" % tuple(f"{x:.2f}" if x < 100 else f"{x/1e6:.2f}M" for x in (v[0], st.median(v), v[-1]))
print("\nK  scenario  delivered pps min / median / max   ns per input pkt (median)  worst loss")
for k in ks:
    rounds = sorted({r for kk, r, _ in d if kk == k})
    for sc in ("kernel", "accel", "ceiling", "drop"):
        v = [d[(k, r, sc)] for r in rounds if (k, r, sc) in d]
        if not v:
            continue
        print(f"{k:<2} {sc:<9} {mmm([x[0] for x in v]):>36}   {st.median(x[1] for x in v):10.1f}   {max(x[2] for x in v):8.2%}")
print(f"\nwindows with more than 1% loss (offered != delivered / K): {lossy} of {len(rows)}")
print(f"others (CPU 1 busy during a window): median {st.median(others):.0f}%, max {max(others):.0f}%")
print("\nratios within each round, min / median / max (targets: accel/kernel >= 4.5, accel/ceiling >= 0.90)")
for k in ks:
    rounds = sorted({r for kk, r, _ in d if kk == k})
    for a, b, t in (("accel", "kernel", 4.5), ("accel", "ceiling", 0.90), ("ceiling", "drop", None)):
        v = [d[(k, r, a)][0] / d[(k, r, b)][0] for r in rounds
             if (k, r, a) in d and (k, r, b) in d and d[(k, r, b)][0]]
        if not v:
            print(f"K={k:<2} {a}/{b:<8} {'not measured':>22}")
            continue
        verdict = "" if t is None else ("met" if min(v) >= t else ("median met" if st.median(v) >= t else "MISSED"))
        print(f"K={k:<2} {a}/{b:<8} {mmm(v):>22}  {verdict}")
EOF

# ---- plot: median delivered pps by K, min-max as error bars ----
[ -n "$PNG" ] || exit 0
if ! command -v gnuplot >/dev/null; then
	log "gnuplot is not installed (make deps): no plot"
	exit 0
fi
"$XM_PY" - "$RES" >"$XM_TMP/plot.dat" <<'EOF'
import sys, statistics as st
rows = [l.split("\t") for l in open(sys.argv[1])][1:]
ks = sorted({int(r[0]) for r in rows})
scen = ("kernel", "accel", "ceiling", "drop")
print("# K " + " ".join(f"{s}_med {s}_min {s}_max" for s in scen))
for k in ks:
    out = [str(k)]
    for s in scen:
        v = [float(r[4]) / 1e6 for r in rows if int(r[0]) == k and r[2] == s]
        if not v:
            out += ["?", "?", "?"]
            continue
        out += [f"{st.median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}"]
    print(" ".join(out))
EOF
xtics=$(for k in $KS; do printf '"%s" %s, ' "$k" "$k"; done)
# the kernel's curve, when it was measured
KLINE=''
[ -n "$HAVE_IPMR" ] && KLINE='"" using 1:2:3:4 with yerrorlines lw 2 title "kernel ipmr", '
gnuplot <<EOF || exit 1
set terminal pngcairo size 800,560 noenhanced
set output "$PNG"
set title "xdp-mcast accelerator, 64-byte frames, 1 source to K receivers (veth, $(uname -r))"
set xlabel "receivers (K)"
set ylabel "delivered Mpps (median of $ROUNDS rounds; bars: min-max)"
set key below
set grid ytics
set xtics (${xtics%, })
set xrange [0:$((KMAX + 1))]
set yrange [0:*]
set datafile missing "?"
plot "$XM_TMP/plot.dat" using 1:5:6:7 with yerrorlines lw 2 title "xdp-mcast accelerate", $KLINE\
     "" using 1:8:9:10 with yerrorlines lw 2 title "bare broadcast redirect (ceiling)", \
     "" using 1:11:12:13 with yerrorlines lw 2 dt 2 title "XDP_DROP on router ingress"
EOF
echo "accel: plot in $PNG" >&2
