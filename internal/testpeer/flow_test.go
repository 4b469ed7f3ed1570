package testpeer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connctl/connctl/internal/testpeer/browsersim"
	"github.com/connctl/connctl/internal/testpeer/hydra"
)

// These tests prove the peers together: Hydra, its login and consent app, and
// both browsers, in the authorization code flow with PKCE that connctl runs
// (RFC 8252 loopback redirect, RFC 7636 S256), then refresh with rotation,
// introspection and revocation.

type browseFunc func(ctx context.Context, authURL string, opts ...browsersim.Option) (*browsersim.Result, error)

// callbackServer stands in for connctl's loopback server.
type callbackServer struct {
	URL string // http://127.0.0.1:<port>/callback
	got chan url.Values
}

func startCallback(t *testing.T) *callbackServer {
	t.Helper()
	cb := &callbackServer{got: make(chan url.Values, 4)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		cb.got <- r.URL.Query()
		if e := r.URL.Query().Get("error"); e != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "connctl: authorization failed: %s", e)
			return
		}
		fmt.Fprint(w, "connctl: test is authorized - you can close this tab")
	}))
	t.Cleanup(srv.Close)
	cb.URL = srv.URL + "/callback"
	return cb
}

func (cb *callbackServer) wait(t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-cb.got:
		return q
	case <-time.After(5 * time.Second):
		t.Fatal("the callback was never loaded")
		return nil
	}
}

type flow struct {
	srv      *hydra.Server
	cfg      *oauth2.Config
	cb       *callbackServer
	clientID string
}

func newFlow(t *testing.T, srv *hydra.Server) *flow {
	t.Helper()
	id, _, err := srv.CreateClient(t.Context(), hydra.ClientOptions{Public: true})
	if err != nil {
		t.Fatal(err)
	}
	cb := startCallback(t)
	return &flow{srv: srv, cb: cb, clientID: id, cfg: &oauth2.Config{
		ClientID: id,
		Endpoint: oauth2.Endpoint{
			AuthURL:   srv.AuthURL(),
			TokenURL:  srv.TokenURL(),
			AuthStyle: oauth2.AuthStyleInParams, // a public client: client_id in the body, no secret
		},
		// Registered as http://127.0.0.1/callback; Hydra accepts any loopback port.
		RedirectURL: cb.URL,
		Scopes:      []string{"openid", "offline_access", "email"},
	}}
}

// authorize runs the browser part and the code exchange.
func (f *flow) authorize(t *testing.T, browse browseFunc, opts ...browsersim.Option) (*oauth2.Token, *browsersim.Result, url.Values) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	verifier := oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()
	authURL := f.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	if strings.Contains(authURL, verifier) || !strings.Contains(authURL, "code_challenge_method=S256") {
		t.Fatalf("authorization URL carries the verifier or no S256: %s", authURL)
	}
	t0 := time.Now()
	res, err := browse(ctx, authURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("browser done in %v via %v", time.Since(t0).Round(time.Millisecond), res.Pages)
	q := f.cb.wait(t)
	if q.Get("state") != state {
		t.Fatalf("state %q, want %q", q.Get("state"), state)
	}
	t.Logf("callback parameters: %v (iss present: %v)", keys(q), q.Has("iss"))
	if q.Has("iss") && q.Get("iss") != f.srv.Issuer {
		t.Errorf("iss %q, want %q", q.Get("iss"), f.srv.Issuer)
	}
	if q.Has("error") {
		return nil, res, q
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "is authorized") {
		t.Errorf("callback page: %d %q", res.StatusCode, res.Body)
	}
	tok, err := f.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("exchange gave no access or refresh token: %+v", tok.Extra("scope"))
	}
	return tok, res, q
}

// refresh uses rt once, as connctl does: a token with only a refresh token.
func (f *flow) refresh(ctx context.Context, rt string) (*oauth2.Token, error) {
	return f.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
}

func (f *flow) revoke(t *testing.T, token, hint string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {f.clientID}}
	resp, err := http.PostForm(f.srv.RevocationURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %s", resp.Status)
	}
}

func active(t *testing.T, srv *hydra.Server, token string) bool {
	t.Helper()
	a, err := srv.Introspect(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func keys(q url.Values) []string {
	var ks []string
	for k := range q {
		ks = append(ks, k)
	}
	return ks
}

// idTokenEmail returns the email claim of the token's id_token (unverified:
// the test only reads what the consent app put there).
func idTokenEmail(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("no id_token in the token response")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Email
}

func testFullFlow(t *testing.T, browse browseFunc) {
	t0 := time.Now()
	srv := hydra.Start(t, hydra.Options{AccessTokenTTL: "3s"})
	t.Logf("hydra ready in %v", time.Since(t0).Round(time.Millisecond))
	f := newFlow(t, srv)
	ctx := t.Context()

	tok, _, cbq := f.authorize(t, browse)
	if got := idTokenEmail(t, tok); got != hydra.DefaultSubject {
		t.Errorf("id_token email %q", got)
	}
	if ttl := time.Until(tok.Expiry); ttl > 4*time.Second || ttl <= 0 {
		t.Errorf("access token lifetime %v, want about 3s (TTL_ACCESS_TOKEN)", ttl)
	}
	in, err := srv.Inspect(ctx, tok.AccessToken)
	if err != nil || !in.Active || in.Subject != hydra.DefaultSubject || in.ClientID != f.clientID {
		t.Fatalf("introspect access token: %+v %v", in, err)
	}

	// Refresh twice: each answer carries a new refresh token, the old one dies.
	rts := []string{tok.RefreshToken}
	var last *oauth2.Token
	for i := range 2 {
		nt, err := f.refresh(ctx, rts[len(rts)-1])
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		if nt.RefreshToken == "" || nt.RefreshToken == rts[len(rts)-1] {
			t.Fatalf("refresh %d did not rotate the refresh token", i+1)
		}
		if nt.AccessToken == tok.AccessToken {
			t.Fatalf("refresh %d returned the same access token", i+1)
		}
		rts = append(rts, nt.RefreshToken)
		last = nt
	}
	for i, rt := range rts[:len(rts)-1] {
		if active(t, srv, rt) {
			t.Errorf("refresh token %d still active after rotation", i)
		}
	}
	if !active(t, srv, last.RefreshToken) || !active(t, srv, last.AccessToken) {
		t.Fatal("newest refresh or access token inactive")
	}

	// Revoke the refresh token (RFC 7009, a public client names itself).
	f.revoke(t, last.RefreshToken, "refresh_token")
	if active(t, srv, last.RefreshToken) {
		t.Error("refresh token active after revocation")
	}
	t.Logf("access token active after its refresh token was revoked: %v", active(t, srv, last.AccessToken))
	var rerr *oauth2.RetrieveError
	if _, err := f.refresh(ctx, last.RefreshToken); !errors.As(err, &rerr) || rerr.ErrorCode != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %v", err)
	}

	// Hydra's log is a file the tests leave: it must hold no secret.
	log, err := os.ReadFile(srv.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	secrets := append([]string{cbq.Get("code"), tok.AccessToken, last.AccessToken}, rts...)
	for i, s := range secrets {
		if strings.Contains(string(log), s) {
			t.Errorf("hydra's log holds secret %d", i)
		}
	}
}

func TestFullFlowFollow(t *testing.T) {
	testFullFlow(t, browsersim.Follow)
}

func TestFullFlowChromium(t *testing.T) {
	browsersim.RequireChromium(t)
	testFullFlow(t, browsersim.Chromium)
}

// TestRefreshTokenReuse shows what connctl must guard against: presenting a
// refresh token that was already rotated is refused and revokes the whole
// family, the newest refresh token included.
func TestRefreshTokenReuse(t *testing.T) {
	srv := hydra.Start(t, hydra.Options{})
	f := newFlow(t, srv)
	ctx := t.Context()
	tok, _, _ := f.authorize(t, browsersim.Follow)
	nt, err := f.refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	var rerr *oauth2.RetrieveError
	if _, err := f.refresh(ctx, tok.RefreshToken); !errors.As(err, &rerr) || rerr.ErrorCode != "invalid_grant" {
		t.Fatalf("reusing a rotated refresh token: %v", err)
	}
	if active(t, srv, nt.RefreshToken) {
		t.Error("the newest refresh token survived reuse of its predecessor")
	}
	if active(t, srv, nt.AccessToken) {
		t.Error("the newest access token survived reuse of the refresh token")
	}
	if _, err := f.refresh(ctx, nt.RefreshToken); err == nil {
		t.Error("the newest refresh token still refreshes after reuse")
	}
}

func TestDenyAndSubject(t *testing.T) {
	srv := hydra.Start(t, hydra.Options{})
	f := newFlow(t, srv)

	// The user clicks Deny.
	_, res, q := f.authorize(t, browsersim.Follow, browsersim.Deny())
	if q.Get("error") != "access_denied" || q.Has("code") {
		t.Errorf("deny button: callback got %v", keys(q))
	}
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("deny button: callback page %d", res.StatusCode)
	}

	// The app refuses whatever is clicked.
	srv.SetDeny(true)
	if _, _, q := f.authorize(t, browsersim.Follow); q.Get("error") != "access_denied" {
		t.Errorf("SetDeny: callback got %v", keys(q))
	}
	srv.SetDeny(false)

	// Another admin signs in.
	srv.SetSubject("bob@example.com")
	tok, _, _ := f.authorize(t, browsersim.Follow)
	if got := idTokenEmail(t, tok); got != "bob@example.com" {
		t.Errorf("id_token email %q after SetSubject", got)
	}
	in, err := srv.Inspect(t.Context(), tok.AccessToken)
	if err != nil || in.Subject != "bob@example.com" {
		t.Errorf("introspect after SetSubject: %+v %v", in, err)
	}
}
