package version_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/app"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
)

// connctl runs the whole binary's command tree, as main does, with no
// config file and no secret store.
func connctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	getenv := func(string) string { return "" }
	d := &deps.Deps{
		IO:      ios,
		Getenv:  getenv,
		Now:     func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) },
		Catalog: sync.OnceValue(all.Catalogue),
		Config:  func() (configstore.Config, error) { return configstore.Open(cfg, getenv) },
		Secrets: func() (secretstore.Store, error) {
			t.Error("version opened the secret store")
			return nil, errors.New("no secret store in this test")
		},
	}
	code = app.RunContext(context.Background(), args, d)
	return code, out.String(), errOut.String()
}

// `connctl --version` and the first line of `connctl version` are the same,
// so a script may use either.
func TestVersionFlagMatchesCommand(t *testing.T) {
	t.Parallel()
	code, flagOut, stderr := connctl(t, "--version")
	if code != 0 || stderr != "" {
		t.Fatalf("connctl --version: exit %d, stderr %q", code, stderr)
	}
	code, cmdOut, stderr := connctl(t, "version")
	if code != 0 || stderr != "" {
		t.Fatalf("connctl version: exit %d, stderr %q", code, stderr)
	}
	first, _, _ := strings.Cut(cmdOut, "\n")
	if !strings.HasPrefix(first, "connctl ") || len(first) == len("connctl ") {
		t.Errorf("connctl version starts %q, want \"connctl <version>\"", first)
	}
	if flagOut != first+"\n" {
		t.Errorf("connctl --version = %q, want the first line of connctl version, %q", flagOut, first+"\n")
	}
}

func TestVersionUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"version", "extra"},
		{"version", "-o", "xml"},
		{"version", "--jq", ".["},
	} {
		code, stdout, stderr := connctl(t, args...)
		if code != 2 {
			t.Errorf("connctl %s: exit %d, want 2 (stderr %q)", strings.Join(args, " "), code, stderr)
		}
		if stdout != "" {
			t.Errorf("connctl %s printed %q on stdout", strings.Join(args, " "), stdout)
		}
	}
}
