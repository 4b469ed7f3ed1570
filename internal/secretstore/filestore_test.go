package secretstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/gofrs/flock"

	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// testWorkFactor keeps scrypt cheap under -race; TestFileRealWorkFactor
// covers the shipped one.
const testWorkFactor = 6

// newTestFile returns a File in a fresh directory and a counter of passphrase
// calls.
func newTestFile(t *testing.T, pass string) (*secretstore.File, *atomic.Int32) {
	t.Helper()
	return newTestFileAt(t, filepath.Join(t.TempDir(), "connctl", "secrets.age"), pass)
}

func newTestFileAt(t *testing.T, path, pass string) (*secretstore.File, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	f := secretstore.NewFile(path, func() (string, error) {
		calls.Add(1)
		return pass, nil
	})
	secretstore.SetWorkFactor(f, testWorkFactor)
	return f, &calls
}

func TestFileConformance(t *testing.T) {
	t.Parallel()
	f, _ := newTestFile(t, "correct horse battery staple")
	secretstoretest.RunConformance(t, f)
	if got := f.Name(); got != "file" {
		t.Errorf("Name() = %q, want file", got)
	}
}

func TestFileRealWorkFactor(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.age")
	f := secretstore.NewFile(path, func() (string, error) { return "pw", nil })
	ctx := context.Background()
	if err := f.Set(ctx, "crm", "api_key", "k1"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := bytes.Cut(data, []byte("\n---"))
	lines := strings.Split(string(header), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "-> scrypt ") ||
		!strings.HasSuffix(lines[1], fmt.Sprintf(" %d", secretstore.FileWorkFactor)) {
		t.Errorf("header does not record scrypt work factor %d:\n%s", secretstore.FileWorkFactor, header)
	}
	if got, err := f.Get(ctx, "crm", "api_key"); err != nil || got != "k1" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestFileRoundTripAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.age")
	a, _ := newTestFileAt(t, path, "pw")
	if err := a.Set(ctx, "crm-prod", "oauth_refresh_token", "refresh-ABC"); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(ctx, "support", "api_key", "key-XYZ"); err != nil {
		t.Fatal(err)
	}
	b, _ := newTestFileAt(t, path, "pw") // as a later connctl process would
	if got, err := b.Get(ctx, "crm-prod", "oauth_refresh_token"); err != nil || got != "refresh-ABC" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := b.Delete(ctx, "crm-prod", "oauth_refresh_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "crm-prod", "oauth_refresh_token"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if got, err := a.Get(ctx, "support", "api_key"); err != nil || got != "key-XYZ" {
		t.Fatalf("other item: %q, %v", got, err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) {
		t.Errorf("file is not an age file: %q", data[:min(len(data), 40)])
	}
	for _, s := range []string{"key-XYZ", "support", "api_key"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("file holds %q in the clear", s)
		}
	}
}

func TestFileMissingIsEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, calls := newTestFile(t, "pw")
	if _, err := f.Get(ctx, "crm", "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("Get: %v, want ErrNotFound", err)
	}
	if err := f.Delete(ctx, "crm", "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("Delete: %v, want ErrNotFound", err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("passphrase asked %d times for a missing file", n)
	}
	if _, err := os.Stat(filepath.Dir(f.Path())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading a missing store created its directory (stat: %v)", err)
	}
}

func TestFilePassphraseAskedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, calls := newTestFile(t, "pw")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if err := f.Set(ctx, "crm", fmt.Sprintf("k%d", i), "v"); err != nil {
				t.Error(err)
			}
			if _, err := f.Get(ctx, "crm", fmt.Sprintf("k%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("passphrase asked %d times, want 1", n)
	}
}

func TestFilePassphraseProblems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	f := secretstore.NewFile(filepath.Join(dir, "a.age"), func() (string, error) {
		return "", errors.New("no terminal to prompt on")
	})
	err := f.Set(ctx, "crm", "api_key", "v")
	if !errors.Is(err, secretstore.ErrUnavailable) || !strings.Contains(err.Error(), "no terminal to prompt on") {
		t.Errorf("failing passphrase func: %v", err)
	}

	f = secretstore.NewFile(filepath.Join(dir, "b.age"), func() (string, error) { return "", nil })
	if err := f.Set(ctx, "crm", "api_key", "v"); !errors.Is(err, secretstore.ErrUnavailable) ||
		!strings.Contains(err.Error(), "empty passphrase") {
		t.Errorf("empty passphrase: %v", err)
	}
	for _, name := range []string{"a.age", "b.age"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was written without a passphrase", name)
		}
	}
}

func TestFileWrongPassphrase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.age")
	right, _ := newTestFileAt(t, path, "right-passphrase")
	if err := right.Set(ctx, "crm", "api_key", "the-secret"); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	wrong, _ := newTestFileAt(t, path, "wrong-passphrase")
	want := "cannot decrypt " + path + ": wrong passphrase?"
	_, getErr := wrong.Get(ctx, "crm", "api_key")
	setErr := wrong.Set(ctx, "crm", "other", "v")
	delErr := wrong.Delete(ctx, "crm", "api_key")
	for name, err := range map[string]error{"get": getErr, "set": setErr, "delete": delErr} {
		if !errors.Is(err, secretstore.ErrUnavailable) || errors.Is(err, secretstore.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrUnavailable only", name, err)
			continue
		}
		if err.Error() != want {
			t.Errorf("%s: message %q, want %q", name, err, want)
		}
		for _, s := range []string{"right-passphrase", "wrong-passphrase", "the-secret"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: message holds %q", name, s)
			}
		}
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a write with the wrong passphrase changed the file")
	}
}

func TestFileNotPassphraseEncrypted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.age")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, `{"crm/api_key":"v"}`)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := newTestFileAt(t, path, "pw")
	_, err = f.Get(context.Background(), "crm", "api_key")
	if want := "cannot decrypt " + path + ": it is encrypted to an age key, not a passphrase"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) || !strings.Contains(h.Hint(), "secrets.key_file") {
		t.Errorf("err = %v: want a hint naming secrets.key_file", err)
	}
}

func TestFilePermissions(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "config", "connctl")
	path := filepath.Join(dir, "secrets.age")
	f, _ := newTestFileAt(t, path, "pw")
	ctx := context.Background()
	if err := f.Set(ctx, "crm", "api_key", "v"); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700|os.ModeDir)
	assertMode(t, filepath.Join(root, "config"), 0o700|os.ModeDir)

	// A file loosened by hand is tightened again by the next write.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "crm", "api_key", "v2"); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"secrets.age", "secrets.age.lock"}; !slices.Equal(names, want) {
		t.Errorf("directory holds %v, want %v (no temporary files left behind)", names, want)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

func TestFileConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.age")
	const writers, perWriter = 8, 3
	var wg sync.WaitGroup
	for w := range writers {
		// A File each, as separate connctl processes would have; they meet
		// only at the lock file.
		f, _ := newTestFileAt(t, path, "pw")
		wg.Go(func() {
			for i := range perWriter {
				if err := f.Set(ctx, fmt.Sprintf("conn-%d", w), fmt.Sprintf("k%d", i), fmt.Sprintf("v-%d-%d", w, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	f, _ := newTestFileAt(t, path, "pw")
	for w := range writers {
		for i := range perWriter {
			got, err := f.Get(ctx, fmt.Sprintf("conn-%d", w), fmt.Sprintf("k%d", i))
			if want := fmt.Sprintf("v-%d-%d", w, i); err != nil || got != want {
				t.Errorf("conn-%d/k%d = %q, %v; want %q (lost write)", w, i, got, err, want)
			}
		}
	}
}

func TestFileCorruptIsLeftAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	validAge := func(plaintext string) []byte {
		r, err := age.NewScryptRecipient("pw")
		if err != nil {
			t.Fatal(err)
		}
		r.SetWorkFactor(testWorkFactor)
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, r)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, plaintext)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	good := validAge(`{"crm/api_key":"the-secret"}`)

	tests := map[string][]byte{
		"garbage":       []byte("this is not an age file\x00\xff"),
		"empty":         {},
		"plain text":    []byte(`{"k":"the-secret"}`),
		"truncated":     good[:len(good)-5],
		"flipped byte":  func() []byte { b := bytes.Clone(good); b[len(b)-3] ^= 1; return b }(),
		"not JSON":      validAge(`crm/api_key=the-secret`),
		"JSON, not map": validAge(`["the-secret"]`),
		"wrong types":   validAge(`{"crm/api_key":{"nested":"the-secret"}}`),
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "secrets.age")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			f, _ := newTestFileAt(t, path, "pw")
			_, getErr := f.Get(ctx, "crm", "api_key")
			setErr := f.Set(ctx, "crm", "api_key", "new-value")
			delErr := f.Delete(ctx, "crm", "api_key")
			for op, err := range map[string]error{"get": getErr, "set": setErr, "delete": delErr} {
				if !errors.Is(err, secretstore.ErrUnavailable) {
					t.Errorf("%s: err = %v, want ErrUnavailable", op, err)
					continue
				}
				msg := err.Error()
				t.Logf("%s: %s", op, msg)
				if !strings.HasPrefix(msg, "cannot read "+path+": not a valid connctl secrets file (") ||
					!strings.HasSuffix(msg, "); the file was left untouched") || strings.Contains(msg, "\n") {
					t.Errorf("%s: message %q", op, msg)
				}
				if strings.Contains(msg, "the-secret") || strings.Contains(msg, "new-value") {
					t.Errorf("%s: message quotes a secret: %q", op, msg)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, content) {
				t.Error("the corrupt file was changed")
			}
		})
	}
}

func TestFileContext(t *testing.T) {
	t.Parallel()
	f, _ := newTestFile(t, "pw")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Set(ctx, "crm", "api_key", "v"); !errors.Is(err, context.Canceled) {
		t.Errorf("Set: %v, want Canceled", err)
	}
	if _, err := f.Get(ctx, "crm", "api_key"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v, want Canceled", err)
	}
}

func TestFileLockWaitHonoursDeadline(t *testing.T) {
	t.Parallel()
	f, _ := newTestFile(t, "pw")
	ctx := context.Background()
	if err := f.Set(ctx, "crm", "api_key", "v1"); err != nil {
		t.Fatal(err)
	}
	other := flock.New(f.Path() + ".lock") // another process mid-write
	if err := other.Lock(); err != nil {
		t.Fatal(err)
	}
	defer other.Unlock() //nolint:errcheck // test cleanup

	ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := f.Set(ctx, "crm", "api_key", "v2")
	if !errors.Is(err, secretstore.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if want := "update " + f.Path() + ": gave up waiting for the lock"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	// Reads do not wait for writers.
	if got, err := f.Get(context.Background(), "crm", "api_key"); err != nil || got != "v1" {
		t.Errorf("Get while locked = %q, %v", got, err)
	}
}

// A long-lived process (connctl worker) pays the scrypt once per version of
// the file: reads of unchanged bytes reuse what was decrypted or written,
// and a change by another process is seen at the next read.
func TestFileDecryptsOncePerVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.age")
	a, _ := newTestFileAt(t, path, "pw")
	if err := a.Set(ctx, "c1", "api_key", "v1"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if v, err := a.Get(ctx, "c1", "api_key"); err != nil || v != "v1" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if n := secretstore.Decrypts(a); n != 0 {
		t.Errorf("5 reads after its own write decrypted %d times, want 0", n)
	}
	b, _ := newTestFileAt(t, path, "pw") // another process
	if err := b.Set(ctx, "c1", "api_key", "v2"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v, err := a.Get(ctx, "c1", "api_key"); err != nil || v != "v2" {
			t.Fatalf("Get after another writer = %q, %v; want v2", v, err)
		}
	}
	if n := secretstore.Decrypts(a); n != 1 {
		t.Errorf("3 reads of another writer's version decrypted %d times, want 1", n)
	}
	// What a caller does to its copy does not reach the cache.
	if err := a.Delete(ctx, "c1", "api_key"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "c1", "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	// A tampered file is not served from the cache.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "c1", "api_key"); !errors.Is(err, secretstore.ErrUnavailable) {
		t.Errorf("Get of a tampered file = %v, want ErrUnavailable", err)
	}
}
