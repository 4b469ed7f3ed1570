package authorization

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The callback's accounts-server is the user's data centre: the code is
// exchanged there, and so are the later refreshes and the revocation, even
// when the sign-in started at another accounts server
// (https://www.zoho.com/accounts/protocol/oauth/multi-dc.html). The test
// server plays both: the configured one at /, the user's at /eu.
func TestZohoDataCentreServesRefreshAndRevoke(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hits := map[string]int{}
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/oauth/v2/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=1000.c1&location=eu&accounts-server="+srv.URL+"/eu&state="+q.Get("state"), http.StatusFound)
	})
	count := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/revoke") {
			_, _ = w.Write([]byte(`{"status":"success"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "1000.at", "refresh_token": "1000.rt", "api_domain": "https://www.zohoapis.eu",
			"token_type": "Bearer", "expires_in": 3600})
	}
	for _, p := range []string{"/oauth/v2/token", "/oauth/v2/token/revoke", "/eu/oauth/v2/token", "/eu/oauth/v2/token/revoke"} {
		mux.HandleFunc(p, count)
	}
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, _ := newService(t)
	create(t, s, "zoho", "zc", map[string]string{"accounts_server": srv.URL, "client_id": "1000.cid",
		"redirect_uri": "http://127.0.0.1:0/callback", "userinfo_url": srv.URL + "/users"}, map[string]string{"client_secret": "zs"})
	if _, err := s.Authorize(context.Background(), "zc", Options{Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccessToken(context.Background(), "zc", true); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Revoke(context.Background(), "zc"); err != nil || rep.Remote != RevokedAtProvider {
		t.Fatalf("revoke: %v %+v", err, rep)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"/eu/oauth/v2/token": 2, "/eu/oauth/v2/token/revoke": 1}
	if len(hits) != len(want) || hits["/eu/oauth/v2/token"] != 2 || hits["/eu/oauth/v2/token/revoke"] != 1 {
		t.Errorf("calls %v, want %v (code and refresh, then revoke, all at the user's data centre)", hits, want)
	}
}
