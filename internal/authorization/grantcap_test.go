package authorization

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Zoho keeps at most 20 refresh tokens per user, and a 21st silently
// deletes the oldest: the 20th grant connctl holds for one client warns
// that the cap is near, and later ones that this sign-in may delete one;
// grants of another client do not count. The warning is one line of
// stderr, and the authorization goes on.
func TestZohoGrantCapWarning(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/oauth/v2/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=1000.c1&state="+q.Get("state"), http.StatusFound)
	})
	n := 0
	mux.HandleFunc("/oauth/v2/token", func(w http.ResponseWriter, _ *http.Request) {
		n++
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("1000.at%d", n), "refresh_token": fmt.Sprintf("1000.rt%d", n),
			"api_domain": "https://www.zohoapis.com", "token_type": "Bearer", "expires_in": 3600})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, _ := newService(t)
	authorize := func(name, client string) string {
		t.Helper()
		create(t, s, "zoho", name, map[string]string{"accounts_server": srv.URL, "client_id": client,
			"redirect_uri": "http://127.0.0.1:0/callback", "userinfo_url": srv.URL + "/users"}, map[string]string{"client_secret": "zs"})
		var errOut bytes.Buffer
		s.Stderr = &errOut
		if _, err := s.Authorize(context.Background(), name, Options{Timeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		var warnings []string
		for _, l := range strings.Split(errOut.String(), "\n") {
			if strings.HasPrefix(l, "warning:") {
				warnings = append(warnings, l)
			}
		}
		if len(warnings) > 1 {
			t.Fatalf("%s: more than one warning: %q", name, warnings)
		}
		return strings.Join(warnings, "\n")
	}
	if w := authorize("other", "1000.other"); w != "" {
		t.Fatalf("first grant of another client warned: %q", w)
	}
	for i := 1; i <= 21; i++ {
		w := authorize(fmt.Sprintf("z%02d", i), "1000.cid")
		switch {
		case i < 20 && w != "":
			t.Fatalf("grant %d warned: %q", i, w)
		case i == 20 && !strings.HasPrefix(w, "warning: this is the 20th Zoho grant connctl holds for client 1000.cid:"):
			t.Fatalf("grant 20: %q", w)
		case i == 21 && !strings.HasPrefix(w, "warning: connctl already holds 20 Zoho grants for client 1000.cid"):
			t.Fatalf("grant 21: %q", w)
		}
	}
}
