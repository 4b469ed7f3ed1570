#!/usr/bin/env bash
# scripts/check-generated.sh: fail when a generated file in the repository is
# not what the source generates (`make check-generated`; the `generated` step
# of scripts/test.sh).
#
# It regenerates docs/cli, docs/man and completions/ (go run ./cmd/gen-docs)
# and runs go mod tidy, then fails if that changed a tracked file or left a
# new, untracked one. The regenerated files stay in the work tree, so the fix
# is to look at them and commit them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

GENERATED=(docs/cli docs/man completions)

git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	{ echo "check-generated: not a git work tree; nothing to compare with" >&2; exit 1; }

go run ./cmd/gen-docs
go mod tidy

status=0
if ! git diff --quiet -- "${GENERATED[@]}" go.mod go.sum; then
	echo "check-generated: these generated files are stale:" >&2
	git diff --stat -- "${GENERATED[@]}" go.mod go.sum >&2
	git diff -- "${GENERATED[@]}" go.mod go.sum | head -n 60 >&2
	status=1
fi
untracked=$(git ls-files --others --exclude-standard -- "${GENERATED[@]}")
if [[ -n $untracked ]]; then
	echo "check-generated: these generated files are not committed:" >&2
	sed 's/^/  /' <<<"$untracked" >&2
	status=1
fi
if ((status)); then
	echo 'check-generated: FAIL: run `make docs` (and `go mod tidy`), then commit docs/cli, docs/man, completions/, go.mod and go.sum' >&2
	exit 1
fi
echo "check-generated: docs/cli, docs/man, completions/, go.mod and go.sum are up to date"
