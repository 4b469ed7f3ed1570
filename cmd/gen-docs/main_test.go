package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tree reads every file under dir into a map keyed by slash path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The output must not depend on the day, the machine or the user's config:
// two runs, the second with a config full of connections and a different
// home, write the same bytes.
func TestGenerateIsDeterministic(t *testing.T) {
	first := t.TempDir()
	if err := generate(first); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	cfg := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(cfg, []byte("connections:\n  - name: should-not-appear\n    connector: freshdesk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("CONNCTL_CONFIG", cfg)
	t.Setenv("SOURCE_DATE_EPOCH", "0")
	second := t.TempDir()
	if err := generate(second); err != nil {
		t.Fatal(err)
	}

	a, b := tree(t, first), tree(t, second)
	if len(a) != len(b) {
		t.Fatalf("first run wrote %d files, second %d", len(a), len(b))
	}
	for name, content := range a {
		if !bytes.Equal(content, b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
		if bytes.Contains(content, []byte("should-not-appear")) || bytes.Contains(content, []byte(home)) {
			t.Errorf("%s contains something from the user's config or home", name)
		}
	}
}

func TestGenerateWritesEveryPage(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if err := generate(out); err != nil {
		t.Fatal(err)
	}
	files := tree(t, out)
	for _, want := range []string{
		"docs/cli/connctl.md", "docs/cli/connctl_create.md", "docs/cli/connctl_version.md",
		"docs/cli/connctl_completion_bash.md", "docs/cli/connctl_help_exit-codes.md",
		"docs/man/connctl.1", "docs/man/connctl-create.1", "docs/man/connctl-help-exit-codes.1",
		"completions/connctl.bash", "completions/connctl.zsh", "completions/connctl.fish", "completions/connctl.ps1",
	} {
		if _, ok := files[want]; !ok {
			t.Errorf("%s was not written", want)
		}
	}
	link := regexp.MustCompile(`\]\(([^)]+)\)`)
	for name, content := range files {
		if bytes.Contains(content, []byte("Auto generated")) {
			t.Errorf("%s has cobra's dated footer", name)
		}
		if strings.HasPrefix(name, "docs/cli/") {
			for _, m := range link.FindAllSubmatch(content, -1) {
				if _, ok := files["docs/cli/"+string(m[1])]; !ok {
					t.Errorf("%s links to %s, which was not written", name, m[1])
				}
			}
		}
	}
	if !bytes.Contains(files["docs/cli/connctl.md"], []byte("--version")) {
		t.Error("connctl.md does not document --version")
	}
	if !bytes.Contains(files["docs/cli/connctl.md"], []byte("[connctl help exit-codes](connctl_help_exit-codes.md)")) {
		t.Error("connctl.md does not list the help topics")
	}
	// Usage lines keep their <placeholders> in markdown (a code block) and man.
	if !bytes.Contains(files["docs/cli/connctl_show.md"], []byte("connctl show <name> [flags]")) {
		t.Errorf("connctl_show.md usage line lost its placeholder:\n%s", files["docs/cli/connctl_show.md"])
	}
	if !bytes.Contains(files["docs/man/connctl-show.1"], []byte("<name>")) {
		t.Errorf("connctl-show.1 lost its <name> placeholder:\n%s", files["docs/man/connctl-show.1"])
	}
	if !bytes.HasPrefix(files["completions/connctl.zsh"], []byte("#compdef connctl")) {
		t.Error("connctl.zsh does not start with #compdef connctl, so zsh will not load it as _connctl")
	}
}

// Pages of commands that no longer exist are removed; other files are kept.
func TestGenerateRemovesStalePages(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	stale := []string{"docs/cli/connctl_gone.md", "docs/man/connctl-gone.1"}
	kept := []string{"docs/cli/README.txt", "docs/guide.md"}
	for _, f := range append(append([]string{}, stale...), kept...) {
		p := filepath.Join(out, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := generate(out); err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(out, f)); !os.IsNotExist(err) {
			t.Errorf("%s is still there (err %v)", f, err)
		}
	}
	for _, f := range kept {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
}

func TestEscapeAngles(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"no angles", "no angles"},
		{`"key<TAB>value"`, `"key\<TAB>value"`},
		{"see `connctl show <id>` or <id>", "see `connctl show <id>` or \\<id>"},
		{"text\n\tsource <(connctl completion bash)\n    x <y>", "text\n\tsource <(connctl completion bash)\n    x <y>"},
		{"show <name> [flags]", `show \<name> [flags]`},
	}
	for _, tt := range tests {
		if got := escapeAngles(tt.in); got != tt.want {
			t.Errorf("escapeAngles(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// docs/exit-codes.md is written by hand; it must list every code that
// `connctl help exit-codes` lists.
func TestExitCodesDocMatchesHelpTopic(t *testing.T) {
	t.Parallel()
	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "exit-codes.md"))
	if err != nil {
		t.Fatal(err)
	}
	var topic string
	for _, c := range helpTopics(newRoot(filepath.Join(t.TempDir(), "config.yaml"))) {
		if c.Name() == "exit-codes" {
			topic = c.Long
		}
	}
	if topic == "" {
		t.Fatal("no exit-codes help topic")
	}
	codes := regexp.MustCompile(`(?m)^  (\d+) `).FindAllStringSubmatch(topic, -1)
	if len(codes) == 0 {
		t.Fatalf("found no codes in the exit-codes topic:\n%s", topic)
	}
	for _, c := range codes {
		if !regexp.MustCompile(`(?m)^\| ` + c[1] + ` \|`).Match(md) {
			t.Errorf("docs/exit-codes.md has no table row for exit code %s (from `connctl help exit-codes`)", c[1])
		}
	}
}
