package staletemp

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRemoveOnlyOldMatches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	for name, age := range map[string]time.Duration{
		".config-1.tmp": 2 * time.Hour, ".config-2.tmp": time.Minute, "config.yaml": 5 * time.Hour, ".config-3.tmp.keep": 5 * time.Hour,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	if n := Remove(dir, ".config-*.tmp", Age, now); n != 1 {
		t.Fatalf("removed %d, want 1", n)
	}
	if left, _ := os.ReadDir(dir); len(left) != 3 {
		t.Fatalf("left %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, ".config-1.tmp")); !os.IsNotExist(err) {
		t.Fatal("the stale temp file is still there")
	}
}
