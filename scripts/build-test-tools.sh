#!/usr/bin/env bash
# scripts/build-test-tools.sh: build the Go-built peers connctl's tests run
# against, once, into a cache folder outside the repo. Safe to run any number
# of times: a tool that is already built (and answers `version`) is skipped.
#
# Today that is ORY Hydra, the real OAuth 2.0 / OpenID Connect server the
# OAuth tests use (internal/testpeer/hydra finds it in the same place).
# Machines here reach only the Go module proxy and Debian, so Hydra is built
# from source: `go install` refuses it (its go.mod has replace lines), so it is
# built as a tool of a small throw-away module, with the sqlite tags that
# DSN=memory needs. The first build takes 1-3 minutes.
#
#   CONNCTL_TEST_TOOLS   the cache folder (default $XDG_CACHE_HOME or
#                        $HOME/.cache, then connctl-test-tools)
#   CONNCTL_HYDRA        an existing Hydra binary to use instead; nothing is built
set -euo pipefail

# Bump HYDRA_VERSION and the pop replacement together (see the Hydra release's go.mod).
HYDRA_VERSION=v2.3.0
POP_REPLACE=github.com/gobuffalo/pop/v6=github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b

CACHE=${CONNCTL_TEST_TOOLS:-${CONNCTL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/connctl-test-tools}}
HYDRA_BIN="$CACHE/hydra-$HYDRA_VERSION/hydra"

start=$SECONDS
# The throw-away module must not pick up a go.work or flags from the caller.
export GOWORK=off GOFLAGS=-mod=mod

if [[ -n ${CONNCTL_HYDRA:-} ]]; then
	if ! "$CONNCTL_HYDRA" version >/dev/null 2>&1; then
		echo "build-test-tools: CONNCTL_HYDRA=$CONNCTL_HYDRA does not run \`version\`" >&2
		exit 1
	fi
	echo "build-test-tools: hydra: using CONNCTL_HYDRA=$CONNCTL_HYDRA"
	exit 0
fi

if [[ -x $HYDRA_BIN ]] && "$HYDRA_BIN" version >/dev/null 2>&1; then
	echo "build-test-tools: hydra $HYDRA_VERSION present at $HYDRA_BIN ($((SECONDS - start))s)"
	exit 0
fi

if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
	echo "build-test-tools: hydra needs a C compiler (cgo, for sqlite): apt-get install gcc" >&2
	exit 1
fi

echo "build-test-tools: building hydra $HYDRA_VERSION into $(dirname "$HYDRA_BIN") (1-3 minutes, once)"
work=$(mktemp -d "${TMPDIR:-/tmp}/hydra-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Go output goes to a log that is shown only on failure.
if ! (
	cd "$work" &&
		go mod init hydra-tool &&
		go get -tool "github.com/ory/hydra/v2@$HYDRA_VERSION" &&
		go mod edit -replace "$POP_REPLACE" &&
		go mod tidy &&
		CGO_ENABLED=1 go build -trimpath -tags sqlite,sqlite_omit_load_extension -o hydra github.com/ory/hydra/v2
) >"$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	echo "build-test-tools: building hydra $HYDRA_VERSION failed after $((SECONDS - start))s" >&2
	exit 1
fi
mkdir -p "$(dirname "$HYDRA_BIN")"
# Rename into place so that a concurrent reader never sees half a binary.
mv "$work/hydra" "$HYDRA_BIN.tmp.$$" && mv "$HYDRA_BIN.tmp.$$" "$HYDRA_BIN"
"$HYDRA_BIN" version >/dev/null
echo "build-test-tools: built hydra $HYDRA_VERSION in $((SECONDS - start))s: $HYDRA_BIN"
