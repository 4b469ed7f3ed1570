package tableprint

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/textsafe"
)

var colour = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Cells hold text from providers and files: no terminal control in one
// reaches the output raw, in either layout, and a tab or line break in a
// cell never splits a piped row (#10 item 4). Colour connctl adds itself
// stays on a terminal.
func TestCellsShowControlsEscaped(t *testing.T) {
	t.Parallel()
	hostile := "mallory\x1b]0;pwned\x07\x1b[2J\r\u202eevil\u009b31m\tx\ny\x1bc"
	for _, tty := range []bool{true, false} {
		var b bytes.Buffer
		tbl := New(&b, tty, 200, "NAME", "ACCOUNT", "STATUS")
		tbl.Row("a", hostile, "\x1b[32mauthorized\x1b[0m")
		if err := tbl.Render(); err != nil {
			t.Fatal(err)
		}
		out := colour.ReplaceAllString(b.String(), "") // colour is allowed; nothing else
		if clean := textsafe.SanitizeLayout(out); clean != out {
			t.Errorf("tty=%v: raw control in %q", tty, b.String())
		}
		if !tty {
			if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 1 || strings.Count(lines[0], "\t") != 2 {
				t.Errorf("a cell split the piped row: %q", out)
			}
		} else if !strings.Contains(b.String(), "\x1b[32mauthorized\x1b[0m") {
			t.Errorf("colour lost on a terminal: %q", b.String())
		}
	}
}
