package main

import (
	"fmt"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/connctl/connctl/internal/testpeer"
	vaultpeer "github.com/connctl/connctl/internal/testpeer/vault"
)

// The vault-* commands run a real Vault dev server for one script.

// vaultServers is the server each script started (vault-start).
var (
	vaultMu      sync.Mutex
	vaultServers = map[*testscript.TestScript]*vaultpeer.Server{}
)

// vault-start: start a Vault dev server and export VAULT_ADDR and
// VAULT_TOKEN (the root token).
func cmdVaultStart(ts *testscript.TestScript, neg bool, args []string) {
	srv, stop, err := vaultpeer.StartProcess()
	if err != nil {
		ts.Fatalf("start vault: %v", err)
	}
	ts.Defer(stop)
	vaultMu.Lock()
	vaultServers[ts] = srv
	vaultMu.Unlock()
	ts.Defer(func() { vaultMu.Lock(); delete(vaultServers, ts); vaultMu.Unlock() })
	ts.Setenv("VAULT_ADDR", srv.Addr)
	ts.Setenv("VAULT_TOKEN", vaultpeer.RootToken)
}

func vaultOf(ts *testscript.TestScript) *vaultpeer.Server {
	vaultMu.Lock()
	defer vaultMu.Unlock()
	srv := vaultServers[ts]
	if srv == nil {
		ts.Fatalf("no vault-start in this script")
	}
	return srv
}

// vault-token VAR POLICY-FILE: write the HCL policy in POLICY-FILE and set
// VAR to a new token that has only that policy.
func cmdVaultToken(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: vault-token VAR POLICY-FILE")
	}
	srv := vaultOf(ts)
	name := fmt.Sprintf("p-%s", args[0])
	ts.Check(srv.PutPolicy(name, ts.ReadFile(args[1])))
	tok, err := srv.Token(name)
	ts.Check(err)
	ts.Setenv(args[0], tok)
}

// vault-seal: seal the server.
func cmdVaultSeal(ts *testscript.TestScript, neg bool, args []string) {
	ts.Check(vaultOf(ts).Seal())
}

// vault-unseal: unseal the server (the dev server's unseal key).
func cmdVaultUnseal(ts *testscript.TestScript, neg bool, args []string) {
	ts.Check(vaultOf(ts).Unseal())
}

// vaultCondition is [vault]: a Vault binary is built (or, under
// CONNCTL_TEST_DISALLOW_SKIP=1, an error saying how to build it).
func vaultCondition() (bool, error) {
	_, err := vaultpeer.Binary()
	if err != nil && !testpeer.SkipAllowed() && !vaultpeer.Optional() {
		return false, fmt.Errorf("%v (%s)", err, vaultpeer.BuildFix)
	}
	return err == nil, nil
}
