package configstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func addConn(name string) func(d *Document) error {
	return func(d *Document) error {
		d.Connections = append(d.Connections, Connection{ID: "id-" + name, Name: name, Connector: "s3", Status: StatusAuthorized, CreatedAt: time.Unix(0, 0).UTC()})
		return nil
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "none", "config.yaml"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s.Exists() || len(s.Connections()) != 0 {
		t.Fatalf("want empty, got %+v", s.Connections())
	}
}

func TestUpdateRoundTripKeepsCaseAndMode(t *testing.T) {
	// Not parallel: changes the process umask.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "connctl")
	path := filepath.Join(dir, "config.yaml")
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), addConn("CRM-Prod")); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), addConn("crm.dev")); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := s2.Find("crm-prod"); !ok || c.Name != "CRM-Prod" {
		t.Fatalf("find: %v %+v", ok, c)
	}
	if _, ok := s2.Find("crm.dev"); !ok {
		t.Fatal("dotted name lost")
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700, path + ".lock": 0o600, path + ".bak": 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", p, fi.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestCorruptFileIsNeverWritten(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"bad yaml":      "schema_version: 1\nconnections:\n  - id: a\n   name: x\n",
		"empty":         "",
		"whitespace":    "  \n\n",
		"bad utf8":      "schema_version: 1\nconnections: [{id: a, name: \"\xff\xfe\", connector: s3, status: authorized}]\n",
		"future":        "schema_version: 7\n",
		"unknown key":   "schema_version: 1\nconections: []\n",
		"bad status":    "schema_version: 1\nconnections: [{id: a, name: x, connector: s3, status: sleepy}]\n",
		"duplicate ids": "schema_version: 1\nconnections: [{id: a, name: x, connector: s3, status: authorized}, {id: a, name: y, connector: s3, status: authorized}]\n",
		"truncated":     "schema_version: 1\nconnections:\n  - id: a\n    name: \"unterminated\n",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, openErr := Open(path, noEnv)
			if openErr == nil {
				t.Fatal("Open accepted a bad file")
			}
			if !strings.Contains(openErr.Error(), path) {
				t.Errorf("error does not name the file: %v", openErr)
			}
			s := &Store{path: path, getenv: noEnv}
			if err := s.Update(context.Background(), addConn("x2")); err == nil {
				t.Fatal("Update wrote over a bad file")
			}
			got, _ := os.ReadFile(path)
			if string(got) != content {
				t.Fatalf("file changed:\n%q\nwant\n%q", got, content)
			}
		})
	}
}

func TestFailedChangeWritesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	s, _ := Open(path, noEnv)
	if err := s.Update(context.Background(), addConn("a")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	err := s.Update(context.Background(), func(d *Document) error { d.Connections = nil; return fmt.Errorf("no") })
	if err == nil {
		t.Fatal("want error")
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) || len(s.Connections()) != 1 {
		t.Fatal("a failed change was written")
	}
	// A change that would make the document invalid is refused too.
	if err := s.Update(context.Background(), addConn("A")); err == nil {
		t.Fatal("case-duplicate name accepted")
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(path, noEnv) // each its own store, as separate processes would
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Update(context.Background(), addConn(fmt.Sprintf("c%02d", i)))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Connections()); n != 40 {
		t.Fatalf("got %d connections, want 40", n)
	}
}

func TestSettingsPrecedence(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	env := map[string]string{}
	s, _ := Open(path, func(k string) string { return env[k] })
	if got := s.Int("limits.crm"); got != 1 {
		t.Fatalf("default: %d", got)
	}
	if err := s.Set(context.Background(), "limits.crm", "3"); err != nil {
		t.Fatal(err)
	}
	if sv, _ := s.Get("limits.crm"); sv.Value != "3" || sv.Source != SourceFile {
		t.Fatalf("file: %+v", sv)
	}
	env["CONNCTL_LIMITS_CRM"] = "5"
	s2, _ := Open(path, func(k string) string { return env[k] })
	if sv, _ := s2.Get("limits.crm"); sv.Value != "5" || sv.Source != SourceEnv {
		t.Fatalf("env: %+v", sv)
	}
	if err := s.Set(context.Background(), "limits.crm", "0"); err == nil {
		t.Fatal("0 accepted")
	}
	if err := s.Set(context.Background(), "nope", "1"); err == nil {
		t.Fatal("unknown key accepted")
	}
	if err := s.Unset(context.Background(), "limits.crm"); err != nil {
		t.Fatal(err)
	}
	if d := s.Duration("keyring.timeout"); d != 10*time.Second {
		t.Fatalf("timeout default %v", d)
	}
}

// TestVaultAddrPrecedence: vault.addr is VAULT_ADDR, then
// CONNCTL_VAULT_ADDR, then the file, as `config list` shows it.
func TestVaultAddrPrecedence(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	s, _ := Open(path, getenv)
	if err := s.Set(context.Background(), "vault.addr", "https://file.example:8200"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(context.Background(), "vault.addr", "vault:8200"); err == nil {
		t.Fatal("an address without a scheme accepted")
	}
	for _, tc := range []struct {
		env        map[string]string
		want, from string
		source     Source
	}{
		{map[string]string{}, "https://file.example:8200", "", SourceFile},
		{map[string]string{"CONNCTL_VAULT_ADDR": "https://connctl.example"}, "https://connctl.example", "CONNCTL_VAULT_ADDR", SourceEnv},
		{map[string]string{"CONNCTL_VAULT_ADDR": "https://connctl.example", "VAULT_ADDR": "https://vault.example"}, "https://vault.example", "VAULT_ADDR", SourceEnv},
	} {
		env = tc.env
		s2, _ := Open(path, getenv)
		sv, _ := s2.Get("vault.addr")
		if sv.Value != tc.want || sv.Source != tc.source || sv.EnvVar != tc.from || s2.String("vault.addr") != tc.want {
			t.Errorf("env %v: %+v, want %s from %s %s", tc.env, sv, tc.want, tc.source, tc.from)
		}
		found := false
		for _, v := range s2.All() {
			found = found || (v.Key == "vault.addr" && v.Value == tc.want)
		}
		if !found {
			t.Errorf("env %v: All has no vault.addr %s", tc.env, tc.want)
		}
	}
}

// TestStoreURLPassword: a password in the user part or as a parameter
// keeps a store URL off the command line (config set, team init).
func TestStoreURLPassword(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"postgres://u:p@h/db":                          true,
		"postgres://u@h/db?sslmode=disable&password=p": true,
		"postgres://u:@h/db":                           true,
		"postgres://u@h/db?sslmode=disable":            false,
		"postgres://h/db":                              false,
	} {
		if got := StoreURLHasPassword(v); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
		st, _ := LookupSetting("store.url")
		if got := st.ArgvProblem(v) != ""; got != want {
			t.Errorf("config set store.url %s refused: %v, want %v", v, got, want)
		}
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	good := []string{"crm-prod", "CRM Prod", "Zoho (EU)", "données", "a", strings.Repeat("x", 64), "$(id)", "CON"}
	bad := []string{"", " lead", "trail ", "a/b", "../x", "-x", "a\nb", "a\x00b", "bad\u202ename", strings.Repeat("x", 65), "tab\there", "\xff"}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("%q rejected: %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidateName(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
	if NameKey("Café") != NameKey("cafe\u0301") && NameKey("CAFÉ") != NameKey("café") {
		t.Error("NFC/case folding")
	}
}
