package secretstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// newKey creates a key file in a fresh folder and returns its path and
// public key.
func newKey(t *testing.T) (path, public string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "keys", "connctl.key")
	public, err := secretstore.GenerateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, public
}

func hintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

func TestKeyFileConformance(t *testing.T) {
	t.Parallel()
	key, _ := newKey(t)
	f := secretstore.NewKeyFile(filepath.Join(t.TempDir(), "secrets.age"), key)
	secretstoretest.RunConformance(t, f)
	if f.KeyPath() != key {
		t.Errorf("KeyPath() = %q, want %q", f.KeyPath(), key)
	}
}

func TestGenerateKeyFile(t *testing.T) {
	t.Parallel()
	path, public := newKey(t)
	if !strings.HasPrefix(public, "age1pq1") {
		t.Errorf("public key %q: want a post-quantum age1pq1… key", public)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil || len(ids) != 1 {
		t.Fatalf("age.ParseIdentities = %v, %v: want one identity", ids, err)
	}
	if !strings.Contains(string(data), "# public key: "+public+"\n") {
		t.Errorf("key file lacks the public-key comment:\n%s", data)
	}
	if got, err := secretstore.KeyFilePublic(path); err != nil || got != public {
		t.Errorf("KeyFilePublic = %q, %v; want %q", got, err, public)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		di, _ := os.Stat(filepath.Dir(path))
		if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
			t.Errorf("modes: key %04o, folder %04o; want 0600 and 0700", fi.Mode().Perm(), di.Mode().Perm())
		}
	}
	// Never replaced, and no temporary file left behind.
	if _, err := secretstore.GenerateKeyFile(path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second GenerateKeyFile: err = %v, want already exists", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(data, after) {
		t.Error("a second GenerateKeyFile changed the key")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want the key only", len(entries))
	}
}

func TestKeyFileAcceptsAgeKeygenX25519(t *testing.T) {
	t.Parallel()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "key.txt")
	// What age-keygen writes.
	content := "# created: 2026-12-06T00:00:00Z\n# public key: " + id.Recipient().String() + "\n" + id.String() + "\n"
	if err := os.WriteFile(key, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "secrets.age")
	ctx := context.Background()
	if err := secretstore.NewKeyFile(path, key).Set(ctx, "crm", "api_key", "v1"); err != nil {
		t.Fatal(err)
	}
	// age itself opens the file with the key.
	data, _ := os.ReadFile(path)
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatalf("age.Decrypt: %v", err)
	}
	var plain bytes.Buffer
	plain.ReadFrom(r) //nolint:errcheck // checked below
	if plain.String() != `{"crm/api_key":"v1"}` {
		t.Errorf("plaintext %q", plain.String())
	}
	if enc, err := secretstore.FileEncryption(path); err != nil || enc != secretstore.EncryptedKey {
		t.Errorf("FileEncryption = %q, %v; want key", enc, err)
	}
}

func TestKeyFileRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := "AGE-SECRET-KEY-1NOTAREALKEYBUTITLOOKSLIKEONEQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := newKey(t)
	goodData, _ := os.ReadFile(good)
	one := strings.TrimSpace(string(goodData[bytes.LastIndex(bytes.TrimSpace(goodData), []byte("\n"))+1:]))
	cases := []struct {
		name, path, want, hint string
	}{
		{"missing", filepath.Join(dir, "nope.key"), "does not exist", "--migrate"},
		{"garbage", write("garbage.key", secret+"\n", 0o600), "is not an age key (line 1 is not a valid key)", "AGE-SECRET-KEY-1"},
		{"one bad character", write("typo.key", "# a comment\n"+one[:len(one)-1]+"B\n", 0o600), "is not an age key (line 2 is not a valid key)", ""},
		{"two keys", write("two.key", one+"\n"+one+"\n", 0o600), "holds 2 keys", ""},
		{"empty", write("empty.key", "# nothing\n", 0o600), "is not an age key (it holds no key)", ""},
		{"folder", dir, "not a regular file", ""},
	}
	if runtime.GOOS != "windows" {
		cases = append(cases, struct{ name, path, want, hint string }{
			"readable by others", write("open.key", string(goodData), 0o644), "accessible by other users (mode 0644)", "chmod 600"})
	}
	for _, c := range cases {
		f := secretstore.NewKeyFile(filepath.Join(t.TempDir(), "secrets.age"), c.path)
		err := f.Set(context.Background(), "crm", "api_key", "v")
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, secretstore.ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable with %q", c.name, err, c.want)
			continue
		}
		if !strings.Contains(hintOf(err), c.hint) {
			t.Errorf("%s: hint %q, want it to name %q", c.name, hintOf(err), c.hint)
		}
		if strings.Contains(err.Error(), "NOTAREALKEY") || strings.Contains(err.Error(), one) || strings.Contains(err.Error(), "s[") {
			t.Errorf("%s: the error quotes the key file: %v", c.name, err)
		}
	}
}

func TestKeyFileWrongCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	keyA, _ := newKey(t)
	keyB, _ := newKey(t)

	keyed := filepath.Join(dir, "keyed.age")
	if err := secretstore.NewKeyFile(keyed, keyA).Set(ctx, "crm", "api_key", "v"); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join(dir, "pass.age")
	pf, _ := newTestFileAt(t, pass, "pw")
	if err := pf.Set(ctx, "crm", "api_key", "v"); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, p := range []string{keyed, pass} {
		before[p], _ = os.ReadFile(p)
	}

	type tc struct {
		name, want, hint string
		f                *secretstore.File
	}
	cases := []tc{
		{"another key", "not encrypted to the key in " + keyB, "secrets.key_file", secretstore.NewKeyFile(keyed, keyB)},
		{"a key for a passphrase file", "it is encrypted with a passphrase, not the key in " + keyA, "--migrate", secretstore.NewKeyFile(pass, keyA)},
	}
	pfOnKeyed, _ := newTestFileAt(t, keyed, "pw")
	cases = append(cases, tc{"a passphrase for a keyed file", "it is encrypted to an age key, not a passphrase", "secrets.key_file", pfOnKeyed})
	for _, c := range cases {
		_, getErr := c.f.Get(ctx, "crm", "api_key")
		setErr := c.f.Set(ctx, "crm", "other", "v")
		for op, err := range map[string]error{"get": getErr, "set": setErr} {
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, secretstore.ErrUnavailable) {
				t.Errorf("%s %s: err = %v, want %q", c.name, op, err, c.want)
			}
			if !strings.Contains(hintOf(err), c.hint) {
				t.Errorf("%s %s: hint %q, want it to name %q", c.name, op, hintOf(err), c.hint)
			}
		}
	}
	for p, b := range before {
		after, _ := os.ReadFile(p)
		if !bytes.Equal(b, after) {
			t.Errorf("%s changed after failed writes", p)
		}
	}
}

func TestFileEncryption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	key, _ := newKey(t)
	keyed := filepath.Join(dir, "keyed.age")
	if err := secretstore.NewKeyFile(keyed, key).Set(ctx, "c", "k", "v"); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join(dir, "pass.age")
	pf, _ := newTestFileAt(t, pass, "pw")
	if err := pf.Set(ctx, "c", "k", "v"); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte(`{"c/k":"v"}`), 0o600) //nolint:errcheck // read below
	for path, want := range map[string]string{
		keyed: secretstore.EncryptedKey, pass: secretstore.EncryptedPassphrase, filepath.Join(dir, "none"): secretstore.EncryptedNone,
	} {
		if got, err := secretstore.FileEncryption(path); err != nil || got != want {
			t.Errorf("FileEncryption(%s) = %q, %v; want %q", filepath.Base(path), got, err, want)
		}
	}
	if _, err := secretstore.FileEncryption(plain); err == nil || strings.Contains(err.Error(), "c/k") {
		t.Errorf("FileEncryption(plain) err = %v, want an error that does not quote the file", err)
	}
}

func TestRekey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.age")
	pf, _ := newTestFileAt(t, path, "pw")
	want := map[string]string{"a/api_key": "one", "b/token": "two\nlines"}
	for k, v := range want {
		id, kind, _ := strings.Cut(k, "/")
		if err := pf.Set(ctx, id, kind, v); err != nil {
			t.Fatal(err)
		}
	}
	check := func(f *secretstore.File, enc string) {
		t.Helper()
		for k, v := range want {
			id, kind, _ := strings.Cut(k, "/")
			if got, err := f.Get(ctx, id, kind); err != nil || got != v {
				t.Errorf("Get(%s) = %q, %v; want %q", k, got, err, v)
			}
		}
		if got, _ := secretstore.FileEncryption(path); got != enc {
			t.Errorf("FileEncryption = %q, want %q", got, enc)
		}
	}
	keyA, _ := newKey(t)
	keyB, _ := newKey(t)
	fa, fb := secretstore.NewKeyFile(path, keyA), secretstore.NewKeyFile(path, keyB)

	// A wrong passphrase leaves the file as it was.
	wrong, _ := newTestFileAt(t, path, "not-pw")
	before, _ := os.ReadFile(path)
	if err := secretstore.Rekey(ctx, wrong, fa); !errors.Is(err, secretstore.ErrPassphrase) {
		t.Errorf("Rekey with a wrong passphrase: err = %v, want ErrPassphrase", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a failed Rekey changed the file")
	}

	for _, step := range []struct {
		from, to *secretstore.File
		enc      string
	}{{pf, fa, secretstore.EncryptedKey}, {fa, fb, secretstore.EncryptedKey}, {fb, pf, secretstore.EncryptedPassphrase}} {
		if err := secretstore.Rekey(ctx, step.from, step.to); err != nil {
			t.Fatal(err)
		}
		// A fresh File, so nothing comes from a cache.
		fresh := secretstore.NewKeyFile(path, step.to.KeyPath())
		if step.to.KeyPath() == "" {
			fresh, _ = newTestFileAt(t, path, "pw")
		}
		check(fresh, step.enc)
	}
	if err := secretstore.Rekey(ctx, pf, secretstore.NewKeyFile(path+".other", keyA)); err == nil {
		t.Error("Rekey across two paths: want an error")
	}
	missing := filepath.Join(t.TempDir(), "none.age")
	if err := secretstore.Rekey(ctx, secretstore.NewKeyFile(missing, keyA), secretstore.NewKeyFile(missing, keyB)); err != nil {
		t.Errorf("Rekey of a missing file: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("Rekey of a missing file created it")
	}
}
