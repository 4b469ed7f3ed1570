package complete_test

import (
	"context"
	"os"
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

// twoConnections is a config with two connections, one of them with a name
// in mixed case (completion must keep it).
const twoConnections = `schema_version: 1
connections:
  - id: conn_0000000000000001
    name: CRM-Prod
    connector: salesforce
    status: authorized
    created_at: 2026-01-02T03:04:05Z
    updated_at: 2026-01-02T03:04:05Z
  - id: conn_0000000000000002
    name: support
    connector: freshdesk
    fields: {domain: acme}
    status: authorized
    created_at: 2026-01-02T03:04:05Z
    updated_at: 2026-01-02T03:04:05Z
`

// writeConfig writes content to a config file in a new folder and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// complete runs `connctl __complete args...` (what the shell scripts in
// completions/ run on <Tab>) through the real command tree, with env as the
// environment. The secret store fails the test if anything opens it:
// completion reads the config file and nothing else.
func complete(t *testing.T, env map[string]string, args ...string) (candidates []string, directive string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	getenv := func(k string) string { return env[k] }
	d := &deps.Deps{
		IO:      ios,
		Getenv:  getenv,
		Now:     func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) },
		Catalog: sync.OnceValue(all.Catalogue),
		Secrets: func() (secretstore.Store, error) {
			t.Errorf("completing %q opened the secret store", args)
			return nil, secretstore.ErrUnavailable
		},
	}
	// As deps.System does it: --config, then CONNCTL_CONFIG, then the default.
	d.Config = sync.OnceValues(func() (configstore.Config, error) {
		p, err := d.ConfigPath()
		if err != nil {
			return nil, err
		}
		return configstore.Open(p, getenv)
	})
	code := app.RunContext(context.Background(), append([]string{"__complete"}, args...), d)
	if code != 0 {
		t.Fatalf("connctl __complete %q: exit %d\nstderr: %s", args, code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// The last line is cobra's directive, ":4" for "no file completion".
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func TestConnectionNamesFromConfig(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, twoConnections)
	env := map[string]string{"CONNCTL_CONFIG": cfg}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"show, empty prefix", env, []string{"show", ""}, []string{"CRM-Prod", "support"}},
		{"prefix is case-insensitive, name keeps its case", env, []string{"show", "crm"}, []string{"CRM-Prod"}},
		{"prefix matching nothing", env, []string{"show", "x"}, nil},
		{"only the first argument is a name", env, []string{"show", "support", ""}, nil},
		{"delete", env, []string{"delete", "s"}, []string{"support"}},
		{"edit", env, []string{"edit", ""}, []string{"CRM-Prod", "support"}},
		{"revoke", env, []string{"revoke", ""}, []string{"CRM-Prod", "support"}},
		{"authorize", env, []string{"authorize", ""}, []string{"CRM-Prod", "support"}},
		{"reauthorize", env, []string{"reauthorize", ""}, []string{"CRM-Prod", "support"}},
		{"exec, first name", env, []string{"exec", ""}, []string{"CRM-Prod", "support"}},
		{"exec takes several names, each once", env, []string{"exec", "CRM-Prod", ""}, []string{"support"}},
		// cobra runs no PersistentPreRunE while completing; --config must still count.
		{"--config before the command", nil, []string{"--config", cfg, "show", ""}, []string{"CRM-Prod", "support"}},
		{"--config after the command", nil, []string{"show", "--config", cfg, ""}, []string{"CRM-Prod", "support"}},
		{"--config wins over CONNCTL_CONFIG", map[string]string{"CONNCTL_CONFIG": writeConfig(t, "schema_version: 1\n")},
			[]string{"--config", cfg, "show", ""}, []string{"CRM-Prod", "support"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, directive := complete(t, tt.env, tt.args...)
			if !equal(got, tt.want) {
				t.Errorf("completions %q, want %q", got, tt.want)
			}
			if directive != ":4" {
				t.Errorf("directive %q, want :4 (no file completion)", directive)
			}
		})
	}
}

// A missing or broken config completes nothing, quietly: the shell shows no
// candidates rather than an error in the middle of the command line.
func TestConnectionNamesWithoutAConfig(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"missing": {"CONNCTL_CONFIG": filepath.Join(t.TempDir(), "none.yaml")},
		"corrupt": {"CONNCTL_CONFIG": writeConfig(t, "connections: [unclosed\n")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, directive := complete(t, env, "show", "")
			if len(got) != 0 || directive != ":4" {
				t.Errorf("got %q %q, want no candidates and :4", got, directive)
			}
		})
	}
}

func TestConnectorIDs(t *testing.T) {
	t.Parallel()
	var want []string
	for _, c := range all.Catalogue().All() {
		want = append(want, c.ID+"\t"+c.Name)
	}
	if len(want) < 10 {
		t.Fatalf("the catalogue has %d connectors; expected the full set", len(want))
	}
	env := map[string]string{"CONNCTL_CONFIG": writeConfig(t, twoConnections)}
	for _, args := range [][]string{
		{"create", "--connector", ""},
		{"create", "-c", ""},
		{"list", "--connector", ""},
		{"connectors", "show", ""},
	} {
		got, directive := complete(t, env, args...)
		if !equal(got, want) || directive != ":4" {
			t.Errorf("complete %q = %q %s\nwant %q :4", args, got, directive, want)
		}
	}
	got, _ := complete(t, env, "create", "--connector", "fresh")
	if !equal(got, []string{"freshdesk\tFreshdesk"}) {
		t.Errorf("complete create --connector fresh = %q, want freshdesk only", got)
	}
}

func TestFlagValues(t *testing.T) {
	t.Parallel()
	formats := []string{
		"table\taligned columns on a terminal, tab-separated when piped",
		"json\tindented JSON; lists are arrays",
		"yaml\tYAML with the JSON field names",
		"csv\tcomma-separated values with a header row",
		"tsv\ttab-separated values with a header row; \\t \\n \\\\ escaped",
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"list", "-o", ""}, formats},
		{[]string{"list", "--output", ""}, formats},
		{[]string{"show", "support", "-o", ""}, formats},
		{[]string{"version", "-o", ""}, formats},
		{[]string{"list", "--status", ""}, []string{"not_authorized", "authorized", "unverified", "revoked", "needs_reauthorization"}},
	}
	env := map[string]string{"CONNCTL_CONFIG": writeConfig(t, twoConnections)}
	for _, tt := range tests {
		got, directive := complete(t, env, tt.args...)
		if !equal(got, tt.want) || directive != ":4" {
			t.Errorf("complete %q = %q %s\nwant %q :4", tt.args, got, directive, tt.want)
		}
	}
}
