package zoho

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/oauthflow"
)

// The callback's accounts-server names the user's data centre
// (https://www.zoho.com/accounts/protocol/oauth/multi-dc/client-authorization.html):
// the code goes there only when it is a Zoho accounts server over https, or
// the configured server's host (a test server).
func TestTokenURLFromCallback(t *testing.T) {
	t.Parallel()
	const configured = "http://127.0.0.1:8080/oauth/v2/token"
	for _, tc := range []struct {
		as, want, err string
	}{
		{"", "", ""},
		{"https://accounts.zoho.eu", "https://accounts.zoho.eu/oauth/v2/token", ""},
		{"https://accounts.zoho.com.au/", "https://accounts.zoho.com.au/oauth/v2/token", ""},
		{"https://accounts.zohocloud.ca", "https://accounts.zohocloud.ca/oauth/v2/token", ""},
		{"http://127.0.0.1:8080/eu", "http://127.0.0.1:8080/eu/oauth/v2/token", ""},
		{"http://accounts.zoho.eu", "", "not a Zoho accounts server"},
		{"https://evil.example", "", "not a Zoho accounts server"},
		{"https://accounts.zoho.eu.evil.example", "", "not a Zoho accounts server"},
		{"https://accounts.zoho.evil.example", "", "not a Zoho accounts server"},
		{"https://accounts.zoho.eu:8443", "", "not a Zoho accounts server"},
		{"https://user@accounts.zoho.eu", "", "not a Zoho accounts server"},
		{"https://127.0.0.1:8080/eu", "", "not a Zoho accounts server"},
		{"https://accounts.zoho.uk", "https://accounts.zoho.uk/oauth/v2/token", ""},
		{"accounts.zoho.eu", "", "is not a URL"},
	} {
		got, err := oauthHooks().TokenURLFromCallback(configured, url.Values{"accounts-server": {tc.as}})
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: got %q, %v; want %q, %q", tc.as, got, err, tc.want, tc.err)
		}
	}
}

func TestGrantRecordsTheDataCentre(t *testing.T) {
	t.Parallel()
	h := oauthHooks()
	g, err := h.DescribeGrant(context.Background(), &connector.GrantInput{
		TokenField: func(k string) string { return map[string]string{"api_domain": "https://www.zohoapis.eu"}[k] },
		Callback:   url.Values{"location": {"eu"}, "accounts-server": {"https://accounts.zoho.eu"}},
	})
	if err != nil || g.APIBase != "https://www.zohoapis.eu" || g.Extra["accounts_server"] != "https://accounts.zoho.eu" || g.Extra["location"] != "eu" || g.Org != "" {
		t.Fatalf("got %+v, %v", g, err)
	}
	// Later token and revocation calls go to that data centre.
	tok, rev := h.GrantEndpoints(g.Extra)
	if tok != "https://accounts.zoho.eu/oauth/v2/token" || rev != "https://accounts.zoho.eu/oauth/v2/token/revoke" {
		t.Fatalf("endpoints %s %s", tok, rev)
	}
	if tok, rev := h.GrantEndpoints(map[string]string{}); tok != "" || rev != "" {
		t.Fatalf("no data centre: %s %s", tok, rev)
	}
}

// Zoho's accounts server answers a revoked or expired refresh token with
// invalid_code, sometimes with HTTP 200; and a revocation of an invalid
// refresh token with a bare HTTP 400
// (https://www.zoho.com/accounts/protocol/oauth/revoke-refresh-token.html).
func TestEndedGrantAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"error":"invalid_code"}`))
	}))
	defer srv.Close()
	h := oauthHooks()
	_, err := oauthflow.Refresh(context.Background(), oauthflow.Client{ID: "c", Secret: "s", TokenURL: srv.URL, AuthStyle: "params", HTTP: srv.Client()}, "rt")
	if !oauthflow.IsInvalidGrant(err, h.InvalidGrantCodes...) {
		t.Errorf("refresh answered invalid_code: %v is not taken as invalid_grant", err)
	}
	if !h.RevokeEnded(http.StatusBadRequest, "") || h.RevokeEnded(http.StatusUnauthorized, "") {
		t.Error("RevokeEnded: want a bare 400 only")
	}
}

type fakeCaller struct{ auth string }

func (f *fakeCaller) GetJSON(_ context.Context, _, auth string, out any) error {
	f.auth = auth
	*(out.(*map[string]any)) = map[string]any{"users": []any{map[string]any{"email": "a@example.com"}}}
	return nil
}

func (f *fakeCaller) PostForm(context.Context, string, url.Values, any) error { panic("not used") }

func TestWhoAmIUsesZohoScheme(t *testing.T) {
	t.Parallel()
	fc := &fakeCaller{}
	doc, err := oauthHooks().WhoAmI(context.Background(), fc, &connector.WhoAmIRequest{URL: "https://www.zohoapis.eu/crm/v8/users?type=CurrentUser", AccessToken: "1000.at"})
	if err != nil || fc.auth != "Zoho-oauthtoken 1000.at" || doc["users"] == nil {
		t.Fatalf("got %v, %v, auth %q", doc, err, fc.auth)
	}
}
