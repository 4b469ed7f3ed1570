package root

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
)

// envRead is a read of a named environment variable in Go code:
// os.Getenv("X"), os.LookupEnv("X"), d.Getenv("X"), getenv("X").
var envRead = regexp.MustCompile(`(?:Getenv|LookupEnv|getenv)\("([A-Z][A-Z0-9_]*)"\)`)

// indirectEnv are variables connctl reads without naming them in such a
// call, each with where: a test cannot find them by grep.
var indirectEnv = map[string]string{
	"COLORTERM":                "commands/ui passes it to bubbletea (a loop over names)",
	"TMUX":                     "commands/ui passes it to bubbletea",
	"TERM_PROGRAM":             "commands/ui passes it to bubbletea",
	"XDG_CONFIG_HOME":          "configstore.DefaultPath (os.UserConfigDir)",
	"DBUS_SESSION_BUS_ADDRESS": "go-keyring (the Secret Service on the session bus)",
	"HTTPS_PROXY":              "net/http.ProxyFromEnvironment (http.DefaultTransport)",
	"NO_PROXY":                 "net/http.ProxyFromEnvironment",
	"SSL_CERT_FILE":            "crypto/x509 system roots",
	"VAULT_CACERT":             "vault/api.DefaultConfig (ReadEnvironment)",
	"VAULT_SKIP_VERIFY":        "vault/api.DefaultConfig",
	"VAULT_CLIENT_CERT":        "vault/api.DefaultConfig",
	"PGPASSWORD":               "pgx ParseConfig (libpq's variables)",
	"PGPASSFILE":               "pgx ParseConfig",
	"PGSSLMODE":                "pgx ParseConfig",
	"PGHOST":                   "pgx ParseConfig",
}

// TestHelpEnvironmentNamesEveryVariable: every environment variable the
// shipped code reads (found in its source, test packages and test peers
// left out), and those its libraries read for it, is named by `connctl
// help environment`, so a new one cannot go undocumented.
func TestHelpEnvironmentNamesEveryVariable(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmd(&deps.Deps{IO: ios, Getenv: func(string) string { return "" }, Catalog: sync.OnceValue(all.Catalogue)})
	var topic *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "environment" {
			topic = c
		}
	}
	if topic == nil {
		t.Fatal("no environment help topic")
	}
	help := topic.Long
	named := regexp.MustCompile(`\b[A-Z][A-Z0-9_]{2,}\b`).FindAllString(help, -1)

	repo := filepath.Join("..", "..", "..")
	found := map[string]string{}
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(repo, dir), func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repo, p)
			if de.IsDir() {
				// Test-only packages: the test peers, and helpers named
				// *test (connectortest, secretstoretest, ...).
				if rel == filepath.Join("internal", "testpeer") || (strings.HasSuffix(de.Name(), "test") && de.Name() != "test") || rel == filepath.Join("cmd", "gen-docs") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range envRead.FindAllStringSubmatch(string(b), -1) {
				found[m[1]] = rel
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) < 15 {
		t.Fatalf("found only %d environment reads in the source (%v): is the walk wrong?", len(found), found)
	}
	for name, where := range indirectEnv {
		found[name] = where
	}
	for name, where := range found {
		if !slices.Contains(named, name) {
			t.Errorf("%s is read (%s) but `connctl help environment` (internal/commands/root/topics.go) does not name it", name, where)
		}
	}
}
