package set

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAbsKeyPath(t *testing.T) {
	t.Parallel()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home folder")
	}
	cwd, _ := os.Getwd()
	for in, want := range map[string]string{
		"":                "",
		"  ":              "",
		"~/k/secrets.key": filepath.Join(home, "k", "secrets.key"),
		"rel.key":         filepath.Join(cwd, "rel.key"),
		"/abs/../x.key":   "/x.key",
		" /srv/c.key \n":  "/srv/c.key",
	} {
		got, err := absKeyPath(in)
		if err != nil || got != want {
			t.Errorf("absKeyPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestShellArg(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":               `""`,
		"/srv/c.key":     "/srv/c.key",
		"/my keys/c.key": "'/my keys/c.key'",
		"/it's/c.key":    `'/it'\''s/c.key'`,
		"/x/$HOME/c.key": "'/x/$HOME/c.key'",
	} {
		if got := shellArg(in); got != want {
			t.Errorf("shellArg(%q) = %s, want %s", in, got, want)
		}
	}
}
