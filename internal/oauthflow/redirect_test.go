package oauthflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile token endpoints: every request that carries a client secret, a
// code, a PKCE verifier or a refresh token is refused a redirect, whether
// it points to another origin or the same one, and the target hears
// nothing.

// sink is a server that must never be reached: it records every request.
type sink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // method, path, query, headers and body of each request
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// serve records the request and answers as a token endpoint rejecting the
// grant would, the answer that used to flip a connection to
// needs_reauthorization.
func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.seen = append(s.seen, fmt.Sprintf("%s %s?%s %v %s", r.Method, r.URL.Path, r.URL.RawQuery, r.Header, b))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
}

func (s *sink) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// redirector answers every request with status and a Location at target,
// except requests to /elsewhere, which go to same (the same-origin target).
func redirector(t *testing.T, status int, target func() string, same *sink) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" && same != nil {
			same.serve(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", target())
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func assertRefused(t *testing.T, err error, from, to string, s *sink) {
	t.Helper()
	if err == nil {
		t.Fatal("the redirect was followed: no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, from) || !strings.Contains(msg, to) || !strings.Contains(msg, "never follows a redirect") || strings.Contains(msg, "\n") {
		t.Fatalf("error %q should be one line naming %s and %s", msg, from, to)
	}
	for _, canary := range []string{"SECRET-CANARY", "RT-CANARY", "AT-CANARY", "the-code", "verifier"} {
		if strings.Contains(msg, canary) {
			t.Fatalf("error %q contains %s", msg, canary)
		}
	}
	if got := s.requests(); len(got) != 0 {
		t.Fatalf("the redirect target received %d requests: %q", len(got), got)
	}
}

func TestTokenExchangeNeverFollowsARedirect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		sameOrigin bool
	}{
		{"307 to another origin", http.StatusTemporaryRedirect, false},
		{"308 to another origin", http.StatusPermanentRedirect, false},
		{"302 to another origin", http.StatusFound, false},
		{"307 to the same origin", http.StatusTemporaryRedirect, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target, same := newSink(t), &sink{}
			var self *httptest.Server
			self = redirector(t, tc.status, func() string {
				if tc.sameOrigin {
					return self.URL + "/elsewhere"
				}
				return target.srv.URL + "/token"
			}, same)
			to := target.srv.URL
			if tc.sameOrigin {
				to, target = self.URL, same
			}
			f := &fakeAS{srv: self}
			cfg := baseConfig(f, approve)
			cfg.ClientSecret = "SECRET-CANARY"
			_, err := Run(context.Background(), cfg)
			assertRefused(t, err, self.URL, to, target)
		})
	}
}

func TestTokenRefreshNeverFollowsARedirect(t *testing.T) {
	t.Parallel()
	target := newSink(t)
	self := redirector(t, http.StatusTemporaryRedirect, func() string { return target.srv.URL + "/token" }, nil)
	for _, style := range []AuthStyle{AuthInParams, AuthInHeader} {
		_, err := Refresh(context.Background(), Client{ID: "cid", Secret: "SECRET-CANARY", TokenURL: self.URL + "/token", AuthStyle: style}, "RT-CANARY")
		assertRefused(t, err, self.URL, target.srv.URL, target)
		if IsInvalidGrant(err) {
			t.Fatal("a refused redirect reads as invalid_grant: the connection would be flipped to needs_reauthorization")
		}
		if d := DescribeTokenError(err); !strings.Contains(d, target.srv.URL) {
			t.Fatalf("DescribeTokenError = %q", d)
		}
	}
}

func TestRevocationNeverFollowsARedirect(t *testing.T) {
	t.Parallel()
	for _, style := range []RevokeStyle{RevokeRFC7009, RevokeQuery, RevokeDelete, RevokeClientInForm} {
		t.Run(string(style), func(t *testing.T) {
			t.Parallel()
			target := newSink(t)
			self := redirector(t, http.StatusPermanentRedirect, func() string { return target.srv.URL + "/revoke" }, nil)
			err := Revoke(context.Background(), Client{ID: "cid", Secret: "SECRET-CANARY", AuthStyle: AuthInHeader}, self.URL+"/revoke", style, "RT-CANARY", "refresh_token")
			assertRefused(t, err, self.URL, target.srv.URL, target)
		})
	}
}

func TestStalledTokenEndpointIsNamed(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	release := make(chan struct{})
	defer close(release)
	f.tokenReply = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	cfg := baseConfig(f, approve)
	cfg.ExchangeTimeout = 200 * time.Millisecond
	_, err := Run(context.Background(), cfg)
	want := "the token endpoint " + f.srv.URL + "/token did not answer within 200ms"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "browser") {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// discoveryServer serves an OpenID discovery document made by doc from the
// server's own URL.
func discoveryServer(t *testing.T, doc func(self string) map[string]any) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc(srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscoveryRefusesUnsafeEndpointsAndForeignIssuer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(self string, d map[string]any)
		want string
	}{
		{"token endpoint on plain http, not loopback", func(_ string, d map[string]any) { d["token_endpoint"] = "http://evil.example/token" },
			"the token endpoint http://evil.example:80 uses plain http"},
		{"authorization endpoint on plain http, not loopback", func(_ string, d map[string]any) { d["authorization_endpoint"] = "http://10.1.2.3/auth" },
			"the authorization endpoint http://10.1.2.3:80 uses plain http"},
		{"revocation endpoint on plain http, not loopback", func(_ string, d map[string]any) { d["revocation_endpoint"] = "http://evil.example/revoke" },
			"the revocation endpoint http://evil.example:80 uses plain http"},
		{"userinfo endpoint not a URL", func(_ string, d map[string]any) { d["userinfo_endpoint"] = "javascript:alert(1)" },
			"the userinfo endpoint \"javascript:alert(1)\" is not an absolute http(s) URL"},
		{"introspection endpoint with credentials", func(_ string, d map[string]any) { d["introspection_endpoint"] = "https://u:p@idp.example/i" },
			"the introspection endpoint of idp.example contains credentials"},
		{"issuer of another server", func(_ string, d map[string]any) { d["issuer"] = "https://evil.example" },
			`names issuer "https://evil.example"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := discoveryServer(t, func(self string) map[string]any {
				d := map[string]any{"issuer": self, "authorization_endpoint": self + "/auth", "token_endpoint": self + "/token"}
				tc.edit(self, d)
				return d
			})
			md, err := Discover(context.Background(), nil, srv.URL)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Discover = %+v, %v; want an error with %q", md, err, tc.want)
			}
		})
	}
	// Loopback http endpoints (test servers) stay acceptable.
	srv := discoveryServer(t, func(self string) map[string]any {
		return map[string]any{"issuer": self, "authorization_endpoint": "http://localhost:1/auth", "token_endpoint": self + "/token", "revocation_endpoint": "http://[::1]:2/r"}
	})
	if _, err := Discover(context.Background(), nil, srv.URL); err != nil {
		t.Fatal(err)
	}
}
