#!/usr/bin/env bash
# scripts/bench-secrets.sh: how long a command that reads one secret takes
# with the encrypted secrets file opened by a passphrase (scrypt) and by a
# key file (secrets.key_file): `connctl exec NAME -- true` (start-up, the
# config, one secret, the child), runs alternated, medians in ms. Figures go
# to docs/performance.md by hand.
#
#   scripts/bench-secrets.sh [runs]     default: 21
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
runs=${1:-21}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/connctl-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/connctl" ./cmd/connctl
c=$tmp/connctl
export CONNCTL_PASSPHRASE=bench CONNCTL_NO_PROMPT=1
within() { # within DIR CMD...: CMD with its home, config and state under DIR
	local d=$1
	shift
	env HOME="$d/home" XDG_CONFIG_HOME="$d/config" XDG_DATA_HOME="$d/data" XDG_STATE_HOME="$d/state" XDG_CACHE_HOME="$d/cache" "$@"
}
for m in passphrase key; do
	within "$tmp/$m" "$c" config set secrets.backend file -q
	if [[ $m == key ]]; then
		within "$tmp/$m" "$c" config set secrets.key_file "$tmp/$m/connctl.key" -q 2>/dev/null
	fi
	printf %s key | within "$tmp/$m" "$c" create --connector freshdesk --name fd --set domain=bench --secret-stdin --no-verify -q
done
for ((i = 0; i < runs; i++)); do
	for m in passphrase key; do
		s=$(date +%s%N)
		within "$tmp/$m" "$c" exec fd -- true
		e=$(date +%s%N)
		echo "$m $(((e - s) / 1000000))"
	done
done | awk '{ v[$1] = v[$1] " " $2 } END { for (m in v) print m, v[m] }' | while read -r m vals; do
	sorted=$(tr ' ' '\n' <<<"$vals" | sort -n)
	n=$(wc -l <<<"$sorted")
	printf '%-11s median %s ms (min %s, max %s, %d runs)\n' "$m" "$(sed -n "$(((n + 1) / 2))p" <<<"$sorted")" "$(head -1 <<<"$sorted")" "$(tail -1 <<<"$sorted")" "$n"
done
