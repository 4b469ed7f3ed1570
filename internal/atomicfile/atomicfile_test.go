package atomicfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/atomicfile"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteModeAndContent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, []byte("new"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "new" {
		t.Fatalf("content %q", got)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".bak"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup without Options.Backup: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".f.txt.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteBackup(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f.txt")
	for _, v := range []string{"one", "two", "three"} {
		if err := atomicfile.Write(path, []byte(v), atomicfile.Options{Backup: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(t, path); got != "three" {
		t.Fatalf("content %q", got)
	}
	if got := read(t, path+".bak"); got != "two" {
		t.Fatalf("backup %q, want the previous content", got)
	}
}

func TestWriteFollowSymlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "f.txt")
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "f.txt")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(link, []byte("new"), atomicfile.Options{FollowSymlink: true, Backup: true}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link is no longer a link: %v %v", fi, err)
	}
	if got := read(t, target); got != "new" {
		t.Fatalf("target %q", got)
	}
	if got := read(t, target+".bak"); got != "old" {
		t.Fatalf("backup beside the target %q", got)
	}
	// Without the option, the rename replaces the link.
	if err := atomicfile.Write(link, []byte("mine"), atomicfile.Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink != 0 {
		t.Fatal("the link survived a write without FollowSymlink")
	}
	if got := read(t, target); got != "new" {
		t.Fatalf("target changed to %q", got)
	}
}

func TestWriteSweepsStaleTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	old, fresh := filepath.Join(dir, ".config-1.tmp"), filepath.Join(dir, ".config-2.tmp")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, []byte("x"), atomicfile.Options{TempPattern: ".config-*.tmp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temp (another writer's) was removed: %v", err)
	}
}

func TestUpdateConcurrentLosesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "counter")
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := atomicfile.Update(ctx, path, func(old []byte, exists bool) ([]byte, error) {
				n := 0
				if exists {
					var err error
					if n, err = strconv.Atoi(string(old)); err != nil {
						return nil, err
					}
				}
				return []byte(strconv.Itoa(n + 1)), nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := read(t, path); got != "20" {
		t.Fatalf("counter %s after 20 increments", got)
	}
}

func TestUpdateRefusalLeavesFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := atomicfile.Update(context.Background(), path, func([]byte, bool) ([]byte, error) { return []byte("lost"), boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the change's error", err)
	}
	if err := atomicfile.Update(context.Background(), path, func([]byte, bool) ([]byte, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "kept" {
		t.Fatalf("content %q", got)
	}
}

func TestLockHonoursContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f")
	unlock, err := atomicfile.Lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := atomicfile.Lock(ctx, path); err == nil {
		t.Fatal("a second Lock succeeded while the first was held")
	}
}

// TestWriteNoSync: without the syncs a write still replaces the file
// atomically, with mode 0600, and leaves no temporary file.
func TestWriteNoSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "cache.json")
	for _, content := range []string{"one", "two"} {
		if err := atomicfile.Write(path, []byte(content), atomicfile.Options{NoSync: true}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, path); got != content {
			t.Fatalf("content %q, want %q", got, content)
		}
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("want only the file, got %d entries", len(entries))
	}
}
