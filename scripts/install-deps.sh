#!/usr/bin/env bash
# scripts/install-deps.sh: install the Debian packages connctl's tests need,
# but only those that are missing. Safe to run any number of times.
#
# To add a package, add it to PACKAGES below with a word on what needs it.
# Set CONNCTL_SKIP_APT=1 to skip this step (for example on a machine without
# apt, where you installed the equivalents yourself).
set -euo pipefail

PACKAGES=(
	gnome-keyring     # Secret Service daemon for the real-keyring test run
	dbus              # dbus-daemon
	dbus-user-session # dbus-run-session: a private session bus per test run
	libsecret-tools   # secret-tool: checks the keyring works before the tests
	chromium          # headless browser for the OAuth flow tests (internal/testpeer/browsersim)
	postgresql        # a real PostgreSQL for the team store (internal/testpeer/postgres finds initdb in /usr/lib/postgresql/*/bin)
	tmux              # a real terminal for the end-to-end test of `connctl ui` (cmd/connctl ui_tmux_test.go)
)

if [[ ${CONNCTL_SKIP_APT:-} == 1 ]]; then
	echo "install-deps: CONNCTL_SKIP_APT=1, not installing ${PACKAGES[*]}"
	exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get here; make sure these (or equivalents) are installed: ${PACKAGES[*]}" >&2
	exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
		missing+=("$p")
	fi
done
# Node.js runs oidc-provider, the second OAuth test peer
# (internal/testpeer/oidcprovider), and npm installs it
# (scripts/build-test-tools.sh). They are asked for only when the commands are
# missing: a machine's own Node.js (NodeSource's nodejs, which provides npm
# and conflicts with Debian's npm package) is used as it is.
if ! command -v node >/dev/null 2>&1; then
	missing+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
	missing+=(npm)
fi
if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#PACKAGES[@]} Debian packages present"
	exit 0
fi

sudo=()
if ((EUID != 0)); then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: missing ${missing[*]}, not root and no sudo; install them and re-run" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
# apt output goes to a log that is shown only on failure, to keep the test output readable.
log=$(mktemp "${TMPDIR:-/tmp}/connctl-apt.XXXXXX")
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update >"$log" 2>&1 ||
	! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed installing ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installed ${missing[*]}"
