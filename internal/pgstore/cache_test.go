package pgstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/configstore/configstoretest"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// openCached opens the team store at url with the local cache in dir.
func openCached(t testing.TB, url, who, dir string) *pgstore.DB {
	t.Helper()
	db, err := pgstore.Open(context.Background(), url, pgstore.Options{Who: who, Host: who + "-host", CacheDir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// The conformance suite again, every handle of a database sharing one
// cache folder, as the commands of one machine do: what a handle reads
// from the cache behaves exactly as what it reads from the rows.
func TestDefinitionsConformanceCached(t *testing.T) {
	srv := postgres.Start(t)
	configstoretest.RunConformance(t, func(t *testing.T) func() (configstore.Definitions, error) {
		url, dir := srv.NewDatabase(t), t.TempDir()
		return func() (configstore.Definitions, error) {
			return openCached(t, url, "tester", dir).Definitions(context.Background())
		}
	})
}

// richDefinitions holds every field of a connection and a job, nil and
// empty maps and lists, OAuth state with and without times.
func richDefinitions(doc *configstore.Document) {
	at := time.Date(2026, 12, 6, 5, 4, 3, 2, time.UTC)
	later := at.Add(time.Hour)
	full := conn("Full")
	full.Fields = map[string]string{"domain": "acme.example.com", "empty": ""}
	full.Secrets = []string{"api_key", "client_secret"}
	full.SecretBackend = "keyring"
	full.Status = configstore.StatusAuthorized
	full.StatusReason = "why"
	full.Account = "admin@acme.example.com"
	full.AuthorizedAt = &at
	full.Unverified = true
	full.OAuth = &configstore.OAuthState{Scopes: []string{"read", "write"}, IssuedAt: &at, ExpiresAt: &later,
		APIBase: "https://api.example.com", Subject: "sub", Org: "org", Extra: map[string]string{"instance_url": "https://x.example.com"}}
	empty := conn("Empty")
	empty.Fields, empty.Secrets, empty.OAuth = map[string]string{}, []string{}, &configstore.OAuthState{Scopes: []string{}, Extra: map[string]string{}}
	doc.Connections = append(doc.Connections, full, empty, conn("Bare"))
	doc.Jobs = append(doc.Jobs,
		configstore.Job{ID: "job_1", Name: "tickets", ConnectionID: full.ID, Source: "tickets", Params: map[string]string{"since": "2026-01-01"},
			Dest: "out.jsonl", Format: "jsonl", Mode: "incremental", Schedule: "@every 1h", NotifyOn: "failure", CreatedAt: at, UpdatedAt: later},
		configstore.Job{ID: "job_2", Name: "bare", ConnectionID: empty.ID, Source: "contacts", Params: map[string]string{}, CreatedAt: at, UpdatedAt: at})
}

// eachNames lists the connections as EachConnection gives them.
func eachNames(t *testing.T, d *pgstore.Definitions) []string {
	t.Helper()
	var names []string
	if err := d.EachConnection(func(c *configstore.Connection) error {
		names = append(names, c.Name+"/"+c.Fields["domain"])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return names
}

// A handle read from the cache holds exactly what one read from the rows
// holds (the decoded Document, compared field by field; the stored order;
// the versions a stale write is checked against), and the cache is used:
// the second open reads it.
func TestCacheHoldsWhatTheRowsHold(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	writer, err := open(t, url, "alice", "laptop-a").Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Update(ctx, func(doc *configstore.Document) error { richDefinitions(doc); return nil }); err != nil {
		t.Fatal(err)
	}
	fresh, err := open(t, url, "carol", "laptop-c").Definitions(ctx) // no cache
	if err != nil {
		t.Fatal(err)
	}
	want := fresh.Document()

	dir := t.TempDir()
	first := openCached(t, url, "bob", dir)
	if _, err := first.Definitions(ctx); err != nil {
		t.Fatal(err)
	}
	if pgstore.CacheReads(first) != 0 {
		t.Fatal("the first read found a cache in an empty folder")
	}
	second := openCached(t, url, "bob", dir)
	cached, err := second.Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pgstore.CacheReads(second) != 1 {
		t.Fatal("the second read did not use the cache")
	}
	if n := cached.ConnectionCount(); n != 3 {
		t.Fatalf("ConnectionCount = %d, want 3", n)
	}
	if got, want := eachNames(t, cached), eachNames(t, fresh); !reflect.DeepEqual(got, want) {
		t.Fatalf("EachConnection from the cache = %v, from the rows %v", got, want)
	}
	var at []string
	if err := cached.EachConnectionAt([]int{2, 0}, func(c *configstore.Connection) error {
		at = append(at, c.Name)
		return nil
	}); err != nil || !reflect.DeepEqual(at, []string{"Bare", "Full"}) {
		t.Fatalf("EachConnectionAt = %v, %v", at, err)
	}
	if err := cached.EachConnectionAt([]int{3}, func(*configstore.Connection) error { return nil }); err == nil {
		t.Fatal("EachConnectionAt out of range: no error")
	}
	if got := cached.Document(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Document from the cache differs:\n got %#v\nwant %#v", got, want)
	}

	// The cache's versions are the rows': a change of a connection the
	// cached handle showed, made meanwhile by another, is a conflict.
	if _, ok := cached.Find("Full"); !ok {
		t.Fatal("no Full")
	}
	if err := writer.Reload(); err != nil {
		t.Fatal(err)
	}
	writer.Find("Full")
	if err := writer.Update(ctx, setField("Full", "domain", "alice.example.com")); err != nil {
		t.Fatal(err)
	}
	var ce *pgstore.ConflictError
	if err := cached.Update(ctx, setField("Full", "domain", "bob.example.com")); !errors.As(err, &ce) || ce.Who != "alice" {
		t.Fatalf("stale write from a cached handle: %v, want a conflict naming alice", err)
	}
	// And one of a connection nobody changed goes through.
	cached.Find("Bare")
	if err := cached.Update(ctx, setField("Bare", "domain", "bob.example.com")); err != nil {
		t.Fatalf("write from a cached handle: %v", err)
	}
}

// Every way the rows can change, by connctl or by hand-written SQL,
// gives the database a new generation: a reader with a cache of the old
// one reads the rows again and sees the change. A cache file that is
// damaged (cut short, a byte changed anywhere) is never used.
func TestCacheSeesEveryChange(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	dir := t.TempDir()
	w, err := open(t, url, "alice", "laptop-a").Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Update(ctx, func(doc *configstore.Document) error { richDefinitions(doc); return nil }); err != nil {
		t.Fatal(err)
	}
	sql, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sql.Close(context.Background()) })
	db := openCached(t, url, "bob", dir)
	d, err := db.Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	domain := func(name string) string {
		t.Helper()
		if err := d.Reload(); err != nil {
			t.Fatal(err)
		}
		c, ok := d.Find(name)
		if !ok {
			return "(gone)"
		}
		return c.Fields["domain"]
	}
	if got := domain("Full"); got != "acme.example.com" {
		t.Fatalf("domain = %q", got)
	}
	hits := pgstore.CacheReads(db)
	if domain("Full"); pgstore.CacheReads(db) != hits+1 {
		t.Fatal("a reload with nothing changed did not use the cache")
	}
	// Each change is seen, and only the rows it changed are read again
	// (the others come from the cache of the earlier generation).
	steps := []struct {
		what, sql, name, want string
		read                  int64 // definitions read from their rows
	}{
		{"UPDATE by hand", `UPDATE connctl_connections SET body = jsonb_set(body::jsonb, '{fields,domain}', '"hand.example.com"')::json WHERE id = 'conn_Full'`, "Full", "hand.example.com", 1},
		{"UPDATE of a job's table", `UPDATE connctl_jobs SET body = jsonb_set(body::jsonb, '{name}', '"renamed"')::json WHERE id = 'job_2'`, "Full", "hand.example.com", 1},
		{"UPDATE that changes nothing", `UPDATE connctl_connections SET body = body WHERE id = 'conn_Bare'`, "Bare", "", 1},
		{"DELETE by hand", `DELETE FROM connctl_jobs`, "Full", "hand.example.com", 0},
		{"INSERT by hand", `INSERT INTO connctl_connections (id, name_key, body, updated_by, updated_host) SELECT 'conn_Copy', 'copy', jsonb_set(jsonb_set(body::jsonb, '{id}', '"conn_Copy"'), '{name}', '"Copy"')::json, 'dba', 'psql' FROM connctl_connections WHERE id = 'conn_Full'`, "Copy", "hand.example.com", 1},
		{"TRUNCATE", `TRUNCATE connctl_jobs, connctl_connections`, "Full", "(gone)", 0},
	}
	for _, s := range steps {
		if _, err := sql.Exec(ctx, s.sql); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		hits, read := pgstore.CacheReads(db), pgstore.BodiesRead(db)
		if got := domain(s.name); got != s.want {
			t.Fatalf("after %s: domain = %q, want %q", s.what, got, s.want)
		}
		if pgstore.CacheReads(db) != hits {
			t.Fatalf("after %s: read from the cache of the old generation", s.what)
		}
		if n := pgstore.BodiesRead(db) - read; n != s.read {
			t.Fatalf("after %s: %d definitions read from their rows, want %d", s.what, n, s.read)
		}
		// What was read, partly from the old cache, is what the rows hold.
		fresh, err := open(t, url, "carol", "laptop-c").Definitions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.Document(), fresh.Document(); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %s: the definitions read with the old cache differ from the rows:\n got %#v\nwant %#v", s.what, got, want)
		}
		if s.what == "UPDATE of a job's table" {
			if _, j := d.Document().FindJob("renamed"); j == nil {
				t.Fatal("the job renamed by hand is not seen")
			}
		}
	}

	// Damaged cache files: every one is read around.
	if err := w.Update(ctx, func(doc *configstore.Document) error { richDefinitions(doc); return nil }); err != nil {
		t.Fatal(err)
	}
	fresh, err := open(t, url, "carol", "laptop-c").Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	warm := openCached(t, url, "bob", dir)
	if _, err := warm.Definitions(ctx); err != nil { // writes the cache
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "team-*.cache"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode %v, want 0600", fi.Mode().Perm())
	}
	for i := 0; i < len(good); i += max(1, len(good)/97) {
		for _, bad := range [][]byte{good[:i], flip(good, i)} {
			if err := os.WriteFile(files[0], bad, 0o600); err != nil {
				t.Fatal(err)
			}
			r := openCached(t, url, "bob", dir)
			d, err := r.Definitions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if pgstore.CacheReads(r) != 0 {
				t.Fatalf("a cache damaged at byte %d of %d was used", i, len(good))
			}
			if got, want := d.Document(), fresh.Document(); !reflect.DeepEqual(got, want) {
				t.Fatalf("after a damaged cache: Document differs from the rows")
			}
			r.Close()
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x55
	return c
}

// A member whose role may read the definitions but not the generation (a
// team that grants per table, set up before migration 3) still reads
// them, every row as before, and keeps no copy.
func TestNoCopyWithoutTheGeneration(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	w, err := open(t, url, "alice", "laptop-a").Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Update(ctx, func(doc *configstore.Document) error { richDefinitions(doc); return nil }); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	role := "reader_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN`,
		`GRANT SELECT ON connctl_connections, connctl_jobs, ` + pgstore.MigrationsTable + ` TO ` + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	limited := strings.Replace(url, "postgres://postgres@", "postgres://"+role+"@", 1)
	if limited == url {
		t.Fatalf("cannot name another user in %s", url)
	}
	dir := t.TempDir()
	for range 2 {
		db := openCached(t, limited, role, dir)
		d, err := db.Definitions(ctx)
		if err != nil {
			t.Fatalf("a reader without the generation: %v", err)
		}
		if c, ok := d.Find("Full"); !ok || c.Fields["domain"] != "acme.example.com" {
			t.Fatalf("Full = %+v, %v", c, ok)
		}
		if err := d.Reload(); err != nil {
			t.Fatal(err)
		}
		if pgstore.CacheReads(db) != 0 {
			t.Fatal("read from a copy")
		}
	}
	if copies, _ := filepath.Glob(filepath.Join(dir, "*")); len(copies) != 0 {
		t.Fatalf("copies kept without a generation: %v", copies)
	}
}
