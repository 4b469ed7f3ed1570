package configstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPermissionWarnings(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "connctl")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("schema_version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if w := PermissionWarnings(path, false); len(w) != 0 {
		t.Fatalf("0600 in 0700: %v", w)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	w := PermissionWarnings(path, false)
	if len(w) != 2 || !strings.Contains(w[0], "chmod 600 "+path) || !strings.Contains(w[1], "chmod 700 "+dir) {
		t.Fatalf("0666 in 0777: %q", w)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if w := PermissionWarnings(path, false); len(w) != 0 {
		t.Fatalf("0644 config: %v", w)
	}
	if w := PermissionWarnings(path, true); len(w) != 1 {
		t.Fatalf("0644 secrets file: %v", w)
	}
}

// TestSymlinkedConfigIsWrittenThrough: a dotfiles setup links the config to
// a file kept elsewhere; a write changes that file and keeps the link.
func TestSymlinkedConfigIsWrittenThrough(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dotfiles := filepath.Join(base, "dotfiles")
	cfgDir := filepath.Join(base, "config")
	for _, d := range []string{dotfiles, cfgDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dotfiles, "connctl.yaml")
	if err := os.WriteFile(target, []byte("schema_version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(cfgDir, "config.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	s, err := Open(link, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(t.Context(), "limits.crm", "3"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	raw, err := os.ReadFile(target)
	if err != nil || !strings.Contains(string(raw), "crm: 3") {
		t.Fatalf("target not written: %q %v", raw, err)
	}
	if _, err := os.Stat(target + ".bak"); err != nil {
		t.Errorf("no backup beside the target: %v", err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(cfgDir, ".config-*")); len(tmp) != 0 {
		t.Errorf("temp files beside the link: %v", tmp)
	}
}

// TestStaleTempFilesRemovedOnWrite: temp files of a write that crashed an
// hour ago go on the next write; a fresh one (a write under way) stays.
func TestStaleTempFilesRemovedOnWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := filepath.Join(dir, ".config-123.tmp")
	fresh := filepath.Join(dir, ".config-456.tmp")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "config.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(t.Context(), "limits.crm", "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("the stale temp file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temp file was removed")
	}
}
