#!/usr/bin/env bash
# The loader's contract: attach, adopt, refuse with a clear message, survive
# a vanished interface, detach and clean up.  One namespace with a veth
# pair and lo; a bpffs of its own; everything removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/ns/lib.sh

XM=$(realpath -m "$O")/xdp-mcast
NS=$(ns_name ld)
ns_create "$NS"
BPFFS=$(bpffs_create)
export XDP_MCAST_PIN_PATH=$BPFFS/xm
ip -n "$NS" link add ld0 type veth peer name ld1
ip -n "$NS" link set ld0 up
ip -n "$NS" link set ld1 up
ip -n "$NS" link set lo up

xm() { ip netns exec "$NS" "$XM" "$@"; }
# run CMD...: sets $rc and $out (stdout and stderr together)
run() { out=$("$@" 2>&1); rc=$?; }
status_field() { xm status -j | json_get "$1"; }
xdp_prog_id() { ip -n "$NS" -j link show dev "$1" | json_get '[0].get("xdp", {}).get("prog", {}).get("id", 0)'; }

run xm load ld0 ld1
expect_eq "load two veths in native mode" 0 "$rc" "$out"
expect_eq "both are attached" "True True" \
	"$(status_field '" ".join(str(i["attached"]) for i in d["interfaces"])')"
prog=$(status_field 'd["interfaces"][0]["prog_id"]')
expect_eq "the kernel shows our program on ld0" "$prog" "$(xdp_prog_id ld0)"

send_frames "$NS" ld1 3	# three 239.1.1.1 frames arrive on ld0
wait_until 5 test "$(xm stats -j -i ld0 | json_get 'd["interfaces"][0]["reasons"]["forward"]["packets"]')" = 3
expect_eq "frames are counted on ld0" 0 $? ""

run xm load ld0
expect_eq "loading a loaded interface is not an error" 0 "$rc" "$out"
run xm load -v lo --mode skb
expect_eq "a later load attaches more interfaces" 0 "$rc" "$out"
expect_eq "one program serves every interface" "$prog" "$(xdp_prog_id lo)"
expect_eq "counters survive a later load" 3 \
	"$(xm stats -j -i ld0 | json_get 'd["interfaces"][0]["reasons"]["forward"]["packets"]')"
expect_eq "status reports the attach mode" "skb" \
	"$(status_field '[i["mode"] for i in d["interfaces"] if i["name"] == "lo"][0]')"

run xm load nosuch0
expect_eq "unknown interface: exit 66" 66 "$rc" "$out"
expect_match "unknown interface: named" "unknown interface 'nosuch0'" "$out"

xm unload lo >/dev/null 2>&1
run xm load lo
expect_eq "native mode unsupported: exit 69" 69 "$rc" "$out"
expect_match "native mode unsupported: suggests skb" "cannot attach to 'lo' in native mode: .*(try --mode skb)" "$out"
expect_eq "a failed attach leaves no entry behind" "ld1 ld0" \
	"$(status_field '" ".join(i["name"] for i in d["interfaces"])')"

run xm load --flows 2048 ld0
expect_match "a different --flows on a loaded state is warned about" "keeping the pinned xm_flows of 65536 entries" "$out"

ip -n "$NS" link add ld2 type veth peer name ld3
ip -n "$NS" link set ld2 up
ip -n "$NS" link set ld3 up
ip -n "$NS" link set dev ld2 xdp obj "$O/bpf/xdp_pass.bpf.o" sec xdp
run xm load ld2
expect_eq "interface held by another program: exit 69" 69 "$rc" "$out"
expect_match "interface held by another program: says how to free it" "another XDP program is attached; detach it first" "$out"
ip -n "$NS" link set dev ld2 xdp off
run xm load ld2
expect_eq "after detaching it, load works" 0 "$rc" "$out"
ip -n "$NS" link del ld2
wait_until 5 test "$(status_field '[i["attached"] for i in d["interfaces"] if i["name"] == "ld2"][0]')" = False
expect_eq "a deleted interface shows as detached" 0 $? ""
run xm unload ld2
expect_eq "a deleted interface can be unloaded by its old name" 0 "$rc" "$out"

run ip netns exec "$NS" env XDP_MCAST_PIN_PATH=/tmp/xm-not-bpffs-$$/xm "$XM" load ld0
expect_eq "pin path not on bpffs: exit 78" 78 "$rc" "$out"
expect_match "pin path not on bpffs: says to mount one" "is not on a bpffs; mount one first" "$out"

run ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
	env XDP_MCAST_PIN_PATH=$BPFFS/other "$XM" load ld0
expect_eq "without privileges: exit 77" 77 "$rc" "$out"
expect_match "without privileges: says what is needed" "needs root" "$out"

run xm unload ld0
expect_eq "unload one interface" 0 "$rc" "$out"
expect_eq "its program is gone from the kernel's view" 0 "$(xdp_prog_id ld0)"
expect_eq "the other stays attached" "$prog" "$(xdp_prog_id ld1)"
run xm unload ld0
expect_eq "unloading it again: exit 66" 66 "$rc" "$out"
run xm unload ld1
expect_eq "unloading the last interface removes the pins" "0 absent" \
	"$rc $([ -e "$XDP_MCAST_PIN_PATH" ] && echo present || echo absent)"
run xm stats
expect_eq "stats with nothing loaded: exit 66" 66 "$rc" "$out"
expect_match "stats with nothing loaded: says so" "nothing is loaded under" "$out"
run xm unload --all
expect_eq "unload --all with nothing loaded is not an error" 0 "$rc" "$out"

run xm load ld0 ld1
xm unload --all >/dev/null 2>&1
expect_eq "unload --all detaches everything" "0 0 absent" \
	"$(xdp_prog_id ld0) $(xdp_prog_id ld1) $([ -e "$XDP_MCAST_PIN_PATH" ] && echo present || echo absent)"

tap_done
