package connection

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// named gives a store a backend name; failSet makes its Set fail from the
// failSet-th call; garble makes Get return something else.
type named struct {
	secretstore.Store
	name    string
	failSet int
	sets    int
	garble  bool
}

func (n *named) Name() string { return n.name }

func (n *named) Set(ctx context.Context, id, kind, v string) error {
	n.sets++
	if n.failSet > 0 && n.sets == n.failSet {
		return errors.New("disk full")
	}
	return n.Store.Set(ctx, id, kind, v)
}

func (n *named) Get(ctx context.Context, id, kind string) (string, error) {
	v, err := n.Store.Get(ctx, id, kind)
	if n.garble && err == nil {
		v += "?"
	}
	return v, err
}

type migrateFixture struct {
	mg       *Manager
	keyring  *named
	file     *named
	ids      []string
	openFile func(string) (secretstore.Store, error)
}

func newMigrateFixture(t *testing.T) *migrateFixture {
	t.Helper()
	f := &migrateFixture{
		keyring: &named{Store: secretstoretest.NewMemory(), name: "keyring"},
		file:    &named{Store: secretstoretest.NewMemory(), name: "file"},
	}
	f.mg = newManager(t, f.keyring)
	for _, n := range []string{"a", "b"} {
		c, err := f.mg.Create(context.Background(), freshdesk(t, f.mg, n, "key-"+n))
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append(f.ids, c.ID)
	}
	return f
}

func (f *migrateFixture) open(name string) (secretstore.Store, error) {
	if name == "file" {
		return f.file, nil
	}
	return f.keyring, nil
}

// unchanged checks that a failed migration left everything as it was.
func (f *migrateFixture) unchanged(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if got := f.mg.Config.String("secrets.backend"); got != "keyring" {
		t.Errorf("secrets.backend = %s after a failed migration", got)
	}
	for i, id := range f.ids {
		if v, err := f.keyring.Get(ctx, id, "api_key"); err != nil || v != "key-"+[]string{"a", "b"}[i] {
			t.Errorf("old copy of %s: %q %v", id, v, err)
		}
		if _, err := f.file.Store.Get(ctx, id, "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Errorf("a copy of %s was left in the target: %v", id, err)
		}
	}
	for _, c := range f.mg.Config.Connections() {
		if c.SecretBackend != "keyring" {
			t.Errorf("%s records backend %q", c.Name, c.SecretBackend)
		}
	}
}

func TestMigrateSecretsMovesEverything(t *testing.T) {
	t.Parallel()
	f := newMigrateFixture(t)
	ctx := context.Background()
	res, err := f.mg.MigrateSecrets(ctx, f.open, "file")
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 2 || strings.Join(res.Moved, ",") != "a,b" || len(res.LeftBehind) != 0 {
		t.Errorf("result %+v", res)
	}
	if got := f.mg.Config.String("secrets.backend"); got != "file" {
		t.Errorf("secrets.backend = %s", got)
	}
	for i, id := range f.ids {
		if v, err := f.file.Get(ctx, id, "api_key"); err != nil || v != "key-"+[]string{"a", "b"}[i] {
			t.Errorf("new copy of %s: %q %v", id, v, err)
		}
		if _, err := f.keyring.Get(ctx, id, "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Errorf("old copy of %s not removed: %v", id, err)
		}
	}
	for _, c := range f.mg.Config.Connections() {
		if c.SecretBackend != "file" {
			t.Errorf("%s records backend %q", c.Name, c.SecretBackend)
		}
	}
	// Nothing left to move: a second run changes nothing.
	if res, err := f.mg.MigrateSecrets(ctx, f.open, "file"); err != nil || len(res.Moved) != 0 {
		t.Errorf("second run: %+v %v", res, err)
	}
}

func TestMigrateSecretsFailureLeavesOldBackend(t *testing.T) {
	t.Parallel()
	t.Run("store fails half-way", func(t *testing.T) {
		t.Parallel()
		f := newMigrateFixture(t)
		f.file.failSet = 2
		if _, err := f.mg.MigrateSecrets(context.Background(), f.open, "file"); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("err = %v", err)
		}
		f.unchanged(t)
	})
	t.Run("read back differs", func(t *testing.T) {
		t.Parallel()
		f := newMigrateFixture(t)
		f.file.garble = true
		if _, err := f.mg.MigrateSecrets(context.Background(), f.open, "file"); err == nil || !strings.Contains(err.Error(), "read back differs") {
			t.Fatalf("err = %v", err)
		}
		f.unchanged(t)
	})
	t.Run("a secret is missing", func(t *testing.T) {
		t.Parallel()
		f := newMigrateFixture(t)
		_ = f.keyring.Delete(context.Background(), f.ids[1], "api_key")
		_, err := f.mg.MigrateSecrets(context.Background(), f.open, "file")
		if exitcode.FromError(err) != exitcode.AuthNeeded || !strings.Contains(err.Error(), `api_key of "b"`) {
			t.Fatalf("err = %v", err)
		}
		if got := f.mg.Config.String("secrets.backend"); got != "keyring" {
			t.Errorf("secrets.backend = %s", got)
		}
		if _, err := f.file.Store.Get(context.Background(), f.ids[0], "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Errorf("a's copy was left in the target: %v", err)
		}
	})
	t.Run("a stale value in the target is put back", func(t *testing.T) {
		t.Parallel()
		f := newMigrateFixture(t)
		ctx := context.Background()
		_ = f.file.Store.Set(ctx, f.ids[0], "api_key", "stale")
		f.file.failSet = 2
		if _, err := f.mg.MigrateSecrets(ctx, f.open, "file"); err == nil {
			t.Fatal("no error")
		}
		if v, _ := f.file.Store.Get(ctx, f.ids[0], "api_key"); v != "stale" {
			t.Errorf("target value = %q, want the stale one back", v)
		}
	})
}

// A secret recorded in another backend is missing here: reported as such,
// never as a rejection, and the connection is usable again once found.
func TestSecretMissingIsNotARejection(t *testing.T) {
	t.Parallel()
	f := newMigrateFixture(t)
	ctx := context.Background()
	c, _ := f.mg.Config.Find("a")
	_ = f.keyring.Delete(ctx, c.ID, "api_key")
	_, rerr := f.mg.Secret(ctx, c, "api_key")
	err := f.mg.SecretMissing(ctx, c, "api_key", rerr)
	if exitcode.FromError(err) != exitcode.AuthNeeded || !strings.Contains(err.Error(), `secret for "a" (api_key) not found in the keyring; was secrets.backend changed?`) {
		t.Fatalf("err = %v", err)
	}
	c, _ = f.mg.Config.Find("a")
	if c.Status != configstore.StatusNeedsReauthorization || c.StatusReason != configstore.ReasonSecretMissing {
		t.Fatalf("status %s (%s)", c.Status, c.StatusReason)
	}
	// The secret is back: reading it makes the connection authorized again.
	_ = f.keyring.Set(ctx, c.ID, "api_key", "key-a")
	if _, err := f.mg.Secret(ctx, c, "api_key"); err != nil {
		t.Fatal(err)
	}
	c, _ = f.mg.Config.Find("a")
	if c.Status != configstore.StatusAuthorized || c.StatusReason != "" {
		t.Fatalf("status %s (%s) after the secret came back", c.Status, c.StatusReason)
	}
	// Recorded in another backend: not read from this one at all.
	_, _ = f.mg.setStatus(ctx, c, c.Status, func(n *configstore.Connection) { n.SecretBackend = "file" })
	c, _ = f.mg.Config.Find("a")
	if _, err := f.mg.Secret(ctx, c, "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("read from the wrong backend: %v", err)
	} else if msg := f.mg.MissingSecret(c, "api_key", err).Error(); !strings.Contains(msg, "it was stored in the encrypted secrets file") {
		t.Errorf("moved message: %s", msg)
	}
}
