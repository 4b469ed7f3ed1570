#!/usr/bin/env bash
# scripts/goreleaser.sh: run the pinned goreleaser, building it first if needed.
#
# goreleaser is not downloaded as a prebuilt binary (machines here reach only the
# Go module proxy, Debian and npm), so it is built from the module proxy into a
# cache folder outside the repo and reused after that. The first build takes
# about 2-3 minutes. A goreleaser already on PATH at the pinned version is used
# as is.
#
#   scripts/goreleaser.sh check
#   scripts/goreleaser.sh release --snapshot --clean
set -euo pipefail

# v2.15.1 is the newest release that builds with Go 1.26; bump both together.
GORELEASER_VERSION=${GORELEASER_VERSION:-v2.15.1}
CACHE=${CONNCTL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/connctl-test-tools}
BIN="$CACHE/goreleaser-$GORELEASER_VERSION/goreleaser"

if command -v goreleaser >/dev/null 2>&1 &&
	goreleaser --version 2>/dev/null | grep -q "GitVersion:[[:space:]]*v\?${GORELEASER_VERSION#v}\$"; then
	BIN=$(command -v goreleaser)
elif [[ ! -x $BIN ]]; then
	echo "goreleaser.sh: building goreleaser $GORELEASER_VERSION into $(dirname "$BIN") (2-3 minutes, once)" >&2
	work=$(mktemp -d "${TMPDIR:-/tmp}/goreleaser-build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	if ! (
		cd "$work" &&
			go mod init goreleaser-tool &&
			go get -tool "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION" &&
			go build -o goreleaser github.com/goreleaser/goreleaser/v2
	) >"$work/build.log" 2>&1; then
		cat "$work/build.log" >&2
		echo "goreleaser.sh: building goreleaser $GORELEASER_VERSION failed" >&2
		exit 1
	fi
	mkdir -p "$(dirname "$BIN")"
	mv "$work/goreleaser" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
	rm -rf "$work" # exec below would skip the EXIT trap
	trap - EXIT
fi

exec "$BIN" "$@"
