#!/usr/bin/env bash
# The daemon's Prometheus endpoint, scraped by a real Prometheus server.
#
# The topology of tests/ns/lib.sh with one host.  `xdp-mcast daemon` runs
# in the router with `metrics listen 127.0.0.1:9434 top-groups 2` and a
# static join; known traffic goes through up0: 300, 200, 100 and 50 frames
# of four groups, 10 more stopped by a boundary.  Everything listens and
# connects on the router namespace's own loopback.
#
#  1. The page: 200, the exposition content type, `promtool check metrics`
#     finds nothing to say, and the values are the exact counts.
#  2. Prometheus (Debian's package) scrapes it every second; its HTTP API
#     returns the counts: per interface and reason, per group for the top 2
#     groups and "other" for the rest, the folded count, flows,
#     memberships, snooping counters, up == 1.
#  3. Reload: another port and top-groups 3 take effect, the old port is
#     closed; a config with an unusable address is refused and the endpoint
#     in service stays; without the statement the endpoint goes away.
#  4. Hardening (tests/ns/http-probe.py): wrong methods and paths, garbage,
#     an oversized request, a slow client, 40 trickling clients, 100
#     parallel scrapes; the daemon answers throughout and after.
#
# shellcheck disable=SC2317,SC2016  # functions and strings for wait_until and eval
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ns/lib.sh
export LC_ALL=C

for need in "$XM_BIN" prometheus promtool curl; do
	if ! command -v "$need" >/dev/null; then
		echo "ok - metrics # SKIP $need is not installed (make deps)"
		exit 0
	fi
done

topo_create 1
check "topology: source, router and a host are up" topo_links_up
# IPv4 only: the hosts' MLD reports would add groups of their own to the
# exact counts below.
for ns in "$NS_SRC" "$NS_RTR" "${NS_HOST[1]}"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
done
BPFFS=$(bpffs_create)
export XDP_MCAST_PIN_PATH=$BPFFS/xm
CONF=$XM_TMP/xdp-mcast.conf
PORT=9434
conf() {
	cat >"$CONF" <<EOF
phyint up0 boundary 239.9.0.0/16
phyint dn1 igmp 3 querier off
join dn1 239.1.1.1
$1
EOF
}
conf "metrics listen 127.0.0.1:$PORT top-groups 2"
if ! xmd_start d "$NS_RTR" "$CONF"; then
	not_ok "daemon starts with a metrics endpoint"
	tap_done
fi
ok "daemon starts with a metrics endpoint"
inrtr() { ip netns exec "$NS_RTR" "$@"; }
get() { inrtr curl -sS --max-time 5 "$@"; }

send_frames "$NS_SRC" eth0 300 239.1.1.1 192.0.2.1
send_frames "$NS_SRC" eth0 200 239.2.2.2 192.0.2.1
send_frames "$NS_SRC" eth0 100 239.3.3.3 192.0.2.1
send_frames "$NS_SRC" eth0 50 239.4.4.4 192.0.2.1
send_frames "$NS_SRC" eth0 10 239.9.9.9 192.0.2.1
PAGE=$XM_TMP/metrics.txt
# value NAME{LABELS}: the sample's value on the page.
value() { awk -v k="$1" '$1 == k {print $2}' "$PAGE"; }
counted() {
	get -o "$PAGE" "http://127.0.0.1:$PORT/metrics" &&
		[ "$(value 'xdp_mcast_group_packets_total{group="other"}')" = 160 ] &&
		[ "$(value 'xdp_mcast_packets_total{interface="up0",direction="in",reason="boundary"}')" = 10 ]
}

# ---- 1. the page ----

check "the page shows the 660 frames" wait_until 5 counted
HDR=$(get -D - -o /dev/null "http://127.0.0.1:$PORT/metrics" | tr -d '\r')
expect_match "200 with the text exposition content type" \
	'^Content-Type: text/plain; version=0.0.4; charset=utf-8$' "$HDR"
LINT=$(promtool check metrics <"$PAGE" 2>&1)
expect_eq "promtool check metrics: nothing to say" "0:" "$?:$LINT"
expect_eq "per-interface counters: forward and boundary, frames and bytes" "650 42900 10 660" \
	"$(value 'xdp_mcast_packets_total{interface="up0",direction="in",reason="forward"}') $(value 'xdp_mcast_bytes_total{interface="up0",direction="in",reason="forward"}') $(value 'xdp_mcast_packets_total{interface="up0",direction="in",reason="boundary"}') $(value 'xdp_mcast_bytes_total{interface="up0",direction="in",reason="boundary"}')"
expect_eq "top 2 groups with their own series, 3 folded into other" "300 200 160 3 5" \
	"$(value 'xdp_mcast_group_packets_total{group="239.1.1.1"}') $(value 'xdp_mcast_group_packets_total{group="239.2.2.2"}') $(value 'xdp_mcast_group_packets_total{group="other"}') $(value xdp_mcast_groups_folded) $(value xdp_mcast_groups)"
expect_eq "flows, memberships, fill" "5 1 1" \
	"$(value xdp_mcast_flows) $(value 'xdp_mcast_memberships{interface="dn1"}') $(value 'xdp_mcast_group_memberships{group="239.1.1.1"}')"
expect_match "every metric has HELP and TYPE" '^0$' \
	"$(comm -3 <(grep '^# HELP' "$PAGE" | awk '{print $3}' | sort) <(grep '^# TYPE' "$PAGE" | awk '{print $3}' | sort) | wc -l)"
expect_match "counters end in _total, gauges do not" '^$' \
	"$(grep '^# TYPE' "$PAGE" | awk '($4 == "counter") != ($3 ~ /_total$/) {print $3}')"

# ---- 2. Prometheus ----

PROM=$XM_TMP/prometheus
mkdir -p "$PROM/data"
cat >"$PROM/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: xdp-mcast
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
ns_bg "$NS_RTR" "$PROM/out" "$PROM/log" prometheus --config.file="$PROM/prometheus.yml" \
	--storage.tsdb.path="$PROM/data" --web.listen-address=127.0.0.1:9090 --log.level=warn
PROM_PID=$BG_PID
# query EXPR: the value of the instant vector EXPR (one sample), or nothing.
query() {
	get -G "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
		json_get 'd["data"]["result"][0]["value"][1] if len(d["data"]["result"]) == 1 else ""'
}
prom_has() { [ "$(query "$1")" = "$2" ]; }
if wait_until 30 prom_has 'up{job="xdp-mcast"}' 1; then
	ok "Prometheus scrapes the daemon: up is 1"
else
	not_ok "Prometheus scrapes the daemon: up is 1" "$(tail -5 "$PROM/log")"
fi
expect_prom() {
	local name=$1 expr=$2 want=$3
	if wait_until 10 prom_has "$expr" "$want"; then ok "$name"; else
		not_ok "$name" "query: $expr" "want: $want" "got: $(query "$expr")"
	fi
}
expect_prom "Prometheus: up0 forward frames" \
	'xdp_mcast_packets_total{interface="up0",direction="in",reason="forward"}' 650
expect_prom "Prometheus: boundary drops" \
	'xdp_mcast_packets_total{interface="up0",reason="boundary",direction="in"}' 10
expect_prom "Prometheus: top group 239.1.1.1" 'xdp_mcast_group_packets_total{group="239.1.1.1"}' 300
expect_prom "Prometheus: group bytes of 239.2.2.2" 'xdp_mcast_group_bytes_total{group="239.2.2.2"}' 13200
expect_prom "Prometheus: the other groups summed" 'xdp_mcast_group_packets_total{group="other"}' 160
expect_prom "Prometheus: three groups folded" 'xdp_mcast_groups_folded' 3
expect_prom "Prometheus: per-group series are bounded (top 2 and other)" \
	'count(xdp_mcast_group_packets_total)' 3
expect_prom "Prometheus: flows" 'xdp_mcast_flows' 5
expect_prom "Prometheus: flow table fill is flows over capacity" \
	'abs(xdp_mcast_flows / xdp_mcast_flows_capacity - ignoring(table) xdp_mcast_table_fill_ratio{table="flows"}) < bool 1e-6' 1
expect_prom "Prometheus: memberships of dn1" 'xdp_mcast_memberships{interface="dn1"}' 1
expect_prom "Prometheus: snooping counters are there for every interface" \
	'count(count by (interface) (xdp_mcast_snooping_events_total))' 2
expect_prom "Prometheus: flows created" 'xdp_mcast_flows_created_total' 5
send_frames "$NS_SRC" eth0 40 239.4.4.4 192.0.2.1
expect_prom "Prometheus: more frames, the counters follow" \
	'xdp_mcast_group_packets_total{group="other"}' 200

# ---- 3. reload ----

PORT2=9435
conf "metrics listen 127.0.0.1:$PORT2 top-groups 3"
xmd_reload d
expect_eq "reload: another port and top-groups 3" 0 "$XMD_RC"
moved() { get -o "$PAGE" "http://127.0.0.1:$PORT2/metrics" && [ "$(value xdp_mcast_groups_folded)" = 2 ]; }
check "reload: the new port serves, with top 3" wait_until 5 moved
inrtr curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/metrics"
expect_eq "reload: the old port is closed (connection refused)" 7 "$?"
conf "metrics listen 192.0.2.99:$PORT top-groups 3"
xmd_reload d
check "reload: an address the router does not have is not applied, the daemon keeps running" \
	xm_alive "${XMD_PID[d]}"
check "reload: ... and the endpoint in service stays" \
	get -o /dev/null "http://127.0.0.1:$PORT2/metrics"
expect_match "reload: the log says why" "metrics: cannot listen on 192\.0\.2\.99:$PORT: Cannot assign requested address \(still serving the previous address\)" \
	"$(cat "$XM_TMP/d.log")"
conf "metrics listen 127.0.0.1:$PORT2 top-groups 3"
xmd_reload d

# ---- 4. hardening ----

PROBE=$(inrtr "$XM_PY" tests/ns/http-probe.py 127.0.0.1 "$PORT2" methods oversized slow slowloris parallel 2>&1)
for c in methods oversized slow slowloris parallel; do
	r=$(awk -v c="$c" '$1 == c {$1 = ""; sub(/^ /, ""); print}' <<<"$PROBE")
	case $c in
	methods) name="only GET and HEAD of /metrics: 404 elsewhere, 405 for other methods, 400 for garbage" ;;
	oversized) name="an oversized request gets 431 at once" ;;
	slow) name="a client that never finishes is cut off after the read timeout, others are served meanwhile" ;;
	slowloris) name="40 trickling clients do not lock out a scrape" ;;
	parallel) name="100 parallel scrapes, every one a whole page" ;;
	esac
	expect_eq "hardening: $name" ok "$r" "$PROBE"
done
check "hardening: the daemon is still running" xm_alive "${XMD_PID[d]}"
check "hardening: and answers" get -o /dev/null "http://127.0.0.1:$PORT2/metrics"

conf ""
xmd_reload d
inrtr curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PORT2/metrics"
expect_eq "reload without a metrics statement: the endpoint is gone" 7 "$?"

xm_stop_pids "$PROM_PID"
xmd_stop d
expect_eq "the daemon stops cleanly" 0 "$XMD_RC"
tap_done
