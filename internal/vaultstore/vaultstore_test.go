package vaultstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
	vaultpeer "github.com/connctl/connctl/internal/testpeer/vault"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func newStore(t *testing.T, srv *vaultpeer.Server, token string) *Store {
	t.Helper()
	s, err := New(Config{Getenv: envOf(map[string]string{"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": token, "HOME": t.TempDir()})})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The canary must never show in an error.
const canary = "CANARY-s3cr3t-9f8e7d"

func noCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Fatalf("error quotes the secret: %v", err)
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) && strings.Contains(h.Hint(), canary) {
		t.Fatalf("hint quotes the secret: %v", h.Hint())
	}
}

func TestConformance(t *testing.T) {
	srv := vaultpeer.Start(t)
	secretstoretest.RunConformance(t, newStore(t, srv, vaultpeer.RootToken))
}

func TestItemsLiveUnderMountAndPath(t *testing.T) {
	srv := vaultpeer.Start(t)
	s, err := New(Config{Mount: "secret", Path: "team/a", Getenv: envOf(map[string]string{"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": vaultpeer.RootToken})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Set(ctx, "c1", "api_key", canary); err != nil {
		t.Fatal(err)
	}
	// Read it back with the plain client, as an admin would.
	sec, err := s.client.KVv2("secret").Get(ctx, "team/a/c1/api_key")
	if err != nil || sec.Data["value"] != canary {
		t.Fatalf("secret/data/team/a/c1/api_key = %v, %v", sec, err)
	}
}

// Two writers rotate the same refresh token from the same old value: one
// wins, the other is told ErrConflict, and the winner's token stays.
func TestCompareAndSwapTwoWriters(t *testing.T) {
	srv := vaultpeer.Start(t)
	a, b := newStore(t, srv, vaultpeer.RootToken), newStore(t, srv, vaultpeer.RootToken)
	var _ secretstore.Swapper = a
	ctx := context.Background()
	old := "rt-0"
	if err := a.CompareAndSwap(ctx, "conn", "oauth_refresh_token", "", old); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := b.CompareAndSwap(ctx, "conn", "oauth_refresh_token", "", "rt-other"); !errors.Is(err, ErrConflict) {
		t.Fatalf("create over an existing item = %v; want ErrConflict", err)
	}
	for round := 1; round <= 20; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		vals := []string{fmt.Sprintf("rt-%d-a", round), fmt.Sprintf("rt-%d-b", round)}
		for i, s := range []*Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.CompareAndSwap(ctx, "conn", "oauth_refresh_token", old, vals[i])
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: both writers succeeded", round)
				}
				won = i
			case !errors.Is(err, ErrConflict):
				t.Fatalf("round %d: writer %d: %v; want ErrConflict", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither writer succeeded: %v", round, errs)
		}
		got, err := a.Get(ctx, "conn", "oauth_refresh_token")
		if err != nil || got != vals[won] {
			t.Fatalf("round %d: stored %q, %v; want the winner's %q", round, got, err, vals[won])
		}
		old = got
	}
}

// The window between CompareAndSwap's read and its write is closed by
// Vault's check-and-set: a write against a stale version is refused.
func TestStaleVersionRefusedByVault(t *testing.T) {
	srv := vaultpeer.Start(t)
	a, b := newStore(t, srv, vaultpeer.RootToken), newStore(t, srv, vaultpeer.RootToken)
	ctx := context.Background()
	if err := a.Set(ctx, "conn", "oauth_refresh_token", "rt-1"); err != nil {
		t.Fatal(err)
	}
	_, version, err := a.read(ctx, "conn", "oauth_refresh_token")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "conn", "oauth_refresh_token", "rt-2-newer"); err != nil {
		t.Fatal(err)
	}
	err = a.put(ctx, "conn", "oauth_refresh_token", canary, version)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale check-and-set write = %v; want ErrConflict", err)
	}
	noCanary(t, err)
	if got, _ := a.Get(ctx, "conn", "oauth_refresh_token"); got != "rt-2-newer" {
		t.Fatalf("stored %q; want the newer token kept", got)
	}
}

const listOnlyPolicy = `
path "secret/metadata/connctl/*" {
  capabilities = ["list", "read"]
}
`

// A token whose policy lists but does not read is told so, with the path
// and capability it lacks, and never sees a value.
func TestListOnlyPolicyCannotRead(t *testing.T) {
	srv := vaultpeer.Start(t)
	ctx := context.Background()
	if err := newStore(t, srv, vaultpeer.RootToken).Set(ctx, "conn", "oauth_refresh_token", canary); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutPolicy("connctl-list", listOnlyPolicy); err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Token("connctl-list")
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, srv, tok)
	v, err := s.Get(ctx, "conn", "oauth_refresh_token")
	if !errors.Is(err, ErrDenied) || v != "" {
		t.Fatalf("Get with a list-only token = %q, %v; want ErrDenied", v, err)
	}
	noCanary(t, err)
	var h interface{ Hint() string }
	if !errors.As(err, &h) || !strings.Contains(h.Hint(), `"read" on secret/data/connctl/conn/oauth_refresh_token`) {
		t.Fatalf("hint of %v does not name the capability and path", err)
	}
	if err := s.Set(ctx, "conn", "oauth_refresh_token", canary+"2"); !errors.Is(err, ErrDenied) {
		t.Fatalf("Set with a list-only token = %v; want ErrDenied", err)
	}
}

func TestSealedAndUnreachable(t *testing.T) {
	srv := vaultpeer.Start(t)
	ctx := context.Background()
	s := newStore(t, srv, vaultpeer.RootToken)
	if err := s.Set(ctx, "conn", "api_key", canary); err != nil {
		t.Fatal(err)
	}
	if err := srv.Seal(); err != nil {
		t.Fatal(err)
	}
	for _, op := range []func() error{
		func() error { _, err := s.Get(ctx, "conn", "api_key"); return err },
		func() error { return s.Set(ctx, "conn", "api_key", canary) },
	} {
		err := op()
		if !errors.Is(err, secretstore.ErrUnavailable) || !strings.Contains(err.Error(), "is sealed") || !strings.Contains(err.Error(), srv.Addr) {
			t.Fatalf("sealed: %v; want ErrUnavailable naming the address and the seal", err)
		}
		noCanary(t, err)
	}
	// Unsealed, the same store works again: nothing to repair, and the
	// refused write changed nothing.
	if err := srv.Unseal(); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "conn", "api_key"); err != nil || v != canary {
		t.Fatalf("after unseal: Get = %q, %v; want the value stored before the seal", v, err)
	}
	srv.Stop()
	_, err := s.Get(ctx, "conn", "api_key")
	if !errors.Is(err, secretstore.ErrUnavailable) || !strings.Contains(err.Error(), "VAULT_ADDR") || strings.Count(err.Error(), "\n") > 0 {
		t.Fatalf("unreachable: %v; want one line, ErrUnavailable naming VAULT_ADDR", err)
	}
}

func TestTokenSources(t *testing.T) {
	if _, err := New(Config{Getenv: envOf(nil)}); !errors.Is(err, secretstore.ErrUnavailable) || !strings.Contains(err.Error(), "VAULT_ADDR") {
		t.Fatalf("no VAULT_ADDR: %v", err)
	}
	if _, err := New(Config{Getenv: envOf(map[string]string{"VAULT_ADDR": "vault:8200"})}); err == nil {
		t.Fatal("VAULT_ADDR without a scheme accepted")
	}
	srv := vaultpeer.Start(t)
	ctx := context.Background()

	// No token anywhere: ErrDenied saying how to get one.
	s, err := New(Config{Getenv: envOf(map[string]string{"VAULT_ADDR": srv.Addr, "HOME": t.TempDir()})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "conn", "api_key"); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "no Vault token") {
		t.Fatalf("no token: %v", err)
	}

	// The vault CLI's token file.
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte(vaultpeer.RootToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = New(Config{Getenv: envOf(map[string]string{"VAULT_ADDR": srv.Addr, "HOME": home})})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "conn", "api_key", "v"); err != nil {
		t.Fatalf("with ~/.vault-token: %v", err)
	}
}

func TestAppRoleLogin(t *testing.T) {
	srv := vaultpeer.Start(t)
	if err := srv.PutPolicy("connctl-admin", adminPolicy); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		in           map[string]any
	}{
		{http.MethodPost, "sys/auth/approle", map[string]any{"type": "approle"}},
		{http.MethodPost, "auth/approle/role/worker", map[string]any{"token_policies": []string{"connctl-admin"}}},
	} {
		if err := srv.API(c.method, c.path, c.in, nil); err != nil {
			t.Fatal(err)
		}
	}
	var role, secret struct {
		Data struct {
			RoleID   string `json:"role_id"`
			SecretID string `json:"secret_id"`
		} `json:"data"`
	}
	if err := srv.API(http.MethodGet, "auth/approle/role/worker/role-id", nil, &role); err != nil {
		t.Fatal(err)
	}
	if err := srv.API(http.MethodPost, "auth/approle/role/worker/secret-id", nil, &secret); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VAULT_ADDR": srv.Addr, "HOME": t.TempDir(), "VAULT_ROLE_ID": role.Data.RoleID, "VAULT_SECRET_ID": secret.Data.SecretID}
	s, err := New(Config{Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Set(ctx, "conn", "api_key", "v1"); err != nil {
		t.Fatalf("Set after AppRole login: %v", err)
	}
	if got, err := s.Get(ctx, "conn", "api_key"); err != nil || got != "v1" {
		t.Fatalf("Get after AppRole login = %q, %v", got, err)
	}
	env["VAULT_SECRET_ID"] = "wrong-" + canary
	s, err = New(Config{Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "conn", "api_key")
	if err == nil {
		t.Fatal("a wrong secret id logged in")
	}
	noCanary(t, err)
}

// adminPolicy is the admin policy of docs/vault.md.
const adminPolicy = `
path "secret/data/connctl/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/connctl/*" {
  capabilities = ["list", "read", "delete"]
}
`

// The admin policy of docs/vault.md is all connctl needs.
func TestConformanceWithAdminPolicy(t *testing.T) {
	srv := vaultpeer.Start(t)
	if err := srv.PutPolicy("connctl-admin", adminPolicy); err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Token("connctl-admin")
	if err != nil {
		t.Fatal(err)
	}
	secretstoretest.RunConformance(t, newStore(t, srv, tok))
}
