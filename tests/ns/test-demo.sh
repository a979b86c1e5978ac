#!/usr/bin/env bash
# `make demo`, as the README's first line runs it: the demo must show every
# routed stream arriving complete, once, one hop older, and nothing where
# nothing is routed.  It runs with the kernel's multicast routing when the
# kernel has it and with xdp-mcast's accelerator when it has not
# (scripts/demo.sh), so this checks whichever this machine shows.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ns/lib.sh

for need in "$XM_BIN" "$XM_GEN"; do
	if [ ! -x "$need" ]; then
		echo "ok - the demo # SKIP $need is not built (make)"
		exit 0
	fi
done
if ! kernel_mroute_missing >/dev/null && ! command -v smcrouted >/dev/null; then
	echo "ok - the demo # SKIP smcroute is not installed (make deps)"
	exit 0
fi

OUT=$XM_TMP/demo.out
DEMO_SECONDS=2 scripts/demo.sh >"$OUT" 2>&1
expect_eq "the demo exits 0" 0 $? "$(tail -20 "$OUT")"
if kernel_mroute_missing >/dev/null; then
	expect_match "it says who forwards: xdp-mcast, this kernel has no multicast routing" \
		"accelerate mode: XDP forwards" "$(cat "$OUT")"
else
	expect_match "it says who forwards: the kernel, by smcroute's routes" \
		"smcroute: the kernel forwards" "$(cat "$OUT")"
fi
# got WHO GROUP [SOURCE-OPTION]: "DATAGRAMS LOST DUPLICATES TTL" of that
# receiver's line in section 7.
got() {
	awk -v who="$1" -v grp="$2" -v src="${3:-(any source)}" '
		/^== 7\./ || /7\. What each receiver got/ { on = 1; next }
		on && $1 == who && $2 == grp && index($0, src) {
			sub(/.*\)|.*10\.10\.0\.2/, ""); gsub(/[A-Za-z,]+/, ""); print $1, $2, $3, $4; exit }' "$OUT"
}
# 2 s at 50, 20 and 30 packets a second, 20 for IPv6.
expect_eq "h1 gets both sources of 239.1.1.1, 140 datagrams, TTL 7" "140 0 0 7" "$(got h1 239.1.1.1)"
expect_eq "h2 gets only the source it joined, 100 datagrams, TTL 7" "100 0 0 7" \
	"$(got h2 239.1.1.1 "--source 10.10.0.2")"
expect_eq "h2 and h3 get 239.2.2.2 (an (S,G) route), 60 each, TTL 7" "60 0 0 7 / 60 0 0 7" \
	"$(got h2 239.2.2.2) / $(got h3 239.2.2.2)"
expect_eq "h1 and h3 get ff0e::114, 40 each, hop limit 7" "40 0 0 7 / 40 0 0 7" \
	"$(got h1 ff0e::114) / $(got h3 ff0e::114)"
expect_eq "nothing of the TTL-1 stream, nothing of 224.0.0.251 beyond its link" "0 0 0 - / 0 0 0 -" \
	"$(got h1 239.3.3.3) / $(got h3 224.0.0.251)"
expect_eq "the router's own socket gets 224.0.0.251, TTL 255" "10 0 0 255" "$(got router 224.0.0.251)"
tap_done
