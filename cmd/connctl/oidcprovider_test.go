package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
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

var opSavedTokens sync.Map // *testscript.TestScript -> refresh token

// op-refresh-token NAME save|active|inactive: save the connection's refresh
// token from the secret store (in memory, never a file), or check the saved
// one at oidc-provider's introspection endpoint.
func cmdOPRefreshToken(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || opServer == nil {
		ts.Fatalf("usage: op-refresh-token NAME save|active|inactive (needs oidc-provider)")
	}
	switch args[1] {
	case "save":
		cfg, err := configstore.Open(ts.Getenv("CONFIG"), func(string) string { return "" })
		if err != nil {
			ts.Fatalf("%v", err)
		}
		c, ok := cfg.Find(args[0])
		if !ok {
			ts.Fatalf("no connection %s", args[0])
		}
		var st secretstore.Store = secretstoretest.NewFileFake(ts.Getenv("CONNCTL_TEST_FAKE_KEYRING"))
		if realKeyring() {
			st = secretstore.NewKeyring(10 * time.Second)
		}
		v, err := st.Get(context.Background(), c.ID, connection.KindRefreshToken)
		if err != nil {
			ts.Fatalf("read refresh token: %v", err)
		}
		opSavedTokens.Store(ts, v)
	case "active", "inactive":
		v, ok := opSavedTokens.Load(ts)
		if !ok {
			ts.Fatalf("no saved refresh token")
		}
		active, err := opServer.Introspect(context.Background(), v.(string))
		if err != nil {
			ts.Fatalf("introspect: %v", err)
		}
		if active != (args[1] == "active") {
			ts.Fatalf("refresh token active=%v, want %s", active, args[1])
		}
	default:
		ts.Fatalf("op-refresh-token: unknown action %q", args[1])
	}
}
