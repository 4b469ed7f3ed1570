package execenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

func TestPrefix(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"crm":        "CONNCTL__CRM__",
		"crm-prod":   "CONNCTL__CRM_PROD__",
		"CRM.Prod 2": "CONNCTL__CRM_PROD_2__",
		"s3_eu":      "CONNCTL__S3_EU__",
		"Zürich":     "CONNCTL__Z_RICH__",
		"9lives":     "CONNCTL__9LIVES__",
	} {
		if got := Prefix(name); got != want {
			t.Errorf("Prefix(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCheckNames(t *testing.T) {
	t.Parallel()
	if err := CheckNames([]string{"crm", "crm-prod", "s3"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"crm-prod", "crm_prod"}, `connections "crm-prod" and "crm_prod" would both get the variables CONNCTL__CRM_PROD__*`},
		{[]string{"a", "CRM", "crm"}, `connections "CRM" and "crm" would both get the variables CONNCTL__CRM__*`},
		{[]string{"crm", "crm"}, `connection "crm" is named twice`},
	} {
		err := CheckNames(tc.names)
		var c *Conflict
		if !errors.As(err, &c) || c.Kind != SamePrefix || err.Error() != tc.want {
			t.Errorf("%v: %v, want %q", tc.names, err, tc.want)
		}
	}
}

func catalog(id string) *connector.Connector {
	c, _ := all.Catalogue().Lookup(id)
	return c
}

func s3Creds(name, region string) *Credentials {
	return &Credentials{Name: name, Connector: catalog("s3"),
		Fields:  map[string]string{"bucket": "acme", "region": region, "access_key_id": "AKIA" + strings.ToUpper(name), "path_style": "false"},
		Secrets: map[string]string{"secret_access_key": "secret-of-" + name}}
}

func oauthCreds(name, connectorID, token, apiBase string) *Credentials {
	exp := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	return &Credentials{Name: name, Connector: catalog(connectorID), Fields: map[string]string{"client_id": "cid"}, Secrets: map[string]string{},
		Token: &authorization.Token{AccessToken: token, APIBase: apiBase, ExpiresAt: &exp}}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	parent := []string{"PATH=/usr/bin", "HOME=/home/u", "CONNCTL_PASSPHRASE=opens-everything", "CONNCTL_CONFIG=/c.yaml",
		"CONNCTL__STORE__SECRET_ACCESS_KEY=stale", "CONNCTL__STORE__ENDPOINT=http://old", "CONNCTL__OTHER__X=kept", "AWS_DEFAULT_REGION=eu-west-1"}
	got, err := Build(parent, []*Credentials{s3Creds("store", "eu-west-1"), oauthCreds("crm", "salesforce", "00Dtok", "https://acme.my.salesforce.com")}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PATH=/usr/bin", "HOME=/home/u", "CONNCTL_CONFIG=/c.yaml", "CONNCTL__OTHER__X=kept",
		"AWS_ACCESS_KEY_ID=AKIASTORE",
		"AWS_DEFAULT_REGION=eu-west-1",
		"AWS_REGION=eu-west-1",
		"AWS_SECRET_ACCESS_KEY=secret-of-store",
		"CONNCTL__CRM__ACCESS_TOKEN=00Dtok",
		"CONNCTL__CRM__API_BASE=https://acme.my.salesforce.com",
		"CONNCTL__CRM__CLIENT_ID=cid",
		"CONNCTL__CRM__CONNECTOR=salesforce",
		"CONNCTL__CRM__EXPIRES_AT=2026-03-01T13:00:00Z",
		"CONNCTL__STORE__ACCESS_KEY_ID=AKIASTORE",
		"CONNCTL__STORE__BUCKET=acme",
		"CONNCTL__STORE__CONNECTOR=s3",
		"CONNCTL__STORE__PATH_STYLE=false",
		"CONNCTL__STORE__REGION=eu-west-1",
		"CONNCTL__STORE__SECRET_ACCESS_KEY=secret-of-store",
		"SALESFORCE_ACCESS_TOKEN=00Dtok",
		"SALESFORCE_INSTANCE_URL=https://acme.my.salesforce.com",
		"SF_ACCESS_TOKEN=00Dtok",
		"SF_ORG_INSTANCE_URL=https://acme.my.salesforce.com",
	}
	if !slices.Equal(got, want) {
		t.Errorf("environment\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// --no-native: connctl's own variables only, and nothing the parent
	// sets is in the way.
	got, err = Build([]string{"AWS_REGION=us-west-2", "AWS_SESSION_TOKEN=old"}, []*Credentials{s3Creds("a", "eu-west-1"), s3Creds("b", "eu-west-1")}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range got {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") && kv != "AWS_REGION=us-west-2" && kv != "AWS_SESSION_TOKEN=old" {
			t.Errorf("--no-native set %s", kv)
		}
	}
	if !slices.Contains(got, "CONNCTL__B__SECRET_ACCESS_KEY=secret-of-b") {
		t.Errorf("--no-native left out connctl's variables: %v", got)
	}
}

func TestBuildConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		parent []string
		creds  []*Credentials
		kind   ConflictKind
		want   string
	}{
		{"two connections, one prefix", nil, []*Credentials{s3Creds("crm-prod", "us-east-1"), oauthCreds("crm_prod", "salesforce", "t", "")},
			SamePrefix, `connections "crm-prod" and "crm_prod" would both get the variables CONNCTL__CRM_PROD__*`},
		{"two S3 connections", nil, []*Credentials{s3Creds("a", "us-east-1"), s3Creds("b", "us-east-1")},
			SameNative, `connections "a" and "b" would both set AWS_ACCESS_KEY_ID`},
		{"parent sets another region", []string{"AWS_REGION=us-west-2"}, []*Credentials{s3Creds("a", "eu-west-1")},
			ParentSets, `AWS_REGION is set in the environment and connection "a" would change it`},
		{"parent session token the keys do not have", []string{"AWS_SESSION_TOKEN=old"}, []*Credentials{s3Creds("a", "eu-west-1")},
			ParentSets, `AWS_SESSION_TOKEN is set in the environment and connection "a" would change it`},
		{"parent endpoint the keys would go to", []string{"AWS_ENDPOINT_URL=http://localstack:4566"}, []*Credentials{s3Creds("a", "eu-west-1")},
			ParentSets, `AWS_ENDPOINT_URL is set in the environment and connection "a" would change it`},
		{"parent token", []string{"GOOGLE_OAUTH_ACCESS_TOKEN=ya29.mine"}, []*Credentials{oauthCreds("bq", "bigquery", "ya29.new", "")},
			ParentSets, `GOOGLE_OAUTH_ACCESS_TOKEN is set in the environment and connection "bq" would change it`},
	}
	for _, tc := range tests {
		_, err := Build(tc.parent, tc.creds, true)
		var c *Conflict
		if !errors.As(err, &c) || c.Kind != tc.kind || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		for _, kv := range tc.parent {
			if _, v, _ := strings.Cut(kv, "="); strings.Contains(err.Error(), v) {
				t.Errorf("%s: the error shows the parent's value: %v", tc.name, err)
			}
		}
	}
	// The same value, or an empty variable, changes nothing.
	got, err := Build([]string{"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=", "AWS_SESSION_TOKEN="}, []*Credentials{s3Creds("a", "eu-west-1")}, true)
	if err != nil {
		t.Fatalf("same values refused: %v", err)
	}
	if !slices.Contains(got, "AWS_DEFAULT_REGION=eu-west-1") || slices.Contains(got, "AWS_SESSION_TOKEN=") {
		t.Errorf("empty parent variables not replaced: %v", got)
	}
}

// env is a config with a memory secret store and a clock at now.
type env struct {
	svc   *authorization.Service
	clock *time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	cfg, err := configstore.Open(filepath.Join(dir, "config.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	mem := secretstoretest.NewMemory()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := &env{clock: &now}
	mgr := &connection.Manager{Config: cfg, Secrets: func() (secretstore.Store, error) { return mem, nil }, Catalog: all.Catalogue(),
		Now: func() time.Time { return *e.clock }, LockDir: filepath.Join(dir, "locks")}
	e.svc = &authorization.Service{Mgr: mgr, HTTP: http.DefaultClient, LockDir: filepath.Join(dir, "locks")}
	return e
}

func (e *env) create(t *testing.T, id, name string, fields, secrets map[string]string) {
	t.Helper()
	ctr := catalog(id)
	if _, err := e.svc.Mgr.Create(context.Background(), connection.CreateRequest{Connector: ctr, Auth: ctr.DefaultAuth(), Name: name,
		Fields: fields, Secrets: secrets}); err != nil {
		t.Fatal(err)
	}
}

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "s3", "store", map[string]string{"bucket": "acme", "access_key_id": "AKIAEXAMPLE", "endpoint": "http://127.0.0.1:9000"},
		map[string]string{"secret_access_key": "CANARY-secret"})
	cr, err := Load(context.Background(), e.svc, "store", false)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Secrets["secret_access_key"] != "CANARY-secret" || cr.Fields["region"] != "us-east-1" || cr.Token != nil {
		t.Errorf("credentials %+v", cr)
	}
	if _, ok := cr.Fields["prefix"]; ok {
		t.Error("an empty field was kept")
	}
	if err := Usable(e.svc, "nope"); exitcode.FromError(err) != exitcode.Usage {
		t.Errorf("unknown connection: %v", err)
	}
}

// An OAuth connection's token comes through AccessToken: stored while
// fresh, refreshed when due or when asked, and a connection that needs
// reauthorization is exit 4 naming the fix.
func TestLoadOAuth(t *testing.T) {
	t.Parallel()
	var refreshes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "refresh_token" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		if r.Form.Get("refresh_token") == "rt-revoked" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		n := refreshes.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":3600,"instance_url":"https://acme.my.salesforce.com"}`, n)
	}))
	defer srv.Close()
	e := newEnv(t)
	e.create(t, "salesforce", "crm", map[string]string{"client_id": "cid", "token_url": srv.URL + "/token"}, nil)
	exp := e.clock.Add(time.Hour)
	issued := *e.clock
	if _, err := e.svc.Mgr.StoreGrant(context.Background(), "crm", connection.Grant{AccessToken: "at-0", RefreshToken: "rt-0",
		State: configstore.OAuthState{IssuedAt: &issued, ExpiresAt: &exp, APIBase: "https://acme.my.salesforce.com"}}); err != nil {
		t.Fatal(err)
	}
	load := func(refresh bool) *Credentials {
		t.Helper()
		cr, err := Load(context.Background(), e.svc, "crm", refresh)
		if err != nil {
			t.Fatal(err)
		}
		return cr
	}
	if cr := load(false); cr.Token.AccessToken != "at-0" || cr.Token.Refreshed || cr.Fields["token_url"] != "" || len(cr.Secrets) != 0 {
		t.Errorf("fresh token: %+v %+v", cr, cr.Token)
	}
	if cr := load(true); cr.Token.AccessToken != "at-1" || !cr.Token.Refreshed {
		t.Errorf("--refresh: %+v", cr.Token)
	}
	*e.clock = e.clock.Add(2 * time.Hour) // past expiry: refreshed before use
	cr := load(false)
	if cr.Token.AccessToken != "at-2" || !cr.Token.Refreshed {
		t.Errorf("expired token: %+v", cr.Token)
	}
	if n := cr.Native(); n["SALESFORCE_ACCESS_TOKEN"] != "at-2" || n["SF_ORG_INSTANCE_URL"] != "https://acme.my.salesforce.com" {
		t.Errorf("native variables %v", n)
	}

	// A rejected refresh marks the connection; the next exec stops before
	// asking anyone.
	c, _ := e.svc.Mgr.Config.Find("crm")
	if _, err := e.svc.Mgr.UpdateTokens(context.Background(), c, "", "at-x", "rt-revoked", *e.clock, &exp, nil); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), e.svc, "crm", false)
	if exitcode.FromError(err) != exitcode.AuthNeeded || !slices.Contains(exitcode.Hints(err), "run `connctl reauthorize crm`") {
		t.Fatalf("rejected refresh: %v (hints %q)", err, exitcode.Hints(err))
	}
	before := refreshes.Load()
	err = Usable(e.svc, "crm")
	if exitcode.FromError(err) != exitcode.AuthNeeded || !strings.Contains(strings.Join(exitcode.Hints(err), "\n"), "connctl reauthorize crm") {
		t.Errorf("needs reauthorization: %v (hints %q)", err, exitcode.Hints(err))
	}
	if refreshes.Load() != before {
		t.Error("Usable called the provider")
	}
}
