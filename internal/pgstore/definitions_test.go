package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/configstore/configstoretest"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// open opens the team store at url as who on host, closed at the end.
func open(t testing.TB, url, who, host string) *pgstore.DB {
	t.Helper()
	db, err := pgstore.Open(context.Background(), url, pgstore.Options{Who: who, Host: host})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestDefinitionsConformance(t *testing.T) {
	srv := postgres.Start(t)
	configstoretest.RunConformance(t, func(t *testing.T) func() (configstore.Definitions, error) {
		db := open(t, srv.NewDatabase(t), "tester", "test-host")
		return func() (configstore.Definitions, error) {
			return db.Definitions(context.Background())
		}
	})
}

func conn(name string) configstore.Connection {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	return configstore.Connection{ID: "conn_" + name, Name: name, Connector: "freshdesk", Auth: "api_key",
		Status: configstore.StatusNotAuthorized, CreatedAt: now, UpdatedAt: now}
}

func setField(name, k, v string) func(doc *configstore.Document) error {
	return func(doc *configstore.Document) error {
		_, c := doc.Find(name)
		if c == nil {
			return fmt.Errorf("no %s", name)
		}
		c.Fields = map[string]string{k: v}
		return nil
	}
}

// Two admins: one changes a connection the other has looked at; the
// other's change of it is refused with who, where and when, and goes
// through once re-read. Changes of different connections both go through.
func TestStaleWriteIsRefused(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	alice, err := open(t, url, "alice", "laptop-a").Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Update(ctx, func(doc *configstore.Document) error {
		doc.Connections = append(doc.Connections, conn("CRM"), conn("Desk"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bob, err := open(t, url, "bob", "laptop-b").Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bob.Find("crm"); !ok {
		t.Fatal("bob does not see CRM")
	}
	if _, ok := alice.Find("desk"); !ok {
		t.Fatal("alice does not see Desk")
	}
	// Different connections: both succeed.
	if err := alice.Update(ctx, setField("Desk", "domain", "a.example.com")); err != nil {
		t.Fatalf("alice edits Desk: %v", err)
	}
	if err := bob.Update(ctx, setField("CRM", "domain", "b.example.com")); err != nil {
		t.Fatalf("bob edits CRM: %v", err)
	}
	// Alice changes CRM, which bob looked at before: bob's edit is stale.
	if _, ok := alice.Find("CRM"); !ok {
		t.Fatal("alice lost CRM")
	}
	if err := alice.Reload(); err != nil {
		t.Fatal(err)
	}
	alice.Find("CRM")
	if err := alice.Update(ctx, setField("CRM", "domain", "alice.example.com")); err != nil {
		t.Fatalf("alice edits CRM: %v", err)
	}
	err = bob.Update(ctx, setField("CRM", "domain", "bob.example.com"))
	var ce *pgstore.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("bob's stale edit: %v, want a conflict", err)
	}
	if ce.Who != "alice" || ce.Host != "laptop-a" || !strings.HasPrefix(err.Error(), "connection CRM was changed by alice on laptop-a at ") ||
		!strings.HasSuffix(err.Error(), "; re-run the command") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("conflict error = %q", err)
	}
	// Nothing of bob's was stored.
	check, _ := open(t, url, "carol", "laptop-c").Definitions(ctx)
	if c, _ := check.Find("CRM"); c.Fields["domain"] != "alice.example.com" {
		t.Fatalf("CRM domain = %q after a refused stale write", c.Fields["domain"])
	}
	// Re-run: bob reads again, and the edit goes through.
	if err := bob.Reload(); err != nil {
		t.Fatal(err)
	}
	bob.Find("CRM")
	if err := bob.Update(ctx, setField("CRM", "domain", "bob.example.com")); err != nil {
		t.Fatalf("bob's edit after re-reading: %v", err)
	}
	// A delete of a connection changed since it was shown is refused too.
	alice.Find("CRM") // alice saw it before bob's edit
	err = alice.Update(ctx, func(doc *configstore.Document) error {
		i, _ := doc.Find("CRM")
		doc.Connections = append(doc.Connections[:i], doc.Connections[i+1:]...)
		return nil
	})
	if !errors.As(err, &ce) || ce.Who != "bob" || !ce.Deleted {
		t.Fatalf("alice's stale delete: %v, want a conflict naming bob", err)
	}
}

func TestUnreachableStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = pgstore.Open(ctx, "postgres://admin:s3cret-canary@"+addr+"/team?sslmode=disable", pgstore.Options{})
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, "s3cret-canary") || !strings.Contains(msg, addr+"/team") || !strings.Contains(msg, "store.url") || strings.Contains(msg, "\n") {
		t.Fatalf("error = %q: want one line naming %s and store.url, without the password", msg, addr)
	}
}
