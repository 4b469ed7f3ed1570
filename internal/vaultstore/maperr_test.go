package vaultstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/connctl/connctl/internal/secretstore"
)

// The mapping of Vault's answers to errors, on error values alone (no
// server: the real-server tests are in vaultstore_test.go).
func TestMapErr(t *testing.T) {
	s, err := New(Config{Getenv: envOf(map[string]string{"VAULT_ADDR": "https://vault.example:8200", "VAULT_TOKEN": "t"})})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.itemPath("c1", "api_key")
	if err != nil || p != "connctl/c1/api_key" {
		t.Fatalf("itemPath = %q, %v", p, err)
	}
	refused := &url.Error{Op: "Get", URL: "https://vault.example:8200/v1/secret/data/connctl/c1/api_key",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	for _, c := range []struct {
		name string
		err  error
		want error
		msg  string
		hint string
	}{
		{"sealed", &api.ResponseError{StatusCode: 503, Errors: []string{"Vault is sealed"}}, secretstore.ErrUnavailable,
			"Vault at https://vault.example:8200 (VAULT_ADDR) is sealed: cannot read secret/data/connctl/c1/api_key", "vault operator unseal"},
		{"denied", &api.ResponseError{StatusCode: 403, Errors: []string{"1 error occurred:\n\t* permission denied\n\n"}}, ErrDenied,
			"Vault at https://vault.example:8200 denied the token permission to read secret/data/connctl/c1/api_key", `lacks "read" on secret/data/connctl/c1/api_key`},
		{"no mount", &api.ResponseError{StatusCode: 404, Errors: []string{"no handler for route \"secret/data/connctl/c1/api_key\". route entry not found."}}, secretstore.ErrUnavailable,
			"Vault at https://vault.example:8200 has no KV v2 mount at secret/", "vault secrets enable -path=secret kv-v2"},
		{"down", refused, secretstore.ErrUnavailable,
			"Vault at https://vault.example:8200 (VAULT_ADDR) is unreachable: connect: connection refused", "check VAULT_ADDR"},
		{"deadline", fmt.Errorf("read: %w", context.DeadlineExceeded), secretstore.ErrTimeout, "did not answer in time", "vault status"},
	} {
		got := s.mapErr(c.err, "read", p)
		if !errors.Is(got, c.want) || !strings.Contains(got.Error(), c.msg) || strings.Contains(got.Error(), "\n") {
			t.Errorf("%s: %q; want one line containing %q, wrapping %v", c.name, got, c.msg, c.want)
		}
		var h interface{ Hint() string }
		if !errors.As(got, &h) || !strings.Contains(h.Hint(), c.hint) {
			t.Errorf("%s: no hint containing %q in %v", c.name, c.hint, got)
		}
	}
	if got := s.mapErr(&api.ResponseError{StatusCode: 400, Errors: []string{"1 error occurred:\n\t* bad\n\n"}}, "write", p); strings.Contains(got.Error(), "\n") {
		t.Errorf("Vault's multi-line error kept its lines: %q", got)
	}
	cas := &api.ResponseError{StatusCode: 400, Errors: []string{"check-and-set parameter did not match the current version"}}
	if !isCASMismatch(fmt.Errorf("put: %w", cas)) {
		t.Error("a check-and-set mismatch is not recognised")
	}
}

// TestAddrPrecedence: VAULT_ADDR wins over Config.Addr (the vault.addr
// setting), which is used when VAULT_ADDR is not set.
func TestAddrPrecedence(t *testing.T) {
	for _, tc := range []struct{ env, cfg, want string }{
		{"http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:1"},
		{"", "http://127.0.0.1:2", "http://127.0.0.1:2"},
	} {
		s, err := New(Config{Addr: tc.cfg, Getenv: func(k string) string {
			if k == "VAULT_ADDR" {
				return tc.env
			}
			return ""
		}})
		if err != nil {
			t.Fatal(err)
		}
		if s.Address() != tc.want {
			t.Errorf("VAULT_ADDR=%q vault.addr=%q: address %s, want %s", tc.env, tc.cfg, s.Address(), tc.want)
		}
	}
	_, err := New(Config{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "nor vault.addr") {
		t.Errorf("neither set: %v", err)
	}
}
