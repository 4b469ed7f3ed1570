package authorization

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
)

// recorder is a server that must never be reached by a credential.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rc := &recorder{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.seen = append(rc.seen, fmt.Sprintf("%s %s %v %s", r.Method, r.URL, r.Header, b))
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *recorder) empty(t *testing.T) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.seen) != 0 {
		t.Fatalf("the redirect target received %d requests: %q", len(rc.seen), rc.seen)
	}
}

// A token endpoint that turns hostile after sign-in (307 to another origin)
// gets no refresh token through, and its target's invalid_grant cannot flip
// the connection to needs_reauthorization.
func TestRefreshRedirectedElsewhereLeavesTheConnectionAlone(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	target := newRecorder(t)
	var hostile atomic.Bool
	up, _ := url.Parse(p.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(up)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostile.Load() {
			http.Redirect(w, r, target.srv.URL+"/token", http.StatusTemporaryRedirect)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	s, _ := newService(t)
	create(t, s, "oauth2", "idp", map[string]string{"client_id": "cid", "auth_url": p.srv.URL + "/authorize", "token_url": front.URL + "/token"}, map[string]string{"client_secret": "SECRET-CANARY"})
	if _, err := s.Authorize(context.Background(), "idp", Options{Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	hostile.Store(true)
	_, err := s.AccessToken(context.Background(), "idp", true)
	if err == nil || !strings.Contains(err.Error(), front.URL) || !strings.Contains(err.Error(), target.srv.URL) || !strings.Contains(err.Error(), "never follows a redirect") {
		t.Fatalf("got %v", err)
	}
	target.empty(t)
	c, _ := s.Mgr.Config.Find("idp")
	if c.Status == configstore.StatusNeedsReauthorization {
		t.Fatalf("status %s: a redirect's target decided the connection's state", c.Status)
	}
}

// HubSpot's introspection carries the client secret and the token in its
// form: no redirect is followed, to another origin or the same one.
func TestIntrospectionNeverFollowsARedirect(t *testing.T) {
	t.Parallel()
	for _, same := range []bool{false, true} {
		target := newRecorder(t)
		var self *httptest.Server
		self = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/elsewhere" {
				target.srv.Config.Handler.ServeHTTP(w, r)
				return
			}
			to := target.srv.URL + "/introspect"
			if same {
				to = self.URL + "/elsewhere"
			}
			http.Redirect(w, r, to, http.StatusPermanentRedirect)
		}))
		s := &Service{HTTP: self.Client()}
		var doc map[string]any
		err := s.postForm(context.Background(), self.URL+"/introspect", url.Values{"client_secret": {"SECRET-CANARY"}, "token": {"AT-CANARY"}}, &doc)
		var ce *CallError
		if !errors.As(err, &ce) || !strings.Contains(ce.Message, "the introspection endpoint "+self.URL) || strings.Contains(ce.Message, "CANARY") {
			t.Fatalf("same origin %v: got %v", same, err)
		}
		target.empty(t)
		self.Close()
	}
}

// Who-am-I and userinfo calls carry the access token: a redirect is
// followed within the origin (a provider moving a path) and refused to
// another origin, another port of the same host included.
func TestWhoAmIRedirectsStayInTheOrigin(t *testing.T) {
	t.Parallel()
	target := newRecorder(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/me", http.StatusMovedPermanently)
		case "/me":
			if r.Header.Get("Authorization") != "Bearer AT-CANARY" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"email":"alice@example.com"}`))
		default:
			http.Redirect(w, r, target.srv.URL+"/me", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	s := &Service{HTTP: srv.Client()}
	var doc map[string]any
	if err := s.getJSON(context.Background(), srv.URL+"/moved", "Bearer AT-CANARY", &doc); err != nil || doc["email"] != "alice@example.com" {
		t.Fatalf("same-origin redirect: %v %v", doc, err)
	}
	err := s.getJSON(context.Background(), srv.URL+"/userinfo", "Bearer AT-CANARY", &doc)
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), target.srv.URL) || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("cross-origin redirect: %v", err)
	}
	target.empty(t)
}
