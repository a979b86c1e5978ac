#!/usr/bin/env bash
# The help text, the README and the man page must say the same thing.
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
fail=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; fail=1; }

help=$("$O/xdp-mcast" --help)
readme=$(awk '/^```$/ && f {exit} f {print} /^Usage: xdp-mcast/ && !f {f=1; print}' README.md)
if [ "$help" = "$readme" ]; then
	ok "README usage block equals xdp-mcast --help"
else
	not_ok "README usage block equals xdp-mcast --help"
	diff <(echo "$help") <(echo "$readme") | sed 's/^/# /'
fi

missing=()
for word in $(echo "$help" | grep -oE -- '--[a-z-]+' | sort -u) load unload status stats; do
	grep -q -- "${word//-/\\\\-}" man/xdp-mcast.8 || missing+=("$word")
done
if [ ${#missing[@]} -eq 0 ]; then
	ok "man page names every command and long option"
else
	not_ok "man page names every command and long option"
	echo "# missing from man/xdp-mcast.8: ${missing[*]}"
fi

reasons=$(sed -n '/^#define XM_REASONS(X)/,/^$/s/^\tX([A-Z_]*,[[:space:]]*"\([a-z_]*\)".*/\1/p' \
	bpf/xdp_mcast_kern_user.h)
missing=()
for r in $reasons; do
	grep -q "\`$r\`" docs/design.md && grep -q "\"$r\"" docs/json.md || missing+=("$r")
done
if [ -n "$reasons" ] && [ ${#missing[@]} -eq 0 ]; then
	ok "every reason is documented in design.md and json.md"
else
	not_ok "every reason is documented in design.md and json.md"
	echo "# undocumented: ${missing[*]} (found: $(echo $reasons))"
fi
exit $fail
