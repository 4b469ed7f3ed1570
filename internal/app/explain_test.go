package app

import (
	"os"
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typed      string
		candidates []string
		want       string
	}{
		{"lsit", []string{"list", "edit", "token", "show"}, "list"},
		{"open", []string{"list", "edit", "token", "show"}, ""},
		{"supprt-eu", []string{"support-eu", "support-us", "sfdc"}, "support-eu"},
		{"connector", []string{"connection", "source", "dest"}, "connection"},
		{"ouput", []string{"output", "jq"}, "output"},
		{"tickets", []string{"tickets"}, ""}, // the same name is no suggestion
		{"x", []string{"y"}, "y"},
		{"CRM-prod", []string{"crm-prod2"}, "crm-prod2"},
	} {
		got := strings.Join(suggest(tc.typed, tc.candidates), ",")
		if got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	for use, want := range map[string]string{
		"delete <name> [--yes]":                   "<name>",
		"set <key> <value>":                       "<key> <value>",
		"run <name>... | --due":                   "<name>",
		"create --connector <id> [--name <name>]": "<id>",
	} {
		if got := strings.Join(placeholders(use), " "); got != want {
			t.Errorf("placeholders(%q) = %q, want %q", use, got, want)
		}
	}
}

// docs/exit-codes.md must not say that jobs are not built (jobs run exits 3).
func TestExitCodesDocMentionsJobs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "not built yet") {
		t.Error("docs/exit-codes.md still says jobs are not built")
	}
	if !strings.Contains(string(b), "connctl jobs run") {
		t.Error("docs/exit-codes.md does not say which command exits 3")
	}
}
