#!/usr/bin/env bash
# scripts/with-keyring.sh CMD [ARGS...]: run CMD against a real, throwaway
# Secret Service (gnome-keyring) on a private D-Bus session bus.
#
# CMD sees a fresh HOME and XDG_{DATA,CONFIG,STATE,CACHE}_HOME, an
# XDG_RUNTIME_DIR with mode 0700, and a DBUS_SESSION_BUS_ADDRESS whose
# org.freedesktop.secrets is an unlocked gnome-keyring-daemon. The Go build and
# module caches and the go env file stay the user's, so nothing is rebuilt or
# downloaded again. Before CMD runs, a throwaway item is stored, read back and
# cleared with secret-tool; if that fails, CMD does not run and the exit is 1.
# Nothing is left behind: the daemon is stopped and the folder removed.
#
#   scripts/with-keyring.sh go test ./internal/secretstore/...
#   scripts/with-keyring.sh bash     # poke at it: secret-tool search --all service connctl
set -euo pipefail

# Each secret-tool call gets this long; a locked keyring would otherwise wait
# forever for a password prompt nobody sees.
PROBE_TIMEOUT=20s

die() {
	echo "with-keyring: $*" >&2
	exit 1
}

# inside runs on the private bus, started by dbus-run-session below.
inside() {
	local out pid="" i
	out=$(printf '%s' "$CONNCTL_KEYRING_PASSWORD" |
		gnome-keyring-daemon --unlock --components=secrets 2>&1) ||
		die "gnome-keyring-daemon --unlock failed: $out"
	unset CONNCTL_KEYRING_PASSWORD

	# The daemon registers org.freedesktop.secrets on the bus; wait for it
	# (bounded) so that nothing D-Bus-activates a second, locked daemon.
	for ((i = 0; i < 100; i++)); do
		pid=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
			awk '{print $NF}') || true
		[[ -n $pid ]] && break
		sleep 0.1
	done
	[[ -n $pid ]] || die "gnome-keyring-daemon did not register org.freedesktop.secrets on the session bus (it said: $out)"
	# The daemon is ours (it is the only one on this private bus): stop it by its id when done.
	trap 'kill "$pid" 2>/dev/null || true' EXIT
	trap 'exit 130' INT TERM

	local -a attrs=(service connctl-selftest username "probe-$$")
	local value="probe-value-$$-$RANDOM" got
	printf '%s' "$value" | timeout "$PROBE_TIMEOUT" secret-tool store --label="connctl keyring self-test" "${attrs[@]}" ||
		die "REAL KEYRING NOT WORKING: secret-tool store failed (is the login collection unlocked?)"
	got=$(timeout "$PROBE_TIMEOUT" secret-tool lookup "${attrs[@]}") ||
		die "REAL KEYRING NOT WORKING: secret-tool lookup of the item just stored failed"
	[[ $got == "$value" ]] || die "REAL KEYRING NOT WORKING: stored a value but read back something else"
	timeout "$PROBE_TIMEOUT" secret-tool clear "${attrs[@]}" ||
		die "REAL KEYRING NOT WORKING: secret-tool clear failed"
	if timeout "$PROBE_TIMEOUT" secret-tool lookup "${attrs[@]}" >/dev/null 2>&1; then
		die "REAL KEYRING NOT WORKING: the item is still there after secret-tool clear"
	fi
	echo "with-keyring: gnome-keyring-daemon (pid $pid) on a private bus: store/lookup/clear ok"

	local rc=0
	"$@" || rc=$?
	exit "$rc"
}

if [[ ${1:-} == --inside ]]; then
	shift
	inside "$@"
fi

(($#)) || die "usage: with-keyring.sh CMD [ARGS...]"
for tool in dbus-run-session dbus-send gnome-keyring-daemon secret-tool timeout; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "REAL KEYRING NOT AVAILABLE: $tool not found (run scripts/install-deps.sh)"
done

# Keep Go's caches and settings: they are found through HOME otherwise.
if command -v go >/dev/null 2>&1; then
	GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH) GOENV=$(go env GOENV)
	export GOCACHE GOMODCACHE GOPATH GOENV
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/connctl-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/state" "$tmp/cache"
mkdir -m 0700 "$tmp/runtime"
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config \
	XDG_STATE_HOME=$tmp/state XDG_CACHE_HOME=$tmp/cache XDG_RUNTIME_DIR=$tmp/runtime
# Never reach a keyring daemon of the calling session.
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL GNOME_KEYRING_PID
# Non-empty: with an empty password and no keyring yet, the daemon may not
# create the login collection. It guards nothing; the folder is thrown away.
export CONNCTL_KEYRING_PASSWORD="connctl-test-$$-$RANDOM"

rc=0
dbus-run-session -- bash "${BASH_SOURCE[0]}" --inside "$@" || rc=$?
exit "$rc"
