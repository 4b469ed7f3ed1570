#!/usr/bin/env bash
# bench-config.sh: the config store's rows of issue #17, measured with the
# real binary side by side with rclone (scripts/build-test-tools.sh builds
# it into ~/.cache/connctl-test-tools) over the same number of connections
# and remotes, in one run:
#
#   start        `connctl list` over an empty config (start-up, for reference)
#   list         `connctl list | cat` (piped, parse cache warm) and
#                `rclone listremotes --long`
#   list-edited  the same right after a hand edit of one connection (connctl's
#                parse cache no longer matches the file) and of one rclone remote
#   create       `connctl create --connector salesforce --no-authorize` (no
#                secret, no network) and `rclone config create NAME s3 ...`
#   list-team    the same connections in a team store (issue #14) on a
#                throwaway PostgreSQL (scripts/pgserver; Debian's postgresql):
#                `connctl list | cat` with CONNCTL_STORE_URL and an empty local
#                config, the local cache of the definitions warm (a machine that
#                listed before), right after an edit of one connection (the copy
#                is of the previous generation: only the changed row is read)
#                and cold (the copy removed before each run); it must print the
#                rows the file's list printed. CONNCTL_BENCH_TEAM=0 leaves it
#                out.
#   big          with CONNCTL_BENCH_BIG=145672: peak RSS of `connctl list | wc -l`
#                over that many connections, cold (no parse cache) and warm
#
# CONNCTL_BENCH_BASE=<git revision or connctl binary> also runs that build of
# connctl (the list rows, and big), in the same run, and checks that it
# prints the same rows.
#
# Usage: scripts/bench-config.sh [CONNECTIONS] (default 10000). RUNS=7 sets the
# number of runs per row; the median wall time and the largest peak RSS are
# printed. No figure here is a test: write them in docs/performance.md with
# the date and the machine (and its load: `uptime`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
n=${1:-10000}
runs=${RUNS:-7}
rclone=${RCLONE:-$(ls -d "${XDG_CACHE_HOME:-$HOME/.cache}"/connctl-test-tools/rclone-*/rclone 2>/dev/null | tail -1)}
[[ -x $rclone ]] || { echo "rclone not found: run scripts/build-test-tools.sh or set RCLONE" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed to write the configs" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/connctl-bench-config.XXXXXX")
pgpid=
trap '[[ -z $pgpid ]] || { kill "$pgpid"; wait "$pgpid"; } 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/connctl" ./cmd/connctl
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

# gen N FILE: a connctl config of N s3 connections, in the layout connctl
# writes (the shape of the Go benchmarks), and an rclone.conf of N s3 remotes.
gen() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys, datetime
n, out, rc = int(sys.argv[1]), sys.argv[2], sys.argv[3]
now = datetime.datetime(2026, 11, 26, 12, 0, 0)
with open(out, "w") as f:
    f.write("# connctl configuration. Secrets are not kept here: they live in the OS keyring.\nschema_version: 1\nconnections:\n")
    for i in range(n):
        created = (now - datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write(f"  - id: conn_{i:016x}\n    name: Conn-{n-i:06d}\n    connector: s3\n    fields:\n"
                f"      access_key_id: AKIAIOSFODNN7EXAMPLE\n      bucket: bucket-{i}\n    secrets:\n      - secret_access_key\n"
                f"    secret_backend: keyring\n    status: authorized\n    account: arn:aws:iam::123456789012:user/etl\n"
                f"    created_at: {created}\n    updated_at: 2026-11-26T12:00:00Z\n")
with open(rc, "w") as f:
    for i in range(n):
        f.write(f"[conn-{n-i:06d}]\ntype = s3\nprovider = AWS\naccess_key_id = AKIAIOSFODNN7EXAMPLE\n"
                f"secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nregion = us-east-1\n\n")
PY
}

export CONNCTL_NO_PROMPT=1
env_for() { # the environment of one tool's run: its own home and cache
	echo HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" XDG_STATE_HOME="$tmp/state" \
		XDG_DATA_HOME="$tmp/data" CONNCTL_CONFIG="$tmp/config.yaml" RCLONE_CONFIG="$tmp/rclone.conf"
}
# one PREP CMD...: runs PREP (untimed), then CMD, printing wall ms and peak RSS KiB.
one() {
	local prep=$1
	shift
	eval "$prep"
	local start end
	start=$(date +%s%N)
	env $(env_for) /usr/bin/time -f '%M' -o "$tmp/rss" "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	end=$(date +%s%N)
	echo "$(((end - start) / 1000000)) $(cat "$tmp/rss")"
}
# row NAME TOOL PREP CMD...: RUNS runs; the median ms and the largest RSS.
row() {
	local name=$1 tool=$2 prep=$3
	shift 3
	local i
	for ((i = 0; i < runs; i++)); do one "$prep" "$@"; done >"$tmp/runs"
	local ms rss
	ms=$(cut -d' ' -f1 "$tmp/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	rss=$(cut -d' ' -f2 "$tmp/runs" | sort -n | tail -1)
	printf '%-12s %-8s %8s %10.1f\n' "$name" "$tool" "$ms" "$(echo "$rss / 1024" | bc -l)"
	echo "$ms" >"$tmp/ms-$name-$tool"
}
ratio() { printf '%-12s ratio    %8.2fx\n' "$1" "$(echo "$(cat "$tmp/ms-$1-connctl") / $(cat "$tmp/ms-$1-rclone")" | bc -l)"; }

gen "$n" "$tmp/config.yaml" "$tmp/rclone.conf"
mkdir -p "$tmp/home" "$tmp/config" "$tmp/cache" "$tmp/state" "$tmp/data"
echo "$n connections, $runs runs a row, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-12s %-8s %8s %10s\n' row tool ms peak_MiB
env $(env_for) "$tmp/connctl" list >/dev/null # warm the parse cache

# the fixed cost of a start: list over an empty config
row start connctl : env CONNCTL_CONFIG="$tmp/empty.yaml" "$tmp/connctl" list
if [[ -n $base ]]; then
	row list base : sh -c "\"$base\" list | cat"
	cp "$tmp/out" "$tmp/out-base"
fi
row list connctl : sh -c "\"$tmp/connctl\" list | cat"
cp "$tmp/out" "$tmp/out-file"
if [[ -n $base ]]; then
	cmp -s "$tmp/out" "$tmp/out-base" || { echo "connctl and the base listed different rows" >&2; exit 1; }
fi
row list rclone : "$rclone" listremotes --long
ratio list

if [[ ${CONNCTL_BENCH_TEAM:-1} != 0 ]]; then
	go build -o "$tmp/pgserver" ./scripts/pgserver
	"$tmp/pgserver" >"$tmp/pg-url" 2>"$tmp/pg-err" &
	pgpid=$!
	for _ in $(seq 600); do [[ -s $tmp/pg-url ]] && break; sleep 0.1; done
	[[ -s $tmp/pg-url ]] || { cat "$tmp/pg-err" >&2; exit 1; }
	pgurl=$(cat "$tmp/pg-url")
	cp "$tmp/config.yaml" "$tmp/config-team-init.yaml"
	env $(env_for) CONNCTL_CONFIG="$tmp/config-team-init.yaml" "$tmp/connctl" team init --store "$pgurl" -q 2>"$tmp/team-init.err" ||
		{ cat "$tmp/team-init.err" >&2; exit 1; }
	team=(env CONNCTL_CONFIG="$tmp/team.yaml" CONNCTL_STORE_URL="$pgurl")
	uncache() { rm -f "$tmp"/cache/connctl/team-*.cache; }
	row list-team-cold connctl uncache "${team[@]}" sh -c "\"$tmp/connctl\" list | cat"
	cmp -s "$tmp/out" "$tmp/out-file" || { echo "the team store's list printed other rows than the file's:" >&2; diff "$tmp/out-file" "$tmp/out" | head >&2; exit 1; }
	row list-team connctl : "${team[@]}" sh -c "\"$tmp/connctl\" list | cat"
	cmp -s "$tmp/out" "$tmp/out-file" || { echo "the team store's list (cached) printed other rows than the file's:" >&2; diff "$tmp/out-file" "$tmp/out" | head >&2; exit 1; }
	e=0
	edit_team() { e=$((e + 1)); env $(env_for) "${team[@]}" "$tmp/connctl" edit "Conn-$(printf %06d $((n / 2)))" --set "bucket=edited-$e" -q; }
	row list-team-edited connctl edit_team "${team[@]}" sh -c "\"$tmp/connctl\" list | cat"
	env $(env_for) "${team[@]}" "$tmp/connctl" list -o json --jq ".[] | select(.name == \"Conn-$(printf %06d $((n / 2)))\") | .fields.bucket" >"$tmp/edited"
	grep -qx "edited-$e" "$tmp/edited" || { echo "the team store's list after an edit does not show it: $(cat "$tmp/edited")" >&2; exit 1; }
	for r in list-team list-team-edited list-team-cold; do
		printf '%-12s %-8s %8.2fx\n' "$r" "/file" "$(echo "$(cat "$tmp/ms-$r-connctl") / $(cat "$tmp/ms-list-connctl")" | bc -l)"
	done
fi

k=0
edit_connctl() { k=$((k + 1)); sed -i "s/^      bucket: bucket-$((n / 2))\(-e[0-9]*\)\?\$/      bucket: bucket-$((n / 2))-e$k/" "$tmp/config.yaml"; }
edit_rclone() { k=$((k + 1)); sed -i "s/^region = us-east-1\(-e[0-9]*\)\?\$/region = us-east-1-e$k/;t;" "$tmp/rclone.conf"; }
row list-edited connctl edit_connctl sh -c "\"$tmp/connctl\" list | cat"
grep -q "bucket-$((n / 2))-e" "$tmp/config.yaml" || { echo "the edit of config.yaml did nothing" >&2; exit 1; }
row list-edited rclone edit_rclone "$rclone" listremotes --long
ratio list-edited

c=0
next_name() { c=$((c + 1)); export BENCH_NAME="new-$c"; }
row create connctl next_name sh -c "exec \"$tmp/connctl\" create --connector salesforce --name \"\$BENCH_NAME\" --no-authorize -q"
row create rclone next_name sh -c "exec \"$rclone\" config create \"\$BENCH_NAME\" s3 provider=AWS access_key_id=AKIAIOSFODNN7EXAMPLE secret_access_key=x region=us-east-1"
ratio create

if [[ -n ${CONNCTL_BENCH_BIG:-} ]]; then
	big=$CONNCTL_BENCH_BIG
	gen "$big" "$tmp/config.yaml" "$tmp/rclone.conf"
	rm -rf "$tmp/cache/connctl"
	runs=1
	row big-cold connctl : sh -c "\"$tmp/connctl\" list | wc -l"
	row big-warm connctl : sh -c "\"$tmp/connctl\" list | wc -l"
	[[ $(cat "$tmp/out") -ge $big ]] || { echo "list printed $(cat "$tmp/out") lines for $big connections" >&2; exit 1; }
	row big-json connctl : sh -c "\"$tmp/connctl\" list -o json | wc -l"
	if [[ -n $base ]]; then
		row big-warm base : sh -c "\"$base\" list | wc -l"
		row big-json base : sh -c "\"$base\" list -o json | wc -l"
	fi
fi
