package vaultstore

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/connctl/connctl/internal/secretstore"
)

// A Vault address that answers with a redirect must not get the token or a
// secret sent anywhere else (docs/security.md: a credential never leaves its
// origin). vault/api follows one 301/302/307 to any host by default, with
// the X-Vault-Token header and the request body; connctl turns that off.
// Every operation (read, write, delete, AppRole login) is tried against a
// server that redirects every request, to another origin and to itself.
func TestRedirectNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var seen []string // what reached the other origin
	witness := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" token="+r.Header.Get("X-Vault-Token")+" body="+string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer witness.Close()
	var sameOrigin *httptest.Server
	sameOrigin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/moved/") {
			mu.Lock()
			seen = append(seen, "same origin "+r.Method+" "+r.URL.Path)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, sameOrigin.URL+"/moved"+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer sameOrigin.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, witness.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer other.Close()

	for name, addr := range map[string]string{"another origin": other.URL, "the same origin": sameOrigin.URL} {
		for _, env := range []map[string]string{
			{"VAULT_ADDR": addr, "VAULT_TOKEN": "s.CANARY-token"},
			{"VAULT_ADDR": addr, "VAULT_ROLE_ID": "role-CANARY", "VAULT_SECRET_ID": "secret-id-CANARY"},
		} {
			s, err := New(Config{Getenv: envOf(env)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, getErr := s.Get(ctx, "c1", "api_key")
			setErr := s.Set(ctx, "c1", "api_key", "value-CANARY")
			delErr := s.Delete(ctx, "c1", "api_key")
			for op, err := range map[string]error{"get": getErr, "set": setErr, "delete": delErr} {
				if err == nil || !errors.Is(err, secretstore.ErrUnavailable) || !strings.Contains(err.Error(), "redirect") || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s, %s: err = %v; want one line saying the redirect was not followed (ErrUnavailable)", name, op, err)
				}
				var h interface{ Hint() string }
				if !errors.As(err, &h) || !strings.Contains(h.Hint(), "VAULT_ADDR") {
					t.Errorf("%s, %s: want a hint naming VAULT_ADDR, got %v", name, op, err)
				}
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		t.Errorf("a redirect was followed: %s", s)
	}
}
