package authorization

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/jobrunner"
)

// A refresh the provider could not serve (unreachable, a 5xx or
// server_error, rate limiting) is a *CallError of that kind, which status
// shows as unreachable or rate_limited and a job run records as network,
// source_error or rate_limit; a refusal (invalid_client) has no kind
// (misconfigured). None of them touches the connection's state or its
// refresh token. (A CI run saw Hydra answer server_error under load, and
// status called the connection misconfigured.)
func TestRefreshFailureKinds(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	up, _ := url.Parse(p.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(up)
	var answer atomic.Value // func(http.ResponseWriter) or nil: pass through
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, _ := answer.Load().(func(http.ResponseWriter)); f != nil && r.URL.Path == "/token" {
			f(w)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	s, mem := newService(t)
	create(t, s, "oauth2", "idp", map[string]string{"client_id": "cid", "auth_url": p.srv.URL + "/authorize", "token_url": front.URL + "/token"}, map[string]string{"client_secret": "SECRET-CANARY"})
	c, err := s.Authorize(context.Background(), "idp", Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := mem.Get(context.Background(), c.ID, "oauth_refresh_token")
	jsonErr := func(status int, code string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"` + code + `","error_description":"The authorization server encountered an unexpected condition"}`))
		}
	}
	for _, tc := range []struct {
		name   string
		answer func(http.ResponseWriter)
		kind   string
		reason string
	}{
		{"server_error", jsonErr(500, "server_error"), "server", jobrunner.ReasonSourceError},
		{"temporarily_unavailable with 400", jsonErr(400, "temporarily_unavailable"), "server", jobrunner.ReasonSourceError},
		{"503 without a body", func(w http.ResponseWriter) { w.WriteHeader(503) }, "server", jobrunner.ReasonSourceError},
		{"429", func(w http.ResponseWriter) { w.WriteHeader(429) }, "rate_limit", jobrunner.ReasonRateLimit},
		{"invalid_client", jsonErr(401, "invalid_client"), "", jobrunner.ReasonAuth},
		{"unreachable", nil, "network", jobrunner.ReasonNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer.Store(tc.answer)
			svc := s
			if tc.answer == nil { // the token endpoint's port closed
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				closed := "http://" + l.Addr().String()
				l.Close()
				svc = &Service{Mgr: s.Mgr, HTTP: &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(closed) }}}, Opener: s.Opener, Stderr: s.Stderr, LockDir: s.LockDir}
			}
			_, err := svc.AccessToken(context.Background(), "idp", true)
			var ce *CallError
			if !errors.As(err, &ce) || ce.Kind != tc.kind || !strings.HasPrefix(err.Error(), `refresh the token of "idp": `) || strings.Contains(err.Error(), "CANARY") {
				t.Fatalf("err = %#v (%v), want a CallError of kind %q", err, err, tc.kind)
			}
			req := jobrunner.Request{Token: func(context.Context, bool) (string, error) { return "", err }}
			_, ferr := req.AccessToken(context.Background(), true)
			var f *jobrunner.Failure
			if !errors.As(ferr, &f) || f.Reason != tc.reason {
				t.Fatalf("a job run's failure = %v, want reason %s", ferr, tc.reason)
			}
			c, _ := s.Mgr.Config.Find("idp")
			if c.Status != configstore.StatusAuthorized {
				t.Fatalf("status %s after a failed refresh", c.Status)
			}
			if v, _ := mem.Get(context.Background(), c.ID, "oauth_refresh_token"); v != rt {
				t.Fatal("the refresh token changed")
			}
		})
	}
}
