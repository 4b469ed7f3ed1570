package oidcprovider_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/connctl/connctl/internal/testpeer/browsersim"
	"github.com/connctl/connctl/internal/testpeer/oidcprovider"
)

func TestDirHonoursEnvAndSaysHowToInstall(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONNCTL_TEST_TOOLS", dir)
	t.Setenv(oidcprovider.DirEnv, "")
	if _, err := oidcprovider.Dir(); !errors.Is(err, oidcprovider.ErrNotBuilt) || !strings.Contains(err.Error(), "scripts/build-test-tools.sh") {
		t.Fatalf("Dir() with an empty cache: %v", err)
	}
	inst := filepath.Join(dir, "oidc-provider-"+oidcprovider.Version)
	if err := os.MkdirAll(inst, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := oidcprovider.Dir(); !errors.Is(err, oidcprovider.ErrNotBuilt) {
		t.Fatalf("Dir() with a half install (no .installed): %v", err)
	}
	if err := os.WriteFile(filepath.Join(inst, ".installed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := oidcprovider.Dir(); err != nil && !strings.Contains(err.Error(), "node") || err == nil && got != inst {
		t.Fatalf("Dir() = %q, %v; want %q", got, err, inst)
	}
	t.Setenv(oidcprovider.DirEnv, filepath.Join(dir, "nope"))
	if _, err := oidcprovider.Dir(); !errors.Is(err, oidcprovider.ErrNotBuilt) {
		t.Fatalf("Dir() with a bad %s: %v", oidcprovider.DirEnv, err)
	}
}

// authorize walks the provider's own login and consent pages with
// browsersim and exchanges the code, as a native app would.
func authorize(t *testing.T, srv *oidcprovider.Server, extra ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	codes := make(chan string, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("iss") != srv.Issuer {
			t.Errorf("callback iss = %q, want %q (RFC 9207)", r.URL.Query().Get("iss"), srv.Issuer)
		}
		codes <- r.URL.Query().Get("code")
	}))
	defer cb.Close()
	oc := &oauth2.Config{ClientID: srv.ClientID, RedirectURL: cb.URL + "/callback",
		Endpoint: oauth2.Endpoint{AuthURL: srv.Issuer + "/auth", TokenURL: srv.Issuer + "/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "offline_access", "email"}}
	v := oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}, extra...)
	res, err := browsersim.Follow(t.Context(), oc.AuthCodeURL("st4te", opts...), browsersim.Login("bob@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pages: %v", res.Pages)
	tok, err := oc.Exchange(t.Context(), <-codes, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := tok.Extra("id_token").(string); id == "" {
		t.Error("no id_token")
	}
	return tok
}

func TestOfflineAccessNeedsPromptConsentAndRefreshRotates(t *testing.T) {
	srv := oidcprovider.Start(t, oidcprovider.Options{})
	ctx := t.Context()

	if tok := authorize(t, srv); tok.RefreshToken != "" {
		t.Errorf("offline_access without prompt=consent gave a refresh token; OpenID Connect Core §11 says it should not")
	}
	tok := authorize(t, srv, oauth2.SetAuthURLParam("prompt", "consent"))
	if tok.RefreshToken == "" {
		t.Fatal("offline_access with prompt=consent gave no refresh token")
	}
	if in, err := srv.Inspect(ctx, tok.AccessToken); err != nil || !in.Active || in.Subject != "bob@example.com" {
		t.Fatalf("introspect access token: %+v %v", in, err)
	}
	oc := &oauth2.Config{ClientID: srv.ClientID, Endpoint: oauth2.Endpoint{TokenURL: srv.Issuer + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	next, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Fatal("the refresh token was not rotated")
	}
	if active, err := srv.Introspect(ctx, tok.RefreshToken); err != nil || active {
		t.Fatalf("the rotated-out refresh token: active=%v %v", active, err)
	}
	if srv.Events("grant.success") < 2 {
		t.Errorf("grant.success events: %d\n%s", srv.Events("grant.success"), srv.LogTail(20))
	}
}

func TestDenyIsAccessDenied(t *testing.T) {
	srv := oidcprovider.Start(t, oidcprovider.Options{})
	got := make(chan string, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Query().Get("error") }))
	defer cb.Close()
	oc := &oauth2.Config{ClientID: srv.ClientID, RedirectURL: cb.URL + "/callback",
		Endpoint: oauth2.Endpoint{AuthURL: srv.Issuer + "/auth"}, Scopes: []string{"openid"}}
	u := oc.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	if _, err := browsersim.Follow(t.Context(), u, browsersim.Deny()); err != nil {
		t.Fatal(err)
	}
	if e := <-got; e != "access_denied" {
		t.Fatalf("callback error = %q, want access_denied", e)
	}
}
