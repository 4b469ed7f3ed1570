// Package testpeer holds the real peers that connctl's tests run against, on
// the loopback only: an OAuth 2.0 server (package hydra) and browsers that
// walk its login and consent pages (package browsersim). It is imported by
// tests only; the shipped binary never links it.
//
// A peer that is not installed skips the test that needs it, unless
// CONNCTL_TEST_DISALLOW_SKIP=1 (set by scripts/test.sh under CI), in which
// case the test fails and says how to install the peer.
package testpeer

import (
	"os"
	"strings"
	"testing"
)

// DisallowSkipEnv names the environment variable that turns "peer missing"
// skips into failures.
const DisallowSkipEnv = "CONNCTL_TEST_DISALLOW_SKIP"

// SkipAllowed reports whether a test may skip for want of a peer.
func SkipAllowed() bool { return os.Getenv(DisallowSkipEnv) != "1" }

// Missing ends tb because a peer is not available: it skips, or fails when
// CONNCTL_TEST_DISALLOW_SKIP=1. err says what is missing and fix how to get it.
func Missing(tb testing.TB, err error, fix string) {
	tb.Helper()
	msg := err.Error()
	if !strings.Contains(msg, fix) {
		msg += "\nfix: " + fix
	}
	if SkipAllowed() {
		tb.Skip(msg)
	}
	tb.Fatalf("%s\n(%s=1 forbids skipping)", msg, DisallowSkipEnv)
}
