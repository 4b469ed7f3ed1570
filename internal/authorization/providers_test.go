package authorization

// Provider quirks against local servers that follow each vendor's
// documented shapes:
//   Salesforce: token response carries instance_url and id
//     (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_understanding_web_server_oauth_flow.htm)
//   Zoho: the callback carries location and accounts-server; the code is
//     exchanged there and the token response carries api_domain
//     (https://www.zoho.com/accounts/protocol/oauth/multi-dc/client-authorization.html)
//   Atlassian: GET /oauth/token/accessible-resources lists the sites
//     (https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/)

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// provider is a fake authorization server with per-test hooks.
type provider struct {
	srv           *httptest.Server
	mu            sync.Mutex
	callbackArgs  url.Values // extra callback parameters
	tokenExtra    map[string]any
	sites         []map[string]string
	tokenHits     map[string]int
	refreshCount  int
	rejectRefresh bool
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	p := &provider{tokenHits: map[string]int{}}
	mux := http.NewServeMux()
	// Authorize: the user "allows" at once; redirect back with code and state.
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		cb := url.Values{"code": {"code-1"}, "state": {q.Get("state")}}
		p.mu.Lock()
		for k, v := range p.callbackArgs {
			cb[k] = v
		}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+cb.Encode(), http.StatusFound)
	})
	token := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		p.tokenHits[r.URL.Path]++
		if r.PostForm.Get("grant_type") == "refresh_token" {
			if p.rejectRefresh {
				p.mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"The refresh token is invalid."}`))
				return
			}
			p.refreshCount++
		}
		body := map[string]any{"access_token": fmt.Sprintf("at-%d", p.refreshCount), "refresh_token": fmt.Sprintf("rt-%d", p.refreshCount), "token_type": "Bearer", "expires_in": 3600}
		for k, v := range p.tokenExtra {
			body[k] = v
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
	mux.HandleFunc("/token", token)
	mux.HandleFunc("/eu/oauth/v2/token", token)
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(401)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"email": "alice@example.com", "sub": "u1", "organization_id": "00Dorg1"})
	})
	mux.HandleFunc("/oauth/token/accessible-resources", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(p.sites)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// follow is the browser: it GETs the authorize URL and follows redirects to
// connctl's loopback callback.
type follow struct{}

func (follow) Open(ctx context.Context, u string) error {
	go func() {
		resp, err := http.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	return nil
}

func newService(t *testing.T) (*Service, *secretstoretest.Memory) {
	t.Helper()
	cfg, err := configstore.Open(filepath.Join(t.TempDir(), "config.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	mem := secretstoretest.NewMemory()
	mg := &connection.Manager{Config: cfg, Secrets: func() (secretstore.Store, error) { return mem, nil }, Catalog: all.Catalogue(), Now: time.Now}
	return &Service{Mgr: mg, HTTP: http.DefaultClient, Opener: follow{}, Stderr: io.Discard, LockDir: t.TempDir()}, mem
}

func create(t *testing.T, s *Service, connectorID, name string, set map[string]string, secrets map[string]string) {
	t.Helper()
	ctr, _ := s.Mgr.Catalog.Lookup(connectorID)
	var as []connection.Assignment
	for k, v := range set {
		as = append(as, connection.Assignment{Key: k, Value: v})
	}
	m, err := connection.ResolveAuth(ctr, "", as)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := connection.ApplyFields(ctr, m, nil, as, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mgr.Create(context.Background(), connection.CreateRequest{Connector: ctr, Auth: m, Name: name, Fields: fields, Secrets: secrets}); err != nil {
		t.Fatal(err)
	}
}

func TestSalesforceInstanceURLAndOrg(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	p.tokenExtra = map[string]any{"instance_url": "https://acme.my.salesforce.com", "id": "https://login.salesforce.com/id/00Dorg1/005user1"}
	s, mem := newService(t)
	create(t, s, "salesforce", "crm", map[string]string{"client_id": "cid", "login_url": p.srv.URL, "redirect_uri": "http://127.0.0.1:0/OauthRedirect", "userinfo_url": p.srv.URL + "/userinfo",
		"auth_url": p.srv.URL + "/authorize", "token_url": p.srv.URL + "/token"}, nil)
	c, err := s.Authorize(context.Background(), "crm", Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c.OAuth.APIBase != "https://acme.my.salesforce.com" || c.OAuth.Org != "00Dorg1" || c.Account != "alice@example.com" || c.Status != configstore.StatusAuthorized {
		t.Fatalf("got %+v %+v", c, c.OAuth)
	}
	if v, _ := mem.Get(context.Background(), c.ID, connection.KindRefreshToken); v != "rt-0" {
		t.Fatalf("refresh token %q", v)
	}
	// Another org on reauthorize: refused without --force, accepted with it.
	p.mu.Lock()
	p.tokenExtra["id"] = "https://login.salesforce.com/id/00Dother/005user2"
	p.mu.Unlock()
	_, err = s.Authorize(context.Background(), "crm", Options{Timeout: 10 * time.Second})
	if exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), "00Dother") {
		t.Fatalf("other org: %v", err)
	}
	if v, _ := mem.Get(context.Background(), c.ID, connection.KindRefreshToken); v != "rt-0" {
		t.Fatal("a refused grant replaced the tokens")
	}
	if c, err = s.Authorize(context.Background(), "crm", Options{Timeout: 10 * time.Second, Force: true}); err != nil || c.OAuth.Org != "00Dother" {
		t.Fatalf("--force: %v %+v", err, c)
	}
}

func TestZohoAccountsServerFromCallback(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	s, _ := newService(t)
	// The configured accounts server is the test server; the callback names
	// its EU path on the same host, which is allowed (same host as configured).
	p.callbackArgs = url.Values{"location": {"eu"}, "accounts-server": {p.srv.URL + "/eu"}}
	p.tokenExtra = map[string]any{"api_domain": "https://www.zohoapis.eu"}
	create(t, s, "zoho", "zoho", map[string]string{"client_id": "cid", "accounts_server": p.srv.URL, "redirect_uri": "http://127.0.0.1:0/callback",
		"auth_url": p.srv.URL + "/authorize", "userinfo_url": p.srv.URL + "/userinfo"}, map[string]string{"client_secret": "zs"})
	c, err := s.Authorize(context.Background(), "zoho", Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	hits := p.tokenHits["/eu/oauth/v2/token"]
	p.mu.Unlock()
	if hits != 1 || c.OAuth.APIBase != "https://www.zohoapis.eu" || c.OAuth.Extra["location"] != "eu" {
		t.Fatalf("hits %d, state %+v", hits, c.OAuth)
	}
	// A callback naming a foreign accounts server is refused: the code never goes there.
	p.mu.Lock()
	p.callbackArgs = url.Values{"accounts-server": {"https://evil.example"}}
	p.mu.Unlock()
	if _, err := s.Authorize(context.Background(), "zoho", Options{Timeout: 10 * time.Second}); err == nil || !strings.Contains(err.Error(), "not a Zoho accounts server") {
		t.Fatalf("foreign accounts-server: %v", err)
	}
}

func TestAtlassianSites(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	p.sites = []map[string]string{{"id": "cloud-1", "name": "acme", "url": "https://acme.atlassian.net"}, {"id": "cloud-2", "name": "beta", "url": "https://beta.atlassian.net"}}
	s, _ := newService(t)
	set := map[string]string{"auth": "oauth2", "client_id": "cid", "base_url": p.srv.URL, "redirect_uri": "http://127.0.0.1:0/callback",
		"auth_url": p.srv.URL + "/authorize", "token_url": p.srv.URL + "/token", "userinfo_url": p.srv.URL + "/userinfo"}
	create(t, s, "jira", "jira", set, map[string]string{"client_secret": "js"})
	// Several sites, nobody to ask: a usage error naming them and the fix.
	_, err := s.Authorize(context.Background(), "jira", Options{Timeout: 10 * time.Second})
	if exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), "beta.atlassian.net") {
		t.Fatalf("several sites: %v", err)
	}
	// On a terminal the user picks one.
	s.Prompt = func(q string, opts []string) (int, error) { return 1, nil }
	c, err := s.Authorize(context.Background(), "jira", Options{Timeout: 10 * time.Second})
	if err != nil || c.OAuth.Extra["cloud_id"] != "cloud-2" || c.OAuth.APIBase != "https://api.atlassian.com/ex/jira/cloud-2" {
		t.Fatalf("chosen site: %v %+v", err, c)
	}
}

func TestRefreshRotatesAndPersistsBeforeUse(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	s, mem := newService(t)
	create(t, s, "oauth2", "idp", map[string]string{"client_id": "cid", "auth_url": p.srv.URL + "/authorize", "token_url": p.srv.URL + "/token"}, nil)
	c, err := s.Authorize(context.Background(), "idp", Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.AccessToken(context.Background(), "idp", false)
	if err != nil || tok.Refreshed || tok.AccessToken != "at-0" {
		t.Fatalf("fresh token: %v %+v", err, tok)
	}
	// An hour later the token has expired: one refresh, rotation stored.
	s.Mgr.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	tok, err = s.AccessToken(context.Background(), "idp", false)
	if err != nil || !tok.Refreshed || tok.AccessToken != "at-1" {
		t.Fatalf("refresh: %v %+v", err, tok)
	}
	if v, _ := mem.Get(context.Background(), c.ID, connection.KindRefreshToken); v != "rt-1" {
		t.Fatalf("rotated refresh token not stored: %q", v)
	}
}

func TestInvalidGrantNeedsReauthorization(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	s, _ := newService(t)
	create(t, s, "oauth2", "idp", map[string]string{"client_id": "cid", "auth_url": p.srv.URL + "/authorize", "token_url": p.srv.URL + "/token"}, nil)
	if _, err := s.Authorize(context.Background(), "idp", Options{Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.rejectRefresh = true
	p.mu.Unlock()
	_, err := s.AccessToken(context.Background(), "idp", true)
	if exitcode.FromError(err) != exitcode.AuthNeeded || !strings.Contains(strings.Join(exitcode.Hints(err), " "), "connctl reauthorize idp") {
		t.Fatalf("got %v %v", err, exitcode.Hints(err))
	}
	c, _ := s.Mgr.Config.Find("idp")
	if c.Status != configstore.StatusNeedsReauthorization {
		t.Fatalf("status %s", c.Status)
	}
	// Later calls say so at once, without another refresh.
	if _, err := s.AccessToken(context.Background(), "idp", false); exitcode.FromError(err) != exitcode.AuthNeeded {
		t.Fatalf("second call: %v", err)
	}
}

// base_url is Jira's API base, .../ex/jira/{cloudId} (as the catalogue
// documents it): the sites are still listed at the gateway's root.
func TestAtlassianSitesAtGatewayRoot(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	p.sites = []map[string]string{{"id": "cloud-1", "name": "acme", "url": "https://acme.atlassian.net"}}
	s, _ := newService(t)
	set := map[string]string{"auth": "oauth2", "client_id": "cid", "base_url": p.srv.URL + "/ex/jira/cloud-1/", "redirect_uri": "http://127.0.0.1:0/callback",
		"auth_url": p.srv.URL + "/authorize", "token_url": p.srv.URL + "/token", "userinfo_url": p.srv.URL + "/userinfo"}
	create(t, s, "jira", "jira", set, map[string]string{"client_secret": "js"})
	c, err := s.Authorize(context.Background(), "jira", Options{Timeout: 10 * time.Second})
	if err != nil || c.OAuth.Extra["cloud_id"] != "cloud-1" {
		t.Fatalf("base_url with /ex/jira/: %v %+v", err, c)
	}
}
