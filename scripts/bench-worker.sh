#!/usr/bin/env bash
# scripts/bench-worker.sh: how late `connctl worker` starts a due job, and
# that several workers run each due job once. N jobs scheduled "every 1m"
# on a local Freshdesk-shaped server, W workers at once for M minutes; then,
# from the activity log, for each run after a job's first: its start minus
# (the previous run's start + 1m). Figures go to docs/performance.md by hand.
#
#   scripts/bench-worker.sh [jobs] [workers] [minutes]     default: 20 3 3
#
# Secrets are kept by the encrypted file backend, whose scrypt costs about
# 0.2 s of CPU at each run's secret read; CONNCTL_BENCH_SECRETS=keyring keeps
# them in the OS keyring, e.g. under a throwaway one:
#   scripts/with-keyring.sh env CONNCTL_BENCH_SECRETS=keyring scripts/bench-worker.sh
#
# CONNCTL_BENCH_TEAM=1 keeps the jobs, their claims and the activities in a
# team store (issue #14) on a throwaway PostgreSQL (scripts/pgserver, from
# Debian's postgresql): the workers then claim each due run there.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
jobs=${1:-20} workers=${2:-3} minutes=${3:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/connctl-bench-worker.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/connctl" ./cmd/connctl
go build -o "$tmp/benchserver" ./scripts/benchserver
if [[ ${CONNCTL_BENCH_TEAM:-0} != 0 ]]; then
	go build -o "$tmp/pgserver" ./scripts/pgserver
	"$tmp/pgserver" >"$tmp/pg-url" 2>"$tmp/pg-err" &
	pids+=($!)
	for _ in $(seq 600); do [[ -s $tmp/pg-url ]] && break; sleep 0.1; done
	[[ -s $tmp/pg-url ]] || { cat "$tmp/pg-err" >&2; exit 1; }
	export CONNCTL_STORE_URL
	CONNCTL_STORE_URL=$(cat "$tmp/pg-url")
fi
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache"
export CONNCTL_PASSPHRASE=bench CONNCTL_NO_PROMPT=1
c="$tmp/connctl"
[[ ${CONNCTL_BENCH_SECRETS:-file} != file ]] || "$c" config set secrets.backend file -q
"$tmp/benchserver" -records 500 >"$tmp/url" &
pids+=($!)
for _ in $(seq 50); do [[ -s $tmp/url ]] && break; sleep 0.1; done
url=$(cat "$tmp/url")
printf %s key | "$c" create --connector freshdesk --name bench --set domain=bench --set "base_url=$url" --secret-stdin --no-verify -q
for ((i = 1; i <= jobs; i++)); do
	"$c" jobs create "j$i" --connection bench --source tickets --dest "$tmp/out/j$i.ndjson" --schedule "every 1m" -q
done
for ((w = 1; w <= workers; w++)); do
	"$c" worker --poll 30s 2>"$tmp/worker$w.log" &
	pids+=($!)
done
sleep $((minutes * 60 + 5))
workers_from=$((${#pids[@]} - workers))
kill -TERM "${pids[@]:workers_from}"
wait "${pids[@]:workers_from}" || true
"$c" activities --type execution --limit 0 -o json >"$tmp/runs.json"
python3 - "$tmp/runs.json" "$jobs" "$workers" "$minutes" <<'PY'
import json, sys, datetime, statistics
runs = json.load(open(sys.argv[1]))
jobs, workers, minutes = map(int, sys.argv[2:5])
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
by = {}
for r in runs:
    if r["status"] in ("succeeded", "partially_succeeded", "failed"):
        by.setdefault(r["job_id"], []).append(t(r["started_at"]))
late, counts = [], []
for starts in by.values():
    starts.sort()
    counts.append(len(starts))
    late += [(b - a).total_seconds() - 60 for a, b in zip(starts, starts[1:])]
late.sort()
gaps = [l + 60 for l in late]
print(f"{jobs} jobs every 1m, {workers} workers, {minutes} min: runs per job {min(counts)}..{max(counts)}, shortest gap between two runs of a job {min(gaps):.2f} s (under 60: a job ran twice in one interval)")
if min(gaps) < 60:
    sys.exit("a job ran twice within its interval")
print(f"start after due: median {statistics.median(late)*1000:.0f} ms, p95 {late[int(len(late)*0.95)]*1000:.0f} ms, max {late[-1]*1000:.0f} ms over {len(late)} runs")
PY
