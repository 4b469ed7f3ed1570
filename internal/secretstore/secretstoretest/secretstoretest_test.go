package secretstoretest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	m := secretstoretest.NewMemory()
	secretstoretest.RunConformance(t, m)
	if got := m.Name(); got != "memory" {
		t.Errorf("Name() = %q", got)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	t.Parallel()
	m := secretstoretest.NewMemory()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			conn := fmt.Sprintf("c%d", i)
			if err := m.Set(ctx, conn, "api_key", conn); err != nil {
				t.Error(err)
			}
			if got, err := m.Get(ctx, conn, "api_key"); err != nil || got != conn {
				t.Errorf("Get = %q, %v", got, err)
			}
		})
	}
	wg.Wait()
	if n := len(m.Items()); n != 20 {
		t.Errorf("%d items, want 20", n)
	}
}

func TestFileFakeConformance(t *testing.T) {
	t.Parallel()
	f := secretstoretest.NewFileFake(filepath.Join(t.TempDir(), "home", "secrets.json"))
	secretstoretest.RunConformance(t, f)
	if got := f.Name(); got != "file-fake" {
		t.Errorf("Name() = %q", got)
	}
	f.ReportedName = "keyring"
	if got := f.Name(); got != "keyring" {
		t.Errorf("Name() with ReportedName = %q", got)
	}
}

func TestFileFakePersists(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	ctx := context.Background()
	if err := secretstoretest.NewFileFake(path).Set(ctx, "crm", "api_key", "v1"); err != nil {
		t.Fatal(err)
	}
	got, err := secretstoretest.NewFileFake(path).Get(ctx, "crm", "api_key")
	if err != nil || got != "v1" {
		t.Fatalf("Get from a second fake = %q, %v", got, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestFileFakeCorrupt(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := secretstoretest.NewFileFake(path)
	if err := f.Set(context.Background(), "crm", "api_key", "v"); !errors.Is(err, secretstore.ErrUnavailable) {
		t.Errorf("Set on a corrupt file: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "{not json" {
		t.Errorf("corrupt file was rewritten: %q", data)
	}
}

// TestFileFakeManyProcesses runs 20 copies of this test binary at once, each
// writing its own items through a FileFake, as 20 connctl invocations in a
// test script would; no write may be lost.
func TestFileFakeManyProcesses(t *testing.T) {
	if id := os.Getenv("SECRETSTORETEST_WRITER"); id != "" {
		fileFakeWriter(t, id, os.Getenv("SECRETSTORETEST_PATH"))
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	const procs, perProc = 20, 5
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFileFakeManyProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SECRETSTORETEST_WRITER="+strconv.Itoa(i), "SECRETSTORETEST_PATH="+path)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("writer %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	items, err := secretstoretest.NewFileFake(path).Items()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != procs*perProc {
		t.Errorf("%d items, want %d", len(items), procs*perProc)
	}
	for i := range procs {
		for j := range perProc {
			key := fmt.Sprintf("conn-%d/k%d", i, j)
			if want := fmt.Sprintf("v-%d-%d", i, j); items[key] != want {
				t.Errorf("%s = %q, want %q", key, items[key], want)
			}
		}
	}
}

func fileFakeWriter(t *testing.T, id, path string) {
	f := secretstoretest.NewFileFake(path)
	for j := range 5 {
		if err := f.Set(context.Background(), "conn-"+id, fmt.Sprintf("k%d", j), fmt.Sprintf("v-%s-%d", id, j)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFailing(t *testing.T) {
	t.Parallel()
	want := fmt.Errorf("keyring locked: %w", secretstore.ErrUnavailable)
	f := secretstoretest.NewFailing(want)
	ctx := context.Background()
	if _, err := f.Get(ctx, "c", "k"); err != want { //nolint:errorlint // identity is the point
		t.Errorf("Get: %v", err)
	}
	if err := f.Set(ctx, "c", "k", "v"); err != want { //nolint:errorlint // identity is the point
		t.Errorf("Set: %v", err)
	}
	if err := f.Delete(ctx, "c", "k"); err != want { //nolint:errorlint // identity is the point
		t.Errorf("Delete: %v", err)
	}
}

func TestBlocking(t *testing.T) {
	t.Parallel()
	b := secretstoretest.NewBlocking()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Get(ctx, "c", "k"); !errors.Is(err, secretstore.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get past the deadline: %v, want ErrTimeout", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := b.Set(ctx, "c", "k", "v"); !errors.Is(err, context.Canceled) || errors.Is(err, secretstore.ErrTimeout) {
		t.Errorf("Set after cancel: %v, want Canceled only", err)
	}
	if err := b.Delete(ctx, "c", "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context: %v", err)
	}
}
