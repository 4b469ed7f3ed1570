package authorization

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Google revokes with POST /revoke?token= and answers a token that is
// already expired or revoked with 400 {"error": "invalid_token"}
// (https://developers.google.com/identity/protocols/oauth2/native-app#tokenrevoke):
// the grant has ended already, which is not a failure of revoke.
func TestGoogleRevocationOfAnEndedToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
		fails  bool
	}{
		{"live", http.StatusOK, `{}`, RevokedAtProvider, false},
		{"already ended", http.StatusBadRequest, `{"error":"invalid_token","error_description":"Token expired or revoked"}`, AlreadyEnded, false},
		{"other refusal", http.StatusBadRequest, `{"error":"invalid_request","error_description":"Bad Request"}`, "not revoked at provider", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var revoked []string
			mux := http.NewServeMux()
			mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				http.Redirect(w, r, q.Get("redirect_uri")+"?code=c1&state="+q.Get("state"), http.StatusFound)
			})
			mux.HandleFunc("/token", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29.a", "refresh_token": "1//rt", "token_type": "Bearer", "expires_in": 3599})
			})
			mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				revoked = append(revoked, r.URL.Query().Get("token"))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			s, _ := newService(t)
			create(t, s, "bigquery", "bq", map[string]string{"auth": "oauth2", "project_id": "acme-analytics", "client_id": "cid.apps.googleusercontent.com",
				"redirect_uri": "http://127.0.0.1:0/callback", "auth_url": srv.URL + "/auth", "token_url": srv.URL + "/token",
				"revoke_url": srv.URL + "/revoke", "userinfo_url": srv.URL + "/userinfo"}, map[string]string{"client_secret": "GOCSPX-x"})
			if _, err := s.Authorize(context.Background(), "bq", Options{Timeout: 10 * time.Second}); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Revoke(context.Background(), "bq")
			if (err != nil) != tc.fails || rep == nil || rep.Remote != tc.want {
				t.Fatalf("revoke: %v, %+v; want %q", err, rep, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(revoked) != 1 || revoked[0] != "1//rt" {
				t.Errorf("revocations of %v, want the refresh token once", revoked)
			}
		})
	}
}
