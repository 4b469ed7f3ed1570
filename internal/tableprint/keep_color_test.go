package tableprint

import (
	"bytes"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/iostreams"
)

// Identifier columns (the first, and those marked with Keep) are never cut;
// the others shrink, by display width.
func TestKeepIdentifierColumns(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	tbl := New(&b, true, 40, "name", "connection", "destination")
	tbl.Keep(1)
	tbl.Row("jira2-issues", "jira2-cloud-prod", "/var/lib/exports/jira/issues.ndjson")
	tbl.Row("px-def-users", "東京-px", "stdout")
	if err := tbl.Render(); err != nil {
		t.Fatal(err)
	}
	want := `NAME          CONNECTION        DESTINA…
jira2-issues  jira2-cloud-prod  /var/li…
px-def-users  東京-px           stdout
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// Colour is added only in the terminal layout with colour on, after the
// cell was cut, so the alignment and the cut ignore it.
func TestColorColumn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		tty, color bool
		want       string
	}{
		{"terminal with colour", true, true, "NAME  STATUS\na     \x1b[32mauthorized\x1b[0m\nb     \x1b[31mneeds_reauthorization\x1b[0m\nc     other\n"},
		{"terminal without colour", true, false, "NAME  STATUS\na     authorized\nb     needs_reauthorization\nc     other\n"},
		{"piped", false, true, "a\tauthorized\nb\tneeds_reauthorization\nc\tother\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			tbl := New(&b, tc.tty, 80, "name", "status")
			tbl.SetColor(tc.color)
			tbl.ColorColumn(1, StatusColor)
			tbl.Row("a", "authorized")
			tbl.Row("b", "needs_reauthorization")
			tbl.Row("c", "other")
			if err := tbl.Render(); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// NewIO colours only a colour terminal (iostreams: not piped, not NO_COLOR).
func TestNewIOColor(t *testing.T) {
	t.Parallel()
	ios, _, out, _ := iostreams.Test()
	ios.SetTTY(false, true, false)
	tbl := NewIO(ios, "status")
	tbl.ColorColumn(0, StatusColor)
	tbl.Row("failed")
	if err := tbl.Render(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\x1b[") != ios.ColorEnabled() {
		t.Errorf("colour %v with ColorEnabled %v: %q", strings.Contains(out.String(), "\x1b["), ios.ColorEnabled(), out.String())
	}
}
