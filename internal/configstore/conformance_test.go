package configstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/configstore/configstoretest"
)

// TestFileConformance runs the Definitions suite against the config file:
// each handle is a separate Store on one file, as two processes would have.
func TestFileConformance(t *testing.T) {
	t.Parallel()
	configstoretest.RunConformance(t, func(t *testing.T) func() (configstore.Definitions, error) {
		path := filepath.Join(t.TempDir(), "connctl", "config.yaml")
		return func() (configstore.Definitions, error) {
			return configstore.Open(path, func(string) string { return "" })
		}
	})
}

// TestFileCrashMidWrite: a writer that died after writing its temporary
// file and before the rename left the old file in place; readers see the old
// definitions whole, and the next write succeeds.
func TestFileCrashMidWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	s, err := configstore.Open(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	add := func(name string) {
		t.Helper()
		if err := s.Update(ctx, func(d *configstore.Document) error {
			d.Connections = append(d.Connections, configstore.Connection{ID: "id-" + name, Name: name, Connector: "freshdesk", Status: configstore.StatusNotAuthorized})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	add("before")
	if err := os.WriteFile(filepath.Join(dir, ".config-crashed.tmp"), []byte("schema_version: 1\nconnections:\n  - id: x\n    na"), 0o600); err != nil {
		t.Fatal(err)
	}
	other, err := configstore.Open(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("open beside a half-written temporary file: %v", err)
	}
	if cs := other.Connections(); len(cs) != 1 || cs[0].Name != "before" {
		t.Fatalf("after a crash: %+v", cs)
	}
	add("after")
	if err := other.Reload(); err != nil || len(other.Connections()) != 2 {
		t.Fatalf("after the next write: %+v, %v", other.Connections(), err)
	}
}

// TestJoin: another backend's definitions with the file's settings, as a
// team backend is wired. Settings go to the file; definitions do not.
func TestJoin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "config.yaml")
	file, err := configstore.Open(path, func(k string) string {
		if k == "CONNCTL_LIMITS_SUPPORT" {
			return "3"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	mem := configstoretest.NewMemory()
	cfg := configstore.Join(mem.Open(), file.SettingsView)
	if err := cfg.Set(ctx, "limits.crm", "2"); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Int("limits.crm"); got != 2 {
		t.Errorf("limits.crm = %d after Set", got)
	}
	if sv, _ := cfg.Get("limits.support"); sv.Value != "3" || sv.Source != configstore.SourceEnv {
		t.Errorf("limits.support = %+v, want 3 from env", sv)
	}
	if err := cfg.Update(ctx, func(d *configstore.Document) error {
		d.Connections = append(d.Connections, configstore.Connection{ID: "id-1", Name: "shared", Connector: "freshdesk", Status: configstore.StatusNotAuthorized})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := mem.Open().Find("shared"); !ok {
		t.Error("the definition did not go to the definitions backend")
	}
	if err := file.Reload(); err != nil {
		t.Fatal(err)
	}
	if len(file.Connections()) != 0 || file.Int("limits.crm") != 2 {
		t.Errorf("file: connections %+v, limits.crm %d", file.Connections(), file.Int("limits.crm"))
	}
	if err := cfg.Unset(ctx, "limits.crm"); err != nil || cfg.Int("limits.crm") != 1 {
		t.Errorf("after Unset: limits.crm = %d, %v", cfg.Int("limits.crm"), err)
	}
}
