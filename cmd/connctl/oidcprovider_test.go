package main

import (
	"errors"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/connctl/connctl/internal/testpeer"
	"github.com/connctl/connctl/internal/testpeer/oidcprovider"
)

// opServer is panva's oidc-provider, the second real OAuth server the
// scripts share beside Hydra (nil when it is not installed and skipping is
// allowed). Scripts reach it as $OP_ISSUER with client $OP_CLIENT_ID.
var opServer *oidcprovider.Server

// startOIDCProvider starts the shared oidc-provider for TestScripts. A
// missing install skips its scripts, or fails the run when
// CONNCTL_TEST_DISALLOW_SKIP=1.
func startOIDCProvider(t *testing.T) {
	srv, stop, err := oidcprovider.StartProcess(oidcprovider.Options{})
	switch {
	case err == nil:
		opServer = srv
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("oidc-provider log, last lines:\n%s", srv.LogTail(30))
			}
			stop()
		})
	case errors.Is(err, oidcprovider.ErrNotBuilt) && testpeer.SkipAllowed():
		t.Logf("oidc-provider scripts skipped: %v", err)
	default:
		if !errors.Is(err, oidcprovider.ErrNotBuilt) {
			t.Fatalf("start oidc-provider: %v", err)
		}
		t.Fatalf("start oidc-provider: %v (%s=1 forbids skipping)", err, testpeer.DisallowSkipEnv)
	}
}

// setupOIDCProvider gives every script the provider's issuer and client.
func setupOIDCProvider(env *testscript.Env) {
	if opServer == nil {
		return
	}
	env.Setenv("OP_ISSUER", opServer.Issuer)
	env.Setenv("OP_CLIENT_ID", opServer.ClientID)
	env.Setenv("BROWSER", "browser-standin")
}
