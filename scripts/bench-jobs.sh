#!/usr/bin/env bash
# scripts/bench-jobs.sh: how fast `connctl jobs run` pages through a local
# Freshdesk-shaped server, next to plain curl fetching the same pages one by
# one (following the Link header), and connctl's peak memory for 10,000 vs
# 1,000,000 records. Figures go to docs/performance.md by hand.
#
#   scripts/bench-jobs.sh [records ...]     default: 10000 100000 1000000
#
# Secrets are kept by the file backend with a passphrase (its scrypt key
# derivation costs about 0.2 s of CPU a run); CONNCTL_BENCH_SECRETS=filekey
# encrypts that file to an age key file instead (secrets.key_file: what cron
# and servers use; a base build without secrets.key_file keeps the
# passphrase); CONNCTL_BENCH_SECRETS=keyring keeps them in the OS keyring,
# connctl's default, e.g. under a throwaway one:
#   scripts/with-keyring.sh env CONNCTL_BENCH_SECRETS=keyring scripts/bench-jobs.sh
#
# CONNCTL_BENCH_TLS=1 serves the pages over HTTPS (a self-signed certificate
# that connctl trusts through SSL_CERT_FILE and curl through --cacert).
#
# CONNCTL_BENCH_BASE=<git revision or connctl binary> also runs that build of
# connctl (say main, to see what a change gains), on the same server, in the
# same run, and checks that it writes the same bytes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/connctl-bench.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/connctl" ./cmd/connctl
go build -o "$tmp/benchserver" ./scripts/benchserver
base=
if [[ -n ${CONNCTL_BENCH_BASE:-} ]]; then
	if [[ -x $CONNCTL_BENCH_BASE && ! -d $CONNCTL_BENCH_BASE ]]; then
		base=$CONNCTL_BENCH_BASE
	else
		mkdir "$tmp/base-src"
		git archive "$CONNCTL_BENCH_BASE" | tar -x -C "$tmp/base-src"
		(cd "$tmp/base-src" && go build -o "$tmp/connctl-base" ./cmd/connctl)
		base=$tmp/connctl-base
	fi
fi
export CONNCTL_PASSPHRASE=bench CONNCTL_NO_PROMPT=1
c="$tmp/connctl"
# within DIR CMD...: runs CMD with its home, config and state under DIR, so that
# the base build keeps its own (its config or activity log may differ).
within() {
	local d=$1
	shift
	env HOME="$d/home" XDG_CONFIG_HOME="$d/config" XDG_DATA_HOME="$d/data" XDG_STATE_HOME="$d/state" XDG_CACHE_HOME="$d/cache" "$@"
}
case ${CONNCTL_BENCH_SECRETS:-file} in
file | filekey)
	within "$tmp/new" "$c" config set secrets.backend file -q
	[[ -z $base ]] || within "$tmp/base" "$base" config set secrets.backend file -q
	if [[ ${CONNCTL_BENCH_SECRETS:-file} == filekey ]]; then
		within "$tmp/new" "$c" config set secrets.key_file "$tmp/new/connctl.key" -q 2>/dev/null
		[[ -z $base ]] || within "$tmp/base" "$base" config set secrets.key_file "$tmp/base/connctl.key" -q 2>/dev/null ||
			echo "the base build has no secrets.key_file: it keeps the passphrase" >&2
	fi
	;;
keyring) ;;
*)
	echo "CONNCTL_BENCH_SECRETS must be file, filekey or keyring" >&2
	exit 2
	;;
esac

timeit() { # timeit DIR CMD...: prints wall seconds and peak RSS (KiB) of CMD run within DIR
	within "$1" /usr/bin/time -f '%e %M' -o "$tmp/time" "${@:2}" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
	cat "$tmp/time"
}

curl_all() { # one curl process fetching every page over one kept-alive
	# connection: the page URLs are known in advance (the best case for curl;
	# a shell loop following Link headers costs ~100 ms a page in process starts)
	local base=$1 n=$2 pages=$(( ($2 + 99) / 100 ))
	for ((p = 1; p <= pages; p++)); do
		printf 'url = "%s/api/v2/tickets?per_page=100&page=%d"\noutput = "/dev/null"\n' "$base" "$p"
	done >"$tmp/curl.cfg"
	curl -s ${cacert:+--cacert "$cacert"} -u "k:X" -K "$tmp/curl.cfg"
}

printf '%-10s %-10s %10s %12s %12s\n' records tool seconds records/s peak_RSS_MiB
(($#)) || set -- 10000 100000 1000000
i=0
for n in "$@"; do
	i=$((i + 1))
	rm -f "$tmp/url" # else the last server's address may be read
	cacert=
	if [[ ${CONNCTL_BENCH_TLS:-} == 1 ]]; then
		cacert=$tmp/cert-$i.pem
		export SSL_CERT_FILE=$cacert
		"$tmp/benchserver" -records "$n" -tls-cert "$cacert" >"$tmp/url" &
	else
		"$tmp/benchserver" -records "$n" >"$tmp/url" &
	fi
	pids+=($!)
	for _ in $(seq 50); do [[ -s $tmp/url ]] && break; sleep 0.1; done
	url=$(cat "$tmp/url")
	name="b$n-$i" # one connection a row: a size may be given twice
	# The bench server answers only the ticket list: no key check.
	printf %s "key" | within "$tmp/new" "$c" create --connector freshdesk --name "$name" --set domain=bench --set "base_url=$url" --secret-stdin --no-verify -q
	within "$tmp/new" "$c" jobs create "$name" --connection "$name" --source tickets --dest "$tmp/$name.ndjson" --full-refresh -q
	if [[ -n $base ]]; then
		printf %s "key" | within "$tmp/base" "$base" create --connector freshdesk --name "$name" --set domain=bench --set "base_url=$url" --secret-stdin --no-verify -q
		within "$tmp/base" "$base" jobs create "$name" --connection "$name" --source tickets --dest "$tmp/$name-base.ndjson" --full-refresh -q
		read -r secs rss < <(timeit "$tmp/base" "$base" jobs run "$name")
		printf '%-10s %-10s %10s %12.0f %12.1f\n' "$n" connctl-base "$secs" "$(echo "$n / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
	fi
	read -r secs rss < <(timeit "$tmp/new" "$c" jobs run "$name")
	lines=$(wc -l <"$tmp/$name.ndjson")
	[[ $lines == "$n" ]] || { echo "connctl wrote $lines records, want $n" >&2; exit 1; }
	printf '%-10s %-10s %10s %12.0f %12.1f\n' "$n" connctl "$secs" "$(echo "$n / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
	if [[ -n $base ]]; then
		cmp -s "$tmp/$name.ndjson" "$tmp/$name-base.ndjson" || { echo "connctl and the base wrote different output" >&2; exit 1; }
		rm -f "$tmp/$name-base.ndjson"
	fi
	if ((n <= 1000000)); then
		start=$(date +%s.%N)
		curl_all "$url" "$n"
		secs=$(echo "$(date +%s.%N) - $start" | bc -l)
		printf '%-10s %-10s %10.2f %12.0f %12s\n' "$n" curl "$secs" "$(echo "$n / $secs" | bc -l)" -
	fi
	kill "${pids[-1]}" 2>/dev/null || true
	rm -f "$tmp/$name.ndjson"
done
