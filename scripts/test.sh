#!/usr/bin/env bash
# scripts/test.sh: connctl's test command (`make test` and .ci/run call it).
#
#   scripts/test.sh              # every step
#   scripts/test.sh lint unit    # only the named steps, in this order
#
# Steps:
#   deps  install the Debian packages the tests need, if missing (scripts/install-deps.sh)
#   lint  gofmt check and go vet (scripts/lint.sh)
#   generated  docs/cli, docs/man, completions/ and go.mod/go.sum match the
#         source (scripts/check-generated.sh; on failure run `make docs`)
#   unit  go test -race ./...: unit tests and the testscript suite on the in-memory keyring
#   real  the end-to-end suite again, against a real gnome-keyring Secret Service on a
#         private D-Bus (scripts/with-keyring.sh), with CONNCTL_TEST_KEYRING=real
#
# With CI=true, CONNCTL_TEST_DISALLOW_SKIP=1 is set: a test that would skip
# for want of a part (keyring, browser, OAuth server) fails instead.
# Every step runs even if an earlier one failed; the exit is non-zero if any failed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# Packages whose tests run a second time against the real Secret Service.
REAL_KEYRING_PKGS=(./cmd/connctl/... ./internal/secretstore/...)
# go test's default 10-minute limit per package is too close for cmd/connctl's
# end-to-end suites on a busy 2-core machine; a hang still ends the run.
GO_TEST=(go test -race -count=1 -timeout 30m)
# A race-enabled binary sleeps a second at exit by default (to let late race
# reports out); the end-to-end suites run connctl (the race-enabled test
# binary) hundreds of times, so that sleep would dominate them.
export GORACE="${GORACE:+$GORACE }atexit_sleep_ms=0"

# One tools cache for every step: the real-keyring step runs with a throwaway
# HOME, and must still find the Hydra that the deps step built.
export CONNCTL_TEST_TOOLS=${CONNCTL_TEST_TOOLS:-${CONNCTL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/connctl-test-tools}}

if [[ ${CI:-} == true ]]; then
	export CONNCTL_TEST_DISALLOW_SKIP=1
fi

step_deps() { scripts/install-deps.sh; scripts/build-test-tools.sh; }
step_lint() { scripts/lint.sh; }
step_generated() { scripts/check-generated.sh; }
step_unit() {
	# The in-memory keyring run: no test may reach a real keyring, so point
	# the session bus nowhere and clear a CONNCTL_TEST_KEYRING left in the shell.
	env -u CONNCTL_TEST_KEYRING DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
		"${GO_TEST[@]}" ./...
}
step_real() {
	scripts/with-keyring.sh env CONNCTL_TEST_KEYRING=real "${GO_TEST[@]}" "${REAL_KEYRING_PKGS[@]}"
}

all_steps=(deps lint generated unit real)
steps=("$@")
((${#steps[@]})) || steps=("${all_steps[@]}")
for s in "${steps[@]}"; do
	[[ " ${all_steps[*]} " == *" $s "* ]] || {
		echo "test.sh: unknown step '$s' (steps: ${all_steps[*]})" >&2
		exit 2
	}
done

echo "test.sh: $(go version); CI=${CI:-} CONNCTL_TEST_DISALLOW_SKIP=${CONNCTL_TEST_DISALLOW_SKIP:-}"
summary=() failed=()
for s in "${steps[@]}"; do
	echo
	echo "==> $s"
	start=$SECONDS
	# Each step runs in a subshell with errexit on, so that its first failing
	# command ends that step and the loop goes on to the next. (Not inside an
	# `if`: there bash would ignore errexit in the subshell too.)
	set +e
	(set -e; "step_$s")
	rc=$?
	set -e
	if ((rc == 0)); then
		summary+=("$(printf '  ok    %-9s %4ss' "$s" $((SECONDS - start)))")
	else
		summary+=("$(printf '  FAIL  %-9s %4ss  (exit %s)' "$s" $((SECONDS - start)) "$rc")")
		failed+=("$s")
	fi
done

echo
echo "==> summary"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
	echo "test.sh: FAIL (${#failed[@]} of ${#steps[@]} steps failed: ${failed[*]})"
	exit 1
fi
echo "test.sh: PASS (all ${#steps[@]} steps: ${steps[*]})"
