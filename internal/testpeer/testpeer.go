// Package testpeer holds the real peers that connctl's tests run against, on
// the loopback only: two OAuth 2.0 / OpenID Connect servers written by
// others (ORY Hydra in package hydra, panva's oidc-provider in package
// oidcprovider) and browsers that walk their login and consent pages
// (package browsersim). It is imported by
// tests only; the shipped binary never links it.
//
// A peer that is not installed skips the test that needs it, unless
// CONNCTL_TEST_DISALLOW_SKIP=1 (set by scripts/test.sh under CI), in which
// case the test fails and says how to install the peer.
package testpeer

import (
	"fmt"
	"os"
	"path/filepath"
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

// ToolBinary finds a test tool that scripts/build-test-tools.sh builds: the
// path in the environment variable env when set, else
// <cache>/<name>-<version>/<name>, where <cache> is $CONNCTL_TEST_TOOLS (or
// $CONNCTL_TOOLS_CACHE), else connctl-test-tools in the user's cache folder.
// Errors wrap notBuilt and end with fix.
func ToolBinary(name, version, env string, notBuilt error, fix string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", notBuilt, env, p, err)
		}
		return p, nil
	}
	p := filepath.Join(ToolsCache(), name+"-"+version, name)
	if err := executable(p); err != nil {
		return "", fmt.Errorf("%w: %v: %s", notBuilt, err, fix)
	}
	return p, nil
}

// ToolsCache is the folder test tools are built or installed into; it
// mirrors the CACHE line of scripts/build-test-tools.sh.
func ToolsCache() string {
	for _, env := range []string{"CONNCTL_TEST_TOOLS", "CONNCTL_TOOLS_CACHE"} {
		if d := os.Getenv(env); d != "" {
			return d
		}
	}
	d, err := os.UserCacheDir() // $XDG_CACHE_HOME, else $HOME/.cache
	if err != nil {
		d = filepath.Join(os.TempDir(), "cache")
	}
	return filepath.Join(d, "connctl-test-tools")
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// WithLogDir runs start with logDir or, when logDir is empty, with a
// temporary folder named after prefix, for a peer started outside of a test
// (a TestMain's StartProcess). The folder is removed when start fails, and
// by the stop it returns after start's own stop.
func WithLogDir(logDir, prefix string, start func(logDir string) (stop func(), err error)) (func(), error) {
	var made string
	if logDir == "" {
		d, err := os.MkdirTemp("", prefix)
		if err != nil {
			return nil, err
		}
		logDir, made = d, d
	}
	stop, err := start(logDir)
	if err != nil {
		if made != "" {
			_ = os.RemoveAll(made)
		}
		return nil, err
	}
	return func() {
		stop()
		if made != "" {
			_ = os.RemoveAll(made)
		}
	}, nil
}

// RunWithPrivateCache is a TestMain's body: it points XDG_CACHE_HOME at a
// new temporary folder, so that the parse caches and team-store copies
// that tests and benchmarks make never land in the real ~/.cache, runs
// m, removes the folder and returns m's exit code. The test tools stay
// where they are: CONNCTL_TEST_TOOLS is set to ToolsCache() first.
//
//	func TestMain(m *testing.M) { os.Exit(testpeer.RunWithPrivateCache(m)) }
func RunWithPrivateCache(m *testing.M) int {
	tools := ToolsCache()
	dir, err := os.MkdirTemp("", "connctl-test-cache-*")
	if err == nil {
		err = os.Setenv("CONNCTL_TEST_TOOLS", tools)
	}
	if err == nil {
		err = os.Setenv("XDG_CACHE_HOME", dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "private cache folder:", err)
		return 1
	}
	defer os.RemoveAll(dir) //nolint:errcheck // best effort
	return m.Run()
}
