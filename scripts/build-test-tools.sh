#!/usr/bin/env bash
# scripts/build-test-tools.sh: build the Go-built peers connctl's tests run
# against, once, into a cache folder outside the repo. Safe to run any number
# of times: a tool that is already built (and answers `version`) is skipped.
#
# Today that is
#   - ORY Hydra, the real OAuth 2.0 / OpenID Connect server the OAuth tests use
#     (internal/testpeer/hydra finds it in the same place). Machines here reach
#     only the Go module proxy and Debian, so Hydra is built from source:
#     `go install` refuses it (its go.mod has replace lines), so it is built as
#     a tool of a small throw-away module, with the sqlite tags that
#     DSN=memory needs. The first build takes 1-3 minutes.
#   - rclone, whose `rclone serve s3` is the real S3 server the S3 tests use
#     (internal/testpeer/rclone). Debian's rclone is too old for `serve s3`;
#     it is built the same way, as a tool of a throw-away module, without
#     cgo. The first build takes 2-4 minutes.
#   - HashiCorp Vault, whose `vault server -dev` is the real KV v2 secret
#     store the Vault tests use (internal/testpeer/vault). Vault is not in
#     Debian. Its go.mod replaces api and sdk with in-tree folders that the
#     module zip lacks, so it is built as a tool of a throw-away module that
#     requires the api and sdk versions its go.mod names, with the other
#     (non-local) replace lines copied over. `go get`, not `go mod tidy`:
#     tidy also resolves the tests of Vault's dependencies and lifts grpc to
#     a release that breaks grpcgcp. The first build takes 20-30 minutes on
#     2 cores (it is large).
#   - panva's oidc-provider, an OpenID Certified provider for Node, the
#     second OAuth server the OAuth tests run against
#     (internal/testpeer/oidcprovider). It is an npm package, installed with
#     Debian's npm into its own folder; it needs Debian's nodejs to run.
#
#   CONNCTL_TEST_TOOLS   the cache folder (default $XDG_CACHE_HOME or
#                        $HOME/.cache, then connctl-test-tools)
#   CONNCTL_HYDRA        an existing Hydra binary to use instead; Hydra is not built
#   CONNCTL_RCLONE       an existing rclone binary to use instead; rclone is not built
#   CONNCTL_VAULT        an existing vault binary to use instead; Vault is not built
#   CONNCTL_BUILD_VAULT  1 (the default) builds Vault, 0 leaves it out: the
#                        Vault tests then skip, even under CI (see
#                        internal/testpeer/vault)
#   CONNCTL_OIDC_PROVIDER an existing oidc-provider install folder (one holding
#                        node_modules/oidc-provider) to use instead
set -euo pipefail

# Bump HYDRA_VERSION and the pop replacement together (see the Hydra release's go.mod).
HYDRA_VERSION=v2.3.0
POP_REPLACE=github.com/gobuffalo/pop/v6=github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b
# Bump together with internal/testpeer/rclone.Version.
RCLONE_VERSION=v1.76.0
# Bump together with internal/testpeer/vault.Version, and the api and sdk
# versions and the replace lines with the release's go.mod.
VAULT_VERSION=v1.17.6
VAULT_API=v1.14.0
VAULT_SDK=v0.13.0
VAULT_REPLACE=(
	github.com/ma314smith/signedxml@v1.1.1=github.com/moov-io/signedxml@v1.1.1
	github.com/pires/go-proxyproto@v1.0.0=github.com/peteski22/go-proxyproto@v1.0.0
)
# Bump together with internal/testpeer/oidcprovider.Version.
OIDC_PROVIDER_VERSION=9.13.3

CACHE=${CONNCTL_TEST_TOOLS:-${CONNCTL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/connctl-test-tools}}
HYDRA_BIN="$CACHE/hydra-$HYDRA_VERSION/hydra"
RCLONE_BIN="$CACHE/rclone-$RCLONE_VERSION/rclone"
VAULT_BIN="$CACHE/vault-$VAULT_VERSION/vault"
OIDC_PROVIDER_DIR="$CACHE/oidc-provider-$OIDC_PROVIDER_VERSION"

# The throw-away modules must not pick up a go.work or flags from the caller.
export GOWORK=off GOFLAGS=-mod=mod

work=$(mktemp -d "${TMPDIR:-/tmp}/connctl-tools-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# put_in_place BIN NAME: move the built $work/NAME/NAME into place and
# check that it answers `version`. The rename means that a concurrent reader
# never sees half a binary.
put_in_place() {
	local bin=$1 name=$2
	mkdir -p "$(dirname "$bin")" &&
		mv "$work/$name/$name" "$bin.tmp.$$" && mv "$bin.tmp.$$" "$bin" && "$bin" version >/dev/null
}

build_hydra() {
	local start=$SECONDS
	if [[ -n ${CONNCTL_HYDRA:-} ]]; then
		if ! "$CONNCTL_HYDRA" version >/dev/null 2>&1; then
			echo "build-test-tools: CONNCTL_HYDRA=$CONNCTL_HYDRA does not run \`version\`" >&2
			return 1
		fi
		echo "build-test-tools: hydra: using CONNCTL_HYDRA=$CONNCTL_HYDRA"
		return 0
	fi
	if [[ -x $HYDRA_BIN ]] && "$HYDRA_BIN" version >/dev/null 2>&1; then
		echo "build-test-tools: hydra $HYDRA_VERSION present at $HYDRA_BIN ($((SECONDS - start))s)"
		return 0
	fi
	if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
		echo "build-test-tools: hydra needs a C compiler (cgo, for sqlite): apt-get install gcc" >&2
		return 1
	fi
	echo "build-test-tools: building hydra $HYDRA_VERSION into $(dirname "$HYDRA_BIN") (1-3 minutes, once)"
	mkdir -p "$work/hydra"
	# Go output goes to a log that is shown only on failure.
	if ! (
		cd "$work/hydra" &&
			go mod init hydra-tool &&
			go get -tool "github.com/ory/hydra/v2@$HYDRA_VERSION" &&
			go mod edit -replace "$POP_REPLACE" &&
			go mod tidy &&
			CGO_ENABLED=1 go build -trimpath -tags sqlite,sqlite_omit_load_extension -o hydra github.com/ory/hydra/v2
	) >"$work/hydra.log" 2>&1; then
		cat "$work/hydra.log" >&2
		echo "build-test-tools: building hydra $HYDRA_VERSION failed after $((SECONDS - start))s" >&2
		return 1
	fi
	put_in_place "$HYDRA_BIN" hydra || return 1
	echo "build-test-tools: built hydra $HYDRA_VERSION in $((SECONDS - start))s: $HYDRA_BIN"
}

build_rclone() {
	local start=$SECONDS
	if [[ -n ${CONNCTL_RCLONE:-} ]]; then
		if ! "$CONNCTL_RCLONE" version >/dev/null 2>&1; then
			echo "build-test-tools: CONNCTL_RCLONE=$CONNCTL_RCLONE does not run \`version\`" >&2
			return 1
		fi
		echo "build-test-tools: rclone: using CONNCTL_RCLONE=$CONNCTL_RCLONE"
		return 0
	fi
	if [[ -x $RCLONE_BIN ]] && "$RCLONE_BIN" version >/dev/null 2>&1; then
		echo "build-test-tools: rclone $RCLONE_VERSION present at $RCLONE_BIN ($((SECONDS - start))s)"
		return 0
	fi
	echo "build-test-tools: building rclone $RCLONE_VERSION into $(dirname "$RCLONE_BIN") (2-4 minutes, once)"
	mkdir -p "$work/rclone"
	if ! (
		cd "$work/rclone" &&
			go mod init rclone-tool &&
			go get -tool "github.com/rclone/rclone@$RCLONE_VERSION" &&
			CGO_ENABLED=0 go build -trimpath -o rclone github.com/rclone/rclone
	) >"$work/rclone.log" 2>&1; then
		cat "$work/rclone.log" >&2
		echo "build-test-tools: building rclone $RCLONE_VERSION failed after $((SECONDS - start))s" >&2
		return 1
	fi
	put_in_place "$RCLONE_BIN" rclone || return 1
	echo "build-test-tools: built rclone $RCLONE_VERSION in $((SECONDS - start))s: $RCLONE_BIN"
}

build_vault() {
	local start=$SECONDS
	if [[ ${CONNCTL_BUILD_VAULT:-1} == 0 ]]; then
		echo "build-test-tools: vault left out (CONNCTL_BUILD_VAULT=0)"
		return 0
	fi
	if [[ -n ${CONNCTL_VAULT:-} ]]; then
		if ! "$CONNCTL_VAULT" version >/dev/null 2>&1; then
			echo "build-test-tools: CONNCTL_VAULT=$CONNCTL_VAULT does not run \`version\`" >&2
			return 1
		fi
		echo "build-test-tools: vault: using CONNCTL_VAULT=$CONNCTL_VAULT"
		return 0
	fi
	if [[ -x $VAULT_BIN ]] && "$VAULT_BIN" version >/dev/null 2>&1; then
		echo "build-test-tools: vault $VAULT_VERSION present at $VAULT_BIN ($((SECONDS - start))s)"
		return 0
	fi
	echo "build-test-tools: building vault $VAULT_VERSION into $(dirname "$VAULT_BIN") (20-30 minutes, once)"
	mkdir -p "$work/vault"
	local r
	if ! (
		cd "$work/vault" &&
			go mod init vault-tool &&
			for r in "${VAULT_REPLACE[@]}"; do go mod edit -replace "$r" || exit 1; done &&
			go get -tool "github.com/hashicorp/vault@$VAULT_VERSION" \
				"github.com/hashicorp/vault/api@$VAULT_API" \
				"github.com/hashicorp/vault/sdk@$VAULT_SDK" &&
			go build -trimpath -ldflags="-s -w" -o vault github.com/hashicorp/vault
	) >"$work/vault.log" 2>&1; then
		cat "$work/vault.log" >&2
		echo "build-test-tools: building vault $VAULT_VERSION failed after $((SECONDS - start))s" >&2
		return 1
	fi
	put_in_place "$VAULT_BIN" vault || return 1
	echo "build-test-tools: built vault $VAULT_VERSION in $((SECONDS - start))s: $VAULT_BIN"
}

install_oidc_provider() {
	local start=$SECONDS
	if [[ -n ${CONNCTL_OIDC_PROVIDER:-} ]]; then
		if [[ ! -f $CONNCTL_OIDC_PROVIDER/node_modules/oidc-provider/package.json ]]; then
			echo "build-test-tools: CONNCTL_OIDC_PROVIDER=$CONNCTL_OIDC_PROVIDER holds no node_modules/oidc-provider" >&2
			return 1
		fi
		echo "build-test-tools: oidc-provider: using CONNCTL_OIDC_PROVIDER=$CONNCTL_OIDC_PROVIDER"
		return 0
	fi
	if [[ -f $OIDC_PROVIDER_DIR/.installed ]]; then
		echo "build-test-tools: oidc-provider $OIDC_PROVIDER_VERSION present at $OIDC_PROVIDER_DIR ($((SECONDS - start))s)"
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		echo "build-test-tools: oidc-provider needs npm and nodejs: apt-get install nodejs npm (scripts/install-deps.sh)" >&2
		return 1
	fi
	echo "build-test-tools: installing oidc-provider $OIDC_PROVIDER_VERSION into $OIDC_PROVIDER_DIR (npm, once)"
	mkdir -p "$work/oidc-provider"
	if ! (
		cd "$work/oidc-provider" &&
			echo '{"name":"connctl-oidc-provider-peer","private":true}' >package.json &&
			npm install --no-audit --no-fund --loglevel=error "oidc-provider@$OIDC_PROVIDER_VERSION"
	) >"$work/oidc-provider.log" 2>&1; then
		cat "$work/oidc-provider.log" >&2
		echo "build-test-tools: installing oidc-provider $OIDC_PROVIDER_VERSION failed after $((SECONDS - start))s" >&2
		return 1
	fi
	# The folder appears whole (rename) and is marked installed last, so a
	# half install is never taken for a whole one.
	rm -rf "$OIDC_PROVIDER_DIR.tmp.$$" && mkdir -p "$CACHE" &&
		mv "$work/oidc-provider" "$OIDC_PROVIDER_DIR.tmp.$$" &&
		rm -rf "$OIDC_PROVIDER_DIR" && mv "$OIDC_PROVIDER_DIR.tmp.$$" "$OIDC_PROVIDER_DIR" &&
		touch "$OIDC_PROVIDER_DIR/.installed" || return 1
	echo "build-test-tools: installed oidc-provider $OIDC_PROVIDER_VERSION in $((SECONDS - start))s: $OIDC_PROVIDER_DIR"
}

# Every tool is tried even if an earlier one failed; the exit says whether
# all are there. (set -e does not apply inside functions called with ||, so
# they return on failure themselves.)
status=0
build_hydra || status=1
build_rclone || status=1
build_vault || status=1
install_oidc_provider || status=1
exit $status
