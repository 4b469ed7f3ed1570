package oauthflow

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
)

// Issue #11: with openid in the scopes a nonce is sent, and an id_token that
// comes back is checked (signature against the JWKS, iss, aud, exp, nonce)
// before anything is stored; its sub and email come back in the Result.
func TestIDTokenIsValidated(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: oidc.RS256}}}
	jwks := httptest.NewServer(op)
	t.Cleanup(jwks.Close)
	op.SetIssuer(jwks.URL)
	iss := jwks.URL
	exp := time.Now().Add(time.Hour).Unix()

	for _, tc := range []struct {
		name   string
		claims func(nonce string) map[string]any
		signer *rsa.PrivateKey
		err    string
	}{
		{"valid", func(n string) map[string]any {
			return map[string]any{"iss": iss, "aud": "cid", "sub": "u-1", "email": "alice@example.com", "exp": exp, "iat": time.Now().Unix(), "nonce": n}
		}, key, ""},
		{"wrong nonce", func(n string) map[string]any {
			return map[string]any{"iss": iss, "aud": "cid", "sub": "u-1", "exp": exp, "nonce": "not-" + n}
		}, key, "does not carry the nonce connctl sent"},
		{"no nonce", func(n string) map[string]any {
			return map[string]any{"iss": iss, "aud": "cid", "sub": "u-1", "exp": exp}
		}, key, "does not carry the nonce"},
		{"wrong audience", func(n string) map[string]any {
			return map[string]any{"iss": iss, "aud": "someone-else", "sub": "u-1", "exp": exp, "nonce": n}
		}, key, "is not valid (expected audience"},
		{"wrong issuer", func(n string) map[string]any {
			return map[string]any{"iss": "https://evil.example", "aud": "cid", "sub": "u-1", "exp": exp, "nonce": n}
		}, key, "is not valid (id token issued by a different provider"},
		{"expired", func(n string) map[string]any {
			return map[string]any{"iss": iss, "aud": "cid", "sub": "u-1", "exp": time.Now().Add(-time.Hour).Unix(), "nonce": n}
		}, key, "is not valid (token is expired"},
		{"bad signature", func(n string) map[string]any {
			return map[string]any{"iss": iss, "aud": "cid", "sub": "u-1", "exp": exp, "nonce": n}
		}, other, "is not valid (failed to verify signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAS(t)
			var nonce string
			f.tokenReply = func(w http.ResponseWriter, r *http.Request) {
				b, _ := json.Marshal(tc.claims(nonce))
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "AT-CANARY", "token_type": "Bearer", "expires_in": 60,
					"id_token": oidctest.SignIDToken(tc.signer, "k1", oidc.RS256, string(b))})
			}
			cfg := baseConfig(f, func(_ context.Context, u string) error {
				pu, _ := url.Parse(u)
				nonce = pu.Query().Get("nonce")
				go func() {
					if resp, err := callback(u, func(q url.Values) { q.Set("iss", iss) }); err == nil {
						resp.Body.Close()
					}
				}()
				return nil
			})
			cfg.Issuer, cfg.JWKSURL, cfg.IDTokenAlgs = iss, jwks.URL+"/keys", []string{"RS256", "none", "HS256"}
			res, err := Run(context.Background(), cfg)
			if len(nonce) < 20 {
				t.Fatalf("nonce %q: an OpenID request must carry a random nonce", nonce)
			}
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if res.IDToken == nil || res.IDToken.Subject != "u-1" || res.IDToken.Email != "alice@example.com" {
					t.Fatalf("IDToken = %+v", res.IDToken)
				}
				return
			}
			t.Log(err)
			var fe *Error
			if !errors.As(err, &fe) || fe.Kind != "id_token" || !strings.Contains(err.Error(), tc.err) || !strings.HasSuffix(err.Error(), "nothing was stored") {
				t.Fatalf("got %v, want an id_token error with %q", err, tc.err)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
}

// Without a discovered JWKS the id_token cannot be checked and is not used;
// without openid in the scopes no nonce is sent.
func TestIDTokenUncheckableIsIgnoredAndNoNonceWithoutOpenID(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	f.tokenReply = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"AT-CANARY","token_type":"Bearer","id_token":"not.a.jwt"}`)
	}
	var nonce string
	cfg := baseConfig(f, func(ctx context.Context, u string) error {
		pu, _ := url.Parse(u)
		nonce = pu.Query().Get("nonce")
		return approve(ctx, u)
	})
	cfg.Scopes = []string{"api"}
	res, err := Run(context.Background(), cfg)
	if err != nil || res.IDToken != nil || nonce != "" {
		t.Fatalf("got %+v, %v, nonce %q", res, err, nonce)
	}
}
