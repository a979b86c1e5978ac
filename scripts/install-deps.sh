#!/usr/bin/env bash
# Install the Debian packages xdp-mcast needs to build, test, demo and bench,
# only those that are missing.  Safe to run again.
set -euo pipefail

PKGS=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libncurses-dev
      iproute2 smcroute tcpdump python3-scapy tmux prometheus curl
      gnuplot-nox)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
