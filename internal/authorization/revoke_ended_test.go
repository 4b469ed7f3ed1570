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

// Providers that revoke with POST ?token= answer a token they have already
// ended with an error rather than RFC 7009's 200; the grant has ended, which
// is not a failure of revoke:
//   - Google: POST /revoke?token=, 400 {"error": "invalid_token"} for a token
//     already expired or revoked
//     (https://developers.google.com/identity/protocols/oauth2/native-app#tokenrevoke);
//   - Zoho: POST {accounts}/oauth/v2/token/revoke?token={refresh_token},
//     {"status":"success"}, or a bare HTTP 400 when the token is invalid
//     (https://www.zoho.com/accounts/protocol/oauth/revoke-refresh-token.html).
func TestRevocationOfAnEndedToken(t *testing.T) {
	t.Parallel()
	type answer struct {
		name   string
		status int
		body   string
		want   string
		fails  bool
	}
	for _, p := range []struct {
		connector         string
		authPath, tokPath string
		revokePath        string
		callback          string         // extra callback parameters
		token             map[string]any // the token answer
		fields            func(srv string) map[string]string
		clientSecret      string
		answers           []answer
	}{
		{
			connector: "bigquery", authPath: "/auth", tokPath: "/token", revokePath: "/revoke",
			token: map[string]any{"access_token": "ya29.a", "refresh_token": "1//rt", "token_type": "Bearer", "expires_in": 3599},
			fields: func(srv string) map[string]string {
				return map[string]string{"auth": "oauth2", "project_id": "acme-analytics", "client_id": "cid.apps.googleusercontent.com",
					"redirect_uri": "http://127.0.0.1:0/callback", "auth_url": srv + "/auth", "token_url": srv + "/token",
					"revoke_url": srv + "/revoke", "userinfo_url": srv + "/userinfo"}
			},
			clientSecret: "GOCSPX-x",
			answers: []answer{
				{"live", http.StatusOK, `{}`, RevokedAtProvider, false},
				{"already ended", http.StatusBadRequest, `{"error":"invalid_token","error_description":"Token expired or revoked"}`, AlreadyEnded, false},
				{"other refusal", http.StatusBadRequest, `{"error":"invalid_request","error_description":"Bad Request"}`, "not revoked at provider", true},
			},
		},
		{
			connector: "zoho", authPath: "/oauth/v2/auth", tokPath: "/oauth/v2/token", revokePath: "/oauth/v2/token/revoke", callback: "&location=us",
			token: map[string]any{"access_token": "1000.at", "refresh_token": "1000.rt", "api_domain": "https://www.zohoapis.com", "token_type": "Bearer", "expires_in": 3600},
			fields: func(srv string) map[string]string {
				return map[string]string{"accounts_server": srv, "client_id": "1000.cid", "redirect_uri": "http://127.0.0.1:0/callback", "userinfo_url": srv + "/users"}
			},
			clientSecret: "zs",
			answers: []answer{
				{"live", http.StatusOK, `{"status":"success"}`, RevokedAtProvider, false},
				{"already ended", http.StatusBadRequest, ``, AlreadyEnded, false},
				{"server error", http.StatusInternalServerError, ``, "not revoked at provider", true},
			},
		},
	} {
		for _, tc := range p.answers {
			t.Run(p.connector+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				var revoked []string
				mux := http.NewServeMux()
				mux.HandleFunc(p.authPath, func(w http.ResponseWriter, r *http.Request) {
					q := r.URL.Query()
					http.Redirect(w, r, q.Get("redirect_uri")+"?code=c1"+p.callback+"&state="+q.Get("state"), http.StatusFound)
				})
				mux.HandleFunc(p.tokPath, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_ = json.NewEncoder(w).Encode(p.token)
				})
				mux.HandleFunc("POST "+p.revokePath, func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					revoked = append(revoked, r.URL.Query().Get("token"))
					mu.Unlock()
					if tc.body != "" {
						w.Header().Set("Content-Type", "application/json; charset=utf-8")
					}
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
				})
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				s, _ := newService(t)
				create(t, s, p.connector, "c", p.fields(srv.URL), map[string]string{"client_secret": p.clientSecret})
				if _, err := s.Authorize(context.Background(), "c", Options{Timeout: 10 * time.Second}); err != nil {
					t.Fatal(err)
				}
				rep, err := s.Revoke(context.Background(), "c")
				if (err != nil) != tc.fails || rep == nil || rep.Remote != tc.want {
					t.Fatalf("revoke: %v, %+v; want %q", err, rep, tc.want)
				}
				mu.Lock()
				defer mu.Unlock()
				if rt := p.token["refresh_token"]; len(revoked) != 1 || revoked[0] != rt {
					t.Errorf("revocations of %v, want the refresh token %v once", revoked, rt)
				}
			})
		}
	}
}
