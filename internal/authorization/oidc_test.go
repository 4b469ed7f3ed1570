package authorization

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/oauthflow"
)

// Issue #11: a token shorter-lived than four refresh margins is refreshed
// when a quarter of its life is left, not on every call.
func TestRefreshMarginScalesWithTheTokensLifetime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	conn := func(life time.Duration) *configstore.Connection {
		exp := at.Add(life)
		return &configstore.Connection{OAuth: &configstore.OAuthState{IssuedAt: &at, ExpiresAt: &exp}}
	}
	for _, tc := range []struct {
		life, after time.Duration
		fresh       bool
	}{
		{65 * time.Second, 0, true},                 // margin 16.25s
		{65 * time.Second, 48 * time.Second, true},  // 17s left
		{65 * time.Second, 49 * time.Second, false}, // 16s left
		{30 * time.Second, 20 * time.Second, true},  // margin 7.5s, 10s left
		{30 * time.Second, 23 * time.Second, false},
		{time.Hour, 58 * time.Minute, true}, // margin 60s, 2m left
		{time.Hour, 59*time.Minute + 30*time.Second, false},
	} {
		if got := fresh(conn(tc.life), at.Add(tc.after)); got != tc.fresh {
			t.Errorf("a %v token after %v: fresh=%v, want %v", tc.life, tc.after, got, tc.fresh)
		}
	}
	// No issued_at recorded (an older config): the fixed margin.
	exp := at.Add(time.Hour)
	if fresh(&configstore.Connection{OAuth: &configstore.OAuthState{ExpiresAt: &exp}}, exp.Add(-59*time.Second)) {
		t.Error("without issued_at the margin should be 60s")
	}
}

// Issue #11: a connection whose grant had no refresh token says that its
// access token expired, not that the provider rejected anything.
func TestReauthReasonForAnExpiredGrantWithoutRefreshToken(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &configstore.Connection{Name: "idp", Status: configstore.StatusNeedsReauthorization, Secrets: []string{connection.KindAccessToken},
		OAuth: &configstore.OAuthState{ExpiresAt: &exp}}
	err := usableAt(c, exp.Add(time.Minute))
	if err == nil || !strings.Contains(err.Error(), "its access token expired at 2026-01-02T03:04:05Z and the provider issued no refresh token") {
		t.Fatalf("got %v", err)
	}
	if err := Usable(c); err == nil || !strings.Contains(err.Error(), "expired at") {
		t.Fatalf("Usable without a clock: %v", err)
	}
	c.Secrets = append(c.Secrets, connection.KindRefreshToken)
	if err := usableAt(c, exp.Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "the provider rejected its credentials earlier") {
		t.Fatalf("with a refresh token: %v", err)
	}
}

func TestPromptConsentForOfflineAccessInAnOpenIDRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		scopes     []string
		spec       map[string]string
		authParams string
		want       map[string]string
	}{
		{"openid offline", []string{"openid", "offline_access"}, nil, "", map[string]string{"prompt": "consent"}},
		{"not openid", []string{"offline_access", "api"}, nil, "", map[string]string{}},
		{"no offline", []string{"openid", "email"}, nil, "", map[string]string{}},
		{"connector prompt kept", []string{"openid", "offline_access"}, map[string]string{"prompt": "select_account"}, "", map[string]string{"prompt": "select_account"}},
		{"auth_params adds", []string{"openid", "offline_access"}, nil, "access_type=offline&login_hint=a%40b", map[string]string{"prompt": "consent", "access_type": "offline", "login_hint": "a@b"}},
		{"auth_params prompt", []string{"openid", "offline_access"}, nil, "prompt=login+consent", map[string]string{"prompt": "login consent"}},
		{"auth_params stops prompt", []string{"openid", "offline_access"}, nil, "prompt=", map[string]string{}},
		{"auth_params removes a connector's", []string{"x"}, map[string]string{"audience": "a", "prompt": "consent"}, "audience=", map[string]string{"prompt": "consent"}},
	} {
		e := &Endpoints{Scopes: tc.scopes, AuthParams: map[string]string{}}
		for k, v := range tc.spec {
			e.AuthParams[k] = v
		}
		if err := e.addAuthParams(tc.authParams); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(e.AuthParams, tc.want) {
			t.Errorf("%s: auth params %v, want %v", tc.name, e.AuthParams, tc.want)
		}
	}
	e := &Endpoints{Scopes: []string{"openid"}, AuthParams: map[string]string{}}
	if err := e.addAuthParams("state=x"); err == nil || !strings.Contains(err.Error(), "may not set state") {
		t.Fatalf("auth_params state=x: %v", err)
	}
}

func TestWarningForAGrantWithoutRefreshToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mg := &connection.Manager{Now: func() time.Time { return now }}
	var buf bytes.Buffer
	s := &Service{Mgr: mg, Stderr: &buf}
	exp := now.Add(65 * time.Second)
	s.warnNoRefreshToken("idp", &Endpoints{Scopes: []string{"openid", "offline_access"}, AuthParams: map[string]string{"prompt": "login"}}, &exp)
	want := "warning: the provider issued no refresh token: idp works until its access token expires at 2026-01-02T03:05:10Z (in 1m5s), then needs `connctl reauthorize idp`\n" +
		"  OpenID providers grant offline_access only with prompt=consent (OpenID Connect Core §11), which auth_params replaced with prompt=login\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	s.warnNoRefreshToken("idp", &Endpoints{Scopes: []string{"openid"}, AuthParams: map[string]string{}}, &exp)
	if !strings.Contains(buf.String(), "--set scopes=\"openid offline_access\"") {
		t.Errorf("no offline_access: %s", buf.String())
	}
	buf.Reset()
	s.warnNoRefreshToken("idp", &Endpoints{}, nil)
	if buf.Len() != 0 {
		t.Errorf("a token without expiry needs no warning: %s", buf.String())
	}
}

func TestAccountPrefersTheIDToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		idt                  *oauthflow.IDToken
		account, subject     string
		wantAcct, wantSubjct string
	}{
		{nil, "userinfo@x", "s", "userinfo@x", "s"},
		{&oauthflow.IDToken{Subject: "s", Email: "a@x"}, "userinfo@x", "s", "a@x", "s"},
		{&oauthflow.IDToken{Subject: "s", PreferredUsername: "alice"}, "", "", "alice", "s"},
		{&oauthflow.IDToken{Subject: "s"}, "userinfo@x", "s", "userinfo@x", "s"},
		{&oauthflow.IDToken{Subject: "s"}, "", "", "s", "s"},
		// userinfo about someone else is not used (OpenID Connect Core §5.3.2)
		{&oauthflow.IDToken{Subject: "s"}, "mallory@x", "other", "s", "s"},
	} {
		a, s := preferIDToken(tc.idt, tc.account, tc.subject)
		if a != tc.wantAcct || s != tc.wantSubjct {
			t.Errorf("preferIDToken(%+v, %q, %q) = %q, %q; want %q, %q", tc.idt, tc.account, tc.subject, a, s, tc.wantAcct, tc.wantSubjct)
		}
	}
}
