package authorization

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Zendesk revokes with DELETE /api/v2/oauth/tokens/current.json signed in
// with the access token it ends
// (https://developer.zendesk.com/api-reference/ticketing/oauth/oauth_tokens/#revoke-token),
// so a dead access token (401) is replaced through the refresh token first.
func TestDeleteRevocationRefreshesADeadAccessToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		refreshRefused bool
		want           string
		deletes        int
	}{
		{"refresh token live", false, RevokedAtProvider, 2},
		{"grant already ended", true, AlreadyEnded, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			n, live, deletes := 0, "", []string{}
			mux := http.NewServeMux()
			mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				http.Redirect(w, r, q.Get("redirect_uri")+"?code=c1&state="+q.Get("state"), http.StatusFound)
			})
			mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				mu.Lock()
				defer mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if r.PostForm.Get("grant_type") == "refresh_token" && tc.refreshRefused {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"The refresh token is invalid."}`))
					return
				}
				n++
				live = fmt.Sprintf("at-%d", n)
				_ = json.NewEncoder(w).Encode(map[string]any{"access_token": live, "refresh_token": fmt.Sprintf("rt-%d", n), "token_type": "bearer", "expires_in": 1800})
			})
			mux.HandleFunc("DELETE /current.json", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				deletes = append(deletes, tok)
				if tok != live || live == "" {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write([]byte(`{"error":"invalid_token","error_description":"The access token provided is expired, revoked, malformed or invalid for other reasons."}`))
					return
				}
				live = ""
				w.WriteHeader(http.StatusNoContent)
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			s, _ := newService(t)
			create(t, s, "zendesk", "zd", map[string]string{"auth": "oauth2", "subdomain": "acme", "client_id": "cid", "redirect_uri": "http://127.0.0.1:0/callback",
				"auth_url": srv.URL + "/authorize", "token_url": srv.URL + "/token", "revoke_url": srv.URL + "/current.json", "userinfo_url": srv.URL + "/me.json"}, nil)
			if _, err := s.Authorize(context.Background(), "zd", Options{Timeout: 10 * time.Second}); err != nil {
				t.Fatal(err)
			}
			// The stored access token dies at the provider (it expired).
			mu.Lock()
			live = "at-gone"
			mu.Unlock()
			rep, err := s.Revoke(context.Background(), "zd")
			if err != nil || rep.Remote != tc.want {
				t.Fatalf("revoke: %v, %+v", err, rep)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(deletes) != tc.deletes || deletes[0] != "at-1" || (tc.deletes == 2 && deletes[1] != "at-2") {
				t.Errorf("DELETE calls with %v", deletes)
			}
		})
	}
}
