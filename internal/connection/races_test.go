package connection

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// TestDeleteRacesEditWithSecret: two managers (two processes' worth of
// state, sharing the config file, the lock folder and the secret store)
// delete and edit the same connection at once; the edit's config write
// fails whenever the delete won, which used to make its rollback write the
// old secret back for a connection just deleted.
func TestDeleteRacesEditWithSecret(t *testing.T) {
	t.Parallel()
	const trials = 40
	orphans := 0
	for i := range trials {
		dir := t.TempDir()
		mem := secretstoretest.NewMemory()
		// A slow store widens the window between the edit's secret write
		// and its config write.
		slow := &secretstoretest.Flaky{Store: mem, Before: func(int, string, string) { time.Sleep(time.Millisecond) }}
		open := func() *Manager {
			cfg, err := configstore.Open(filepath.Join(dir, "config.yaml"), func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			return &Manager{Config: cfg, Secrets: func() (secretstore.Store, error) { return slow, nil }, Catalog: all.Catalogue(),
				Now: func() time.Time { return fixed }, LockDir: filepath.Join(dir, "locks")}
		}
		first := open()
		if _, err := first.Create(context.Background(), freshdesk(t, first, "support", "k1")); err != nil {
			t.Fatal(err)
		}
		editor, deleter := open(), open()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, _ = editor.Edit(context.Background(), "support", EditRequest{Secrets: map[string]string{"api_key": "k2"}})
		}()
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				time.Sleep(time.Millisecond) // let the edit start first half the time
			}
			_, _ = deleter.Delete(context.Background(), "support", false)
		}()
		wg.Wait()
		check := open()
		defined := map[string]bool{}
		for _, c := range check.Config.Connections() {
			defined[c.ID] = true
		}
		for key := range mem.Items() {
			if id, _, _ := cut(key); !defined[id] {
				orphans++
				t.Errorf("trial %d: orphan secret %s", i, key)
			}
		}
		if len(check.Config.Connections()) != 0 {
			t.Errorf("trial %d: the delete did not happen", i)
		}
	}
	t.Logf("delete vs edit --secret-stdin: %d trials, %d orphans", trials, orphans)
}

func cut(key string) (string, string, bool) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}

// TestEditSecretOfRevokedConnectionAuthorizes: a new key for a revoked
// key-based connection is a new authorization, as reauthorize would be.
func TestEditSecretOfRevokedConnectionAuthorizes(t *testing.T) {
	t.Parallel()
	mg := newManager(t, secretstoretest.NewMemory())
	ctx := context.Background()
	if _, err := mg.Create(ctx, freshdesk(t, mg, "support", "k1")); err != nil {
		t.Fatal(err)
	}
	if _, err := mg.Revoke(ctx, "support"); err != nil {
		t.Fatal(err)
	}
	c, changes, err := mg.Edit(ctx, "support", EditRequest{Secrets: map[string]string{"api_key": "k2"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != configstore.StatusAuthorized || c.AuthorizedAt == nil {
		t.Fatalf("status %s, authorized at %v", c.Status, c.AuthorizedAt)
	}
	found := false
	for _, ch := range changes {
		found = found || ch.Field == "status" && ch.Old == "revoked" && ch.New == "authorized"
	}
	if !found {
		t.Fatalf("changes %+v lack the status change", changes)
	}
}
