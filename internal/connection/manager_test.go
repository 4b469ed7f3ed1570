package connection

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

var fixed = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newManager(t *testing.T, st secretstore.Store) *Manager {
	t.Helper()
	cfg, err := configstore.Open(filepath.Join(t.TempDir(), "config.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return &Manager{Config: cfg, Secrets: func() (secretstore.Store, error) { return st, nil }, Catalog: all.Catalogue(), Now: func() time.Time { return fixed }}
}

func freshdesk(t *testing.T, mg *Manager, name, key string) CreateRequest {
	t.Helper()
	ctr, _ := mg.Catalog.Lookup("freshdesk")
	m := ctr.DefaultAuth()
	fields, err := ApplyFields(ctr, m, nil, []Assignment{{"domain", "acme"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return CreateRequest{Connector: ctr, Auth: m, Name: name, Fields: fields, Secrets: map[string]string{"api_key": key}}
}

func TestCreateStoresSecretAndDefinition(t *testing.T) {
	t.Parallel()
	mem := secretstoretest.NewMemory()
	mg := newManager(t, mem)
	c, err := mg.Create(context.Background(), freshdesk(t, mg, "", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "freshdesk" || c.Status != configstore.StatusAuthorized || c.AuthorizedAt == nil {
		t.Fatalf("got %+v", c)
	}
	if v, err := mem.Get(context.Background(), c.ID, "api_key"); err != nil || v != "k1" {
		t.Fatalf("secret: %q %v", v, err)
	}
	c2, err := mg.Create(context.Background(), freshdesk(t, mg, "", "k2"))
	if err != nil || c2.Name != "freshdesk-2" {
		t.Fatalf("second default name: %v %+v", err, c2)
	}
	raw, _ := os.ReadFile(configPath(mg))
	if strings.Contains(string(raw), "k1") || strings.Contains(string(raw), "k2") {
		t.Fatal("secret in config file")
	}
}

func TestCreateWithBrokenStoreLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, st := range []secretstore.Store{
		secretstoretest.NewFailing(secretstore.ErrUnavailable),
		secretstoretest.NewFailing(secretstore.ErrTimeout),
	} {
		mg := newManager(t, st)
		_, err := mg.Create(context.Background(), freshdesk(t, mg, "x", "k"))
		if exitcode.FromError(err) != exitcode.AuthNeeded {
			t.Fatalf("want exit 4, got %v (%d)", err, exitcode.FromError(err))
		}
		if len(exitcode.Hints(err)) == 0 {
			t.Error("no hint")
		}
		if _, statErr := os.Stat(configPath(mg)); !errors.Is(statErr, os.ErrNotExist) {
			t.Fatal("config written although the secret was not stored")
		}
	}
}

func TestCreateRemovesSecretsWhenConfigWriteFails(t *testing.T) {
	t.Parallel()
	mem := secretstoretest.NewMemory()
	mg := newManager(t, mem)
	// The file goes bad between the checks and the write.
	if err := os.WriteFile(configPath(mg), []byte("schema_version: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mg.Create(context.Background(), freshdesk(t, mg, "x", "k")); err == nil {
		t.Fatal("want error")
	}
	if n := len(mem.Items()); n != 0 {
		t.Fatalf("%d orphaned secrets", n)
	}
}

func TestRulesSingleAndLimits(t *testing.T) {
	t.Parallel()
	mg := newManager(t, secretstoretest.NewMemory())
	if _, err := mg.Create(context.Background(), freshdesk(t, mg, "fd", "k")); err != nil {
		t.Fatal(err)
	}
	zd, _ := mg.Catalog.Lookup("zendesk")
	err := mg.CheckRules(mg.Config.Document(), zd)
	if err == nil || !strings.Contains(err.Error(), `"fd"`) || !strings.Contains(strings.Join(exitcode.Hints(err), " "), "limits.support 2") {
		t.Fatalf("limit: %v %v", err, exitcode.Hints(err))
	}
	fd, _ := mg.Catalog.Lookup("freshdesk")
	if err := mg.CheckRules(mg.Config.Document(), fd); err != nil {
		t.Fatalf("same system refused: %v", err)
	}
	if err := mg.Config.Set(context.Background(), "limits.support", "2"); err != nil {
		t.Fatal(err)
	}
	if err := mg.CheckRules(mg.Config.Document(), zd); err != nil {
		t.Fatalf("raised limit still refuses: %v", err)
	}
}

func TestEditRenameKeepsSecretAndRestoresOnFailure(t *testing.T) {
	t.Parallel()
	mem := secretstoretest.NewMemory()
	mg := newManager(t, mem)
	c, err := mg.Create(context.Background(), freshdesk(t, mg, "fd", "old"))
	if err != nil {
		t.Fatal(err)
	}
	u, changes, err := mg.Edit(context.Background(), "FD", EditRequest{Rename: "desk", Set: []Assignment{{"domain", "acme2"}}})
	if err != nil || u.Name != "desk" || u.ID != c.ID || len(changes) != 2 {
		t.Fatalf("edit: %v %+v %+v", err, u, changes)
	}
	// A failing write puts the old secret back.
	if err := os.WriteFile(configPath(mg), []byte("{{{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mg.Edit(context.Background(), "desk", EditRequest{Secrets: map[string]string{"api_key": "new"}}); err == nil {
		t.Fatal("want error")
	}
	if v, _ := mem.Get(context.Background(), c.ID, "api_key"); v != "old" {
		t.Fatalf("secret not restored: %q", v)
	}
}

func TestEditRefusesSecretsAndUnknownFields(t *testing.T) {
	t.Parallel()
	mg := newManager(t, secretstoretest.NewMemory())
	if _, err := mg.Create(context.Background(), freshdesk(t, mg, "fd", "k")); err != nil {
		t.Fatal(err)
	}
	for _, set := range []Assignment{{"api_key", "x"}, {"nope", "x"}, {"domain", "not a host"}} {
		_, _, err := mg.Edit(context.Background(), "fd", EditRequest{Set: []Assignment{set}})
		if exitcode.FromError(err) != exitcode.Usage {
			t.Errorf("%v: want usage error, got %v", set, err)
		}
	}
	if _, _, err := mg.Edit(context.Background(), "fd", EditRequest{Unset: []string{"domain"}}); exitcode.FromError(err) != exitcode.Usage {
		t.Errorf("unset required: %v", err)
	}
}

func TestRevokeAuthorizeDelete(t *testing.T) {
	t.Parallel()
	mem := secretstoretest.NewMemory()
	mg := newManager(t, mem)
	c, _ := mg.Create(context.Background(), freshdesk(t, mg, "fd", "k"))
	r, err := mg.Revoke(context.Background(), "fd")
	if err != nil || r.Status != configstore.StatusRevoked || len(r.Secrets) != 0 || len(mem.Items()) != 0 {
		t.Fatalf("revoke: %v %+v %v", err, r, mem.Items())
	}
	a, err := mg.Authorize(context.Background(), "fd", map[string]string{"api_key": "k2"})
	if err != nil || a.Status != configstore.StatusAuthorized {
		t.Fatalf("authorize: %v %+v", err, a)
	}
	if _, err := mg.Authorize(context.Background(), "fd", nil); exitcode.FromError(err) != exitcode.Usage {
		t.Fatalf("authorize without secret: %v", err)
	}
	// Delete with an unreachable store removes nothing.
	broken := &Manager{Config: mg.Config, Catalog: mg.Catalog, Now: mg.Now, Secrets: func() (secretstore.Store, error) {
		return secretstoretest.NewFailing(secretstore.ErrUnavailable), nil
	}}
	if _, err := broken.Delete(context.Background(), "fd", false); err == nil {
		t.Fatal("delete with broken store succeeded")
	}
	if _, ok := mg.Config.Find("fd"); !ok {
		t.Fatal("definition removed although secrets were not")
	}
	if _, err := mg.Delete(context.Background(), "fd", false); err != nil {
		t.Fatal(err)
	}
	if _, ok := mg.Config.Find("fd"); ok || len(mem.Items()) != 0 {
		t.Fatal("delete left something behind")
	}
	_ = c
}

func TestApplyFieldsAuthSwitch(t *testing.T) {
	t.Parallel()
	cat := all.Catalogue()
	jira, _ := cat.Lookup("jira")
	m, err := ResolveAuth(jira, "", []Assignment{{"auth", "oauth2"}})
	if err != nil || m.Kind != connector.AuthOAuth2 {
		t.Fatalf("%v %v", err, m)
	}
	if _, err := ResolveAuth(jira, "", []Assignment{{"auth", "carrier-pigeon"}}); exitcode.FromError(err) != exitcode.Usage {
		t.Fatalf("bad auth: %v", err)
	}
	// email belongs to api_token; with oauth2 chosen it is refused with a hint.
	_, err = ApplyFields(jira, m, nil, []Assignment{{"email", "a@b.c"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "another auth method") {
		t.Fatalf("cross-method field: %v", err)
	}
}
