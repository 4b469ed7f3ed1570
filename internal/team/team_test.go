package team_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
	"github.com/connctl/connctl/internal/team"
	"github.com/connctl/connctl/internal/testpeer/postgres"
	vaultpeer "github.com/connctl/connctl/internal/testpeer/vault"
	"github.com/connctl/connctl/internal/vaultstore"
)

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// machine is one admin's local setup: a config file, a keyring (in
// memory) and an activity log with checkpoints.
type machine struct {
	cfg  *configstore.Store
	keys *secretstoretest.Memory
	log  *activitylog.Store
}

func newMachine(t *testing.T) *machine {
	t.Helper()
	dir := t.TempDir()
	cfg, err := configstore.Open(filepath.Join(dir, "config.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	log, err := activitylog.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = log.Close() })
	return &machine{cfg: cfg, keys: secretstoretest.NewMemory(), log: log}
}

// seed gives m a key-based connection, an OAuth connection (access and
// refresh token) and a job with a checkpoint. Every secret holds CANARY.
func (m *machine) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	at := t0
	err := m.cfg.Update(ctx, func(d *configstore.Document) error {
		d.Connections = append(d.Connections,
			configstore.Connection{ID: "c_support", Name: "support", Connector: "freshdesk", Fields: map[string]string{"domain": "acme"},
				Secrets: []string{"api_key"}, Status: configstore.StatusAuthorized, CreatedAt: t0, UpdatedAt: t0, AuthorizedAt: &at},
			configstore.Connection{ID: "c_crm", Name: "CRM", Connector: "oauth2", Fields: map[string]string{"issuer": "https://id.example"},
				Secrets: []string{"oauth_access_token", "oauth_refresh_token"}, Status: configstore.StatusAuthorized, CreatedAt: t0, UpdatedAt: t0,
				OAuth: &configstore.OAuthState{Scopes: []string{"openid", "offline"}, ExpiresAt: &at}})
		d.Jobs = append(d.Jobs, configstore.Job{ID: "j_tickets", Name: "tickets", ConnectionID: "c_support", Source: "tickets",
			Dest: "tickets.ndjson", Format: "ndjson", Mode: "incremental", CreatedAt: t0, UpdatedAt: t0})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][3]string{{"c_support", "api_key", "fd-CANARY-1"}, {"c_crm", "oauth_access_token", "at-CANARY-2"}, {"c_crm", "oauth_refresh_token", "rt-CANARY-3"}} {
		if err := m.keys.Set(ctx, s[0], s[1], s[2]); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.log.SetCheckpoint(ctx, "j_tickets", "2026-12-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
}

func (m *machine) local() team.Local {
	return team.Local{
		Doc: m.cfg.Document(), Backend: "memory", Checkpoints: m.log,
		Secrets: func(name string) (secretstore.Store, error) {
			if name != "memory" {
				return nil, errors.New("no backend " + name)
			}
			return m.keys, nil
		},
	}
}

// teamSide is a team store on a fresh database and a Vault.
type teamSide struct {
	url   string
	db    *pgstore.DB
	vault *vaultstore.Store
}

func newTeam(t *testing.T, pg *postgres.Server, v *vaultpeer.Server, path string) *teamSide {
	t.Helper()
	url := pg.NewDatabase(t)
	db, err := pgstore.Open(context.Background(), url, pgstore.Options{Who: "tester", Host: "test-host"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	vs, err := vaultstore.New(vaultstore.Config{Path: path, Getenv: func(k string) string {
		return map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": vaultpeer.RootToken, "HOME": t.TempDir()}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &teamSide{url: url, db: db, vault: vs}
}

func (ts *teamSide) shared(t *testing.T) team.Shared {
	t.Helper()
	defs, err := ts.db.Definitions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return team.Shared{Where: "the team store", Defs: defs, Checkpoints: ts.db.Log(), Vault: ts.vault}
}

// nothingWritten checks what a refused Init must leave alone besides the
// definitions: this machine's settings (switched), the secret kind of
// connection conn in Vault, and the checkpoint of the job j_tickets.
func (ts *teamSide) nothingWritten(t *testing.T, switched bool, conn, kind string) {
	t.Helper()
	ctx := context.Background()
	if switched {
		t.Error("settings switched after a refusal")
	}
	if _, err := ts.vault.Get(ctx, conn, kind); !errors.Is(err, secretstore.ErrNotFound) {
		t.Errorf("a secret was written before the refusal: %v", err)
	}
	if _, ok, _ := ts.db.Log().Checkpoint(ctx, "j_tickets"); ok {
		t.Error("a checkpoint was written before the refusal")
	}
}

func names(d *configstore.Document) string {
	var out []string
	for _, c := range d.Connections {
		out = append(out, c.Name+"@"+c.SecretBackend)
	}
	for _, j := range d.Jobs {
		out = append(out, "job:"+j.Name)
	}
	return strings.Join(out, " ")
}

// TestInit copies definitions, the job and its checkpoint into
// PostgreSQL and the secrets into Vault, switches last, and a second run
// writes nothing; no secret reaches PostgreSQL.
func TestInit(t *testing.T) {
	pg, v := postgres.Start(t), vaultpeer.Start(t)
	ctx := context.Background()
	m := newMachine(t)
	m.seed(t)
	ts := newTeam(t, pg, v, "connctl")

	switched := 0
	res, err := team.Init(ctx, m.local(), ts.shared(t), func(context.Context) error { switched++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.Connections.Copied != 2 || res.Jobs.Copied != 1 || res.Checkpoints.Copied != 1 || res.Secrets.Copied != 3 || switched != 1 {
		t.Fatalf("first run: %+v, switched %d", res, switched)
	}
	defs, _ := ts.db.Definitions(ctx)
	if got := names(defs.Document()); got != "support@vault CRM@vault job:tickets" {
		t.Fatalf("team store holds %s", got)
	}
	if cp, ok, _ := ts.db.Log().Checkpoint(ctx, "j_tickets"); !ok || cp != "2026-12-01T00:00:00Z" {
		t.Fatalf("checkpoint %q %v", cp, ok)
	}
	if rt, err := ts.vault.Get(ctx, "c_crm", "oauth_refresh_token"); err != nil || rt != "rt-CANARY-3" {
		t.Fatalf("refresh token in Vault: %q %v", rt, err)
	}
	// Nothing deleted locally.
	if len(m.keys.Items()) != 3 || len(m.cfg.Document().Connections) != 2 {
		t.Fatal("the local setup changed")
	}

	// The team uses its copy: the token rotates, the job runs on.
	if err := ts.vault.CompareAndSwap(ctx, "c_crm", "oauth_refresh_token", "rt-CANARY-3", "rt-CANARY-4"); err != nil {
		t.Fatal(err)
	}
	if err := ts.db.Log().SetCheckpoint(ctx, "j_tickets", "2026-12-05T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	res, err = team.Init(ctx, m.local(), ts.shared(t), func(context.Context) error { switched++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() || res.Connections.Present != 2 || res.Jobs.Present != 1 || res.Secrets.Present != 3 || len(res.KeptCheckpoints) != 1 {
		t.Fatalf("second run: %+v", res)
	}
	if rt, _ := ts.vault.Get(ctx, "c_crm", "oauth_refresh_token"); rt != "rt-CANARY-4" {
		t.Fatalf("the team's rotated token was overwritten: %q", rt)
	}
	if cp, _, _ := ts.db.Log().Checkpoint(ctx, "j_tickets"); cp != "2026-12-05T00:00:00Z" {
		t.Fatalf("the team's checkpoint was overwritten: %q", cp)
	}
	dumpHasNo(t, ts.url, "CANARY")

	// The same connection, its fields changed in the team store since:
	// a clash, named with the field (never its value).
	defs, _ = ts.db.Definitions(ctx)
	err = defs.Update(ctx, func(d *configstore.Document) error {
		d.Connections[0].Fields = map[string]string{"domain": "globex"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = team.Init(ctx, m.local(), ts.shared(t), nil)
	var ce *team.ClashError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `connection "support" (fields differ: domain)`) || strings.Contains(err.Error(), "globex") {
		t.Fatalf("%v", err)
	}
}

// TestInitClashWritesNothing: a connection of the same name with another
// definition in the team store, and a secret Vault holds with another
// value, are refused, listed, before anything is written.
func TestInitClashWritesNothing(t *testing.T) {
	pg, v := postgres.Start(t), vaultpeer.Start(t)
	ctx := context.Background()
	m := newMachine(t)
	m.seed(t)
	ts := newTeam(t, pg, v, "clash")
	defs, _ := ts.db.Definitions(ctx)
	err := defs.Update(ctx, func(d *configstore.Document) error {
		d.Connections = append(d.Connections, configstore.Connection{ID: "c_other", Name: "support", Connector: "freshdesk",
			Fields: map[string]string{"domain": "globex"}, Status: configstore.StatusNotAuthorized, CreatedAt: t0, UpdatedAt: t0})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.vault.Set(ctx, "c_crm", "oauth_access_token", "someone-else"); err != nil {
		t.Fatal(err)
	}
	switched := false
	_, err = team.Init(ctx, m.local(), ts.shared(t), func(context.Context) error { switched = true; return nil })
	var ce *team.ClashError
	if !errors.As(err, &ce) || len(ce.Clashes) != 2 {
		t.Fatalf("want two clashes, got %v", err)
	}
	for _, want := range []string{`connection "support" (another connection of that name, id c_other)`, `secret oauth_access_token of "CRM"`, "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	ts.nothingWritten(t, switched, "c_crm", "oauth_refresh_token")
	_ = defs.Reload()
	if got := names(defs.Document()); got != "support@" {
		t.Errorf("team store holds %s", got)
	}

}

// failingDefs fails its first Update, as a lost connection would.
type failingDefs struct {
	configstore.Definitions
	fail bool
}

func (f *failingDefs) Update(ctx context.Context, fn func(*configstore.Document) error) error {
	if f.fail {
		f.fail = false
		return errors.New("connection lost")
	}
	return f.Definitions.Update(ctx, fn)
}

// TestInitResumes: a run that failed at the definitions leaves the
// settings alone; the next run continues, the secrets and checkpoint it
// wrote counted as present.
func TestInitResumes(t *testing.T) {
	pg, v := postgres.Start(t), vaultpeer.Start(t)
	ctx := context.Background()
	m := newMachine(t)
	m.seed(t)
	ts := newTeam(t, pg, v, "resume")
	sh := ts.shared(t)
	sh.Defs = &failingDefs{Definitions: sh.Defs, fail: true}
	switched := 0
	sw := func(context.Context) error { switched++; return nil }
	if _, err := team.Init(ctx, m.local(), sh, sw); err == nil || switched != 0 {
		t.Fatalf("failed run: %v, switched %d", err, switched)
	}
	res, err := team.Init(ctx, m.local(), sh, sw)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connections.Copied != 2 || res.Secrets.Present != 3 || res.Secrets.Copied != 0 || res.Checkpoints.Copied != 1 || switched != 1 {
		t.Fatalf("resumed run: %+v, switched %d", res, switched)
	}
}

// TestInitMissingSecret: a secret the definitions name but the keyring
// lacks stops Init before anything is written.
func TestInitMissingSecret(t *testing.T) {
	pg, v := postgres.Start(t), vaultpeer.Start(t)
	ctx := context.Background()
	m := newMachine(t)
	m.seed(t)
	_ = m.keys.Delete(ctx, "c_crm", "oauth_refresh_token")
	ts := newTeam(t, pg, v, "missing")
	_, err := team.Init(ctx, m.local(), ts.shared(t), nil)
	var me *team.MissingSecretsError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), `oauth_refresh_token of "CRM"`) {
		t.Fatalf("%v", err)
	}
	if _, err := ts.vault.Get(ctx, "c_support", "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Errorf("a secret was written: %v", err)
	}
}

// TestInitWithoutVault: the definitions record the backend that keeps the
// secrets on this machine.
func TestInitWithoutVault(t *testing.T) {
	pg := postgres.Start(t)
	ctx := context.Background()
	m := newMachine(t)
	m.seed(t)
	db, err := pgstore.Open(ctx, pg.NewDatabase(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defs, _ := db.Definitions(ctx)
	res, err := team.Init(ctx, m.local(), team.Shared{Defs: defs, Checkpoints: db.Log()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LocalSecrets) != 2 || res.Secrets.Copied != 0 {
		t.Fatalf("%+v", res)
	}
	if got := names(defs.Document()); got != "support@memory CRM@memory job:tickets" {
		t.Fatalf("team store holds %s", got)
	}
}

// TestExport brings the team's definitions, jobs, checkpoints and (on
// request) secrets back into a local file; without secrets the
// connections record that Vault keeps them.
func TestExport(t *testing.T) {
	pg, v := postgres.Start(t), vaultpeer.Start(t)
	ctx := context.Background()
	m := newMachine(t)
	m.seed(t)
	ts := newTeam(t, pg, v, "export")
	if _, err := team.Init(ctx, m.local(), ts.shared(t), nil); err != nil {
		t.Fatal(err)
	}
	open := func(name string) (secretstore.Store, error) {
		if name != "vault" {
			return nil, errors.New("no backend " + name)
		}
		return ts.vault, nil
	}

	// Without secrets, into a fresh file.
	plain := newMachine(t)
	res, err := team.Export(ctx, ts.shared(t), team.ExportOptions{Into: plain.cfg, Where: "a.yaml", Open: open, TeamBackend: "vault"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connections.Copied != 2 || res.Jobs.Copied != 1 || len(res.WithoutSecrets) != 2 || res.Secrets != 0 {
		t.Fatalf("%+v", res)
	}
	if got := names(plain.cfg.Document()); got != "support@vault CRM@vault job:tickets" {
		t.Fatalf("file holds %s", got)
	}

	// With secrets, settings changed in the same write, checkpoints too.
	back := newMachine(t)
	res, err = team.Export(ctx, ts.shared(t), team.ExportOptions{Into: back.cfg, Where: "b.yaml", Open: open, TeamBackend: "vault",
		Secrets: back.keys, Checkpoints: back.log,
		Settings: func(d *configstore.Document) error { return configstore.SetIn(d, "limits.crm", "2") }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Secrets != 3 || res.Checkpoints != 1 {
		t.Fatalf("%+v", res)
	}
	if got := names(back.cfg.Document()); got != "support@memory CRM@memory job:tickets" {
		t.Fatalf("file holds %s", got)
	}
	if back.cfg.Int("limits.crm") != 2 {
		t.Error("settings not written with the definitions")
	}
	if rt, _ := back.keys.Get(ctx, "c_crm", "oauth_refresh_token"); rt != "rt-CANARY-3" {
		t.Errorf("refresh token %q", rt)
	}
	if cp, ok, _ := back.log.Checkpoint(ctx, "j_tickets"); !ok || cp != "2026-12-01T00:00:00Z" {
		t.Errorf("checkpoint %q", cp)
	}
	// Again: identical, nothing new.
	res, err = team.Export(ctx, ts.shared(t), team.ExportOptions{Into: back.cfg, Where: "b.yaml", Open: open, TeamBackend: "vault", Secrets: back.keys})
	if err != nil || res.Connections.Present != 2 || res.Jobs.Present != 1 {
		t.Fatalf("again: %+v %v", res, err)
	}

	// A local connection of the same name, another id: refused.
	clash := newMachine(t)
	_ = clash.cfg.Update(ctx, func(d *configstore.Document) error {
		d.Connections = append(d.Connections, configstore.Connection{ID: "c_mine", Name: "crm", Connector: "hubspot", Status: configstore.StatusNotAuthorized, CreatedAt: t0, UpdatedAt: t0})
		return nil
	})
	_, err = team.Export(ctx, ts.shared(t), team.ExportOptions{Into: clash.cfg, Where: "c.yaml", Open: open, Secrets: clash.keys})
	var ce *team.ClashError
	if !errors.As(err, &ce) || len(clash.keys.Items()) != 0 || len(clash.cfg.Document().Connections) != 1 {
		t.Fatalf("clash: %v", err)
	}
}

// dumpHasNo fails if any row of any table of the database at url
// contains mark.
func dumpHasNo(t *testing.T, url, mark string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT row_to_json(t)::text FROM `+table+` t`)
		if err != nil {
			t.Fatal(err)
		}
		dump, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range dump {
			if strings.Contains(row, mark) {
				t.Errorf("table %s holds a secret: %s", table, row)
			}
		}
	}
}

// A merge that would break the product's rules (here: a second Support
// system beside the team's Zendesk, with limits.support 1) is refused
// before anything is written, with the rule's error; with the limit raised
// it goes through.
func TestInitRulesWriteNothing(t *testing.T) {
	pg, v := postgres.Start(t), vaultpeer.Start(t)
	ctx := context.Background()
	m := newMachine(t)
	m.seed(t)
	ts := newTeam(t, pg, v, "rules")
	defs, _ := ts.db.Definitions(ctx)
	if err := defs.Update(ctx, func(d *configstore.Document) error {
		d.Connections = append(d.Connections, configstore.Connection{ID: "c_zd", Name: "zd", Connector: "zendesk",
			Fields: map[string]string{"subdomain": "globex"}, Status: configstore.StatusNotAuthorized, CreatedAt: t0, UpdatedAt: t0})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	limits := map[string]int{"limits.crm": 1, "limits.support": 1}
	sh := ts.shared(t)
	sh.Rules = func(d *configstore.Document) error {
		return connection.CheckDocumentRules(all.Catalogue(), func(k string) int { return limits[k] }, d)
	}
	switched := false
	_, err := team.Init(ctx, m.local(), sh, func(context.Context) error { switched = true; return nil })
	if err == nil || !strings.Contains(err.Error(), "Support limit: there would be 2 Support systems") {
		t.Fatalf("err = %v, want the Support limit", err)
	}
	ts.nothingWritten(t, switched, "c_support", "api_key")
	_ = defs.Reload()
	if got := len(defs.Document().Connections); got != 1 {
		t.Errorf("team store holds %d connections, want 1", got)
	}
	limits["limits.support"] = 2
	if _, err := team.Init(ctx, m.local(), sh, func(context.Context) error { switched = true; return nil }); err != nil || !switched {
		t.Fatalf("with limits.support 2: %v, switched %v", err, switched)
	}
}
