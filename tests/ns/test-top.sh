#!/usr/bin/env bash
# mcast-top against a router with known traffic.
#
# The topology of tests/ns/lib.sh with two hosts; `xdp-mcast daemon` on the
# router with a boundary on up0 (239.3.0.0/16) and static joins: 239.1.1.1
# on dn1 (any source) and on dn2 (source 10.10.0.2 only).
#
#  1. Exact counts: 100, 50 and 20 frames of 66 bytes (the last ones
#     stopped by the boundary) are sent, then batch frames (-b -n) and JSON
#     frames (--json -n) must show those counts to the frame and the byte,
#     the members of each flow, the drop reason, and the interface totals;
#     -s sorts, -i filters, bad options are refused.
#  2. A real terminal: tmux runs mcast-top at 80x24 while two senders
#     stream (200 and 50 packets a second); the test sends keys and reads
#     the screen with capture-pane: rates near the offered ones, sort
#     (< and S), filter (f), the group's detail view (Enter: members with
#     filter modes and sources, "-" for the copies of an accelerator that
#     has no entry, a
#     sparkline), interface cycling (i), bytes (b), pause (p), help (?), a
#     new flow highlighted, a resize to 120x30 that shows more columns, q.
#  3. A sender that stops: its flow turns stale.
#  4. The accelerator: reloaded into accelerate mode with a route to dn1
#     and dn2, the flow's COPY/S is a number (JSON and batch), its copies
#     are counted (skipped while the data path leaves xm_flow.copies at
#     0), and the detail view lists both ports with what they sent.
#
# Every wait is a poll with a deadline.  Everything is removed on exit.
#
# shellcheck disable=SC2317,SC2016  # functions and strings for wait_until and eval
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ns/lib.sh
export LC_ALL=C

TOP=$XM_BUILD/mcast-top
for need in "$XM_BIN" "$XM_GEN" "$TOP"; do
	if [ ! -x "$need" ]; then
		echo "ok - mcast-top # SKIP $need is not built (make)"
		exit 0
	fi
done
if ! command -v tmux >/dev/null; then
	echo "ok - mcast-top # SKIP tmux is not installed (make deps)"
	exit 0
fi

topo_create 2
check "topology: source, router and two hosts are up" topo_links_up
# The counts below are exact, and the test sends no IPv6: IPv6 off on the
# source and the hosts, before xdp-mcast starts, so that no late MLD report
# of theirs (sent up to a second apart, robustness times) adds a frame, a
# flow or a membership.
for ns in "$NS_SRC" "${NS_HOST[@]:1}"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null
done
BPFFS=$(bpffs_create)
export XDP_MCAST_PIN_PATH=$BPFFS/xm
PIN=$XDP_MCAST_PIN_PATH
CONF=$XM_TMP/xdp-mcast.conf
cat >"$CONF" <<EOF
phyint up0 boundary 239.3.0.0/16
phyint dn1 igmp 3 querier off
phyint dn2 igmp 3 querier off
join dn1 239.1.1.1
join dn2 239.1.1.1 source $SRC_IP4
EOF
if ! xmd_start d "$NS_RTR" "$CONF"; then
	not_ok "daemon starts"
	tap_done
fi
top() { ip netns exec "$NS_RTR" "$TOP" -p "$PIN" "$@"; }

# ---- 1. exact counts ----

send_frames "$NS_SRC" eth0 100 239.1.1.1 192.0.2.1
send_frames "$NS_SRC" eth0 50 239.2.2.2 192.0.2.7
send_frames "$NS_SRC" eth0 20 239.3.3.3 192.0.2.7
counted() {
	[ "$(ip netns exec "$NS_RTR" "$XM_BIN" stats -j | json_get 'flow("up0","239.3.3.3","192.0.2.7").get("packets")')" = 20 ]
}
check "the 170 frames are counted" wait_until 5 counted

OUT=$(top -b -n 2 -d 0.2)
expect_eq "batch: -n 2 prints two frames" 2 "$(grep -c '^mcast-top - every 0.2s' <<<"$OUT")"
# The rows of the last frame: FLAG IFACE GROUP SOURCE ... PACKETS BYTES.
LAST=$(awk '/^mcast-top - every/ {f = ""} {f = f $0 "\n"} END {printf "%s", f}' <<<"$OUT")
row() { grep -E "^. +up0 +$1 +$2 " <<<"$LAST"; }
expect_match "batch: 239.1.1.1 from 192.0.2.1, 100 frames, 6600 bytes, 1 member" \
	'^  up0 +239\.1\.1\.1 +192\.0\.2\.1 +0 +0b +0b +0b +1 .* - +100 +6600$' "$(row 239.1.1.1 192.0.2.1)"
expect_match "batch: 239.2.2.2, 50 frames, 3300 bytes, no member" \
	' +0 +[0-9.]+ +- +- +50 +3300$' "$(row 239.2.2.2 192.0.2.7)"
expect_match "batch: 239.3.3.3 is flagged and names its drop reason: boundary, 20 frames" \
	'^! +up0 .* boundary +20 +1320$' "$(row 239.3.3.3 192.0.2.7)"
expect_match "batch: header with flows, groups and memberships" \
	'^flows 3/65536 \(0\.0% full\)  groups 3  memberships 2 \(1 sources\)  accelerator -$' "$LAST"
expect_match "batch: up0 in the interface table with its boundary drops" \
	'^up0 +0 +0b +0 +0b +0  boundary 0$' "$LAST"

J=$XM_TMP/top.json
top --json -n 1 >"$J"
expect_eq "json: one object, 3 flows, 3 groups, 2 memberships, no interface accelerates" \
	"1 3 3 2 False" \
	"$(wc -l <"$J") $(json_get 'd["flows_tracked"], d["groups"], d["memberships"], d["accelerator"]' <"$J" | tr -d '(),')"
expect_eq "json: 239.1.1.1 from 192.0.2.1: packets, bytes, members, copies, drop reason" \
	"100 6600 1 None None None" \
	"$(json_get '[(f["packets"], f["bytes"], f["members"], f["copies"], f["copies_pps"], f["drop_reason"]) for f in d["flows"] if f["group"] == "239.1.1.1"][0]' <"$J" | tr -d '(),')"
expect_eq "json: 239.3.3.3: boundary" "boundary 20" \
	"$(json_get '[(f["drop_reason"], f["packets"]) for f in d["flows"] if f["group"] == "239.3.3.3"][0]' <"$J" | tr -d "(),'")"
expect_eq "json: up0 in 170 frames and 11220 bytes, 20 dropped at the boundary" "170 11220 20 20" \
	"$(json_get '[(i["in"]["packets"], i["in"]["bytes"], i["drops"]["packets"], i["drops"]["by_reason"]["boundary"]["packets"]) for i in d["interfaces"] if i["name"] == "up0"][0]' <"$J" | tr -d '(),')"
expect_eq "json: the averages of each window are there" "2s 10s 40s" \
	"$(json_get '" ".join(sorted(d["flows"][0]["avg"], key=len))' <"$J")"

OUT=$(top -b -n 1 -s packets)
expect_eq "-s packets: most packets first" "239.1.1.1 239.2.2.2 239.3.3.3" \
	"$(awk '$2 == "up0" || $1 == "up0" {for (i = 1; i <= NF; i++) if ($i ~ /^239\./) {print $i; break}}' <<<"$OUT" | xargs)"
OUT=$(top -b -n 1 -i dn1)
expect_match "-i dn1: no flow arrives there" 'no flow matches the filter' "$OUT"
top -b -n 1 -s nope >/dev/null 2>"$XM_TMP/err"
expect_eq "-s with an unknown column: usage error (64)" "64 1" "$? $(grep -c "unknown column 'nope'" "$XM_TMP/err")"
top -b -n 1 -i nosuch >/dev/null 2>"$XM_TMP/err"
expect_eq "-i with an interface that is not loaded: refused" "66 1" \
	"$? $(grep -c "'nosuch' is not loaded" "$XM_TMP/err")"
ip netns exec "$NS_RTR" "$TOP" -b -n 1 -p "$XM_TMP/none" >/dev/null 2>"$XM_TMP/err"
expect_match "a pin path with nothing loaded is named" "nothing is loaded under '$XM_TMP/none'" \
	"$(cat "$XM_TMP/err")"

# ---- 2. in a terminal ----

tx_start a "$NS_SRC" eth0 239.1.1.1 "$SRC_IP4" -n 0 -r 200 -s 100
tx_start b "$NS_SRC" eth0 239.2.2.2 "$SRC2_IP4" -n 0 -r 50 -s 1000
flowing() {
	ip netns exec "$NS_RTR" "$XM_BIN" stats -j |
		json_get 'flow("up0","239.2.2.2","'"$SRC2_IP4"'").get("packets", 0) > 0 and flow("up0","239.1.1.1","'"$SRC_IP4"'").get("packets", 0) > 0' |
		grep -q True
}
check "two senders stream through up0" wait_until 10 flowing

TM=(tmux -L "$XM_RUN-top" -f /dev/null)
at_exit "${TM[*]} kill-server"
"${TM[@]}" new-session -d -s top -x 80 -y 24 \
	"ip netns exec $NS_RTR $TOP -p $PIN -d 0.5 -C; sleep 30"
PANE=$XM_TMP/pane
pane() { "${TM[@]}" capture-pane -p -t top >"$PANE" 2>/dev/null; }
# shows REGEX: the screen has a line matching REGEX (extended).
shows() { pane && grep -Eq -- "$1" "$PANE"; }
hides() { pane && ! grep -Eq -- "$1" "$PANE"; }
keys() { "${TM[@]}" send-keys -t top "$@"; }
# line_of REGEX: the screen line number of the first match.
line_of() { grep -nE -- "$1" "$PANE" | head -1 | cut -d: -f1; }
screen_says() {
	local name=$1 re=$2
	if wait_until 5 shows "$re"; then ok "$name"; else not_ok "$name" "screen:" "$(cat "$PANE")"; fi
}
screen_lacks() {
	local name=$1 re=$2
	if wait_until 5 hides "$re"; then ok "$name"; else not_ok "$name" "screen:" "$(cat "$PANE")"; fi
}

A_ROW="^  up0 +239\.1\.1\.1 +$SRC_IP4 "
B_ROW="^  up0 +239\.2\.2\.2 +$SRC2_IP4 "
screen_says "tmux: mcast-top draws its header" '^mcast-top - every 0\.5s - sort 2s desc - iface all - bits$'
screen_says "tmux: the column titles fit 80 columns" '^  IFACE  GROUP +SOURCE +PKT/S +2S +10S +40S MBR  IDLE$'
# 200 frames of 142 bytes a second; 50 of 1042.
rate_ok() {
	local pps
	shows "$1" || return 1
	pps=$(grep -E -- "$1" "$PANE" | awk '{print $4}')
	[[ $pps =~ ^[0-9]+$ ]] && [ "$pps" -ge "$2" ] && [ "$pps" -le "$3" ]
}
if wait_until 8 rate_ok "$A_ROW" 170 230 && rate_ok "$B_ROW" 40 60; then
	ok "tmux: packets a second near what is sent (200 and 50)"
else
	not_ok "tmux: packets a second near what is sent (200 and 50)" "$(cat "$PANE")"
fi
expect_eq "tmux: the screen is 24 lines" 24 "$(wc -l <"$PANE")"
pane
expect_match "tmux: by 2 s rate, 239.2.2.2 (400 kb/s) comes before 239.1.1.1 (227 kb/s)" '^yes$' \
	"$([ "$(line_of "$B_ROW")" -lt "$(line_of "$A_ROW")" ] && echo yes)"
expect_match "tmux: 239.1.1.1 from $SRC_IP4 has two member interfaces" "$A_ROW.* 2 +[0-9.]+$" \
	"$(grep -E "$A_ROW" "$PANE")"
# A membership that comes while mcast-top runs: it reads the memberships
# again (not the order it kept from the last refresh).
expect_match "tmux: 239.2.2.2 has no member yet" "$B_ROW.* 0 +[0-9.]+$" "$(grep -E "$B_ROW" "$PANE")"
rx_start j "${NS_HOST[2]}" eth0 239.2.2.2
screen_says "tmux: a host joins 239.2.2.2 on dn2: the row counts 1 member" "$B_ROW.* 1 +[0-9.]+$"
rx_stop j

keys '<'
screen_says "tmux: < sorts by the previous column (pkt/s)" ' - sort pps desc - '
pane
expect_match "tmux: by packets a second, 239.1.1.1 (200/s) comes first" '^yes$' \
	"$([ "$(line_of "$A_ROW")" -lt "$(line_of "$B_ROW")" ] && echo yes)"
keys S
screen_says "tmux: S reverses the direction" ' - sort pps asc - '
pane
expect_match "tmux: ascending, 239.2.2.2 (50/s) comes before 239.1.1.1" '^yes$' \
	"$([ "$(line_of "$B_ROW")" -lt "$(line_of "$A_ROW")" ] && echo yes)"
keys S

keys f
screen_says "tmux: f asks for a filter" '^filter \(prefix, address start or interface; empty clears\): ?$'
keys 239.2 Enter
screen_says "tmux: the filter is in the header" ' - filter 239\.2 - '
screen_lacks "tmux: filtered, only 239.2.2.2 rows" '239\.1\.1\.1'
keys f BSpace BSpace BSpace BSpace BSpace Enter
screen_says "tmux: an empty filter shows every flow again" "$A_ROW"

keys g Enter
screen_says "tmux: Enter on the first row opens its group" '^group 239\.1\.1\.1 \(ipv4\) - 2 flows - '
screen_says "tmux: detail: dn1 listens to any source (static exclude)" \
	'^dn1 +0 exclude +3 +- +static \(any source\)$'
screen_says "tmux: detail: dn2 includes $SRC_IP4, forwarded" "^dn2 +0 include +3 +- +- $SRC_IP4\+$"
screen_says "tmux: detail: no copies without the accelerator" \
	'^-  \(no flow of the group has an accelerator entry with an outgoing interface\)$'
screen_says "tmux: detail: a sparkline of the last seconds" '^last [0-9]+s, 2s a mark, top [0-9.]+[kM]?b/s: \[[ .:=+*#-]+\]$'
keys Escape
screen_says "tmux: Esc returns to the table" '^  IFACE  GROUP'

keys i
screen_says "tmux: i shows one interface" ' - iface up0 - '
keys i
screen_says "tmux: i again, the next one: no flow there" ' - iface dn1 - '
screen_says "tmux: ... and says so" 'no flow matches the filter'
keys i i
screen_says "tmux: back to every interface" ' - iface all - '
keys b
screen_says "tmux: b shows bytes" ' - bytes$'
screen_says "tmux: ... in the rates too" "$B_ROW +[0-9]+ +[0-9.]+kB "
keys b p
screen_says "tmux: p pauses" ' - bits - PAUSED$'
keys p
screen_lacks "tmux: p resumes" 'PAUSED'

tx_start c "$NS_SRC" eth0 239.4.4.4 "$SRC_IP4" -n 0 -r 20 -s 100
screen_says "tmux: a new flow is flagged +" "^\+ up0 +239\.4\.4\.4 +$SRC_IP4 "

keys '?'
screen_says "tmux: ? shows the keys" '^mcast-top keys$'
keys x
screen_says "tmux: any key closes the help" '^  IFACE  GROUP'

hides ' PACKETS ' && ok "tmux: at 80 columns the totals are left out" ||
	not_ok "tmux: at 80 columns the totals are left out" "$(cat "$PANE")"
"${TM[@]}" resize-window -t top -x 120 -y 30 2>/dev/null
screen_says "tmux: resized to 120x30, more columns: reason and totals" \
	'^  IFACE  GROUP +SOURCE +PKT/S +2S +10S +40S MBR  IDLE REASON +PACKETS +BYTES$'
expect_eq "tmux: and 30 lines" 30 "$(pane; wc -l <"$PANE")"

keys q
gone() { ! "${TM[@]}" list-panes -t top -F '#{pane_current_command}' 2>/dev/null | grep -q mcast-top &&
	! pgrep -f "^$TOP -p $PIN -d 0.5" >/dev/null; }
check "tmux: q quits" wait_until 5 gone

# ---- 3. stale ----

kill -TERM "${TX_PID[b]}" 2>/dev/null
stale() { top -b -n 1 | grep -Eq "^~ +up0 +239\.2\.2\.2 +$SRC2_IP4 "; }
check "a sender that stops: its flow turns stale (~)" wait_until 10 stale

# ---- 4. the accelerator's copies ----

# The same router in accelerate mode with an (S,G) route to dn1 and dn2:
# COPY/S is a number for flows arriving on an accelerating interface, and
# the group's detail view lists the route's ports with what each sent.
# Redirected frames need NAPI on the receiving veths.
for i in 1 2; do
	ip -n "${NS_HOST[$i]}" link set dev eth0 xdp obj "$XM_BUILD/bpf/xdp_pass.bpf.o" sec xdp
done
wait_until 5 topo_links_up
cat >"$CONF" <<EOF
phyint up0 forwarding accelerate
phyint dn1 igmp 3 querier off forwarding accelerate
phyint dn2 igmp 3 querier off forwarding accelerate
join dn1 239.1.1.1
join dn2 239.1.1.1 source $SRC_IP4
mroute from up0 source $SRC_IP4 group 239.1.1.1 to dn1 dn2
EOF
xmd_reload d
expect_eq "accelerate: reload into accelerate mode" 0 "$XMD_RC" "$XMD_OUT"
accelerated() {
	ip netns exec "$NS_RTR" "$XM_BIN" stats -j |
		json_get '[i["egress_reasons"]["accelerated"]["packets"] for i in d["interfaces"] if i["name"] == "dn2"][0] > 0' |
		grep -q True
}
check "accelerate: 239.1.1.1 from $SRC_IP4 is replicated to dn2" wait_until 10 accelerated

A_FLOW='[f for f in d["flows"] if f["group"] == "239.1.1.1" and f["source"] == "'$SRC_IP4'"][0]'
top --json -n 3 -d 0.5 | tail -1 >"$J"
expect_eq "accelerate: json: the accelerator is on; the flow's copies and copies a second are numbers" \
	"True True True" \
	"$(json_get 'd["accelerator"], isinstance('"$A_FLOW"'["copies"], int), isinstance('"$A_FLOW"'["copies_pps"], float)' <"$J" | tr -d '(),')"
OUT=$(top -b -n 1)
expect_match "accelerate: batch: COPY/S is a number on the flow's row, not -" \
	"^. +up0 +239\.1\.1\.1 +$SRC_IP4 +([^ ]+ +){6}[0-9.]+[kM]? +[-a-z_]+ +[0-9]+ +[0-9]+$" \
	"$(grep -E " 239\.1\.1\.1 +$SRC_IP4 " <<<"$OUT")"
expect_match "accelerate: batch: the header says the accelerator is on" \
	'  accelerator on$' "$(grep '^flows ' <<<"$OUT")"

# The data path counts copies in xm_flow.copies: two ports a frame.
copies_counted() {
	top --json -n 1 | json_get "$A_FLOW"'["copies"] > 0' | grep -q True
}
copies_near() {
	local pps
	pps=$(top --json -n 3 -d 0.5 | tail -1 | json_get 'int('"$A_FLOW"'["copies_pps"])')
	[[ $pps =~ ^[0-9]+$ ]] && [ "$pps" -ge 300 ] && [ "$pps" -le 500 ]
}
if wait_until 5 copies_counted; then
	ok "accelerate: the flow's copies are counted"
	check "accelerate: copies a second near 2 ports x 200 frames" wait_until 10 copies_near
else
	skip "accelerate: the flow's copies are counted" \
		"xm_flow.copies stays 0: this data path does not count copies yet"
fi

"${TM[@]}" new-session -d -s acc -x 100 -y 30 \
	"ip netns exec $NS_RTR $TOP -p $PIN -d 0.5 -C; sleep 30"
acc_shows() { "${TM[@]}" capture-pane -p -t acc >"$PANE" 2>/dev/null && grep -Eq -- "$1" "$PANE"; }
acc_says() {
	if wait_until 8 acc_shows "$2"; then ok "$1"; else not_ok "$1" "screen:" "$(cat "$PANE")"; fi
}
acc_says "accelerate: tmux: the table is there" '^  IFACE  GROUP'
"${TM[@]}" send-keys -t acc f 239.1.1.1 Enter
acc_says "accelerate: tmux: filtered to 239.1.1.1" ' - filter 239\.1\.1\.1 - '
"${TM[@]}" send-keys -t acc g Enter
acc_says "accelerate: tmux: the detail view of 239.1.1.1" '^group 239\.1\.1\.1 \(ipv4\) - '
acc_says "accelerate: detail: the egress table's titles" \
	'^EGRESS +SOURCE +COPY/S +SENT/S +DROP/S  EGRESS DROPS BY REASON'
acc_says "accelerate: detail: dn1 is a port of the route, and it sends" \
	"^dn1 +$SRC_IP4 +[0-9.]+[kM]? +[1-9][0-9.]*[kM]? +[0-9.]+[kM]? +"
acc_says "accelerate: detail: dn2 too" "^dn2 +$SRC_IP4 +[0-9.]+[kM]? +[1-9][0-9.]*[kM]? +[0-9.]+[kM]? +"
"${TM[@]}" send-keys -t acc q

tap_done
